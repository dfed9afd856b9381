/* Neighbours: one table per stack with the RFC 4861 section 7.3 states,
 * serving ARP today and IPv6 Neighbour Discovery later (entries are keyed
 * by interface, family and address). Included by <tern/stack.h>. */
#ifndef TERN_NEIGH_H
#define TERN_NEIGH_H

#include <stdint.h>

#include <rte_ether.h>

#include <tern/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

/* RFC 4861 7.3.2. */
enum tern_neigh_state {
	TERN_NEIGH_INCOMPLETE = 1,	/* solicitation sent, packets queued */
	TERN_NEIGH_REACHABLE,		/* confirmed within ReachableTime */
	TERN_NEIGH_STALE,		/* address known, reachability not */
	TERN_NEIGH_DELAY,		/* used while stale: waiting for an
					 * upper-layer confirmation */
	TERN_NEIGH_PROBE,		/* unicast solicitations under way */
};

/* Text form: "incomplete", "reachable", ...; "?" for anything else. */
const char *tern_neigh_state_name(int state);

/* What a neighbour update says (flags of tern_neigh_update and of the
 * learn callback). */
enum {
	/* A reply to us: the neighbour is reachable (a solicited
	 * advertisement, RFC 4861 7.2.5; for ARP, a reply whose target is one
	 * of our addresses). */
	TERN_NEIGH_F_CONFIRMED = 1 << 0,
	/* Create the entry when absent (an ARP request to us, a solicited
	 * reply). Without it only existing entries change. */
	TERN_NEIGH_F_CREATE = 1 << 1,
};

/* Called when this stack learns a neighbour's address, or a confirmation
 * of it, from the wire, so that the owner can share it with the other
 * lcores' stacks (DESIGN rule 7): they apply it with tern_neigh_update()
 * and the same flags. Every confirmation is reported, not only changes:
 * on an RSS port the replies to every lcore's probes land on one queue. */
typedef void (*tern_neigh_learn_fn)(void *arg, uint16_t ifindex,
				    const struct tern_addr *ip,
				    const struct rte_ether_addr *mac,
				    unsigned flags);
void tern_stack_set_neigh_cb(struct tern_stack *s, tern_neigh_learn_fn fn,
			     void *arg);

/* Applies what another stack learned (never calls the learn callback):
 * CONFIRMED makes the entry REACHABLE with mac; without it a new or
 * changed address makes it STALE (RFC 4861 7.2.3/7.2.5, Appendix C).
 * Sends what was queued once the address is known. -EINVAL bad args,
 * -ENOENT no interface, -ENOSPC table full of entries that cannot go. */
int tern_neigh_update(struct tern_stack *s, uint16_t ifindex,
		      const struct tern_addr *ip,
		      const struct rte_ether_addr *mac, unsigned flags);
/* Shorthand: a confirmed (REACHABLE) entry, created when absent. */
int tern_neigh_add(struct tern_stack *s, uint16_t ifindex,
		   const struct tern_addr *ip, const struct rte_ether_addr *mac);
/* 0 and *mac filled when ip's address is known on ifindex (any state but
 * INCOMPLETE), else -ENOENT. Does not count as use. */
int tern_neigh_lookup(const struct tern_stack *s, uint16_t ifindex,
		      const struct tern_addr *ip, struct rte_ether_addr *mac);
/* Upper-layer reachability confirmation (RFC 4861 7.3.1), e.g. TCP
 * seeing new data acknowledged: the entry becomes REACHABLE again without
 * a probe. -ENOENT when there is no entry with an address. */
int tern_neigh_confirm(struct tern_stack *s, uint16_t ifindex,
		       const struct tern_addr *ip);
/* Removes one entry (its queued packets are dropped and counted).
 * -ENOENT. */
int tern_neigh_del(struct tern_stack *s, uint16_t ifindex,
		   const struct tern_addr *ip);
/* Removes every entry, or those of ifindex when it is not 0; returns how
 * many went. */
unsigned tern_neigh_flush(struct tern_stack *s, uint16_t ifindex);

struct tern_neigh_info {
	uint16_t ifindex;
	uint8_t state;			/* enum tern_neigh_state */
	uint8_t probes;			/* solicitations sent in this state */
	struct tern_addr ip;
	struct rte_ether_addr mac;	/* zero while INCOMPLETE */
	uint32_t queued;		/* packets waiting for the address */
	uint64_t updated_ago_ns;	/* since the state last changed */
	uint64_t confirmed_ago_ns;	/* since reachability was confirmed;
					 * UINT64_MAX never */
	uint64_t used_ago_ns;		/* since traffic last used it;
					 * UINT64_MAX never */
};

typedef void (*tern_neigh_walk_fn)(void *arg,
				   const struct tern_neigh_info *info);
/* Calls fn for every entry (of ifindex when it is not 0); returns how
 * many. fn must not change the table. */
unsigned tern_neigh_walk(const struct tern_stack *s, uint16_t ifindex,
			 tern_neigh_walk_fn fn, void *arg);
/* Iteration in slot order: fills *out with the first entry at or after
 * *cursor (start at 0) and moves *cursor past it; -ENOENT at the end.
 * Safe across messages (an entry added or removed meanwhile may or may
 * not be seen). */
int tern_neigh_next(const struct tern_stack *s, uint32_t *cursor,
		    struct tern_neigh_info *out);
/* Entries in use, and the table's capacity. */
unsigned tern_neigh_count(const struct tern_stack *s, unsigned *capacity);

#ifdef __cplusplus
}
#endif
#endif
