/* tern_bench_timers: timer operations per second, the stack's timer wheel
 * (core/timer.c) against the binary heap it replaced (bench/timer_heap.c),
 * on the same workload in the same run, side by side.
 *
 *   tern_bench_timers [EAL args] [-- -n N[,N...] -r REPS -t TICK_NS[,...]
 *                                    -s STEP_NS -R ROUNDS]
 *
 * Defaults: N = 10000,1000000; best of 5 repetitions; the wheel at the
 * stack's default tick (-t 0; more ticks add columns); the clock steps
 * 100 us between run_timers calls while expiring; 4 re-arm rounds.
 * Without EAL args it runs with --no-huge --no-shconf --no-pci -m 256
 * -l 0. The stack runs on a virtual clock, so only timer work is timed.
 *
 * Per N timers (embedded in an array, as in connections):
 *   arm     each idle timer armed at now + 1 ms .. 1 s (random)
 *   re-arm  the TCP pattern: a pending timer pushed 1..1000 us later, in
 *           random order, ROUNDS times over all timers
 *   cancel  every pending timer, in random order
 *   expire  N timers due over the next second, the clock stepping STEP_NS
 *           with a run_timers call per step until all ran (callbacks
 *           count); the arming is not timed
 * Each line: million operations per second (this thread's CPU time, so
 * other load on a shared machine does not count), wheel then heap, and
 * their ratio. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <tern/stack.h>

#include "timer_heap.h"

#define MAX_LIST 8

struct opts {
	uint64_t n[MAX_LIST];
	unsigned nn;
	uint64_t tick[MAX_LIST];
	unsigned nticks;
	unsigned reps;
	unsigned rounds;
	uint64_t step_ns;
};

enum op { OP_ARM, OP_REARM, OP_CANCEL, OP_EXPIRE, OP_COUNT };
static const char *const op_name[OP_COUNT] = {"arm", "re-arm", "cancel",
					      "expire"};

/* The same numbers for both: expiry offsets, pushes, visiting order. */
struct workload {
	uint64_t n;
	uint64_t *arm_off;	/* 1 ms .. 1 s */
	uint64_t *push;		/* 1 .. 1000 us */
	uint32_t *perm;		/* random order */
	uint64_t *exp_off;	/* 1 ns .. 1 s */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, cheap, good enough for spreading */
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void die(const char *what)
{
	fprintf(stderr, "tern_bench_timers: %s\n", what);
	exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);
	if (p == NULL)
		die("out of memory");
	return p;
}

static void workload_make(struct workload *w, uint64_t n)
{
	w->n = n;
	w->arm_off = xcalloc(n, sizeof(*w->arm_off));
	w->push = xcalloc(n, sizeof(*w->push));
	w->perm = xcalloc(n, sizeof(*w->perm));
	w->exp_off = xcalloc(n, sizeof(*w->exp_off));
	for (uint64_t i = 0; i < n; i++) {
		w->arm_off[i] = TERN_NS_PER_MS + rnd() % TERN_NS_PER_S;
		w->push[i] = 1000 + rnd() % (1000 * 1000);
		w->exp_off[i] = 1 + rnd() % TERN_NS_PER_S;
		w->perm[i] = (uint32_t)i;
	}
	for (uint64_t i = n - 1; i > 0; i--) {	/* Fisher-Yates */
		uint64_t j = rnd() % (i + 1);
		uint32_t t = w->perm[i];
		w->perm[i] = w->perm[j];
		w->perm[j] = t;
	}
}

static void workload_free(struct workload *w)
{
	free(w->arm_off);
	free(w->push);
	free(w->perm);
	free(w->exp_off);
}

/* This thread's CPU time: on a shared machine, time spent descheduled
 * while other work runs is not the timers' cost. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * TERN_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- the wheel, through the stack's API ------------------------------ */

static uint64_t fired;

static void wheel_cb(struct tern_stack *s, struct tern_timer *t)
{
	(void)s;
	(void)t;
	fired++;
}

static void run_wheel(const struct workload *w, const struct opts *o,
		      struct rte_mempool *mp, uint64_t tick, double best[])
{
	struct tern_clock clk;
	tern_clock_init_virtual(&clk, 1000 * TERN_NS_PER_S);
	struct tern_stack_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "bench";
	sc.pool = mp;
	sc.clock = &clk;
	sc.socket = (int)rte_socket_id();
	sc.timer_tick_ns = (uint32_t)tick;
	struct tern_stack *s = tern_stack_create(&sc);
	if (s == NULL)
		die("tern_stack_create");
	struct tern_timer *t = xcalloc(w->n, sizeof(*t));
	for (uint64_t i = 0; i < w->n; i++)
		tern_timer_init(&t[i], wheel_cb, NULL);

