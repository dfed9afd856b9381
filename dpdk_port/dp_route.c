/* Routes of the host ternd emulates: one fib that every worker's stack
 * reads (DESIGN rule 7: configuration every lcore needs is published, not
 * copied), written only here, on the control thread. Workers report a
 * quiescent state to an RCU variable every loop iteration, so a deleted
 * route's slot and rte_lpm's tbl8 groups are reused only when no lcore can
 * still be reading them. Connected routes follow interface addresses, the
 * default route an interface's gateway; static routes are the user's. */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_priv.h"

int dp_routes_create(struct tern_dp *dp, unsigned nworkers)
{
	size_t sz = rte_rcu_qsbr_get_memsize(nworkers);
	dp->qsbr = rte_zmalloc("tern_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, nworkers) != 0) {
		DP_LOG(ERR, "RCU variable for %u workers", nworkers);
		return -ENOMEM;
	}
	struct tern_fib_conf fc = {
		.name = "ternd",
		.socket = (int)rte_socket_id(),
		.max_routes = dp->conf.max_routes,
		.qsbr = dp->qsbr,
	};
	dp->fib = tern_fib_create(&fc);
	if (dp->fib == NULL) {
		DP_LOG(ERR, "route table: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

void dp_routes_free(struct tern_dp *dp)
{
	tern_fib_destroy(dp->fib);
	dp->fib = NULL;
	rte_free(dp->qsbr);
	dp->qsbr = NULL;
}

/* ---- worker side --------------------------------------------------- */

void dp_rcu_online(struct tern_worker *w)
{
	rte_rcu_qsbr_thread_register(w->dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
}

void dp_rcu_offline(struct tern_worker *w)
{
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(w->dp->qsbr, w->idx);
}

void dp_rcu_quiescent(struct tern_worker *w)
{
	rte_rcu_qsbr_quiescent(w->dp->qsbr, w->idx);
}

/* ---- interfaces' routes -------------------------------------------- */

static struct tern_addr subnet_of(const struct tern_addr_range *r)
{
	rte_be32_t mask = r->plen == 0 ? 0 :
			  rte_cpu_to_be_32(~0u << (32 - r->plen));
	return tern_addr_v4(r->base.v4 & mask);
}

int dp_routes_iface_add(struct tern_dp *dp, uint16_t ifindex,
			const struct tern_addr_range *r)
{
	struct tern_route_info ri = {
		.prefix = subnet_of(r),
		.plen = r->plen,
		.kind = TERN_ROUTE_CONNECTED,
		.ifindex = ifindex,
	};
	int rc = tern_fib_add(dp->fib, &ri);
	return rc == -EEXIST ? 0 : rc;	/* another range of the subnet */
}

void dp_routes_iface_del(struct tern_dp *dp, uint16_t ifindex,
			 const struct tern_addr_range *r,
			 const struct dp_iface *e)
{
	struct tern_addr net = subnet_of(r);
	/* Kept while another range of the interface is in that subnet. */
	for (unsigned j = 0; j < e->info.naddrs; j++) {
		const struct tern_addr_range *o = &e->info.addrs[j];
		if (o->base.v4 != r->base.v4 && o->plen == r->plen &&
		    subnet_of(o).v4 == net.v4)
			return;
	}
	tern_fib_del(dp->fib, &net, r->plen, TERN_ROUTE_CONNECTED, ifindex);
}

/* ---- static routes ------------------------------------------------- */

int tern_dp_route_add(struct tern_dp *dp, const struct tern_addr *prefix,
		      uint8_t plen, const struct tern_addr *gateway,
		      uint16_t ifindex, const char **why)
{
	const char *w = NULL;
	int rc = -EINVAL;
	struct tern_route_info ri = {
		.plen = plen,
		.kind = TERN_ROUTE_STATIC,
		.ifindex = ifindex,
	};
	if (prefix == NULL || prefix->family != TERN_AF_INET || plen > 32) {
		w = "prefix: not an IPv4 prefix like 192.168.0.0/16";
		goto out;
	}
	rte_be32_t mask = plen == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - plen));
	if ((prefix->v4 & ~mask) != 0) {
		w = "prefix: has bits set past its length";
		goto out;
	}
	ri.prefix = *prefix;
	if (ifindex != 0 && tern_dp_iface_get(dp, ifindex, NULL) != 0) {
		w = "ifindex: no such interface";
		rc = -ENOENT;
		goto out;
	}
	if (gateway != NULL && tern_addr_is_set(gateway)) {
		uint16_t via;
		rte_be32_t gw2;
		/* The gateway must be reachable directly: on a connected
		 * subnet (of ifindex, when given). */
		if (gateway->family != TERN_AF_INET ||
		    tern_fib_lookup4(dp->fib, gateway->v4, &via, &gw2) != 0 ||
		    gw2 != 0 || (ifindex != 0 && via != ifindex)) {
			w = "gateway: not on a connected subnet of the "
			    "interface";
			goto out;
		}
		ri.gateway = *gateway;
		ri.ifindex = via;
	} else if (ifindex == 0) {
		w = "gateway: a route needs a gateway or an interface";
		goto out;
	}
	rc = tern_fib_add(dp->fib, &ri);
	if (rc == -EEXIST)
		w = "prefix: a static route for it exists";
	else if (rc == -ENOSPC)
		w = "prefix: the route table is full";
	else if (rc < 0)
		w = "prefix: refused by the route table";
out:
	if (why != NULL)
		*why = w;
	return w == NULL ? 0 : rc;
}

int tern_dp_route_del(struct tern_dp *dp, const struct tern_addr *prefix,
		      uint8_t plen)
{
	int rc = tern_fib_del(dp->fib, prefix, plen, TERN_ROUTE_STATIC, 0);
	if (rc != -ENOENT)
		return rc;
	/* Not static: say whether it exists at all. */
	return tern_fib_has(dp->fib, prefix, plen) ? -EPERM : -ENOENT;
}

unsigned tern_dp_route_list(const struct tern_dp *dp,
			    struct tern_route_info *out, unsigned max)
{
	return tern_fib_list(dp->fib, out, max);
}
