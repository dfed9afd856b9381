/* tcp_tern: tern's column of the TCP benchmark (bench/tcp_base.h).
 *
 *   tcp_tern [-t SECONDS] [-n HELD1,HELD2,..] [-w bulk,cps,cps-rst,rr,hold]
 *            [-c offload|sw|both] [-H HEADROOM] [-m MB] [-G] [-I]
 *
 * -G: the stacks without GRO (tern_stack_conf.no_gro), to compare.
 * -I: cps@N and cps-rst@N with every level's pair open at once, timed in
 *     0.2 s slices taken in turn (fig_flat), so that the levels compare
 *     under the same host load.
 *
 * Two stacks, a client (10.0.0.1) and a server (10.0.0.2), on one lcore,
 * joined by the in-memory wire (core/wire.c), driven by the raw callback
 * API (tern/tcp.h). The thread loops: read the clock (TSC), pump the
 * wire (every frame in flight goes into the other stack, whose callbacks
 * answer at once), run both stacks' timers. Time is real: the clock is
 * the TSC, and every rate is over CLOCK_MONOTONIC and the process's CPU
 * time, as the Linux and lwIP columns are.
 *
 * Checksums, -c (default both, one after the other, each a column):
 * - "tern": offload declared. The interfaces say their ports compute the
 *   IPv4 and TCP checksums, and the wire stands for two such NICs
 *   (tern_wire_set_nic_cksum): nobody computes them, the receiver is told
 *   they are good. The CPU does what it would do beside a NIC.
 * - "tern-sw": no offload. The sender computes both checksums in software
 *   and the receiver verifies both.
 *
 * Workloads, as tcp_linux and tcp_lwip run them:
 * - bulk: one connection, the client keeps its send queue full with
 *   tern_tcp_write() (copies into mbufs, as write() does), the server
 *   counts and frees what arrives; MTU 1500 (an Ethernet NIC's), 64 KiB
 *   send and receive buffers (lwIP's TCP_SND_BUF and TCP_WND). Then
 *   bulk-9000: the same with jumbo frames; bulk-256k: MTU 1500 with the
 *   stack's default buffers (256 KiB), whose window in flight takes the
 *   mbufs out of the caches; and in the "tern" column bulk-tso: MTU 1500
 *   with TSO and LRO declared as well, the wire standing for NICs that
 *   cut a TSO packet and merge it again (tern_wire_set_nic_lro), so one
 *   pass through each stack carries up to 64 KB, as Linux's loopback
 *   (MTU 65536) does.
 * - cps / cps-rst: serially, connect (ephemeral port), 64-byte request,
 *   64-byte response, close: FIN (tern_tcp_close; the client keeps
 *   TIME_WAIT for 2 MSL = 60 s, the default, no reuse) or RST
 *   (tern_tcp_abort). The next connect starts in the callback that
 *   closed the last. The destination port moves to the next of 100
 *   listeners every 50,000 connections, so the TIME_WAITs never run the
 *   4-tuples out (Linux's figure relies on TIME_WAIT reuse instead).
 * - rr: one connection, 64 bytes each way, one at a time, Nagle off.
 * - hold: for each level N, N established idle connections (client i
 *   binds port 10000 + i % 50000 and connects to listener 1000 + i /
 *   50000), then:
 *   mem@N: bytes of DPDK heap (rte_malloc, where the stacks keep all
 *   their tables) of the two stacks sized for N connections with the N
 *   held, less the same two stacks sized for none (64 slots) and empty,
 *   over N; both ends of each connection, as the other columns count.
 *   Every slot is allocated when the stack is made (tcp_max_conns), so
 *   this is the cost of the capacity; the mbufs in use are added (none
 *   for idle connections).
 *   cps@N, cps-rst@N: cps and cps-rst with N held, on a stack pair sized
 *   for N plus the timed connections (-H, default from the rate of the
 *   cps figure without held connections), compared with the first level.
 *
 * Without "--", EAL runs with --no-huge --no-shconf --no-pci -l 0 and
 * -m MB (default: room for both stacks at the largest level plus -H
 * slots, at ~600 B a slot, and 1 GB for the rest); with "--", the
 * arguments before it go to EAL. The heap is touched once before any
 * figure (prefault()). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include <tern/clock.h>
#include <tern/offload.h>
#include <tern/stack.h>
#include <tern/stats.h>
#include <tern/tcp.h>
#include <tern/timer.h>
#include <tern/wire.h>

#include "tcp_base.h"

#define CLI_IP 0x0a000001u	/* 10.0.0.1 */
#define SRV_IP 0x0a000002u	/* 10.0.0.2 */
#define MTU 1500
#define TIMED_PORT 5001		/* timed listeners 5001..5100 */
#define TIMED_LIS 100
#define ROTATE 50000		/* connections per destination port */
#define HOLD_PORT 1000		/* held listeners 1000..1099 */
#define HOLD_LIS 100
#define HOLD_LPORT_LO 10000	/* held clients bind 10000..59999 */
#define HOLD_LPORT_N 50000
#define EPH_LO 10000		/* ephemeral ports of the timed connects */
#define EPH_HI 65535
#define MIN_SLOTS 64		/* "sized for none" */
#define POOL_MBUFS 32767
#define BULK_CHUNK 65536
#define BULK_BUF 65536		/* bulk's sndbuf and rcvbuf (lwIP's) */

struct mode {
	const char *name;	/* the column: "tern" or "tern-sw" */
	bool offload;
};

static struct tern_clock clk;
static struct rte_mempool *pool;
static char wbuf[BULK_CHUNK];
static int socket_id;

