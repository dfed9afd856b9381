/* Route lookup: connected prefixes of every interface address (longest
 * prefix wins), then the default route of the first interface with a
 * gateway. Routes are derived from interface state so they can never
 * disagree with it; a table (rte_lpm) replaces the scan when static
 * routes arrive. */
#include <errno.h>

#include "stack_priv.h"

int route_lookup(struct tern_stack *s, rte_be32_t dst, rte_be32_t src,
		 struct iface **out, rte_be32_t *nexthop)
{
	struct iface *best = NULL, *gw = NULL;
	int best_plen = -1;
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc) {
		if (ifc->naddrs == 0)
			continue;
		if (src != 0 && !iface_owns_ip(ifc, src))
			continue;
		for (unsigned j = 0; j < ifc->naddrs; j++) {
			uint8_t plen = ifc->addrs[j].plen;
			rte_be32_t mask = ip4_mask(plen);
			if ((dst & mask) == (ifc->addrs[j].addr.v4 & mask) &&
			    (int)plen > best_plen) {
				best = ifc;
				best_plen = plen;
			}
		}
		if (gw == NULL && ifc->conf.gateway.family == TERN_AF_INET)
			gw = ifc;
	}
	if (best != NULL) {
		*out = best;
		*nexthop = dst;
		return 0;
	}
	if (ip4_is_limited_bcast(dst)) {
		/* 255.255.255.255 leaves by the interface of the source, or
		 * the first one with an address */
		FOR_EACH_IFACE(s, ifc) {
			if (ifc->naddrs &&
			    (src == 0 || iface_owns_ip(ifc, src))) {
				*out = ifc;
				*nexthop = dst;
				return 0;
			}
		}
		return -EHOSTUNREACH;
	}
	if (gw != NULL) {
		*out = gw;
		*nexthop = gw->conf.gateway.v4;
		return 0;
	}
	return -EHOSTUNREACH;
}