	for (unsigned rep = 0; rep < o->reps; rep++) {
		uint64_t now = tern_clock_now(&clk), c0, c1;
		double r[OP_COUNT];

		c0 = cpu_ns();
		for (uint64_t i = 0; i < w->n; i++)
			tern_timer_arm(s, &t[i], now + w->arm_off[i]);
		c1 = cpu_ns();
		r[OP_ARM] = w->n / secs(c1 - c0);

		c0 = cpu_ns();
		for (unsigned k = 0; k < o->rounds; k++)
			for (uint64_t j = 0; j < w->n; j++) {
				struct tern_timer *x = &t[w->perm[j]];
				tern_timer_arm(s, x, x->link.expires_ns +
						     w->push[(j + k) % w->n]);
			}
		c1 = cpu_ns();
		r[OP_REARM] = (double)o->rounds * w->n / secs(c1 - c0);

		c0 = cpu_ns();
		for (uint64_t j = 0; j < w->n; j++)
			tern_timer_cancel(s, &t[w->perm[j]]);
		c1 = cpu_ns();
		r[OP_CANCEL] = w->n / secs(c1 - c0);

		for (uint64_t i = 0; i < w->n; i++)
			tern_timer_arm(s, &t[i], now + w->exp_off[i]);
		fired = 0;
		c0 = cpu_ns();
		while (fired < w->n) {
			tern_clock_advance(&clk, o->step_ns);
			tern_stack_run_timers(s);
		}
		c1 = cpu_ns();
		r[OP_EXPIRE] = w->n / secs(c1 - c0);

		for (int op = 0; op < OP_COUNT; op++)
			if (r[op] > best[op])
				best[op] = r[op];
	}
	tern_stack_destroy(s);
	free(t);
}

/* ---- the heap baseline, the same workload ----------------------------- */

static void heap_cb(struct heap *h, struct heap_timer *t)
{
	(void)h;
	(void)t;
	fired++;
}

static void run_heap(const struct workload *w, const struct opts *o,
		     double best[])
{
	struct heap h;
	if (heap_init(&h, (uint32_t)w->n) != 0)
		die("heap_init");
	struct heap_timer *t = xcalloc(w->n, sizeof(*t));
	for (uint64_t i = 0; i < w->n; i++)
		heap_timer_init(&t[i], heap_cb, NULL);
	uint64_t now = 1000 * TERN_NS_PER_S;

	for (unsigned rep = 0; rep < o->reps; rep++) {
		uint64_t c0, c1;
		double r[OP_COUNT];

		c0 = cpu_ns();
		for (uint64_t i = 0; i < w->n; i++)
			heap_arm(&h, &t[i], now + w->arm_off[i]);
		c1 = cpu_ns();
		r[OP_ARM] = w->n / secs(c1 - c0);

		c0 = cpu_ns();
		for (unsigned k = 0; k < o->rounds; k++)
			for (uint64_t j = 0; j < w->n; j++) {
				struct heap_timer *x = &t[w->perm[j]];
				heap_arm(&h, x, x->expires_ns +
						    w->push[(j + k) % w->n]);
			}
		c1 = cpu_ns();
		r[OP_REARM] = (double)o->rounds * w->n / secs(c1 - c0);

		c0 = cpu_ns();
		for (uint64_t j = 0; j < w->n; j++)
			heap_cancel(&h, &t[w->perm[j]]);
		c1 = cpu_ns();
		r[OP_CANCEL] = w->n / secs(c1 - c0);

		for (uint64_t i = 0; i < w->n; i++)
			heap_arm(&h, &t[i], now + w->exp_off[i]);
		fired = 0;
		c0 = cpu_ns();
		while (fired < w->n) {
			now += o->step_ns;
			heap_run(&h, now);
		}
		c1 = cpu_ns();
		r[OP_EXPIRE] = w->n / secs(c1 - c0);

		for (int op = 0; op < OP_COUNT; op++)
			if (r[op] > best[op])
				best[op] = r[op];
	}
	heap_fini(&h);
	free(t);
}

/* ---- options and report ------------------------------------------------ */