/* ---- a client stack and a server stack on a wire ---------------------- */

struct pair {
	const struct mode *mode;
	struct tern_stack *cli, *srv;
	struct tern_wire *w;
	struct tern_tcp_listener *timed[TIMED_LIS];
	struct tern_tcp_listener *hold[HOLD_LIS];
	int nhold;
	struct wl *cur;		/* the timed workload running */
	uint32_t buf;		/* sndbuf and rcvbuf of timed connections;
				 * 0: the stack's default (256 KiB) */
	uint64_t started;	/* timed connections begun on this pair, so
				 * the destination port keeps rotating from
				 * one run to the next (fig_flat's slices) */
};

static void die(const char *what)
{
	fprintf(stderr, "tcp_tern: %s: %s\n", what, rte_strerror(rte_errno));
	exit(1);
}

static bool no_gro;	/* -G: the stacks without GRO */
/* pair_open with TSO and LRO declared: the interfaces offer TSO and the
 * wire stands for NICs that cut and merge again (tern_wire_set_nic_lro),
 * for the bulk-tso figure of the offload column */
static bool pair_tso;

static struct tern_stack *make_stack(const char *name, uint32_t max_conns)
{
	struct tern_stack_conf sc = {
		.name = name, .pool = pool, .clock = &clk,
		.lcore = rte_lcore_id(), .socket = socket_id,
		.tcp_max_conns = max_conns,
		.tcp_max_listeners = TIMED_LIS + HOLD_LIS + 8,
		.ephemeral_lo = EPH_LO, .ephemeral_hi = EPH_HI,
		.no_gro = no_gro,
	};
	struct tern_stack *s = tern_stack_create(&sc);
	if (!s)
		die("tern_stack_create");
	return s;
}

static void add_iface(struct tern_stack *s, uint8_t last, uint32_t ip,
		      bool offload, uint16_t mtu, void *end)
{
	struct tern_iface_conf ic = {.ifindex = 1, .link = 0, .mtu = mtu,
				     .tx = tern_wire_tx, .tx_ctx = end};
	snprintf(ic.name, sizeof(ic.name), "wire%u", last);
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, last}};
	ic.mac = mac;
	if (offload) {
		ic.caps.tx_ip4_cksum = ic.caps.tx_tcp_cksum = true;
		ic.caps.rx_ip4_cksum = ic.caps.rx_l4_cksum = true;
		if (pair_tso)
			ic.caps.tso_max = TERN_OL_TSO_MAX;
	}
	struct tern_addr a = tern_addr_v4h(ip);
	if (tern_iface_add(s, &ic) != 0 ||
	    tern_iface_addr_add(s, 1, &a, 24) != 0) {
		fprintf(stderr, "tcp_tern: interface setup failed\n");
		exit(1);
	}
}

static void pair_open(struct pair *p, const struct mode *m, uint32_t cli_max,
		      uint32_t srv_max, uint16_t mtu, uint32_t buf)
{
	memset(p, 0, sizeof(*p));
	p->mode = m;
	p->buf = buf;
	p->cli = make_stack("client", cli_max);
	p->srv = make_stack("server", srv_max);
	p->w = tern_wire_create(p->cli, 0, p->srv, 0);
	if (!p->w)
		die("tern_wire_create");
	tern_wire_set_nic_cksum(p->w, m->offload);
	tern_wire_set_nic_lro(p->w, m->offload && pair_tso);
	add_iface(p->cli, 1, CLI_IP, m->offload, mtu, tern_wire_end(p->w, 0));
	add_iface(p->srv, 2, SRV_IP, m->offload, mtu, tern_wire_end(p->w, 1));
	struct tern_addr ca = tern_addr_v4h(CLI_IP), sa = tern_addr_v4h(SRV_IP);
	struct rte_ether_addr cm = {{0x02, 0, 0, 0, 0, 1}};
	struct rte_ether_addr sm = {{0x02, 0, 0, 0, 0, 2}};
	if (tern_neigh_add(p->cli, 1, &sa, &sm) != 0 ||
	    tern_neigh_add(p->srv, 1, &ca, &cm) != 0)
		die("tern_neigh_add");
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < TIMED_LIS; i++)
		if (p->timed[i])
			tern_tcp_listener_close(p->srv, p->timed[i]);
	for (int i = 0; i < p->nhold; i++)
		tern_tcp_listener_close(p->srv, p->hold[i]);
	tern_wire_destroy(p->w);
	tern_stack_destroy(p->cli);
	tern_stack_destroy(p->srv);
	memset(p, 0, sizeof(*p));
}

/* One turn of the loop a data plane runs: the clock, what arrived, the
 * timers. */
static inline unsigned pair_poll(struct pair *p)
{
	tern_clock_update(&clk);
	unsigned n = tern_wire_pump(p->w, 8);
	tern_stack_run_timers(p->cli);
	tern_stack_run_timers(p->srv);
	return n;
}

static struct tern_tcp_listener *listen_on(struct pair *p, uint16_t port,
					   tern_tcp_accept_fn fn, void *arg,
					   uint32_t backlog)
{
	struct tern_tcp_listen_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.port = port;
	lc.accept = fn;
	lc.arg = arg;
	lc.backlog = backlog;
	lc.opts.nodelay = true;
	lc.opts.sndbuf = lc.opts.rcvbuf = p->buf;
	struct tern_tcp_listener *l = tern_tcp_listen(p->srv, &lc);
	if (!l)
		die("tern_tcp_listen");
	return l;
}

