/* dpdk_port internals shared by dp.c, port.c, worker.c, dp_iface.c and
 * dp_capture.c. Everything mutable hangs off struct tern_dp (no globals). */
#ifndef TERN_DP_PRIV_H
#define TERN_DP_PRIV_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <tern/capture.h>
#include <tern/chan.h>
#include <tern/clock.h>
#include <tern/dp.h>
#include <tern/rss.h>

#include "txbuf.h"

/* Log type "tern.dp" (e.g. --log-level=tern.dp:debug), registered in
 * dp.c: a per-process id, which is all a DPDK log type is. */
extern int tern_dp_logtype;
#define DP_LOG(level, fmt, ...)                                                \
	rte_log(RTE_LOG_##level, tern_dp_logtype, "tern_dp: " fmt "\n",        \
		##__VA_ARGS__)

#define DP_MAX_POLLERS 32
#define DP_CHAN_SIZE 1024
#define DP_CALL_TIMEOUT_MS 2000
#define DP_RING_PAIR_SIZE 1024	/* slots per net_ring queue */
#define DP_NO_SLOT UINT16_MAX

#define DP_NEIGH_CHUNK 64	/* neighbours a listing message carries */
#define DP_HANDOVER_SIZE 2048	/* frames waiting for their owner lcore */
#define DP_PAIR_RETA_SIZE 128	/* the steered ring pair's RETA (ixgbe's) */

struct tern_worker;

struct dp_poller {
	tern_poller_fn fn;
	void *arg;
};

struct tern_worker {
	struct tern_dp *dp;
	unsigned idx;
	unsigned lcore;
	unsigned socket;
	struct tern_clock clock;	/* the stack's clock; must outlive it */
	struct tern_stack *stack;
	struct tern_chan *chan;
	unsigned npollers;
	struct dp_poller pollers[DP_MAX_POLLERS];
	struct tern_worker_stats st;	/* lcore-written; read via messages */
	/* Result of the snapshot message (dp_stats.c). It lives here rather
	 * than in the caller's frame so that a message which runs after its
	 * call timed out writes into memory that still exists; messages run
	 * in order, so once a later call completes no earlier one writes. */
	struct tern_worker_snapshot snap;
	struct dp_txbuf tx[TERN_DP_MAX_PORTS];	/* by port slot (txbuf.h) */
	/* Frames other workers received for this one (handover.c). */
	struct rte_ring *handover;
	/* Result of a neighbour listing message: a chunk of the table from
	 * a cursor (dp_neigh.c); here for the same reason as snap. */
	struct tern_neigh_info neigh_chunk[DP_NEIGH_CHUNK];
	unsigned neigh_n;
	uint32_t neigh_next;
};

struct dp_port {
	uint16_t port_id;
	uint16_t queues;	/* RX = TX; may be < workers when clamped */
	bool rss;
	bool started;
	int socket;
	struct tern_ol_caps caps;
	struct rte_ether_addr mac;	/* the port's, or one made up for it */
	char name[64];
	char driver[32];
	/* RSS as the port applies it (rss true): what the stacks steer
	 * by. reta NULL when it is unknown or not a power of two. */
	uint8_t rss_key[TERN_RSS_KEY_MAX];
	uint8_t rss_key_len;
	bool hash_udp, hash_tcp;
	uint16_t *reta;			/* rte_malloc'd, reta_size entries */
	uint32_t reta_size;
};

struct dp_iface {
	bool used;
	int refs;		/* generators using it */
	uint16_t slot;		/* port slot */
	struct tern_dp_iface_info info;
};

struct tern_dp {
	struct tern_dp_conf conf;
	atomic_bool stop;
	bool launched;

	unsigned nworkers;
	struct tern_worker *workers[TERN_DP_MAX_WORKERS];

	unsigned nports;
	struct dp_port ports[TERN_DP_MAX_PORTS];
	uint16_t slot_of[RTE_MAX_ETHPORTS];	/* port id -> slot */

	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

	/* --ring-pair: rings[d][q] carries ring<d> TX queue q to the peer's
	 * RX queue q. Owned here: net_ring does not free attached rings. */
	bool have_pair;
	bool pair_port_made[2];
	uint16_t pair_port[2];
	unsigned pair_queues;
	struct rte_ring *pair_rings[2][TERN_DP_MAX_WORKERS];
	/* --ring-pair-rss toeplitz|queue0 (pair_steer.c): frames ring<d>
	 * receives on the wrong queue go through pair_steer[d][right one]. */
	struct rte_ring *pair_steer[2][TERN_DP_MAX_WORKERS];
	const struct rte_eth_rxtx_callback *pair_cb[2][TERN_DP_MAX_WORKERS];
	struct dp_pair_rxq *pair_rxq;	/* [2][pair_queues], callback args */
	struct tern_rss_key pair_key;
	uint16_t pair_reta[DP_PAIR_RETA_SIZE];

	/* Each worker's part of the ephemeral range (handover.c). */
	struct tern_eph_split eph;

	/* The route table every worker reads (one per host: routes are
	 * configuration), written here on the control thread; workers
	 * report quiescent states to qsbr every loop so tbl8 groups and
	 * route slots are reused safely (dp_route.c). */
	struct tern_fib *fib;
	struct rte_rcu_qsbr *qsbr;

	struct dp_iface ifaces[TERN_MAX_IFACES];	/* ifindex = idx + 1 */
	uint16_t next_ifindex;				/* allocation cursor */

	struct tern_capture *cap;
	char cap_path[PATH_MAX];

	struct dp_impair *impairs[TERN_DP_MAX_IMPAIRS];	/* dp_impair.c */
};

/* port.c */
int dp_pools_create(struct tern_dp *dp);
void dp_pools_free(struct tern_dp *dp);
struct rte_mempool *dp_pool_for_socket(struct tern_dp *dp, int socket);
int dp_ring_pair_create(struct tern_dp *dp);
void dp_ring_pair_free(struct tern_dp *dp);
int dp_ports_setup(struct tern_dp *dp);
void dp_ports_close(struct tern_dp *dp);
uint16_t dp_port_slot(const struct tern_dp *dp, uint16_t port_id);

/* port.c: after the port started, what its RSS does (dp_port.reta...). */
void dp_port_rss_read(struct tern_dp *dp, struct dp_port *p,
		      const uint8_t *key, unsigned key_len, uint64_t rss_hf);

/* pair_steer.c: the steered ring pair (after dp_ports_setup). */
int dp_pair_steer_setup(struct tern_dp *dp);
void dp_pair_steer_free(struct tern_dp *dp);

/* dp_route.c */
int dp_routes_create(struct tern_dp *dp, unsigned nworkers);
void dp_routes_free(struct tern_dp *dp);
/* Adds/removes the connected route of r (and, when gw is set, the
 * interface's default route). */
int dp_routes_iface_add(struct tern_dp *dp, uint16_t ifindex,
			const struct tern_addr_range *r);
/* Removes r's connected route unless another range of e (the registry
 * entry, r among its addresses) is in the same subnet. */
void dp_routes_iface_del(struct tern_dp *dp, uint16_t ifindex,
			 const struct tern_addr_range *r,
			 const struct dp_iface *e);
/* Worker side: reporting to the RCU variable. */
void dp_rcu_online(struct tern_worker *w);
void dp_rcu_offline(struct tern_worker *w);
void dp_rcu_quiescent(struct tern_worker *w);

/* handover.c */
int dp_handover_create(struct tern_worker *w);
void dp_handover_free(struct tern_worker *w);
/* Hands the frames of pkts that another worker owns to it; returns how
 * many stay (compacted at the front). Only with more than one worker. */
uint16_t dp_handover_steer(struct tern_worker *w, uint16_t port_id,
			   struct rte_mbuf **pkts, uint16_t n);
/* Feeds what other workers handed over to this one's stack. */
unsigned dp_handover_drain(struct tern_worker *w);
/* Gives every stack its queue's view of every RSS port (before launch). */
int dp_stacks_set_rss(struct tern_dp *dp);

/* dp_impair.c: frees every impairment (loops stopped, stacks alive). */
void dp_impair_free_all(struct tern_dp *dp);

/* worker.c */
struct tern_worker *dp_worker_create(struct tern_dp *dp, unsigned idx,
				     unsigned lcore);
void dp_worker_destroy(struct tern_worker *w);
int dp_worker_main(void *arg);

/* Frees every mbuf left on *r, then the ring; *r becomes NULL. */
static inline void dp_ring_drain_free(struct rte_ring **r)
{
	void *m;
	if (*r == NULL)
		return;
	while (rte_ring_dequeue(*r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(*r);
	*r = NULL;
}

#endif
