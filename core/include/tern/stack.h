/* The stack instance (DESIGN rule 1): every piece of protocol state hangs
 * off a struct tern_stack, one per lcore, passed explicitly. Two stacks in
 * one thread must work; that is how the unit tests run. */
#ifndef TERN_STACK_H
#define TERN_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <tern/addr.h>
#include <tern/clock.h>
#include <tern/fib.h>
#include <tern/hooks.h>
#include <tern/neigh.h>
#include <tern/offload.h>
#include <tern/route.h>
#include <tern/stats.h>
#include <tern/tcp.h>
#include <tern/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

#define TERN_MAX_IFACES 64	  /* interfaces per stack */
#define TERN_MAX_IFINDEX 4096	  /* an ifindex is 1..4095 */
#define TERN_IFACE_MAX_ADDRS 8	  /* addresses or ranges per interface */
#define TERN_RANGE_MAX_HOSTS (1u << 20)	/* addresses in one range */
#define TERN_IFNAMSIZ 16

struct tern_stack_conf {
	const char *name;		/* for logs; copied */
	unsigned lcore;			/* informational */
	int socket;			/* NUMA socket for the stack and its
					 * tables (0 is a socket; SOCKET_ID_ANY
					 * lets DPDK choose); falls back to any
					 * socket when that one has no memory */
	struct rte_mempool *pool;	/* mbufs the stack allocates (ARP, ICMP) */
	struct tern_clock *clock;	/* not owned; must outlive the stack */
	uint32_t timer_tick_ns;		/* timer wheel granularity; 0 = 100000
					 * (100 us; architecture.md, Time) */
	uint64_t seed;			/* pseudo-random choices (e.g. neighbour
					 * ReachableTime); 0 = from lcore */
	/* Neighbours (RFC 4861 section 10 names; 0 = the default). */
	uint32_t neigh_max;		/* table entries; 0 = 4096 (min 8) */
	uint32_t neigh_reachable_ms;	/* BaseReachableTime; 0 = 30000 */
	uint32_t neigh_retrans_ms;	/* RetransTimer; 0 = 1000 */
	uint32_t neigh_delay_ms;	/* DELAY_FIRST_PROBE_TIME; 0 = 5000 */
	uint32_t neigh_mcast_probes;	/* MAX_MULTICAST_SOLICIT; 0 = 3 */
	uint32_t neigh_ucast_probes;	/* MAX_UNICAST_SOLICIT; 0 = 3 */
	uint32_t neigh_queue_len;	/* packets held per unresolved entry; 0 = 8 */
	uint32_t neigh_pending_max;	/* ... and in all entries; 0 = 4096 */
	/* Local ports for active opens (RFC 6335 section 6): this stack's
	 * part of the range, the data plane giving each worker its own
	 * (tern/rss.h). 0/0 = 49152..65535. */
	uint16_t ephemeral_lo;
	uint16_t ephemeral_hi;
	/* Addresses: room for this many /24 blocks holding addresses of
	 * ours (512 bytes each); 0 = 1024 (up to 256 Ki addresses). */
	uint32_t local_blocks;
	/* Routes: a fib shared with the other stacks of this host, which
	 * its owner writes (connected and gateway routes included); NULL:
	 * the stack makes its own and keeps its interfaces' routes in it. */
	struct tern_fib *fib;
	/* IPv4 reassembly: datagrams in progress (0 = 1024), and how long
	 * one may take (0 = 30000 ms). */
	uint32_t ip4_frag_max;
	uint32_t ip4_frag_timeout_ms;
	uint32_t udp_max_pcbs;		/* UDP pcbs; 0 = 4096 */
	/* TCP (0 = the default; defaults are Linux's where it has one). */
	uint32_t tcp_max_conns;		/* connections, every state but
					 * LISTEN; 0 = 16384 */
	uint32_t tcp_max_listeners;	/* 0 = 64 */
	uint32_t tcp_msl_ms;		/* TIME_WAIT lasts 2 MSL; 0 = 30000 */
	uint32_t tcp_fin_timeout_ms;	/* FIN-WAIT-2 after close; 0 = 60000 */
	uint32_t tcp_delack_ms;		/* delayed ACK; 0 = 40 */
	bool tcp_no_delack;		/* ACK every segment at once */
	uint32_t tcp_rto_min_ms;	/* 0 = 200 (RFC 6298 2.4 says 1000;
					 * Linux and tern use 200) */
	uint32_t tcp_rto_init_ms;	/* 0 = 1000 (RFC 6298 2.1) */
	uint32_t tcp_rto_max_ms;	/* 0 = 120000; at most 1000000 */
	uint8_t tcp_syn_retries;	/* 0 = 6 */
	uint8_t tcp_retries;		/* 0 = 15 (Linux tcp_retries2) */
	uint8_t tcp_cc;			/* enum tern_tcp_cc; 0 = CUBIC */
	/* SYN cookies (RFC 4987 3.6): 0 = when a listener's SYN backlog is
	 * full (Linux's tcp_syncookies=1), 1 = never, 2 = always */
	uint8_t tcp_syncookies;
	/* GRO (offload/gro.c): in-order TCP segments of a flow in one RX
	 * burst reach TCP as one packet. On unless this is set. */
	bool no_gro;
	/* Blocks for state only some connections use (out-of-order queue,
	 * data held before the application has a receiver, keepalive, SACK
	 * scoreboard, CUBIC after slow start; docs/tcp.md section 2), taken
	 * on demand and given back with the connection. 0 = tcp_max_conns /
	 * 16, at least 64; at most tcp_max_conns. With the pool empty a
	 * connection goes without (tcp.ext_empty): out-of-order data is
	 * dropped (tcp.drop_no_ext), SACK blocks are not kept, keepalive
	 * stays off, CUBIC grows as Reno. */
	uint32_t tcp_ext_blocks;
};