static unsigned parse_list(const char *s, uint64_t *out, const char *opt)
{
	unsigned n = 0;
	char *end;
	while (*s) {
		if (n == MAX_LIST)
			die("too many values in a list");
		out[n++] = strtoull(s, &end, 10);
		if (end == s || (*end != ',' && *end != '\0')) {
			fprintf(stderr, "tern_bench_timers: %s: bad list\n", opt);
			exit(2);
		}
		s = *end ? end + 1 : end;
	}
	return n;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;
	o->n[0] = 10000;
	o->n[1] = 1000000;
	o->nn = 2;
	o->tick[0] = 0;
	o->nticks = 1;
	o->reps = 5;
	o->rounds = 4;
	o->step_ns = 100 * TERN_NS_PER_US;
	while ((c = getopt(argc, argv, "n:r:t:s:R:")) != -1) {
		switch (c) {
		case 'n': o->nn = parse_list(optarg, o->n, "-n"); break;
		case 't': o->nticks = parse_list(optarg, o->tick, "-t"); break;
		case 'r': o->reps = (unsigned)atoi(optarg); break;
		case 'R': o->rounds = (unsigned)atoi(optarg); break;
		case 's': o->step_ns = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: tern_bench_timers [EAL] -- [-n N,..] "
					"[-r REPS] [-t TICK_NS,..] [-s STEP_NS] "
					"[-R ROUNDS]\n");
			exit(2);
		}
	}
	if (o->nn == 0 || o->nticks == 0 || o->reps == 0 || o->rounds == 0 ||
	    o->step_ns == 0)
		die("values must be positive");
	for (unsigned i = 0; i < o->nn; i++)
		if (o->n[i] == 0 || o->n[i] > UINT32_MAX)
			die("-n: 1..2^32-1 timers");
	for (unsigned i = 0; i < o->nticks; i++)
		if (o->tick[i] > UINT32_MAX)
			die("-t: a tick fits 32 bits of ns");
}

int main(int argc, char **argv)
{
	char *def[] = {argv[0], "--no-huge", "--no-shconf", "--no-pci", "-m",
		       "256", "-l", "0", "--no-telemetry",
		       "--log-level=lib.eal:error"};
	int eal_argc = argc;
	char **eal_argv = argv;
	if (argc == 1 || strcmp(argv[1], "--") == 0) {
		/* no EAL args: the defaults, then ours after "--" */
		static char *merged[64];
		int m = 0;
		for (unsigned i = 0; i < RTE_DIM(def); i++)
			merged[m++] = def[i];
		for (int i = 1; i < argc && m < 63; i++)
			merged[m++] = argv[i];
		eal_argc = m;
		eal_argv = merged;
	}
	int ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "tern_bench_timers: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	struct opts o;
	parse_opts(eal_argc - ret, eal_argv + ret, &o);
	struct rte_mempool *mp = rte_pktmbuf_pool_create(
		"bench_timers", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		(int)rte_socket_id());
	if (mp == NULL)
		die("mempool");

	printf("== tern_bench_timers: million timer operations per second, best of %u; "
	       "re-arm %u rounds; expire steps %" PRIu64 " ns; lcore %u\n",
	       o.reps, o.rounds, o.step_ns, rte_lcore_id());
	printf("%-9s %-7s", "N", "op");
	for (unsigned k = 0; k < o.nticks; k++) {
		char col[32];
		if (o.tick[k])
			snprintf(col, sizeof(col), "wheel@%" PRIu64 "ns", o.tick[k]);
		else
			snprintf(col, sizeof(col), "wheel");
		printf(" %14s", col);
	}
	printf(" %10s %10s\n", "heap", "wheel/heap");

	for (unsigned i = 0; i < o.nn; i++) {
		struct workload w;
		rng_state = 0x9e3779b97f4a7c15ull;	/* same per N each run */
		workload_make(&w, o.n[i]);
		double wheel[MAX_LIST][OP_COUNT], heap[OP_COUNT];
		memset(wheel, 0, sizeof(wheel));
		memset(heap, 0, sizeof(heap));
		for (unsigned k = 0; k < o.nticks; k++)
			run_wheel(&w, &o, mp, o.tick[k], wheel[k]);
		run_heap(&w, &o, heap);
		for (int op = 0; op < OP_COUNT; op++) {
			printf("%-9" PRIu64 " %-7s", o.n[i], op_name[op]);
			for (unsigned k = 0; k < o.nticks; k++)
				printf(" %14.2f", wheel[k][op] / 1e6);
			printf(" %10.2f %9.1fx\n", heap[op] / 1e6,
			       wheel[0][op] / heap[op]);
		}
		workload_free(&w);
		fflush(stdout);
	}
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
