/* Shared by the TCP baselines (tcp_linux.c, tcp_lwip.c) and, later, tern's
 * own TCP benchmark: the options every one of them takes and the one line
 * each prints per figure, so that scripts/bench_tcp.sh can put the columns
 * side by side.
 *
 * Output, one line per figure, whitespace-separated, details last:
 *
 *   STACK  FIGURE  VALUE  UNIT  (free-form details)
 *
 *   linux  bulk          12.34  Gbps    (1 connection, 128 KiB writes, ...)
 *   lwip   cps         8123.00  conn/s  (FIN close by the client, ...)
 *   linux  mem@100000   4321.00 B/conn  (slab delta, ...)
 *   lwip   cps@1000    7000.00  conn/s  (1000 other connections held)
 *
 * FIGURE names: bulk, cps (close with FIN), cps-rst (close with RST), rr,
 * mem@N, cps@N. A figure that could not be measured prints VALUE "-" and
 * says why in the details. Lines that start with '#' are comments. */
#ifndef TERN_BENCH_TCP_BASE_H
#define TERN_BENCH_TCP_BASE_H

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TCPB_MAX_LEVELS 16
#define TCPB_MSG 64 /* request and response size, bytes */

struct tcpb_opts {
	double seconds;	/* per timed figure */
	unsigned long levels[TCPB_MAX_LEVELS]; /* connections held, ascending */
	int nlevels;
	int bulk, cps, cps_rst, rr, hold; /* workloads to run */
};

static inline double tcpb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (all threads, user + system; on loopback
 * the kernel's softirq work runs in the sending thread's context and lands
 * here too), to print next to wall-clock rates on a shared machine. */
static inline double tcpb_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void tcpb_fig(const char *stack, const char *fig, double value,
			    const char *unit, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static inline void tcpb_fig(const char *stack, const char *fig, double value,
			    const char *unit, const char *fmt, ...)
{
	char det[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(det, sizeof(det), fmt, ap);
	va_end(ap);
	if (value < 0)
		printf("%-6s %-12s %14s %-7s (%s)\n", stack, fig, "-", unit, det);
	else
		printf("%-6s %-12s %14.2f %-7s (%s)\n", stack, fig, value, unit,
		       det);
	fflush(stdout);
}

/* "cpu 97% (1272 conn/s per full CPU)": on a shared machine the
 * process may not get its core for the whole run: the rate per CPU time is
 * what it did with the time it got. */
static inline void tcpb_cpu_note(char *buf, size_t n, double total,
				 const char *unit, double wall, double cpu)
{
	if (wall <= 0 || cpu <= 0) {
		snprintf(buf, n, "cpu -");
		return;
	}
	double per = total / cpu;
	snprintf(buf, n, "cpu %.0f%% (%.*f %s per full CPU)",
		 100 * cpu / wall, per < 1000 ? 2 : 0, per, unit);
}

/* A rate per wall-clock second and per CPU-second of the process. */
struct tcpb_rate {
	double wall, cpu;
};

/* A figure to compare with: the same one at the first level held. */
struct tcpb_ref {
	char fig[32];
	struct tcpb_rate rate;
};

static inline struct tcpb_rate tcpb_rate(double total, double wall, double cpu)
{
	struct tcpb_rate r = {wall > 0 ? total / wall : -1,
			      cpu > 0 ? total / cpu : -1};
	return r;
}

/* "; against cps@1000: -3.1% wall, -0.4% per CPU" (empty without ref). */
static inline void tcpb_cmp_note(char *buf, size_t n,
				 const struct tcpb_ref *ref, struct tcpb_rate r)
{
	buf[0] = '\0';
	if (ref && ref->rate.wall > 0 && ref->rate.cpu > 0 && r.wall > 0 &&
	    r.cpu > 0)
		snprintf(buf, n, "; against %s: %+.1f%% wall, %+.1f%% per CPU",
			 ref->fig, 100 * (r.wall / ref->rate.wall - 1),
			 100 * (r.cpu / ref->rate.cpu - 1));
}

static inline int tcpb_parse_levels(struct tcpb_opts *o, const char *s)
{
	o->nlevels = 0;
	while (*s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || o->nlevels == TCPB_MAX_LEVELS ||
		    (o->nlevels > 0 && v <= o->levels[o->nlevels - 1]))
			return -1;
		o->levels[o->nlevels++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return o->nlevels > 0 ? 0 : -1;
}

static inline int tcpb_parse_workloads(struct tcpb_opts *o, const char *s)
{
	o->bulk = o->cps = o->cps_rst = o->rr = o->hold = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n == 4 && !strncmp(s, "bulk", n))
			o->bulk = 1;
		else if (n == 3 && !strncmp(s, "cps", n))
			o->cps = 1;
		else if (n == 7 && !strncmp(s, "cps-rst", n))
			o->cps_rst = 1;
		else if (n == 2 && !strncmp(s, "rr", n))
			o->rr = 1;
		else if (n == 4 && !strncmp(s, "hold", n))
			o->hold = 1;
		else
			return -1;
		s += n;
		if (*s == ',')
			s++;
	}
	return o->bulk || o->cps || o->cps_rst || o->rr || o->hold ? 0 : -1;
}

/* -t SECONDS  -n N1,N2,..  -w bulk,cps,cps-rst,rr,hold */
static inline int tcpb_parse(struct tcpb_opts *o, int argc, char **argv,
			     const char *prog, const char *def_levels)
{
	int c;
	o->seconds = 3;
	tcpb_parse_levels(o, def_levels);
	o->bulk = o->cps = o->cps_rst = o->rr = o->hold = 1;
	while ((c = getopt(argc, argv, "t:n:w:h")) != -1) {
		switch (c) {
		case 't':
			o->seconds = atof(optarg);
			if (o->seconds > 0)
				break;
			goto usage;
		case 'n':
			if (tcpb_parse_levels(o, optarg) == 0)
				break;
			goto usage;
		case 'w':
			if (tcpb_parse_workloads(o, optarg) == 0)
				break;
			goto usage;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		return 0;
usage:
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-n HELD1,HELD2,..] "
		"[-w bulk,cps,cps-rst,rr,hold]\n"
		"  -t  seconds per timed figure (default 3)\n"
		"  -n  connections held for mem@N and cps@N, ascending "
		"(default %s)\n"
		"  -w  workloads to run (default all)\n",
		prog, def_levels);
	return -1;
}

#endif
