/* The DPDK data plane: ports given as vdevs (or PCI), one RX/TX queue per
 * worker lcore on every port (RSS where the port has it), a mempool per
 * NUMA socket, one tern_stack per worker lcore and the per-lcore run loop:
 *   rx bursts -> stack input -> due timers -> drain messages -> pollers
 *   (generators) -> tx flush.
 * The control thread reaches the workers only through their channels. */
#ifndef TERN_DP_H
#define TERN_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include <tern/addr.h>
#include <tern/capture.h>
#include <tern/chan.h>
#include <tern/impair.h>
#include <tern/offload.h>
#include <tern/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_DP_MAX_PORTS 16
#define TERN_DP_MAX_WORKERS 64
#define TERN_DP_BURST 32

struct tern_dp;
struct tern_worker;

/* How the --ring-pair ports spread frames over their queues. */
enum tern_dp_pair_rss {
	TERN_DP_PAIR_DIRECT = 0,	/* TX queue q -> peer RX queue q */
	TERN_DP_PAIR_TOEPLITZ,		/* like a NIC: Toeplitz (tern's key)
					 * over a 128-entry RETA */
	TERN_DP_PAIR_QUEUE0,		/* everything to queue 0 */
};

struct tern_dp_conf {
	unsigned mbufs_per_socket;	/* 0 = 16383 */
	unsigned rx_desc;		/* 0 = 1024 */
	unsigned tx_desc;		/* 0 = 1024 */
	unsigned idle_sleep_us;		/* 0 = busy poll; else sleep when idle */
	uint32_t timer_tick_ns;		/* every stack's timer tick; 0 = core
					 * default (tern_stack_conf) */
	bool ring_pair;			/* also create ports ring0<->ring1 */
	enum tern_dp_pair_rss pair_rss;	/* how the pair spreads frames */
	uint16_t ephemeral_lo;		/* the range the workers split for */
	uint16_t ephemeral_hi;		/* active opens; 0/0 = 49152..65535 */
	uint32_t neigh_max;		/* neighbour entries per stack; 0 = 4096 */
	uint32_t neigh_reachable_ms;	/* BaseReachableTime; 0 = 30000 */
	uint32_t neigh_delay_ms;	/* DELAY_FIRST_PROBE_TIME; 0 = 5000 */
	uint32_t local_blocks;		/* /24 blocks of own addresses per
					 * stack; 0 = 4096 (1 Mi addresses) */
	uint32_t max_routes;		/* 0 = 1024 */
	bool no_tso;			/* leave the ports' TSO off: TCP's
					 * large segments are cut in software */
	bool no_gro;			/* stacks without GRO (every TCP
					 * segment through the stack alone) */
};

/* After rte_eal_init(): creates pools, (ring pair,) configures and starts
 * every port, creates one stack per worker lcore and launches the loops.
 * Needs at least one worker lcore. NULL with rte_errno. */
struct tern_dp *tern_dp_create(const struct tern_dp_conf *conf);
/* Stops the loops, frees stacks (pools must then be full), stops ports. */
void tern_dp_destroy(struct tern_dp *dp);

unsigned tern_dp_worker_count(const struct tern_dp *dp);

/* ---- ports (control thread) ---------------------------------------- */

struct tern_port_info {
	uint16_t port_id;
	char name[64];		/* ethdev name, e.g. net_tap0 */
	char driver[32];
	struct rte_ether_addr mac;
	struct tern_ol_caps caps;	/* offloads in use */
	uint16_t queues;		/* RX = TX = number of workers */
	bool rss;
	uint32_t reta_size;		/* RETA the stacks steer by; 0: none */
	uint16_t mtu;
	bool link_up;
	uint32_t speed_mbps;
	uint16_t socket;
};

unsigned tern_dp_port_count(const struct tern_dp *dp);
/* idx in [0, count): fills info. -ENOENT. */
int tern_dp_port_info(const struct tern_dp *dp, unsigned idx,
		      struct tern_port_info *info);
/* By ethdev port id. -ENOENT. */
int tern_dp_port_by_id(const struct tern_dp *dp, uint16_t port_id,
		       struct tern_port_info *info);

/* ---- interfaces (control thread) ----------------------------------- */

struct tern_dp_iface_conf {
	uint16_t port_id;
	bool mac_set;			/* false: the port's MAC */
	struct rte_ether_addr mac;
	struct tern_addr addr;		/* IPv4: the first address */
	uint8_t plen;
	uint32_t count;			/* emulated hosts from addr; 0 = 1 */
	bool host_macs;			/* host i sends and answers as mac + i */
	struct tern_addr gateway;	/* family NONE: none */
	uint16_t mtu;			/* 0: port MTU */
	char name[TERN_IFNAMSIZ];	/* "" : "if<N>" */
};

struct tern_dp_iface_info {
	uint16_t ifindex;
	struct tern_dp_iface_conf conf;	/* addr/plen/count: the first range */
	unsigned naddrs;		/* ranges, the first included */
	struct tern_addr_range addrs[TERN_IFACE_MAX_ADDRS];
};

