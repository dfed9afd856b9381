/* Route lookup: the fib (rte_lpm) gives the interface and gateway for a
 * destination. A packet from a given source leaves by the interface that
 * owns the source: each emulated host sends from its own interface (and
 * MAC), even when several interfaces share a subnet. */
#include <errno.h>

#include "stack_priv.h"

int route_lookup(struct tern_stack *s, rte_be32_t dst, rte_be32_t src,
		 struct iface **out, rte_be32_t *nexthop)
{
	uint16_t ifindex;
	rte_be32_t gw;
	bool routed = tern_fib_lookup4(s->fib, dst, &ifindex, &gw) == 0;

	if (src == 0) {
		if (unlikely(ip4_is_limited_bcast(dst))) {
			/* 255.255.255.255 leaves by the first interface
			 * with an address */
			struct iface *ifc;
			FOR_EACH_IFACE(s, ifc)
				if (ifc->nranges > 0) {
					*out = ifc;
					*nexthop = dst;
					return 0;
				}
			return -EHOSTUNREACH;
		}
		struct iface *ifc = routed ? iface_get(s, ifindex) : NULL;
		if (ifc == NULL)
			return -EHOSTUNREACH;
		*out = ifc;
		*nexthop = gw != 0 ? gw : dst;
		return 0;
	}

	struct iface *own;
	if (local_range(s, src, &own, NULL) == NULL)
		return -EHOSTUNREACH;
	*out = own;
	if (ip4_is_limited_bcast(dst) || iface_on_link(own, dst)) {
		*nexthop = dst;
		return 0;
	}
	struct iface *via = routed ? iface_get(s, ifindex) : NULL;
	if (via != NULL && via->conf.link == own->conf.link) {
		*nexthop = gw != 0 ? gw : dst;
		return 0;
	}
	if (own->conf.gateway.family == TERN_AF_INET) {
		*nexthop = own->conf.gateway.v4;
		return 0;
	}
	return -EHOSTUNREACH;
}
