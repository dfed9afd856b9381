/* See fuzz_tcp.h. One fresh stack per input (so what one input leaves
 * behind cannot hide a leak of the next); the peer is the input: its
 * segments are built around the connection's current sequence numbers
 * (as lwIP's multi-packet fuzzer with time does), so the fuzzer reaches
 * deep states without guessing 32-bit numbers.
 *
 * This file is the run: the stack, the program's decoder and op
 * dispatch, the virtual clock and the end with its checks; the peer, the
 * application, the socket layer and the checks are in the files
 * fuzz_tcp_priv.h lists. */
#include "fuzz_tcp_priv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct tern_fuzz_tcp_stats fz_stats;

void tern_fuzz_tcp_stats_get(struct tern_fuzz_tcp_stats *out, int reset)
{
	if (out != NULL)
		*out = fz_stats;
	if (reset)
		memset(&fz_stats, 0, sizeof(fz_stats));
}

/* ---- time ---------------------------------------------------------------- */

#define TICK_NS 100000ull

/* Moves the clock to target, running each timer at its time. */
static void advance_to(struct fz *z, uint64_t target)
{
	unsigned guard = 0;
	for (;;) {
		uint64_t now = tern_clock_now(&z->clk);
		uint64_t nt = tern_stack_next_timer(z->s);
		if (nt > target)
			break;
		if (nt > now)
			tern_clock_advance(&z->clk, nt - now);
		unsigned ran = tern_stack_run_timers(z->s);
		fz_arp_answer(z);
		if (ran == 0 && nt <= now) {
			if (now + TICK_NS > target)
				break;
			tern_clock_advance(&z->clk, TICK_NS);
		}
		if (++guard > 200000) {
			fz_fail(z, "timers never settle (a timer re-arms "
				"itself in the past?)");
			return;
		}
	}
	uint64_t now = tern_clock_now(&z->clk);
	if (target > now)
		tern_clock_advance(&z->clk, target - now);
	tern_stack_run_timers(z->s);
	fz_arp_answer(z);
	z->peer_ts = (uint32_t)(tern_clock_now(&z->clk) / 1000000u) + 77777;
}

static void advance_ms(struct fz *z, uint64_t ms)
{
	advance_to(z, tern_clock_now(&z->clk) + ms * 1000000ull);
}

/* ---- TIME and HOG: the clock and the pool ---------------------------------- */

static void op_time(struct fz *z)
{
	uint8_t t = get8(z);
	uint64_t ms = t < 100 ? t : t < 200 ? (uint64_t)(t - 99) * 50 :
			  (uint64_t)(t - 199) * 1000;
	fz_trace(z, "TIME +%llu ms", (unsigned long long)ms);
	advance_ms(z, ms);
}

static void op_hog(struct fz *z)
{
	uint8_t b = get8(z);
	if (b & 0x80) {
		fz_trace(z, "HOG release %u", z->nhog);
		for (unsigned i = 0; i < z->nhog; i++)
			rte_pktmbuf_free(z->hog[i]);
		z->nhog = 0;
		return;
	}
	unsigned want = (b & 0x7f) * 16u + 1;
	unsigned got = 0;
	while (got < want && z->nhog < POOL_SIZE) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(z->mp);
		if (m == NULL)
			break;
		z->hog[z->nhog++] = m;
		got++;
	}
	fz_trace(z, "HOG take %u (holding %u)", got, z->nhog);
}

/* ---- the run ------------------------------------------------------------- */

static struct rte_mempool *fuzz_pool(void)
{
	static struct rte_mempool *mp;
	if (!mp)
		mp = rte_pktmbuf_pool_create_by_ops("tern_fuzz_tcp_pool",
						    POOL_SIZE, 0, 0,
						    RTE_MBUF_DEFAULT_BUF_SIZE,
						    SOCKET_ID_ANY, "ring_mp_mc");
	return mp;
}

static int abort_each(void *arg, struct tern_tcp_conn *c)
{
	struct fz *z = arg;
	struct tern_tcp_info ti;
	tern_tcp_info_get(z->s, c, &ti);
	fprintf(stderr, "tern_fuzz_tcp: left: %u->%u in %s, %u queued, %u in "
		"flight\n", ti.rport, ti.lport, tern_tcp_state_name(ti.state),
		ti.send_queued, ti.unacked);
	tern_tcp_abort(z->s, c);
	return 0;
}