/* Counters of both stacks that say something went wrong or was redone:
 * "; cli tcp.retrans_segs 3, srv tcp.drop_x 1" (empty when none). */
static void trouble_note(const struct pair *p, char *buf, size_t n)
{
	unsigned nd;
	const struct tern_counter_desc *d = tern_stack_counter_descs(&nd);
	size_t len = 0;
	buf[0] = '\0';
	for (int side = 0; side < 2; side++) {
		struct tern_stack_stats st;
		tern_stack_stats_get(side ? p->srv : p->cli, &st);
		for (unsigned i = 0; i < nd; i++) {
			uint64_t v = *(const uint64_t *)((const char *)&st +
							 d[i].offset);
			bool bad = strncmp(d[i].name, "drop_", 5) == 0 ||
				   !strcmp(d[i].name, "retrans_segs") ||
				   !strcmp(d[i].name, "rto_expired") ||
				   !strcmp(d[i].name, "estab_resets");
			/* answering a stray segment of a connection the
			 * client aborted is what an RST close leads to */
			if (!v || !bad || len + 80 > n)
				continue;
			len += (size_t)snprintf(buf + len, n - len, "%s %s %s.%s %" PRIu64,
						len ? "," : ";",
						side ? "srv" : "cli", d[i].proto,
						d[i].name, v);
		}
	}
}

/* ---- timed workloads ----------------------------------------------------- */

enum kind { BULK, CPS, RR };

struct wl {
	enum kind kind;
	int rst;
	struct pair *p;
	double secs, t0, t1, deadline, cpu0, cpu1;
	uint64_t deadline_tsc;	/* the deadline on the TSC: cheap to read */
	uint64_t count;		/* bytes, connections or round trips */
	uint64_t started;	/* cps: connections begun */
	uint64_t frames;	/* frames on the wire, both ways */
	uint32_t srv_got, cli_got;
	bool begun, stop;
	const char *why;	/* set when it stopped early */
	char whybuf[96];
	char bad[512];		/* trouble_note() when it stopped */
	struct tern_tcp_conn *cli, *srv;
};

/* Frames both stacks sent so far. */
static uint64_t frames_sent(const struct pair *p)
{
	return tern_wire_sent(p->w, 0) + tern_wire_sent(p->w, 1);
}

static void wl_stop(struct wl *w, const char *why)
{
	if (w->stop)
		return;
	w->stop = true;
	w->t1 = tcpb_now();
	w->cpu1 = tcpb_cpu();
	w->frames = frames_sent(w->p) - w->frames;
	if (why && !w->why)
		w->why = why;
}

static void wl_begin(struct wl *w)
{
	w->begun = true;
	w->frames = frames_sent(w->p);
	w->t0 = tcpb_now();
	w->cpu0 = tcpb_cpu();
	w->deadline = w->t0 + w->secs;
	w->deadline_tsc = rte_rdtsc() + (uint64_t)(w->secs * (double)rte_get_tsc_hz());
}

static bool wl_due(struct wl *w)
{
	if (rte_rdtsc() < w->deadline_tsc)
		return false;
	wl_stop(w, NULL);
	return true;
}

static void send_msg(struct wl *w, struct tern_stack *s, struct tern_tcp_conn *c)
{
	int r = tern_tcp_write(s, c, wbuf, TCPB_MSG);
	if (r != TCPB_MSG) {
		snprintf(w->whybuf, sizeof(w->whybuf), "tern_tcp_write: %d", r);
		wl_stop(w, w->whybuf);
	}
}

/* the server's side */

static void srv_recv(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m)
{
	struct wl *w = arg;
	struct tern_stack *s = w->p->srv;
	if (m == NULL) {	/* the client's FIN: close our side too */
		if (w->srv == c)
			w->srv = NULL;
		tern_tcp_close(s, c);
		return;
	}
	uint32_t len = m->pkt_len;
	rte_pktmbuf_free(m);
	if (w->kind == BULK) {
		if (!w->stop)
			w->count += len;
		return;
	}
	for (w->srv_got += len; w->srv_got >= TCPB_MSG; w->srv_got -= TCPB_MSG)
		send_msg(w, s, c);
}

static void srv_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct wl *w = arg;
	if (w->srv == c)
		w->srv = NULL;
	/* an RST close reaches the server this way: expected */
	if (err && !(w->kind == CPS && w->rst && err == ECONNRESET)) {
		snprintf(w->whybuf, sizeof(w->whybuf),
			 "server connection failed: %s", strerror(err));
		wl_stop(w, w->whybuf);
	}
}

static const struct tern_tcp_ops srv_ops = {
	.recv = srv_recv, .closed = srv_closed,
};

static void wl_accept(void *arg, struct tern_tcp_listener *l,
		      struct tern_tcp_conn *c)
{
	struct wl *w = ((struct pair *)arg)->cur;
	(void)l;
	w->srv = c;
	tern_tcp_set_ops(w->p->srv, c, &srv_ops, w);
}

/* the client's side */

static void bulk_fill(struct wl *w)
{
	if (w->stop || wl_due(w))
		return;
	struct tern_stack *s = w->p->cli;
	int r;
	while ((r = tern_tcp_write(s, w->cli, wbuf, sizeof(wbuf))) > 0)
		;
	if (r < 0 && r != -EAGAIN) {
		snprintf(w->whybuf, sizeof(w->whybuf), "tern_tcp_write: %d", r);
		wl_stop(w, w->whybuf);
	}
}

static void cps_next(struct wl *w);