struct tern_stack *tern_stack_create(const struct tern_stack_conf *conf);
/* Frees every queued mbuf, pcb, timer and interface. */
void tern_stack_destroy(struct tern_stack *s);

struct tern_clock *tern_stack_clock(struct tern_stack *s);
/* The stack's route table (its own, or the shared one it was given). */
struct tern_fib *tern_stack_fib(struct tern_stack *s);
struct rte_mempool *tern_stack_pool(struct tern_stack *s);
struct tern_hooks *tern_stack_hooks(struct tern_stack *s);
uint64_t tern_stack_now(const struct tern_stack *s);

/* RX: frames received on link `link` (a port id in ternd, a wire end in
 * tests). The stack takes ownership of every mbuf: each is consumed,
 * handed to a callback, or dropped with a counter. Returns n. */
uint16_t tern_stack_input(struct tern_stack *s, uint16_t link,
			  struct rte_mbuf **pkts, uint16_t n);

/* Timers: tern/timer.h (tern_stack_run_timers once per loop). */

/* Allocates an mbuf from the stack's pool with headroom for every header
 * the stack prepends; counts mbuf_drop_alloc_fail and returns NULL. */
struct rte_mbuf *tern_stack_alloc(struct tern_stack *s);

void tern_stack_stats_get(const struct tern_stack *s,
			  struct tern_stack_stats *out);

/* ---- interfaces ---------------------------------------------------- */

/* Transmit function: returns how many of pkts it took; the stack frees the
 * rest and counts eth_drop_tx_full. */
typedef uint16_t (*tern_iface_tx_fn)(void *ctx, struct rte_mbuf **pkts,
				     uint16_t n);

struct tern_iface_conf {
	uint16_t ifindex;	/* chosen by the caller, same on every lcore */
	uint16_t link;		/* link it receives from (see tern_stack_input) */
	char name[TERN_IFNAMSIZ];
	struct rte_ether_addr mac;
	uint16_t mtu;		/* IP MTU; 0 = 1500 */
	struct tern_addr gateway;	/* family NONE: no default route */
	struct tern_ol_caps caps;	/* what the port under it can do (rule 3) */
	tern_iface_tx_fn tx;
	void *tx_ctx;
};

/* -EINVAL bad conf (ifindex 0 or >= TERN_MAX_IFINDEX too), -EEXIST
 * ifindex in use, -ENOSPC table full. With a fib of its own the stack adds
 * the default route of conf.gateway. */
int tern_iface_add(struct tern_stack *s, const struct tern_iface_conf *conf);
/* Removes the interface, its addresses, routes and neighbours. -ENOENT. */
int tern_iface_del(struct tern_stack *s, uint16_t ifindex);

/* Emulated hosts (DESIGN rule 6): count consecutive IPv4 addresses from
 * base, all inside one subnet of prefix plen. Each answers ARP and sends
 * and receives like an address of its own, at the same per-packet cost
 * as one. With host_macs, host i uses MAC mac_base + i (mac_base zero:
 * the interface's MAC), so each looks like a host of its own on the
 * link; otherwise they share the interface's MAC. */
