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
#include <tern/hooks.h>
#include <tern/offload.h>
#include <tern/stats.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

#define TERN_MAX_IFACES 64	  /* interfaces per stack */
#define TERN_IFACE_MAX_ADDRS 8	  /* IPv4 addresses per interface */
#define TERN_IFNAMSIZ 16

struct tern_stack_conf {
	const char *name;		/* for logs; copied */
	unsigned lcore;			/* informational */
	struct rte_mempool *pool;	/* mbufs the stack allocates (ARP, ICMP) */
	struct tern_clock *clock;	/* not owned; must outlive the stack */
	uint32_t arp_timeout_ms;	/* reachable entry lifetime; 0 = 60000 */
	uint32_t arp_retry_ms;		/* request retransmit; 0 = 1000 */
	uint32_t arp_max_retries;	/* before queued packets drop; 0 = 3 */
	uint32_t arp_queue_len;		/* packets held per unresolved entry; 0 = 8 */
};

struct tern_stack *tern_stack_create(const struct tern_stack_conf *conf);
/* Frees every queued mbuf, pcb, timer and interface. */
void tern_stack_destroy(struct tern_stack *s);

struct tern_clock *tern_stack_clock(struct tern_stack *s);
struct rte_mempool *tern_stack_pool(struct tern_stack *s);
struct tern_hooks *tern_stack_hooks(struct tern_stack *s);
uint64_t tern_stack_now(const struct tern_stack *s);

/* RX: frames received on link `link` (a port id in ternd, a wire end in
 * tests). The stack takes ownership of every mbuf: each is consumed,
 * handed to a callback, or dropped with a counter. Returns n. */
uint16_t tern_stack_input(struct tern_stack *s, uint16_t link,
			  struct rte_mbuf **pkts, uint16_t n);

/* Runs every due timer; returns how many ran. Call once per loop. */
unsigned tern_stack_run_timers(struct tern_stack *s);
/* Earliest pending timer expiry, UINT64_MAX if none. */
uint64_t tern_stack_next_timer(const struct tern_stack *s);

/* Allocates an mbuf from the stack's pool with headroom for every header
 * the stack prepends; counts mbuf_drop_alloc_fail and returns NULL. */
struct rte_mbuf *tern_stack_alloc(struct tern_stack *s);

void tern_stack_stats_get(const struct tern_stack *s,
			  struct tern_stack_stats *out);

/* ---- timers -------------------------------------------------------- */

struct tern_timer;
typedef void (*tern_timer_fn)(struct tern_stack *s, struct tern_timer *t);

struct tern_timer {
	uint64_t expires_ns;
	uint32_t heap_idx;	/* UINT32_MAX when not armed */
	tern_timer_fn fn;
	void *arg;
};

void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg);
/* Arms (or re-arms) t for absolute time expires_ns. -ENOSPC if the
 * stack's timer heap is full. */
int tern_timer_arm(struct tern_stack *s, struct tern_timer *t,
		   uint64_t expires_ns);
void tern_timer_cancel(struct tern_stack *s, struct tern_timer *t);
static inline bool tern_timer_pending(const struct tern_timer *t)
{
	return t->heap_idx != UINT32_MAX;
}

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

/* -EINVAL bad conf, -EEXIST ifindex in use, -ENOSPC table full. */
int tern_iface_add(struct tern_stack *s, const struct tern_iface_conf *conf);
/* Removes the interface, its addresses, routes and neighbours. -ENOENT. */
int tern_iface_del(struct tern_stack *s, uint16_t ifindex);
/* Adds an IPv4 address with its prefix (a connected route follows).
 * -ENOENT no iface, -EINVAL bad addr/prefix, -EEXIST, -ENOSPC. */
int tern_iface_addr_add(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr, uint8_t plen);
int tern_iface_addr_del(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr);
/* Sends a gratuitous ARP for addr on ifindex (RFC 5227 announcement). */
int tern_iface_announce(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr);
/* Interface that owns addr, or -ENOENT. */
int tern_iface_by_addr(const struct tern_stack *s, const struct tern_addr *addr);
int tern_iface_stats_get(const struct tern_stack *s, uint16_t ifindex,
			 struct tern_iface_stats *out);

/* ---- neighbours (ARP) ---------------------------------------------- */

/* Called when this stack learns or changes a neighbour from the wire, so
 * the owner can share it with the other lcores' stacks (DESIGN rule 7). */
typedef void (*tern_neigh_learn_fn)(void *arg, uint16_t ifindex,
				    const struct tern_addr *ip,
				    const struct rte_ether_addr *mac);
void tern_stack_set_neigh_cb(struct tern_stack *s, tern_neigh_learn_fn fn,
			     void *arg);
/* Inserts or refreshes a reachable neighbour without calling the learn
 * callback, and sends what was queued waiting for it. */
int tern_neigh_add(struct tern_stack *s, uint16_t ifindex,
		   const struct tern_addr *ip, const struct rte_ether_addr *mac);
/* 0 and *mac filled when ip is reachable on ifindex, else -ENOENT. */
int tern_neigh_lookup(const struct tern_stack *s, uint16_t ifindex,
		      const struct tern_addr *ip, struct rte_ether_addr *mac);

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
