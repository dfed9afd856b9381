/* One worker per lcore: its stack, its channel, its TX buffers and the
 * run loop  rx bursts -> stack input -> timers -> messages -> pollers ->
 * tx flush. Only this lcore touches a worker's state; everyone else sends
 * messages (DESIGN rule 7). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_priv.h"

unsigned tern_worker_index(const struct tern_worker *w)
{
	return w->idx;
}

struct tern_stack *tern_worker_stack(struct tern_worker *w)
{
	return w->stack;
}

int tern_worker_poller_add(struct tern_worker *w, tern_poller_fn fn, void *arg)
{
	if (fn == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < w->npollers; i++)
		if (w->pollers[i].fn == fn && w->pollers[i].arg == arg)
			return -EEXIST;
	if (w->npollers == DP_MAX_POLLERS)
		return -ENOSPC;
	w->pollers[w->npollers].fn = fn;
	w->pollers[w->npollers].arg = arg;
	w->npollers++;
	return 0;
}

int tern_worker_poller_del(struct tern_worker *w, tern_poller_fn fn, void *arg)
{
	for (unsigned i = 0; i < w->npollers; i++) {
		if (w->pollers[i].fn != fn || w->pollers[i].arg != arg)
			continue;
		/* Keep order: pollers run in the order they were added. */
		memmove(&w->pollers[i], &w->pollers[i + 1],
			(w->npollers - i - 1) * sizeof(w->pollers[0]));
		w->npollers--;
		return 0;
	}
	return -ENOENT;
}

/* ---- TX (the buffers themselves: txbuf.c) -------------------------- */

static void worker_flush_all(struct tern_worker *w)
{
	for (unsigned s = 0; s < w->dp->nports; s++)
		dp_txbuf_flush(&w->tx[s]);
}

/* Stopping: offers what the buffers hold to the ports until they take
 * nothing more (a NIC drains its ring meanwhile; a net_ring nobody reads
 * does not), then frees the rest as tx_dropped, so the pools are full
 * again at teardown. */
static void worker_flush_final(struct tern_worker *w)
{
	unsigned sent;
	do {
		sent = 0;
		for (unsigned s = 0; s < w->dp->nports; s++)
			sent += dp_txbuf_flush(&w->tx[s]);
	} while (sent > 0);
	uint64_t dropped = 0;
	for (unsigned s = 0; s < w->dp->nports; s++)
		dropped += dp_txbuf_drop(&w->tx[s]);
	if (dropped > 0)
		DP_LOG(INFO, "worker %u: %" PRIu64 " packets the ports "
		       "refused until the end were dropped (tx_dropped)",
		       w->idx, dropped);
}

/* ---- neighbour sharing (DESIGN rule 7) ------------------------------ */

struct neigh_payload {
	uint16_t ifindex;
	struct rte_ether_addr mac;
	struct tern_addr ip;
	uint32_t flags;		/* TERN_NEIGH_F_* */
};
_Static_assert(sizeof(struct neigh_payload) <= TERN_MSG_DATA,
	       "neighbour message must fit in tern_msg.data");

static int neigh_apply(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct neigh_payload p;
	memcpy(&p, msg->data, sizeof(p));
	return tern_neigh_update(w->stack, p.ifindex, &p.ip, &p.mac, p.flags);
}

/* Learned or confirmed on this lcore from the wire: every other lcore may
 * send to the same host, and on an RSS port the replies to every lcore's
 * probes land on one queue, so each confirmation (not only new entries)
 * goes to the others; without it their entries would fail their probes
 * and re-resolve while traffic flows. */
static void neigh_learned(void *arg, uint16_t ifindex,
			  const struct tern_addr *ip,
			  const struct rte_ether_addr *mac, unsigned flags)
{
	struct tern_worker *w = arg;
	struct tern_dp *dp = w->dp;
	struct tern_msg msg;
	struct neigh_payload p;

	memset(&msg, 0, sizeof(msg));
	memset(&p, 0, sizeof(p));
	p.ifindex = ifindex;
	p.ip = *ip;
	p.mac = *mac;
	p.flags = flags;
	msg.fn = neigh_apply;
	memcpy(msg.data, &p, sizeof(p));
	for (unsigned i = 0; i < dp->nworkers; i++) {
		if (i == w->idx)
			continue;
		if (tern_chan_post(dp->workers[i]->chan, &msg) == 0)
			w->st.neigh_shared++;
		else
			w->st.neigh_post_fail++;
	}
}

/* ---- life cycle ---------------------------------------------------- */

