/* ternd: the control daemon. EAL first, then ternd's own options, the
 * data plane, the ZeroMQ sockets and the main loop: requests, capture
 * writing, generator watching and the periodic stats publication. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <zmq.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <tern/dp.h>

#include "events.h"
#include "methods.h"
#include "rpc.h"
#include "ternd.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

#define POLL_MS 10		/* request latency vs. idle wakeups */
#define WATCH_MS 100		/* generator.done detection period */
#define MAX_PARTS 4		/* identity, delimiter, request, one spare */

struct opts {
	const char *api;
	const char *events;
	struct tern_dp_conf dp;
	unsigned stats_ms;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: ternd [EAL options] -- [ternd options]\n"
"\n"
"EAL options (DPDK), for example:\n"
"  -l 0-1 --no-huge -m 512 --no-pci --file-prefix ternd\n"
"  --vdev net_tap0,iface=tern0   --vdev net_ring0\n"
"  (the first lcore runs the control loop, the others are workers)\n"
"\n"
"ternd options:\n"
"  --api ENDPOINT          JSON-RPC ROUTER socket (default tcp://127.0.0.1:9555)\n"
"  --events ENDPOINT       PUB socket for stats and events (default tcp://127.0.0.1:9556)\n"
"  --ring-pair             add two cross-connected net_ring ports (ring0<->ring1)\n"
"  --ring-pair-rss MODE    how the pair spreads frames over queues: direct\n"
"                          (queue q to queue q, default), toeplitz (RSS like a\n"
"                          NIC, tern's key, 128-entry RETA), queue0 (all to 0)\n"
"  --ephemeral-ports LO-HI local ports for active opens, split between the\n"
"                          workers (default 49152-65535)\n"
"  --idle-sleep-us N       workers sleep N us when idle (default 0: busy poll)\n"
"  --mbufs N               mbufs per NUMA socket (default 16383)\n"
"  --timer-tick-us N       timer wheel tick of every stack (default 100)\n"
"  --neigh-max N           neighbour entries per worker (default 4096)\n"
"  --neigh-reachable-ms N  neighbour BaseReachableTime, RFC 4861 (default 30000)\n"
"  --neigh-delay-ms N      neighbour DELAY_FIRST_PROBE_TIME (default 5000)\n"
"  --local-blocks N        room for own addresses per worker, in /24 blocks\n"
"                          (default 4096: 1 Mi addresses)\n"
"  --max-routes N          route table size (default 1024)\n"
"  --stats-interval-ms N   publish stats every N ms, 0 = never (default 1000)\n"
"  --no-tso                leave the ports' TSO off (TCP's large segments are\n"
"                          cut in software before the port)\n"
"  --no-gro                no GRO: every received TCP segment goes through\n"
"                          the stack alone\n"
"  --help                  this text\n"
"  --version               print the version\n");
}