/* Adds the interface to every worker's stack, its connected (and
 * gateway) routes to the shared route table, and announces its first
 * address. -ENODEV bad port, -EINVAL bad conf, -EEXIST an address already
 * on an interface or name taken, -ENOSPC too many, -ETIMEDOUT a worker did
 * not answer. For -ENODEV/-EINVAL/-EEXIST/-ENOSPC, *why (when why is not
 * NULL) names the field and the rule: "field: reason". These are the only
 * semantic checks of an interface; callers check syntax only. */
int tern_dp_iface_create(struct tern_dp *dp,
			 const struct tern_dp_iface_conf *conf,
			 uint16_t *ifindex, const char **why);
/* -ENOENT. Fails with -EBUSY while a generator uses it. */
int tern_dp_iface_delete(struct tern_dp *dp, uint16_t ifindex);
/* Fills up to max entries; returns how many interfaces exist. */
unsigned tern_dp_iface_list(const struct tern_dp *dp,
			    struct tern_dp_iface_info *out, unsigned max);
int tern_dp_iface_get(const struct tern_dp *dp, uint16_t ifindex,
		      struct tern_dp_iface_info *out);
/* Marks an interface used by (count) generators; delete refuses while >0. */
void tern_dp_iface_ref(struct tern_dp *dp, uint16_t ifindex, int delta);
/* Another address or range on an interface (with its connected route).
 * -ENOENT no interface; -EINVAL/-EEXIST/-ENOSPC with *why as above. */
int tern_dp_iface_addr_add(struct tern_dp *dp, uint16_t ifindex,
			   const struct tern_addr_range *r, const char **why);
/* Removes the range that starts at base; the interface keeps at least
 * one. -ENOENT, -EBUSY (the last one). */
int tern_dp_iface_addr_del(struct tern_dp *dp, uint16_t ifindex,
			   const struct tern_addr *base);

/* ---- routes (control thread; the table every worker reads) ---------- */

/* A static route to prefix/plen through gateway (which must be on one of
 * the interfaces' subnets; ifindex 0: that interface) or, without a
 * gateway, on-link on ifindex. -EINVAL/-EEXIST/-ENOENT/-ENOSPC with *why
 * naming the field. */
int tern_dp_route_add(struct tern_dp *dp, const struct tern_addr *prefix,
		      uint8_t plen, const struct tern_addr *gateway,
		      uint16_t ifindex, const char **why);
/* Removes the static route for prefix/plen. -ENOENT; -EPERM for a
 * connected or gateway route (remove the address or interface). */
int tern_dp_route_del(struct tern_dp *dp, const struct tern_addr *prefix,
		      uint8_t plen);
/* Every route (connected, gateway, static); fills up to max, returns how
 * many. */
unsigned tern_dp_route_list(const struct tern_dp *dp,
			    struct tern_route_info *out, unsigned max);

/* ---- neighbours (per worker: each lcore has its table) -------------- */

typedef void (*tern_dp_neigh_fn)(void *arg, unsigned worker,
				 const struct tern_neigh_info *info);
/* Calls fn on the control thread for every entry of worker w (every
 * worker when w < 0), of ifindex when it is not 0. -EINVAL, -ETIMEDOUT. */
int tern_dp_neigh_list(struct tern_dp *dp, int w, uint16_t ifindex,
		       tern_dp_neigh_fn fn, void *arg);
/* Empties every worker's table (of ifindex when it is not 0); *flushed
 * gets how many entries went. -ETIMEDOUT. */
int tern_dp_neigh_flush(struct tern_dp *dp, uint16_t ifindex,
			unsigned *flushed);

/* ---- statistics (control thread, snapshots via messages) ------------ */

struct tern_worker_stats {
	unsigned lcore;
	uint64_t loops;
	uint64_t busy_loops;		/* loops that did any work */
	uint64_t rx_pkts;
	uint64_t tx_pkts;		/* taken by the ports */
	uint64_t tx_deferred;		/* refused by a port once, kept to retry */
	uint64_t tx_held;		/* waiting in the TX buffers now */
	uint64_t tx_dropped;		/* never sent: still buffered at teardown */
	uint64_t msgs;
	uint64_t neigh_shared;		/* neighbours posted to other lcores */
	uint64_t neigh_post_fail;	/* posts lost to a full channel */
	/* Frames that landed here but belong to another worker's flow
	 * (DESIGN rule 8): handed to it, lost to its full ring; and those
	 * other workers handed to this one. */
	uint64_t handover_out;
	uint64_t handover_drop;
	uint64_t handover_in;
	uint64_t pair_steer_drop;	/* steered ring pair: steering ring full */
	struct tern_stack_stats stack;
};

/* Everything worker w counts, taken in one message (one channel call):
 * its own counters, its stack's, and those of every interface on its
 * stack. What stats.get and the periodic publication use. */