static void cli_connected(void *arg, struct tern_tcp_conn *c)
{
	struct wl *w = arg;
	if (w->kind == BULK) {
		wl_begin(w);
		bulk_fill(w);
		return;
	}
	if (w->kind == RR)
		wl_begin(w);
	send_msg(w, w->p->cli, c);
}

static void cli_recv(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m)
{
	struct wl *w = arg;
	struct tern_stack *s = w->p->cli;
	if (m == NULL) {
		/* the server's FIN after our close (cps) is no news */
		if (c == w->cli)
			wl_stop(w, "server closed first");
		return;
	}
	w->cli_got += m->pkt_len;
	rte_pktmbuf_free(m);
	if (w->kind == BULK || w->cli_got < TCPB_MSG)
		return;
	if (w->kind == RR) {
		for (; w->cli_got >= TCPB_MSG; w->cli_got -= TCPB_MSG)
			w->count++;
		if (!w->stop && !wl_due(w))
			send_msg(w, s, c);
		return;
	}
	/* cps: the response is in; close and begin the next */
	w->cli_got = 0;
	w->count++;
	w->cli = NULL;
	if (w->rst)
		tern_tcp_abort(s, c);
	else
		tern_tcp_close(s, c);
	if (!w->stop && !wl_due(w))
		cps_next(w);
}

static void cli_sent(void *arg, struct tern_tcp_conn *c, uint32_t acked)
{
	struct wl *w = arg;
	(void)c;
	(void)acked;
	if (w->kind == BULK)
		bulk_fill(w);
}

static void cli_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct wl *w = arg;
	if (w->cli == c)
		w->cli = NULL;
	if (err) {
		snprintf(w->whybuf, sizeof(w->whybuf),
			 "client connection failed: %s", strerror(err));
		wl_stop(w, w->whybuf);
	}
}

static const struct tern_tcp_ops cli_ops = {
	.connected = cli_connected, .recv = cli_recv, .sent = cli_sent,
	.closed = cli_closed,
};

static struct tern_tcp_conn *wl_connect(struct wl *w, uint16_t rport)
{
	struct tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.remote = tern_addr_v4h(SRV_IP);
	cc.rport = rport;
	cc.ops = &cli_ops;
	cc.arg = w;
	cc.opts.nodelay = w->kind != BULK;
	cc.opts.sndbuf = cc.opts.rcvbuf = w->p->buf;
	struct tern_tcp_conn *c = tern_tcp_connect(w->p->cli, &cc);
	if (!c) {
		snprintf(w->whybuf, sizeof(w->whybuf), "tern_tcp_connect: %s",
			 rte_strerror(rte_errno));
		wl_stop(w, w->whybuf);
	}
	return c;
}

static void cps_next(struct wl *w)
{
	uint16_t rport = (uint16_t)(TIMED_PORT + (w->started / ROTATE) % TIMED_LIS);
	w->started++;
	w->cli_got = w->srv_got = 0;
	w->cli = wl_connect(w, rport);
}

/* TIME_WAITs the client keeps at the end of a figure: counted, then let
 * go (tern_tcp_abort frees a TIME_WAIT block silently) so the next
 * figure starts from an empty table, as tcp_lwip purges its own. */
struct tw_purge {
	struct tern_stack *s;
	uint64_t n;
};

static int tw_one(void *arg, struct tern_tcp_conn *c)
{
	struct tw_purge *t = arg;
	if (tern_tcp_state(c) == TERN_TCP_TIME_WAIT) {
		tern_tcp_abort(t->s, c);
		t->n++;
	}
	return 0;
}

static uint64_t purge_time_wait(struct tern_stack *s)
{
	struct tw_purge t = {s, 0};
	tern_tcp_foreach(s, tw_one, &t);
	return t.n;
}

/* Runs one timed workload on p; w holds the result. */
static void run_timed(struct pair *p, enum kind kind, int rst, double secs,
		      struct wl *w)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->rst = rst;
	w->secs = secs;
	w->p = p;
	w->started = p->started;
	p->cur = w;
	tern_clock_update(&clk);
	for (int i = 0; i < TIMED_LIS; i++)
		if (!p->timed[i])
			p->timed[i] = listen_on(p, (uint16_t)(TIMED_PORT + i),
						wl_accept, p, 0);
	if (kind == CPS) {
		wl_begin(w);
		cps_next(w);
	} else {
		w->cli = wl_connect(w, TIMED_PORT);
	}
	double watchdog = tcpb_now() + secs + 10;
	for (unsigned i = 0; !w->stop; i++) {
		pair_poll(p);
		if (w->begun && wl_due(w))
			break;
		if ((i & 1023) == 0 && tcpb_now() >= watchdog)
			wl_stop(w, "stalled: no progress before the watchdog");
	}
	trouble_note(p, w->bad, sizeof(w->bad));
	/* tear down what is left (the server hears the RST) */
	if (w->cli)
		tern_tcp_abort(p->cli, w->cli);
	w->cli = w->srv = NULL;
	for (int i = 0; i < 64 && pair_poll(p); i++)
		;
	p->started = w->started;
}