static int parse_uint(const char *opt, const char *s, unsigned max,
		      unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > max) {
		fprintf(stderr, "ternd: %s: invalid value '%s' (0..%u)\n",
			opt, s, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_pair_rss(const char *s, enum tern_dp_pair_rss *out)
{
	if (strcmp(s, "direct") == 0)
		*out = TERN_DP_PAIR_DIRECT;
	else if (strcmp(s, "toeplitz") == 0)
		*out = TERN_DP_PAIR_TOEPLITZ;
	else if (strcmp(s, "queue0") == 0)
		*out = TERN_DP_PAIR_QUEUE0;
	else {
		fprintf(stderr, "ternd: --ring-pair-rss: '%s' is not direct, "
			"toeplitz or queue0\n", s);
		return -1;
	}
	return 0;
}

/* "LO-HI", 1 <= LO <= HI <= 65535. */
static int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned a, b;
	char tail;

	if (sscanf(s, "%u-%u%c", &a, &b, &tail) != 2 || a == 0 || a > b ||
	    b > 65535) {
		fprintf(stderr, "ternd: --ephemeral-ports: '%s' is not "
			"LO-HI with 1 <= LO <= HI <= 65535\n", s);
		return -1;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* argv here is {prog, ternd options...}. 0, 1 (printed help/version:
 * exit 0) or -1 (exit 2). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_API = 256, O_EVENTS, O_RING, O_IDLE, O_MBUFS, O_STATS,
	       O_TICK, O_PAIR_RSS, O_EPH, O_NEIGH_MAX, O_NEIGH_REACH, O_NEIGH_DELAY,
	       O_LOCAL_BLOCKS, O_MAX_ROUTES, O_NO_TSO, O_NO_GRO, O_HELP, O_VERSION };
	static const struct option longopts[] = {
		{ "api", required_argument, NULL, O_API },
		{ "events", required_argument, NULL, O_EVENTS },
		{ "ring-pair", no_argument, NULL, O_RING },
		{ "ring-pair-rss", required_argument, NULL, O_PAIR_RSS },
		{ "ephemeral-ports", required_argument, NULL, O_EPH },
		{ "idle-sleep-us", required_argument, NULL, O_IDLE },
		{ "mbufs", required_argument, NULL, O_MBUFS },
		{ "timer-tick-us", required_argument, NULL, O_TICK },
		{ "neigh-max", required_argument, NULL, O_NEIGH_MAX },
		{ "neigh-reachable-ms", required_argument, NULL, O_NEIGH_REACH },
		{ "neigh-delay-ms", required_argument, NULL, O_NEIGH_DELAY },
		{ "local-blocks", required_argument, NULL, O_LOCAL_BLOCKS },
		{ "max-routes", required_argument, NULL, O_MAX_ROUTES },
		{ "stats-interval-ms", required_argument, NULL, O_STATS },
		{ "no-tso", no_argument, NULL, O_NO_TSO },
		{ "no-gro", no_argument, NULL, O_NO_GRO },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;		/* our own messages, naming the option */
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_API: o->api = optarg; break;
		case O_EVENTS: o->events = optarg; break;
		case O_RING: o->dp.ring_pair = true; break;
		case O_NO_TSO: o->dp.no_tso = true; break;
		case O_NO_GRO: o->dp.no_gro = true; break;
		case O_PAIR_RSS:
			if (parse_pair_rss(optarg, &o->dp.pair_rss) < 0)
				return -1;
			break;
		case O_EPH:
			if (parse_port_range(optarg, &o->dp.ephemeral_lo,
					     &o->dp.ephemeral_hi) < 0)
				return -1;
			break;
		case O_IDLE:
			if (parse_uint("--idle-sleep-us", optarg, 1000000,
				       &o->dp.idle_sleep_us) < 0)
				return -1;
			break;
		case O_MBUFS:
			if (parse_uint("--mbufs", optarg, 1u << 30,
				       &o->dp.mbufs_per_socket) < 0)
				return -1;
			break;
		case O_TICK: {
			unsigned us;
			/* 1 us .. 1 s; 0 keeps the stack's default */
			if (parse_uint("--timer-tick-us", optarg, 1000000,
				       &us) < 0)
				return -1;
			o->dp.timer_tick_ns = us * (uint32_t)TERN_NS_PER_US;
			break;
		}
		case O_NEIGH_MAX:
			if (parse_uint("--neigh-max", optarg, 1u << 24,
				       &o->dp.neigh_max) < 0)
				return -1;
			break;
		case O_NEIGH_REACH:
			if (parse_uint("--neigh-reachable-ms", optarg, 3600000,
				       &o->dp.neigh_reachable_ms) < 0)
				return -1;
			break;
		case O_NEIGH_DELAY:
			if (parse_uint("--neigh-delay-ms", optarg, 3600000,
				       &o->dp.neigh_delay_ms) < 0)
				return -1;
			break;
		case O_LOCAL_BLOCKS:
			if (parse_uint("--local-blocks", optarg, 1u << 20,
				       &o->dp.local_blocks) < 0)
				return -1;
			break;
		case O_MAX_ROUTES:
			if (parse_uint("--max-routes", optarg, 1u << 20,
				       &o->dp.max_routes) < 0)
				return -1;
			break;
		case O_STATS:
			if (parse_uint("--stats-interval-ms", optarg,
				       86400000, &o->stats_ms) < 0)
				return -1;
			break;
		case 'h':
		case O_HELP: usage(stdout); return 1;
		case O_VERSION: printf("ternd %s\n", TERN_VERSION); return 1;
		case ':':
			fprintf(stderr, "ternd: %s needs a value\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "ternd: unknown option '%s' "
				"(see ternd -- --help)\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ternd: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *open_socket(struct ternd *d, int type, const char *ep)
{
	void *s = zmq_socket(d->zctx, type);
	int linger = 0, hwm = 10000;
	int64_t maxmsg = 16 << 20;	/* beyond this zmq drops the peer */

	if (s == NULL)
		return NULL;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (type == ZMQ_ROUTER)
		zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (zmq_bind(s, ep) != 0) {
		fprintf(stderr, "ternd: cannot bind %s: %s\n", ep,
			zmq_strerror(zmq_errno()));
		zmq_close(s);
		return NULL;
	}
	return s;
}

static void close_socket(void *s, int linger_ms)
{
	if (s == NULL)
		return;
	zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof(linger_ms));
	zmq_close(s);
}

/* Reads one whole multipart message; returns the number of parts kept
 * (extra parts are read and counted in *total, never left queued). */
static int recv_parts(void *s, zmq_msg_t *parts, int *total)
{
	int n = 0, more;
	size_t len = sizeof(more);

	*total = 0;
	do {
		zmq_msg_t tmp, *m = n < MAX_PARTS ? &parts[n] : &tmp;

		int rc;

		zmq_msg_init(m);
		do	/* net_tap's SIGIO interrupts (events.h) */
			rc = zmq_msg_recv(m, s, ZMQ_DONTWAIT);
		while (rc < 0 && zmq_errno() == EINTR);
		if (rc < 0) {
			zmq_msg_close(m);
			break;
		}
		(*total)++;
		if (m == &tmp)
			zmq_msg_close(m);
		else
			n++;
		more = 0;
		zmq_getsockopt(s, ZMQ_RCVMORE, &more, &len);
	} while (more);
	return n;
}

static void send_reply(void *s, zmq_msg_t *identity, bool delimiter,
		       char *text)
{
	if (text == NULL)
		return;
	/* DONTWAIT: a ROUTER drops replies to a gone peer instead of
	 * blocking the control loop. */
	if (ternd_zsend(s, zmq_msg_data(identity), zmq_msg_size(identity),
			ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
	    (!delimiter ||
	     ternd_zsend(s, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0))
		ternd_zsend(s, text, strlen(text), ZMQ_DONTWAIT);
	free(text);
}

/* Frames: [identity, request] from DEALER, [identity, "", request] from
 * REQ (the delimiter is mirrored). */
static void handle_request(struct ternd *d)
{
	zmq_msg_t parts[MAX_PARTS];
	int n, total, i;
	bool delim;
	char *reply = NULL;

	n = recv_parts(d->router, parts, &total);
	if (n < 2)
		goto out;
	delim = n >= 3 && zmq_msg_size(&parts[1]) == 0;
	if (total != (delim ? 3 : 2)) {
		reply = rpc_reject_frame(RPC_INVALID_REQUEST,
			"expected one request frame (after an optional empty "
			"delimiter)");
	} else {
		zmq_msg_t *req = &parts[delim ? 2 : 1];
		size_t len = zmq_msg_size(req);

		if (len > RPC_MAX_FRAME) {
			char why[96];

			snprintf(why, sizeof(why),
				 "request of %zu bytes exceeds 1 MiB", len);
			reply = rpc_reject_frame(RPC_INVALID_REQUEST, why);
		} else {
			reply = rpc_handle_frame(d, zmq_msg_data(req), len);
		}
	}
	send_reply(d->router, &parts[0], delim, reply);
out:
	for (i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
}

static void publish_stats(struct ternd *d)
{
	struct rpc_error e = { 0 };
	json_t *st = stats_build(d, &e), *msg;

	if (st == NULL) {
		rpc_err_clear(&e);
		return;
	}
	msg = json_pack("{sf so so}", "time", events_now(), "stats", st,
			"generators", gen_stats_all(d));
	events_publish(d, "stats", msg);
	json_decref(msg);
}

static void run(struct ternd *d, unsigned stats_ms)
{
	uint64_t next_stats = now_ms() + stats_ms, next_watch = 0;

	while (!d->quit && !got_signal) {
		zmq_pollitem_t it = { d->router, 0, ZMQ_POLLIN, 0 };
		int rc = zmq_poll(&it, 1, POLL_MS);
		uint64_t t;
		int budget = 64;	/* keep capture/stats going under load */

		if (rc < 0 && zmq_errno() != EINTR) {
			fprintf(stderr, "ternd: zmq_poll: %s\n",
				zmq_strerror(zmq_errno()));
			break;
		}
		while (rc > 0 && budget-- > 0 && !d->quit) {
			int ev = 0;
			size_t len = sizeof(ev);

			handle_request(d);
			zmq_getsockopt(d->router, ZMQ_EVENTS, &ev, &len);
			if (!(ev & ZMQ_POLLIN))
				break;
		}
		tern_dp_capture_poll(d->dp);
		t = now_ms();
		if (t >= next_watch) {
			gen_watch(d);
			tcp_watch(d);
			next_watch = t + WATCH_MS;
		}
		if (stats_ms != 0 && t >= next_stats) {
			publish_stats(d);
			next_stats = t + stats_ms;
		}
	}
}

static void shutdown_all(struct ternd *d)
{
	uint64_t written, missed;
	char path[4096];

	events_emit(d, "shutdown", NULL);
	gen_delete_all(d);
	tcp_delete_all(d);
	if (tern_dp_capture_running(d->dp, path, sizeof(path))) {
		tern_dp_capture_poll(d->dp);
		tern_dp_capture_stop(d->dp, &written, &missed);
	}
	tern_dp_destroy(d->dp);
	d->dp = NULL;
}

int main(int argc, char **argv)
{
	struct opts o = { .api = "tcp://127.0.0.1:9555",
			  .events = "tcp://127.0.0.1:9556",
			  .stats_ms = 1000 };
	struct ternd d = { 0 };
	char **targv;
	int dd, i, rc, eal_argc;

	/* ternd's options come after "--"; read them before EAL starts so
	 * that --help and a bad option cost no EAL initialisation. */
	for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
		;
	eal_argc = dd;
	targv = calloc((size_t)(argc - dd + 2), sizeof(*targv));
	if (targv == NULL)
		return 1;
	targv[0] = argv[0];
	for (i = dd + 1; i < argc; i++)
		targv[i - dd] = argv[i];
	if (eal_argc == argc && argc == 2 && (!strcmp(argv[1], "--help") ||
					      !strcmp(argv[1], "-h")))
		rc = 1, usage(stdout);
	else if (eal_argc == argc && argc == 2 && !strcmp(argv[1], "--version"))
		rc = 1, printf("ternd %s\n", TERN_VERSION);
	else
		rc = parse_opts(argc > dd ? argc - dd : 1, targv, &o);
	free(targv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr, "ternd: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return rte_errno == EINVAL ? 2 : 1;
	}
	rc = 1;
	d.dp = tern_dp_create(&o.dp);
	if (d.dp == NULL) {
		fprintf(stderr, "ternd: data plane: %s\n",
			rte_strerror(rte_errno));
		goto eal;
	}
	d.zctx = zmq_ctx_new();
	d.router = open_socket(&d, ZMQ_ROUTER, o.api);
	d.pub = d.router != NULL ? open_socket(&d, ZMQ_PUB, o.events) : NULL;
	if (d.pub == NULL)
		goto zmq;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ternd: ready api=%s events=%s workers=%u ports=%u\n", o.api,
	       o.events, tern_dp_worker_count(d.dp), tern_dp_port_count(d.dp));
	fflush(stdout);

	run(&d, o.stats_ms);
	rc = 0;
zmq:
	if (d.dp != NULL)
		shutdown_all(&d);
	/* Give the system.shutdown reply and the shutdown event a moment to
	 * leave; the sockets were opened with linger 0. */
	close_socket(d.router, 1000);
	close_socket(d.pub, 1000);
	zmq_ctx_term(d.zctx);
eal:
	if (d.dp != NULL)
		tern_dp_destroy(d.dp);
	rte_eal_cleanup();
	return rc;
}