struct tern_worker *dp_worker_create(struct tern_dp *dp, unsigned idx,
				     unsigned lcore)
{
	unsigned socket = rte_lcore_to_socket_id(lcore);
	char name[RTE_RING_NAMESIZE];

	/* The worker (its TX buffers and snapshot inside) and its channel
	 * live on its lcore's socket; a remote socket beats none (--no-huge
	 * puts all memory on one), and the log says so. */
	struct tern_worker *w = rte_zmalloc_socket("tern_worker", sizeof(*w),
						   RTE_CACHE_LINE_SIZE,
						   (int)socket);
	if (w == NULL) {
		DP_LOG(WARNING, "worker %u: no memory on socket %u, "
		       "allocating it on any", idx, socket);
		w = rte_zmalloc("tern_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	}
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->dp = dp;
	w->idx = idx;
	w->lcore = lcore;
	w->socket = socket;
	w->st.lcore = lcore;
	tern_clock_init_tsc(&w->clock);

	snprintf(name, sizeof(name), "tern_chan_w%u", idx);
	w->chan = tern_chan_create(name, DP_CHAN_SIZE, (int)socket);
	if (w->chan == NULL && rte_errno == ENOMEM) {
		DP_LOG(WARNING, "worker %u: no memory on socket %u for its "
		       "channel, allocating it on any", idx, socket);
		w->chan = tern_chan_create(name, DP_CHAN_SIZE, SOCKET_ID_ANY);
	}
	if (w->chan == NULL)
		goto fail;

	char sname[32];
	snprintf(sname, sizeof(sname), "lcore%u", lcore);
	struct tern_stack_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = sname;
	sc.lcore = lcore;
	sc.socket = (int)socket;
	sc.pool = dp_pool_for_socket(dp, (int)socket);
	sc.clock = &w->clock;
	sc.timer_tick_ns = dp->conf.timer_tick_ns;
	sc.no_gro = dp->conf.no_gro;
	sc.fib = dp->fib;	/* one route table for the host */
	sc.neigh_max = dp->conf.neigh_max;
	sc.neigh_reachable_ms = dp->conf.neigh_reachable_ms;
	sc.neigh_delay_ms = dp->conf.neigh_delay_ms;
	sc.local_blocks = dp->conf.local_blocks ? dp->conf.local_blocks : 4096;
	/* Its own ports for active opens: the destination port of a reply
	 * names the worker that owns the flow (handover.c). */
	tern_eph_split_range(&dp->eph, idx, &sc.ephemeral_lo,
			     &sc.ephemeral_hi);
	w->stack = tern_stack_create(&sc);
	if (w->stack == NULL)
		goto fail;
	tern_stack_set_neigh_cb(w->stack, neigh_learned, w);
	if (dp_handover_create(w) < 0)
		goto fail;
	return w;
fail:;
	int err = rte_errno;
	dp_worker_destroy(w);
	rte_errno = err;
	return NULL;
}

void dp_worker_destroy(struct tern_worker *w)
{
	if (w == NULL)
		return;
	if (w->stack != NULL)
		tern_stack_destroy(w->stack);
	/* The stack may have sent on its way out. */
	for (unsigned s = 0; s < TERN_DP_MAX_PORTS; s++)
		dp_txbuf_drop(&w->tx[s]);
	dp_handover_free(w);
	tern_chan_free(w->chan);
	rte_free(w);
}

static unsigned worker_rx(struct tern_worker *w)
{
	struct tern_dp *dp = w->dp;
	struct rte_mbuf *pkts[TERN_DP_BURST];
	unsigned total = 0;

	for (unsigned s = 0; s < dp->nports; s++) {
		if (!w->tx[s].has_queue)
			continue;
		uint16_t pid = dp->ports[s].port_id;
		uint16_t n = rte_eth_rx_burst(pid, (uint16_t)w->idx, pkts,
					      TERN_DP_BURST);
		if (n == 0)
			continue;
		w->st.rx_pkts += n;
		total += n;
		/* Frames of another worker's flows go to it first. */
		if (dp->nworkers > 1)
			n = dp_handover_steer(w, pid, pkts, n);
		if (n > 0)
			tern_stack_input(w->stack, pid, pkts, n);
	}
	return total;
}

int dp_worker_main(void *arg)
{
	struct tern_worker *w = arg;
	struct tern_dp *dp = w->dp;
	unsigned idle_us = dp->conf.idle_sleep_us;

	/* The route table is read lock-free: report quiescent states so
	 * that the control thread knows when a removed route is unused. */
	dp_rcu_online(w);
	while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
		/* One TSC read per iteration: everything below works at
		 * this time (tern/clock.h). */
		tern_clock_update(&w->clock);
		unsigned work = worker_rx(w);
		work += dp_handover_drain(w);
		work += tern_stack_run_timers(w->stack);
		unsigned m = tern_chan_drain(w->chan, w, TERN_DP_BURST);
		w->st.msgs += m;
		work += m;
		for (unsigned i = 0; i < w->npollers; i++)
			work += w->pollers[i].fn(w, w->pollers[i].arg);
		worker_flush_all(w);

		w->st.loops++;
		dp_rcu_quiescent(w);
		if (work) {
			w->st.busy_loops++;
		} else if (idle_us > 0) {
			/* asleep, it holds no route: nobody waits for it */
			rte_rcu_qsbr_thread_offline(dp->qsbr, w->idx);
			rte_delay_us_sleep(idle_us);
			rte_rcu_qsbr_thread_online(dp->qsbr, w->idx);
		}
	}
	dp_rcu_offline(w);
	worker_flush_final(w);
	return 0;
}
