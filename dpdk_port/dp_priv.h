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

	struct dp_iface ifaces[TERN_MAX_IFACES];	/* ifindex = idx + 1 */
	uint16_t next_ifindex;				/* allocation cursor */

	struct tern_capture *cap;
	char cap_path[PATH_MAX];
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

/* worker.c */
struct tern_worker *dp_worker_create(struct tern_dp *dp, unsigned idx,
				     unsigned lcore);
void dp_worker_destroy(struct tern_worker *w);
int dp_worker_main(void *arg);

#endif