static struct tcpb_rate fig_timed(const struct pair *p, const char *fig,
				  const struct wl *w, const char *what,
				  double value, const char *unit,
				  const struct tcpb_ref *ref, uint64_t tw)
{
	char why[160], cmp[160], cpu[96];
	double dt = w->t1 - w->t0;
	struct tcpb_rate rate = tcpb_rate(value, dt, w->cpu1 - w->cpu0);
	if (w->why)
		snprintf(why, sizeof(why), "; STOPPED EARLY: %s", w->why);
	else
		why[0] = '\0';
	tcpb_cmp_note(cmp, sizeof(cmp), ref, rate);
	if (tw)
		snprintf(cmp + strlen(cmp), sizeof(cmp) - strlen(cmp),
			 "; %" PRIu64 " connections in TIME_WAIT at the end", tw);
	tcpb_cpu_note(cpu, sizeof(cpu), value, unit, dt, w->cpu1 - w->cpu0);
	char frames[64] = "";
	if (w->kind != BULK && w->count)
		snprintf(frames, sizeof(frames), ", %.1f frames each",
			 (double)w->frames / (double)w->count);
	tcpb_fig(p->mode->name, fig, rate.wall, unit, "%s, %.2f s%s, %s%s%s%s",
		 what, dt, frames, cpu, cmp, w->bad, why);
	return rate;
}

/* ---- connections held --------------------------------------------------- */

struct hold {
	unsigned long n, target, established, accepted, failed;
	struct pair *p;
};

static void hold_accept(void *arg, struct tern_tcp_listener *l,
			struct tern_tcp_conn *c)
{
	struct hold *h = arg;
	(void)l;
	(void)c;
	h->accepted++;	/* idle: no ops needed, nothing will arrive */
}

static void hold_connected(void *arg, struct tern_tcp_conn *c)
{
	(void)c;
	((struct hold *)arg)->established++;
}

static void hold_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	(void)c;
	(void)err;
	((struct hold *)arg)->failed++;
}

static const struct tern_tcp_ops hold_ops = {
	.connected = hold_connected, .closed = hold_closed,
};

/* Opens held connections until there are h->target, 512 handshakes at a
 * time. Returns the seconds it took, or -1 (why in *why). */
static double hold_grow(struct hold *h, const char **why)
{
	struct pair *p = h->p;
	double t0 = tcpb_now();
	while (h->n < h->target) {
		unsigned long batch = RTE_MIN(h->target - h->n, 512ul);
		unsigned long k = (h->n + batch - 1) / HOLD_LPORT_N;
		if (k >= HOLD_LIS) {
			*why = "more held listeners needed than compiled in";
			return -1;
		}
		while ((unsigned long)p->nhold <= k) {
			p->hold[p->nhold] = listen_on(p, (uint16_t)(HOLD_PORT + p->nhold),
						      hold_accept, h, 4096);
			p->nhold++;
		}
		for (unsigned long i = 0; i < batch; i++, h->n++) {
			struct tern_tcp_connect_conf cc;
			memset(&cc, 0, sizeof(cc));
			cc.remote = tern_addr_v4h(SRV_IP);
			cc.rport = (uint16_t)(HOLD_PORT + h->n / HOLD_LPORT_N);
			cc.lport = (uint16_t)(HOLD_LPORT_LO + h->n % HOLD_LPORT_N);
			cc.ops = &hold_ops;
			cc.arg = h;
			if (!tern_tcp_connect(p->cli, &cc)) {
				*why = "tern_tcp_connect of a held connection failed";
				return -1;
			}
		}
		while (pair_poll(p))
			;
		if (h->failed) {
			*why = "a held connection failed";
			return -1;
		}
	}
	for (int i = 0; i < 100 && (h->established < h->n || h->accepted < h->n); i++)
		pair_poll(p);
	if (h->established != h->n || h->accepted != h->n) {
		*why = "not all held connections got established";
		return -1;
	}
	return tcpb_now() - t0;
}