static void run_ops(struct fz *z)
{
	for (unsigned i = 0; i < MAX_OPS && z->n > 0 && !z->fail; i++) {
		fz_stats.ops++;
		switch (get8(z) % TERN_FUZZ_TCP_NOPS) {
		case TERN_FZ_SEG: fz_op_seg(z); break;
		case TERN_FZ_TIME: op_time(z); break;
		case TERN_FZ_CONNECT: fz_op_connect(z); break;
		case TERN_FZ_LISTEN: fz_op_listen(z); break;
		case TERN_FZ_LISTENER_CLOSE: fz_op_listener_close(z); break;
		case TERN_FZ_WRITE: fz_op_write(z); break;
		case TERN_FZ_SEND_REF: fz_op_send_ref(z); break;
		case TERN_FZ_CONSUME: fz_op_consume(z); break;
		case TERN_FZ_SHUTDOWN: fz_op_on_slot(z, "SHUTDOWN", fz_shut_conn); break;
		case TERN_FZ_CLOSE: fz_op_on_slot(z, "CLOSE", fz_close_conn); break;
		case TERN_FZ_ABORT: fz_op_on_slot(z, "ABORT", fz_abort_conn); break;
		case TERN_FZ_SETOPT: fz_op_setopt(z); break;
		case TERN_FZ_RAW_TCP: fz_op_raw_tcp(z); break;
		case TERN_FZ_RAW_FRAME: fz_op_raw_frame(z); break;
		case TERN_FZ_SOCK: fz_op_sock(z); break;
		case TERN_FZ_HOG: op_hog(z); break;
		}
		fz_arp_answer(z);
		fz_check_all(z);
	}
}

/* The end: let go of everything, let the timers finish, and check that
 * nothing is left. */
static int finish(struct fz *z, bool graceful)
{
	int rc = 0;
	fz_trace(z, "END (%s)", graceful ? "close" : "abort");
	fz_trace_counters(z);
	/* the application's buffers first: a close with data unread resets */
	for (unsigned i = 0; i < z->nhog; i++)
		rte_pktmbuf_free(z->hog[i]);
	z->nhog = 0;
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &z->slot[i];
		if (sl->c == NULL)
			continue;
		fz_slot_drop_held(sl);
		if (graceful) {
			sl->beh = 0;	/* no more writes from callbacks */
			if (sl->deferred) {
				sl->deferred = false;
				tern_tcp_set_ops(z->s, sl->c, &fz_ops_full, sl);
			}
			if (sl->c != NULL && !sl->app_closed)
				fz_close_conn(z, sl);
		} else {
			fz_abort_conn(z, sl);
		}
	}
	for (int fd = 0; fd < NSOCK; fd++) {
		if (!graceful) {
			struct linger lg = {1, 0};
			tern_sock_setsockopt(z->socks, fd, SOL_SOCKET, SO_LINGER,
					     &lg, sizeof(lg));
		}
		tern_sock_close(z->socks, fd);
	}
	for (int i = 0; i < NLST; i++) {
		if (z->lst[i].l != NULL)
			tern_tcp_listener_close(z->s, z->lst[i].l);
		z->lst[i].l = NULL;
	}
	/* The peer is silent from here: retransmissions time out, FIN-WAIT-2
	 * and TIME_WAIT end (3 hours covers every timeout of the stack's
	 * configuration: 15 retries of at most 120 s, keepalive, 60 s). */
	uint64_t end = tern_clock_now(&z->clk) + 3 * 3600ull * 1000000000ull;
	while (tern_tcp_count(z->s) > 0 && !z->fail &&
	       tern_clock_now(&z->clk) < end)
		advance_ms(z, 10000);
	fz_check_all(z);
	if (tern_tcp_count(z->s) > 0) {
		fprintf(stderr, "tern_fuzz_tcp: %u connections left 3 hours "
			"after the application %s them\n", tern_tcp_count(z->s),
			graceful ? "closed" : "aborted");
		rc = -2;
		tern_tcp_foreach(z->s, abort_each, z);
	}
	for (int i = 0; i < NSLOT; i++) {
		if (z->slot[i].c != NULL) {
			fprintf(stderr, "tern_fuzz_tcp: slot %d never got closed()\n", i);
			rc = -2;
			fz_slot_end(&z->slot[i]);
		}
	}
	tern_socks_destroy(z->socks);
	z->socks = NULL;
	return rc;
}