struct tern_addr_range {
	struct tern_addr base;		/* the first address */
	uint32_t count;			/* 0 or 1: a single address */
	uint8_t plen;			/* the subnet's prefix length */
	bool host_macs;
	struct rte_ether_addr mac_base;
};

/* 0, or -EINVAL with *why (when why is not NULL) naming the rule: an
 * IPv4 base, plen 1..32, 1..TERN_RANGE_MAX_HOSTS addresses in one
 * subnet, none of them 0/8, 127/8, multicast, class E, or the network or
 * broadcast address of the subnet (plen <= 30), per-host MACs that stay
 * unicast. Needs no stack: the control plane checks with it too. */
int tern_addr_range_check(const struct tern_addr_range *r, const char **why);
/* Adds a range (a connected route follows when the stack owns its fib).
 * -ENOENT no iface, -EINVAL (tern_addr_range_check), -EEXIST an address
 * already belongs to this stack, -ENOSPC too many ranges on the interface
 * or no room left in the local address table. */
int tern_iface_range_add(struct tern_stack *s, uint16_t ifindex,
			 const struct tern_addr_range *r);
/* Removes the range starting at base. -ENOENT. */
int tern_iface_range_del(struct tern_stack *s, uint16_t ifindex,
			 const struct tern_addr *base);
/* The interface's ranges in the order added; returns how many (fills up
 * to max); 0 when there is no such interface. */
unsigned tern_iface_range_list(const struct tern_stack *s, uint16_t ifindex,
			       struct tern_addr_range *out, unsigned max);
/* One address: a range of one. */
int tern_iface_addr_add(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr, uint8_t plen);
int tern_iface_addr_del(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr);
/* Sends a gratuitous ARP for addr on ifindex (RFC 5227 announcement). */
int tern_iface_announce(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr);
/* Interface that owns addr, or -ENOENT. */
int tern_iface_by_addr(const struct tern_stack *s, const struct tern_addr *addr);
/* The MAC addr sends from (a host of a range with host_macs has its own)
 * into *mac; -ENOENT when addr is not ours. */
int tern_iface_mac_for(const struct tern_stack *s, const struct tern_addr *addr,
		       struct rte_ether_addr *mac);
int tern_iface_stats_get(const struct tern_stack *s, uint16_t ifindex,
			 struct tern_iface_stats *out);

/* ---- UDP (raw callback API on mbufs) ------------------------------ */

struct tern_udp_pcb;

/* m's data starts at the UDP payload; the callback owns m. */
typedef void (*tern_udp_recv_fn)(void *arg, struct tern_udp_pcb *pcb,
				 struct rte_mbuf *m,
				 const struct tern_addr *src, uint16_t sport,
				 const struct tern_addr *dst);

/* local: an address of one of the stack's interfaces, or family NONE for
 * any; port 0 picks an ephemeral port. NULL with rte_errno EADDRINUSE,
 * EADDRNOTAVAIL (not our address), ENOSPC or EINVAL. */
struct tern_udp_pcb *tern_udp_open(struct tern_stack *s,
				   const struct tern_addr *local, uint16_t port,
				   tern_udp_recv_fn fn, void *arg);
void tern_udp_close(struct tern_stack *s, struct tern_udp_pcb *pcb);
/* ICMP errors about datagrams the pcb sent (RFC 1122 4.1.3.3), after the
 * RFC 5927 checks: err is the errno a BSD socket reports (ECONNREFUSED
 * port unreachable, EHOSTUNREACH, ENETUNREACH, EMSGSIZE "fragmentation
 * needed" with the new path MTU in info, ...); dst/dport: the datagram's
 * destination. Without a callback errors are counted and dropped. */
typedef void (*tern_udp_err_fn)(void *arg, struct tern_udp_pcb *pcb, int err,
				const struct tern_addr *dst, uint16_t dport,
				uint32_t info);
void tern_udp_set_err_fn(struct tern_udp_pcb *pcb, tern_udp_err_fn fn);
uint16_t tern_udp_local_port(const struct tern_udp_pcb *pcb);
/* Sends m (data = payload) to dst:dport. Always takes m; 0, or -errno
 * with the drop counted (-EHOSTUNREACH no route, -EMSGSIZE too big). */
int tern_udp_sendto(struct tern_stack *s, struct tern_udp_pcb *pcb,
		    const struct tern_addr *dst, uint16_t dport,
		    struct rte_mbuf *m);

#ifdef __cplusplus
}
#endif
#endif
