/* A route a flow can keep: everything IP output needs for one destination
 * (interface, source address and MAC, next hop, path MTU, the neighbour
 * entry and its generation), so that a connection sends a segment with no
 * lookup at all while the route stays valid. Dual-family: the addresses
 * carry their family. Included by <tern/stack.h>. */
#ifndef TERN_ROUTE_H
#define TERN_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <tern/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

struct tern_route {
	struct tern_addr dst;
	struct tern_addr src;
	struct tern_addr nexthop;
	struct rte_ether_addr src_mac;
	uint16_t ifindex;
	uint16_t mtu;		/* path MTU: the interface's, or less when
				 * ICMP said so (RFC 1191) */
	uint32_t fib_version;	/* valid while the fib and the stack's */
	uint32_t epoch;		/* interfaces and path MTUs are unchanged */
	uint32_t neigh;		/* neighbour slot, UINT32_MAX: not known yet */
	uint32_t neigh_gen;
	bool bcast;		/* a broadcast: no neighbour */
	bool src_given;		/* the caller chose src: keep it when the
				 * route is looked up again */
};

/* Looks dst up (from src when it is given: one of our addresses) and
 * fills rt. -EHOSTUNREACH no route, -EADDRNOTAVAIL src is not ours,
 * -EINVAL bad family. */
int tern_route_get(struct tern_stack *s, const struct tern_addr *dst,
		   const struct tern_addr *src, struct tern_route *rt);
/* True while nothing rt depends on changed (the fib's version and the
 * stack's epoch). */
bool tern_route_valid(const struct tern_stack *s, const struct tern_route *rt);

/* IP output flags. */
enum {
	/* Never fragment: a datagram over the path MTU is refused with
	 * -EMSGSIZE (TCP sizes its segments itself). Without it a datagram
	 * that fits is sent with DF set (path MTU discovery, RFC 1191) and
	 * a larger one is fragmented without DF, as Linux does by default. */
	TERN_IP_F_DONTFRAG = 1 << 0,
};

/* Sends m (data at the transport header, the L4 checksum asked for in
 * ol_flags) to rt->dst with protocol proto, refreshing rt first when it
 * is no longer valid and remembering the neighbour entry it resolved.
 * Consumes m. 0 when sent (or queued for address resolution); -errno when
 * dropped, every drop counted: -EHOSTUNREACH, -EMSGSIZE, -ENOBUFS. */
int tern_ip_send(struct tern_stack *s, struct tern_route *rt,
		 struct rte_mbuf *m, uint8_t proto, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