int tern_fuzz_tcp_one(const uint8_t *data, size_t len)
{
	static struct fz zz;
	static struct rte_mbuf *hog[POOL_SIZE];
	struct rte_mempool *mp = fuzz_pool();
	if (mp == NULL)
		return -1;
	if (len < 1)
		return 0;
	unsigned before = in_pool(mp);
	fz_stats.runs++;
	struct fz *z = &zz;
	memset(z, 0, sizeof(*z));
	z->mp = mp;
	z->hog = hog;
	z->p = data;
	z->n = len;
	static int trace_env = -1;
	if (trace_env < 0) {
		const char *e = getenv("TERN_FUZZ_TRACE");
		trace_env = e != NULL && e[0] != '\0' && e[0] != '0';
	}
	z->trace = trace_env;
	uint8_t h = get8(z);
	z->refuse = (h >> 5) & 1;
	z->arp_silent = (h >> 6) & 1;
	for (unsigned i = 0; i < 8; i++)
		z->pisn[i] = 0x10000000u * (i + 1) + 0x1234567u * i;

	tern_clock_init_virtual(&z->clk, 1000000000ull);
	z->peer_ts = 77777;
	struct tern_stack_conf sc = {
		.name = "fuzz_tcp", .pool = mp, .clock = &z->clk, .seed = 1,
		.neigh_max = 8, .neigh_retrans_ms = 100, .neigh_mcast_probes = 2,
		.neigh_queue_len = 4, .local_blocks = 2, .ip4_frag_max = 4,
		.udp_max_pcbs = 4, .tcp_max_conns = MAX_CONNS,
		.tcp_max_listeners = 4,
		.tcp_cc = (h & 3) == 1 ? TERN_TCP_CC_NEWRENO :
			  (h & 3) == 2 ? TERN_TCP_CC_CUBIC : 0,
		.tcp_no_delack = (h >> 2) & 1,
		.tcp_rto_min_ms = (h & 8) ? 20 : 0,
		.tcp_syn_retries = (h & 0x10) ? 2 : 0,
		.tcp_retries = (h & 0x10) ? 4 : 0,
	};
	z->s = tern_stack_create(&sc);
	if (z->s == NULL)
		return -1;
	struct tern_iface_conf ic = {
		.ifindex = 1, .link = 0, .name = "fz0", .mtu = 1500,
		.tx = fz_tx, .tx_ctx = z,
	};
	memcpy(ic.mac.addr_bytes, mac_us, 6);
	struct tern_addr a = tern_addr_v4h(ip_us);
	struct tern_addr peer = tern_addr_v4h(ip_peer);
	struct rte_ether_addr pm;
	memcpy(pm.addr_bytes, mac_peer, 6);
	int rc = -1;
	if (tern_iface_add(z->s, &ic) != 0 ||
	    tern_iface_addr_add(z->s, 1, &a, 24) != 0)
		goto out;
	if (!((h >> 6) & 1) && tern_neigh_add(z->s, 1, &peer, &pm) != 0)
		goto out;
	z->socks = tern_socks_create(z->s, NSOCK);
	z->shared = rte_pktmbuf_alloc(mp);
	if (z->socks == NULL || z->shared == NULL)
		goto out;
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(z->shared, SHARED_LEN);
	if (d == NULL)
		goto out;
	for (unsigned i = 0; i < SHARED_LEN; i++)
		d[i] = pat2(i);

	run_ops(z);
	rc = finish(z, (h >> 7) & 1);
	if (z->fail)
		rc = z->fail;
out:
	if (z->socks != NULL)
		tern_socks_destroy(z->socks);
	for (int i = 0; i < NSLOT; i++)
		fz_slot_end(&z->slot[i]);
	for (unsigned i = 0; i < z->nhog; i++)
		rte_pktmbuf_free(z->hog[i]);
	z->nhog = 0;
	tern_stack_destroy(z->s);
	/* the shared buffer came back unchanged (the stack never writes
	 * what it is given by reference) and no clone of it is left */
	if (z->shared != NULL) {
		if (rte_mbuf_refcnt_read(z->shared) != 1)
			fz_fail(z, "the shared buffer still has %u references",
				rte_mbuf_refcnt_read(z->shared));
		const uint8_t *sd = rte_pktmbuf_mtod(z->shared, const uint8_t *);
		for (unsigned i = 0; i < z->shared->data_len; i++)
			if (sd[i] != pat2(i)) {
				fz_fail(z, "the shared buffer was written at %u", i);
				break;
			}
		rte_pktmbuf_free(z->shared);
	}
	if (z->fail && rc == 0)
		rc = z->fail;
	/* compared with before, so that one leak is reported once */
	if (in_pool(mp) != before) {
		fprintf(stderr, "tern_fuzz_tcp: %d mbufs leaked (negative: "
			"freed twice)\n", (int)before - (int)in_pool(mp));
		return -1;
	}
	return rc;
}