static size_t heap_in_use(void)
{
	struct rte_malloc_socket_stats st;
	if (rte_malloc_get_socket_stats(socket_id, &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* mem@N: the pair sized for n, holding n, against the pair sized for
 * none. Returns 0, or -1 with the figure printed as "-". */
static int fig_mem(const struct mode *m, unsigned long n)
{
	char fig[32];
	snprintf(fig, sizeof(fig), "mem@%lu", n);
	struct pair p;
	pair_open(&p, m, MIN_SLOTS, MIN_SLOTS, MTU, 0);
	size_t base = heap_in_use();
	unsigned base_mbufs = rte_mempool_in_use_count(pool);
	pair_close(&p);

	long rss0 = rss_kb();
	pair_open(&p, m, (uint32_t)n + MIN_SLOTS, (uint32_t)n + MIN_SLOTS, MTU, 0);
	struct hold h = {.target = n, .p = &p};
	const char *why = NULL;
	double setup = hold_grow(&h, &why);
	if (setup < 0) {
		tcpb_fig(m->name, fig, -1, "B/conn",
			 "%lu of %lu connections opened: %s", h.n, n, why);
		pair_close(&p);
		return -1;
	}
	size_t now = heap_in_use();
	long rss1 = rss_kb();
	unsigned mbufs = rte_mempool_in_use_count(pool);
	size_t elt = pool->elt_size + pool->header_size + pool->trailer_size;
	double mbuf_bytes = mbufs > base_mbufs ?
			    (double)(mbufs - base_mbufs) * (double)elt : 0;
	struct tern_tcp_mem tm;
	tern_tcp_mem_get(p.cli, &tm);
	double per = ((double)now - (double)base + mbuf_bytes) / (double)n;
	tcpb_fig(m->name, fig, per, "B/conn",
		 "DPDK heap delta over %lu connections = %lu blocks both ends "
		 "(%.0f B per end), stacks sized for %lu against sized for %d; "
		 "block: hot %u + cold %u = %u B, 4-tuple table %u slots x 4 B, "
		 "on-demand pool %u x %u B (%u in use); "
		 "mbufs in use +%u; VmRSS %+.0f B/conn; "
		 "opened in %.2f s (%.0f conn/s)",
		 n, 2 * n, per / 2, n + MIN_SLOTS, MIN_SLOTS, tm.hot, tm.cold,
		 tm.hot + tm.cold, tm.tab_slots, tm.ext_blocks, tm.ext + 4,
		 tm.ext_used,
		 mbufs > base_mbufs ? mbufs - base_mbufs : 0,
		 rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) * 1024 / (double)n : 0,
		 setup, (double)n / setup);
	pair_close(&p);
	return 0;
}

/* cps@N, cps-rst@N beside n held connections. */
static void fig_held_cps(const struct mode *m, unsigned long n, uint32_t headroom,
			 const struct tcpb_opts *o, struct tcpb_ref ref[2], bool first)
{
	struct pair p;
	pair_open(&p, m, (uint32_t)n + headroom, (uint32_t)n + 65536, MTU, 0);
	struct hold h = {.target = n, .p = &p};
	const char *why = NULL;
	if (hold_grow(&h, &why) < 0) {
		char fig[32];
		snprintf(fig, sizeof(fig), "cps@%lu", n);
		tcpb_fig(m->name, fig, -1, "conn/s", "%lu of %lu held connections "
			 "opened: %s", h.n, n, why);
		pair_close(&p);
		return;
	}
	for (int rst = 0; rst < 2; rst++) {
		char fig[32];
		struct wl w;
		snprintf(fig, sizeof(fig), "%s@%lu", rst ? "cps-rst" : "cps", n);
		run_timed(&p, CPS, rst, o->seconds, &w);
		uint64_t tw = purge_time_wait(p.cli);
		if (tern_tcp_count(p.cli) != n || tern_tcp_count(p.srv) != n) {
			snprintf(w.whybuf, sizeof(w.whybuf),
				 "held connections changed: client %u, server %u",
				 tern_tcp_count(p.cli), tern_tcp_count(p.srv));
			w.why = w.whybuf;
		}
		struct tcpb_rate rate = fig_timed(
			&p, fig, &w,
			rst ? "as cps-rst, beside the held connections"
			    : "as cps, beside the held connections",
			(double)w.count, "conn/s", first ? NULL : &ref[rst], tw);
		if (first) {
			ref[rst].rate = rate;
			snprintf(ref[rst].fig, sizeof(ref[rst].fig), "%s", fig);
		}
	}
	pair_close(&p);
}

/* cps@N and cps-rst@N for every level at once: a pair per level, each
 * holding its N, and the timed cps run in slices of FLAT_SLICE seconds
 * taking the levels in turn (forwards, then backwards, so none is always
 * first), o->seconds in all for each level. The host this runs on moves
 * by 30-40 % between runs of a few seconds (docs/bench.md); levels
 * measured in turn within the same second see the same host, so their
 * ratio is the stack's, not the neighbours'. */
#define FLAT_SLICE 0.2

static bool interleave;	/* -I */

static void fig_flat(const struct mode *m, const struct tcpb_opts *o,
		     uint32_t headroom)
{
	int nl = o->nlevels;
	struct pair p[TCPB_MAX_LEVELS];
	struct hold h[TCPB_MAX_LEVELS];
	struct tcpb_ref ref;
	int opened = 0;
	for (int l = 0; l < nl; l++, opened++) {
		unsigned long n = o->levels[l];
		pair_open(&p[l], m, (uint32_t)n + headroom, (uint32_t)n + 65536,
			  MTU, 0);
		memset(&h[l], 0, sizeof(h[l]));
		h[l].target = n;
		h[l].p = &p[l];
		const char *why = NULL;
		if (hold_grow(&h[l], &why) < 0) {
			char fig[32];
			snprintf(fig, sizeof(fig), "cps@%lu", n);
			tcpb_fig(m->name, fig, -1, "conn/s", "%lu of %lu held "
				 "connections opened: %s", h[l].n, n, why);
			pair_close(&p[l]);
			goto out;
		}
	}
	int rounds = (int)(o->seconds / FLAT_SLICE + 0.5);
	if (rounds < 1)
		rounds = 1;
	for (int rst = 0; rst < 2; rst++) {
		static struct wl acc[TCPB_MAX_LEVELS];
		memset(acc, 0, sizeof(acc));
		for (int r = 0; r < rounds; r++) {
			for (int k = 0; k < nl; k++) {
				int l = (r & 1) ? nl - 1 - k : k;
				static struct wl w;
				run_timed(&p[l], CPS, rst, FLAT_SLICE, &w);
				struct wl *a = &acc[l];
				a->kind = CPS;
				a->count += w.count;
				a->frames += w.frames;
				a->t1 += w.t1 - w.t0;
				a->cpu1 += w.cpu1 - w.cpu0;
				if (w.bad[0])
					memcpy(a->bad, w.bad, sizeof(a->bad));
				if (w.why && !a->why) {
					snprintf(a->whybuf, sizeof(a->whybuf), "%s", w.why);
					a->why = a->whybuf;
				}
			}
		}
		for (int l = 0; l < nl; l++) {
			unsigned long n = o->levels[l];
			char fig[32];
			snprintf(fig, sizeof(fig), "%s@%lu", rst ? "cps-rst" : "cps", n);
			uint64_t tw = purge_time_wait(p[l].cli);
			if ((tern_tcp_count(p[l].cli) != n ||
			     tern_tcp_count(p[l].srv) != n) && !acc[l].why) {
				snprintf(acc[l].whybuf, sizeof(acc[l].whybuf),
					 "held connections changed: client %u, server %u",
					 tern_tcp_count(p[l].cli), tern_tcp_count(p[l].srv));
				acc[l].why = acc[l].whybuf;
			}
			char what[160];
			snprintf(what, sizeof(what), "as %s, beside the held "
				 "connections, in %d slices of %.1f s taken in turn "
				 "with the other levels", rst ? "cps-rst" : "cps",
				 rounds, FLAT_SLICE);
			struct tcpb_rate rate = fig_timed(
				&p[l], fig, &acc[l], what, (double)acc[l].count,
				"conn/s", l == 0 ? NULL : &ref, tw);
			if (l == 0) {
				ref.rate = rate;
				snprintf(ref.fig, sizeof(ref.fig), "%s", fig);
			}
		}
	}
out:
	for (int l = 0; l < opened; l++)
		pair_close(&p[l]);
}

/* ---- a column ---------------------------------------------------------------- */

static void run_mode(const struct mode *m, const struct tcpb_opts *o,
		     uint32_t headroom)
{
	struct wl w;
	struct pair p;
	uint32_t timed_max = headroom;
	printf("# %s: tern %s, raw API (tern/tcp.h), client and server stacks "
	       "on one lcore over the in-memory wire, TSC clock, MTU %d, %s; "
	       "CUBIC, SACK, timestamps, window scaling, 256 KiB buffers, "
	       "delayed ACK 40 ms, TIME_WAIT 60 s\n",
	       m->name, TERN_VERSION, MTU,
	       m->offload ? "IPv4/TCP checksum offload declared (the wire "
			    "stands for the NICs: nobody computes them)"
			  : "checksums in software both ways");
	fflush(stdout);
	if (o->bulk) {
		static const struct {
			const char *fig;
			uint16_t mtu;
			uint32_t buf;
			bool tso;	/* offload column only */
		} bulks[] = {
			{"bulk", MTU, BULK_BUF, false},
			{"bulk-9000", 9000, BULK_BUF, false},
			{"bulk-256k", MTU, 0, false},
			{"bulk-tso", MTU, BULK_BUF, true},
		};
		for (unsigned i = 0; i < RTE_DIM(bulks); i++) {
			char what[192];
			if (bulks[i].tso && !m->offload)
				continue;
			pair_tso = bulks[i].tso;
			pair_open(&p, m, 1024, 1024, bulks[i].mtu, bulks[i].buf);
			pair_tso = false;
			run_timed(&p, BULK, 0, o->seconds, &w);
			snprintf(what, sizeof(what), "1 connection, MTU %u, %u KiB "
				 "buffers, tern_tcp_write() 64 KiB copies%s",
				 bulks[i].mtu, (bulks[i].buf ? bulks[i].buf : 262144) >> 10,
				 bulks[i].tso ? ", TSO and LRO declared (the wire "
						"stands for NICs that cut and merge)" : "");
			fig_timed(&p, bulks[i].fig, &w, what,
				  (double)w.count * 8 / 1e9, "Gbps", NULL, 0);
			pair_close(&p);
		}
	}
	if (o->rr) {
		pair_open(&p, m, 1024, 1024, MTU, 0);
		run_timed(&p, RR, 0, o->seconds, &w);
		fig_timed(&p, "rr", &w, "1 connection, 64 B each way, "
			  "nagle off", (double)w.count, "rr/s", NULL, 0);
		pair_close(&p);
	}
	double cps_rate = 0;
	if (o->cps || o->cps_rst) {
		pair_open(&p, m, timed_max, 65536, MTU, 0);
		if (o->cps) {
			run_timed(&p, CPS, 0, o->seconds, &w);
			uint64_t tw = purge_time_wait(p.cli);
			fig_timed(&p, "cps", &w, "serial, client closes with FIN",
				  (double)w.count, "conn/s", NULL, tw);
			cps_rate = (double)w.count / (w.t1 - w.t0);
		}
		if (o->cps_rst) {
			run_timed(&p, CPS, 1, o->seconds, &w);
			fig_timed(&p, "cps-rst", &w, "serial, client closes with RST "
				  "(tern_tcp_abort)", (double)w.count, "conn/s",
				  NULL, purge_time_wait(p.cli));
		}
		pair_close(&p);
	}
	if (o->hold) {
		/* room for the TIME_WAITs of a timed cps beside the held:
		 * what the unloaded one needed, and half as much again */
		uint32_t hr = headroom;
		if (cps_rate > 0)
			hr = (uint32_t)RTE_MIN(cps_rate * o->seconds * 1.5 + 65536,
					       (double)headroom);
		struct tcpb_ref ref[2];
		memset(ref, 0, sizeof(ref));
		int l;
		for (l = 0; l < o->nlevels; l++) {
			unsigned long n = o->levels[l];
			if (fig_mem(m, n) != 0)
				break;
			if (!interleave)
				fig_held_cps(m, n, hr, o, ref, l == 0);
		}
		if (interleave && l == o->nlevels)
			fig_flat(m, o, hr);
	}
}

/* Takes "-c MODE", "-H N", "-m MB" and "-G" out of argv (tcpb_parse knows only
 * the shared options). */
static int take_opts(int *argc, char **argv, const char **cmode,
		     unsigned long *headroom, unsigned long *mem_mb)
{
	int j = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-G")) {
			no_gro = true;
			continue;
		}
		if (!strcmp(a, "-I")) {
			interleave = true;
			continue;
		}
		if ((!strcmp(a, "-c") || !strcmp(a, "-H") || !strcmp(a, "-m")) &&
		    i + 1 < *argc) {
			const char *v = argv[++i];
			if (a[1] == 'c')
				*cmode = v;
			else if (a[1] == 'H')
				*headroom = strtoul(v, NULL, 10);
			else
				*mem_mb = strtoul(v, NULL, 10);
			continue;
		}
		argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return 0;
}

/* Without hugepages EAL's memory is anonymous mmap: a page costs a fault
 * the first time it is touched, which at a connection's first use made
 * a cps figure 4-10x slower than on memory touched before. Hugepages are
 * mapped up front; so here every page of the heap is touched once before
 * anything is measured. Returns the bytes touched. */
static int thp_advise(const struct rte_memseg_list *msl, void *arg)
{
	int *n = arg;
	if (msl->base_va != NULL && msl->len > 0 &&
	    madvise(msl->base_va, msl->len, MADV_HUGEPAGE) == 0)
		(*n)++;
	return 0;
}

static size_t prefault(int *thp)
{
	enum { CHUNK = 64 << 20 };
	/* transparent huge pages where the kernel offers them (madvise
	 * mode): fewer faults, and closer to the hugepages DPDK runs on */
	*thp = 0;
	rte_memseg_list_walk(thp_advise, thp);
	void *chunks[4096];
	unsigned n = 0;
	while (n < RTE_DIM(chunks)) {
		void *p = rte_malloc_socket("tcp_tern_prefault", CHUNK, 0, socket_id);
		if (!p)
			break;
		memset(p, 0, CHUNK);
		chunks[n++] = p;
	}
	for (unsigned i = 0; i < n; i++)
		rte_free(chunks[i]);
	return (size_t)n * CHUNK;
}

int main(int argc, char **argv)
{
	/* EAL arguments are what comes before "--" */
	int sep = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			sep = i;
			break;
		}
	int app_argc = sep ? argc - sep : argc;
	char **app_argv = sep ? argv + sep : argv;
	const char *cmode = "both";
	unsigned long headroom = 2500000, mem_mb = 0;
	take_opts(&app_argc, app_argv, &cmode, &headroom, &mem_mb);
	struct tcpb_opts o;
	if (tcpb_parse(&o, app_argc, app_argv, "tcp_tern", "1000,10000") != 0)
		return 2;
	if (strcmp(cmode, "both") && strcmp(cmode, "offload") &&
	    strcmp(cmode, "sw")) {
		fprintf(stderr, "tcp_tern: -c offload|sw|both\n");
		return 2;
	}
	if (headroom < 65536 || headroom > 100000000) {
		fprintf(stderr, "tcp_tern: -H between 65536 and 100000000\n");
		return 2;
	}
	if (o.levels[o.nlevels - 1] + headroom > UINT32_MAX / 4) {
		fprintf(stderr, "tcp_tern: too many connections\n");
		return 2;
	}
	if (mem_mb == 0) {
		/* the largest stack pair a figure makes (~600 B a slot), the
		 * mbufs (~2.5 KB each) and 256 MB for the rest */
		unsigned long slots = 2 * 1024, lmax = o.levels[o.nlevels - 1];
		if (o.cps || o.cps_rst)
			slots = headroom + 65536;
		if (o.hold)
			slots = RTE_MAX(slots, 2 * lmax + headroom + 65536);
		if (o.hold && interleave) {	/* every level's pair at once */
			unsigned long all = 0;
			for (int l = 0; l < o.nlevels; l++)
				all += 2 * o.levels[l] + headroom + 65536;
			slots = RTE_MAX(slots, all);
		}
		mem_mb = 256 + POOL_MBUFS * 2560ul / (1 << 20) +
			 slots * 600 / (1 << 20);
	}
	int rc;
	if (sep) {
		rc = rte_eal_init(sep, argv);
	} else {
		char mem[32];
		snprintf(mem, sizeof(mem), "%lu", mem_mb);
		char *eal[] = {argv[0], "--no-huge", "--no-shconf", "--no-pci",
			       "-m", mem, "-l", "0", "--no-telemetry",
			       "--log-level=lib.eal:error", NULL};
		rc = rte_eal_init((int)RTE_DIM(eal) - 1, eal);
	}
	if (rc < 0)
		die("rte_eal_init");
	socket_id = (int)rte_socket_id();
	if (socket_id < 0)
		socket_id = 0;
	memset(wbuf, 'x', sizeof(wbuf));
	tern_clock_init_tsc(&clk);
	pool = rte_pktmbuf_pool_create("tcp_tern", POOL_MBUFS, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, socket_id);
	if (!pool)
		die("rte_pktmbuf_pool_create");
	double t0 = tcpb_now();
	int thp;
	size_t touched = prefault(&thp);
	if (sep)
		printf("# tcp_tern: EAL arguments from the command line; ");
	else
		printf("# tcp_tern: EAL -m %lu without hugepages (%s); ", mem_mb,
		       thp ? "transparent huge pages advised" : "4 KiB pages");
	printf("%zu MB of heap touched before measuring (%.1f s); -H %lu slots "
	       "for timed connections\n",
	       touched >> 20, tcpb_now() - t0, headroom);
	static const struct mode modes[] = {{"tern", true}, {"tern-sw", false}};
	for (int i = 0; i < 2; i++) {
		if (strcmp(cmode, "both") &&
		    strcmp(cmode, modes[i].offload ? "offload" : "sw"))
			continue;
		run_mode(&modes[i], &o, (uint32_t)headroom);
	}
	unsigned left = rte_mempool_in_use_count(pool);
	if (left)
		printf("# warning: %u mbufs not back in the pool\n", left);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