struct tern_worker_iface_stats {
	uint16_t ifindex;
	struct tern_iface_stats st;
};
struct tern_worker_snapshot {
	struct tern_worker_stats stats;
	unsigned nifaces;
	struct tern_worker_iface_stats ifaces[TERN_MAX_IFACES]; /* by ifindex */
};
/* -EINVAL, -ETIMEDOUT, -ENOBUFS. */
int tern_dp_worker_snapshot(struct tern_dp *dp, unsigned w,
			    struct tern_worker_snapshot *out);

/* Snapshot of worker w's own and stack counters (one call). -EINVAL,
 * -ETIMEDOUT. */
int tern_dp_worker_stats(struct tern_dp *dp, unsigned w,
			 struct tern_worker_stats *out);
/* Sum of one interface's counters over every worker (one call per
 * worker; for all interfaces at once use tern_dp_worker_snapshot). */
int tern_dp_iface_stats(struct tern_dp *dp, uint16_t ifindex,
			struct tern_iface_stats *out);

/* ---- running code on workers --------------------------------------- */

/* Runs fn on worker w (lcore_ctx is its struct tern_worker *). */
int tern_dp_call(struct tern_dp *dp, unsigned w, tern_msg_fn fn, void *arg);
/* Runs fn on every worker in turn; stops at the first error. */
int tern_dp_call_all(struct tern_dp *dp, tern_msg_fn fn, void *arg);

/* On a worker (inside a message fn): */
unsigned tern_worker_index(const struct tern_worker *w);
struct tern_stack *tern_worker_stack(struct tern_worker *w);

/* Pollers run once per loop on their worker; return work done (0 idle).
 * Add/del only from a message fn running on that worker. */
typedef unsigned (*tern_poller_fn)(struct tern_worker *w, void *arg);
int tern_worker_poller_add(struct tern_worker *w, tern_poller_fn fn,
			   void *arg);
int tern_worker_poller_del(struct tern_worker *w, tern_poller_fn fn,
			   void *arg);

/* ---- impairment (hooks/impair.h) ----------------------------------- */

#define TERN_DP_MAX_IMPAIRS 16

enum tern_dp_impair_dir { TERN_DP_IMPAIR_IN = 0, TERN_DP_IMPAIR_OUT = 1 };

/* A port (its frames at ETH_INPUT / ETH_OUTPUT) or an interface (out: its
 * frames at ETH_OUTPUT; in: its IPv4 packets at IP_INPUT), one direction. */
struct tern_dp_impair_target {
	bool iface;		/* false: id is a port id; true: an ifindex */
	uint16_t id;
	enum tern_dp_impair_dir dir;
};

/* Impairs target on every worker: one engine each (worker w seeded with
 * conf->seed + w * 0x9e3779b97f4a7c15), its hook and a poller resuming
 * held packets. Replaces what target had (its held packets are freed).
 * -EINVAL bad conf or direction, -ENODEV no such port or interface (both
 * with *why "field: reason"), -ENOSPC 16 impairments already or a full
 * hook chain, -ENOMEM, -ETIMEDOUT a worker did not answer. */
int tern_dp_impair_set(struct tern_dp *dp,
		       const struct tern_dp_impair_target *target,
		       const struct tern_impair_conf *conf, const char **why);
/* The conf (defaults filled in) and counters, summed and, when per_worker
 * is not NULL, per worker (tern_dp_worker_count entries). -ENOENT none. */
int tern_dp_impair_get(struct tern_dp *dp,
		       const struct tern_dp_impair_target *target,
		       struct tern_impair_conf *conf,
		       struct tern_impair_stats *sum,
		       struct tern_impair_stats *per_worker);
/* Removes it; what it held is freed. -ENOENT, -ETIMEDOUT. */
int tern_dp_impair_clear(struct tern_dp *dp,
			 const struct tern_dp_impair_target *target);
/* Fills up to max targets; returns how many impairments exist. */
unsigned tern_dp_impair_list(const struct tern_dp *dp,
			     struct tern_dp_impair_target *out, unsigned max);

/* ---- capture ------------------------------------------------------- */

/* Starts a pcapng capture of port_id (UINT16_MAX: every port) on every
 * worker; snaplen 0 keeps whole frames. One capture at a time: -EBUSY. */
int tern_dp_capture_start(struct tern_dp *dp, const char *path,
			  uint16_t port_id, uint32_t snaplen);
/* Writes what the lcores copied so far (control thread, call often). */
void tern_dp_capture_poll(struct tern_dp *dp);
/* -ENOENT when none runs; fills the final counts. */
int tern_dp_capture_stop(struct tern_dp *dp, uint64_t *written,
			 uint64_t *missed);
bool tern_dp_capture_running(const struct tern_dp *dp, char *path,
			     unsigned pathlen);
/* Counts of the running capture so far (stats.get). -ENOENT when none. */
int tern_dp_capture_stats(const struct tern_dp *dp,
			  struct tern_capture_stats *out);

#ifdef __cplusplus
}
#endif
#endif
