/* The neighbour table (private to core). See neigh.c for the state
 * machine and <tern/neigh.h> for the public API. */
#ifndef TERN_NEIGH_PRIV_H
#define TERN_NEIGH_PRIV_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <tern/addr.h>
#include <tern/neigh.h>
#include <tern/stack.h>	/* struct tern_timer */

#include "hmap.h"
#include "pktq.h"

#define NEIGH_NONE UINT32_MAX
#define NEIGH_FREE 0		/* state of an unused slot */

struct tern_stack;
struct tern_stack_conf;
struct iface;

/* Hash key: interface, family and address (IPv4 in the first 4 bytes of
 * addr, the rest zero), so ND uses the table unchanged. */
struct neigh_key {
	uint8_t family;
	uint8_t pad;
	uint16_t ifindex;
	uint8_t addr[16];
};

/* What the transmit path reads and writes per packet: 16 bytes, four to
 * a cache line. */
struct neigh_hot {
	struct rte_ether_addr mac;
	uint8_t state;
	uint8_t pad;
	uint32_t gen;		/* changes when the slot is reused or the
				 * address changes: a cached route holding
				 * (index, gen) is then stale */
	uint32_t used_ms;	/* last use, ms since the table was made
				 * (wraps after 49 days; ages compare by
				 * difference) */
};

/* Everything else: timers, queues, bookkeeping. */
struct neigh_cold {
	struct neigh_key key;
	uint8_t probes;		/* solicitations sent in this state */
	uint8_t pad[3];
	uint32_t lru_prev, lru_next;	/* LRU list, most recent at the head */
	uint32_t lru_ms;	/* when it was last moved to the head */
	struct pktq q;		/* packets waiting for the address */
	struct tern_timer timer;	/* the state's timer */
	uint64_t updated_ns;	/* state last changed */
	uint64_t confirmed_ns;	/* reachability last confirmed; 0 never */
};

struct neigh_table {
	struct hmap map;	/* key -> slot */
	uint32_t *free;		/* free slots (a stack) */
	uint32_t nfree;
	uint32_t cap;
	uint32_t n;
	struct neigh_hot *hot;
	struct neigh_cold *cold;
	uint32_t lru_head, lru_tail;
	uint64_t epoch_ns;		/* origin of used_ms/lru_ms */
	uint32_t pending;		/* packets queued in all entries */
	int next_off;			/* pktq field offset */
	/* configuration (RFC 4861 section 10 names in comments) */
	uint64_t reachable_ns;		/* BaseReachableTime */
	uint64_t reach_cur_ns;		/* ReachableTime (randomised) */
	uint64_t retrans_ns;		/* RetransTimer */
	uint64_t delay_ns;		/* DELAY_FIRST_PROBE_TIME */
	uint32_t mcast_probes;		/* MAX_MULTICAST_SOLICIT */
	uint32_t ucast_probes;		/* MAX_UNICAST_SOLICIT */
	uint32_t queue_len;		/* per entry */
	uint32_t pending_max;		/* over all entries */
	tern_neigh_learn_fn learn_cb;
	void *learn_arg;
};

int neigh_init(struct tern_stack *s, const struct tern_stack_conf *c);
void neigh_fini(struct tern_stack *s);

/* m is a whole Ethernet frame whose destination MAC is to be filled with
 * the address of nexthop on ifc. Sends it now, or queues it until the
 * address is known. 0 when sent or queued; -ENOBUFS (the queue pushed out
 * an older packet is not an error for this one; a full table is),
 * -EHOSTUNREACH. Consumes m; every drop is counted. */
int neigh_output(struct tern_stack *s, struct iface *ifc,
		 const struct tern_addr *nexthop, struct rte_mbuf *m);
/* neigh_output() for a sender that keeps the entry it used (a cached
 * route): *slot and *gen name it; when they still do, no lookup. Updates
 * them after a lookup. */
int neigh_output_cached(struct tern_stack *s, struct iface *ifc,
			const struct tern_addr *nexthop, struct rte_mbuf *m,
			uint32_t *slot, uint32_t *gen);
/* Forward progress from the neighbour a cached route names by (slot,
 * gen), as Linux's dst_confirm (RFC 4861 7.3.1: hints from upper
 * layers): the entry stays or becomes REACHABLE without a probe. Nothing
 * when the pair is stale or the address is not known yet. */
void neigh_confirm_cached(struct tern_stack *s, uint32_t slot, uint32_t gen);
/* What the wire said about ip on ifc (ARP now, ND later): flags
 * TERN_NEIGH_F_*. Calls the learn callback when share is true. */
void neigh_input(struct tern_stack *s, struct iface *ifc,
		 const struct tern_addr *ip, const struct rte_ether_addr *mac,
		 unsigned flags, bool share);
/* Removes every entry of ifindex (the interface is going). */
void neigh_iface_gone(struct tern_stack *s, uint16_t ifindex);
/* The slot of (ifindex, ip), or NEIGH_NONE. */
uint32_t neigh_find(const struct tern_stack *s, uint16_t ifindex,
		    const struct tern_addr *ip);

/* arp.c: the family's solicitation. dst NULL: broadcast (INCOMPLETE);
 * else unicast to the known address (PROBE). hint: a frame queued for the
 * neighbour, whose source addresses the request reuses (so the peer
 * learns the emulated host that talks to it), or NULL. */
void arp_solicit(struct tern_stack *s, struct iface *ifc, rte_be32_t tip,
		 const struct rte_ether_addr *dst, const struct rte_mbuf *hint);

#endif
