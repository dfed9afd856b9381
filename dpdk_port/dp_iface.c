/* Interfaces, control side: validation, the ifindex registry and the
 * messages that add/remove an interface on every worker's stack. Each
 * worker has its own copy of each interface (DESIGN rules 1 and 6); the
 * registry here is what the control API lists. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_priv.h"

/* Registry index of ifindex, or -1 when no such interface. */
static int iface_idx(const struct tern_dp *dp, uint16_t ifindex)
{
	if (ifindex == 0 || ifindex > TERN_MAX_IFACES ||
	    !dp->ifaces[ifindex - 1].used)
		return -1;
	return ifindex - 1;
}

/* ---- validation ---------------------------------------------------- */

static uint32_t prefix_mask(uint8_t plen)
{
	return plen == 0 || plen > 32 ? 0 : ~0u << (32 - plen);
}

/* Host part all zeros (the network) or all ones (broadcast); /31 and /32
 * have neither (RFC 3021). */
static bool is_net_or_bcast(const struct tern_addr *a, uint8_t plen)
{
	if (plen >= 31)
		return false;
	uint32_t h = rte_be_to_cpu_32(a->v4), m = prefix_mask(plen);
	return (h & ~m) == 0 || (h & ~m) == ~m;
}

static uint32_t first_host(const struct tern_addr_range *r)
{
	return rte_be_to_cpu_32(r->base.v4);
}

/* -EEXIST when r meets an address of any interface (one stack holds
 * every interface, and an address has one owner). */
static int overlap_check(struct tern_dp *dp, const struct tern_addr_range *r,
			 const char **why)
{
	uint64_t a = first_host(r), an = a + (r->count ? r->count : 1);
	for (unsigned i = 0; i < TERN_MAX_IFACES; i++) {
		const struct dp_iface *e = &dp->ifaces[i];
		if (!e->used)
			continue;
		for (unsigned j = 0; j < e->info.naddrs; j++) {
			const struct tern_addr_range *o = &e->info.addrs[j];
			uint64_t b = first_host(o), bn = b + o->count;
			if (a < bn && b < an) {
				*why = "address: already an address of an "
				       "interface";
				return -EEXIST;
			}
		}
	}
	return 0;
}

static uint64_t mac_num(const struct rte_ether_addr *m)
{
	uint64_t v = 0;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v = v << 8 | m->addr_bytes[i];
	return v;
}

/* True when [mac, mac + n) holds the MAC (or a host MAC) of another
 * interface with MACs of their own: two hosts would answer for one MAC. */
static bool host_macs_clash(struct tern_dp *dp, const struct rte_ether_addr *mac,
			    uint32_t n, const struct dp_iface *self)
{
	if (n <= 1)
		return false;
	uint64_t a = mac_num(mac), an = a + n;
	for (unsigned i = 0; i < TERN_MAX_IFACES; i++) {
		const struct dp_iface *e = &dp->ifaces[i];
		if (!e->used || e == self)
			continue;
		uint64_t b = mac_num(&e->info.conf.mac), bn = b + 1;
		for (unsigned j = 0; j < e->info.naddrs; j++)
			if (e->info.addrs[j].host_macs)
				bn = RTE_MAX(bn, b + e->info.addrs[j].count);
		if (a < bn && b < an)
			return true;
	}
	return false;
}

/* Every rule an interface conf must meet; *why names the field. */
static int validate(struct tern_dp *dp, const struct tern_dp_iface_conf *c,
		    struct tern_dp_iface_conf *out, const char **why)
{
	uint16_t slot = dp_port_slot(dp, c->port_id);
	if (slot == DP_NO_SLOT) {
		*why = "port: no such port (see port.list)";
		return -ENODEV;
	}
	*out = *c;

	struct tern_addr_range r = {
		.base = c->addr, .count = c->count ? c->count : 1,
		.plen = c->plen, .host_macs = c->host_macs,
	};
	if (tern_addr_range_check(&r, why) < 0)
		return -EINVAL;
	out->count = r.count;
	if (tern_addr_is_set(&c->gateway)) {
		if (c->gateway.family != TERN_AF_INET ||
		    !tern_addr_same_prefix(&c->gateway, &c->addr, c->plen) ||
		    tern_addr_eq(&c->gateway, &c->addr) ||
		    is_net_or_bcast(&c->gateway, c->plen)) {
			*why = "gateway: must be another host address inside "
			       "the prefix";
			return -EINVAL;
		}
	} else {
		memset(&out->gateway, 0, sizeof(out->gateway));
	}

	uint16_t port_mtu;
	if (rte_eth_dev_get_mtu(c->port_id, &port_mtu) < 0)
		port_mtu = RTE_ETHER_MTU;
	if (c->mtu == 0) {
		out->mtu = port_mtu;
	} else if (c->mtu < 68 || c->mtu > port_mtu) {	/* RFC 791: 68 */
		*why = "mtu: out of range 68..the port's MTU (see port.list)";
		return -EINVAL;
	}

	if (!c->mac_set) {
		out->mac = dp->ports[slot].mac;
		out->mac_set = true;
	}
	if (!rte_is_valid_assigned_ether_addr(&out->mac)) {
		*why = c->mac_set ? "mac: must be a non-zero unicast address" :
				    "mac: the port has no usable MAC; give one";
		return -EINVAL;
	}

	if (memchr(c->name, '\0', sizeof(c->name)) == NULL) {
		*why = "name: longer than 15 characters";
		return -EINVAL;
	}
	for (unsigned i = 0; i < TERN_MAX_IFACES; i++) {
		const struct dp_iface *e = &dp->ifaces[i];
		if (!e->used)
			continue;
		if (c->name[0] != '\0' &&
		    strcmp(e->info.conf.name, c->name) == 0) {
			*why = "name: taken by another interface";
			return -EEXIST;
		}
	}
	if (host_macs_clash(dp, &out->mac, r.host_macs ? r.count : 1, NULL)) {
		*why = "mac: the per-host MACs meet another interface's MAC";
		return -EEXIST;
	}
	return overlap_check(dp, &r, why);
}

/* Lowest-effort reuse: the cursor moves on, so an ifindex just deleted is
 * not handed out again at once (a late message naming it stays
 * harmless); the table is still bounded by TERN_MAX_IFACES. */
static int ifindex_alloc(struct tern_dp *dp)
{
	for (unsigned k = 0; k < TERN_MAX_IFACES; k++) {
		unsigned ifx = (dp->next_ifindex - 1 + k) % TERN_MAX_IFACES + 1;
		if (!dp->ifaces[ifx - 1].used) {
			dp->next_ifindex =
				(uint16_t)(ifx % TERN_MAX_IFACES + 1);
			return (int)ifx;
		}
	}
	return -ENOSPC;
}

/* ---- worker side --------------------------------------------------- */

/* arg: the registry entry (lives in struct tern_dp, so a message that
 * runs after its call timed out still reads valid memory). */
static int iface_add_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	const struct dp_iface *e = msg->arg;
	const struct tern_dp_iface_conf *c = &e->info.conf;
	struct tern_iface_conf ic;

	memset(&ic, 0, sizeof(ic));
	ic.ifindex = e->info.ifindex;
	ic.link = c->port_id;
	memcpy(ic.name, c->name, sizeof(ic.name));
	ic.mac = c->mac;
	ic.mtu = c->mtu;
	ic.gateway = c->gateway;
	ic.caps = w->dp->ports[e->slot].caps;
	ic.tx = dp_txbuf_tx;
	ic.tx_ctx = &w->tx[e->slot];

	int rc = tern_iface_add(w->stack, &ic);
	if (rc < 0)
		return rc;
	rc = tern_iface_range_add(w->stack, ic.ifindex, &e->info.addrs[0]);
	if (rc < 0) {
		tern_iface_del(w->stack, ic.ifindex);
		return rc;
	}
	/* One gratuitous ARP is enough for the peers; worker 0 sends it. */
	if (w->idx == 0) {
		int arc = tern_iface_announce(w->stack, ic.ifindex, &c->addr);
		if (arc < 0)
			DP_LOG(WARNING, "announce on %s: %d", c->name, arc);
	}
	return 0;
}

/* The range to add or remove travels in the message (base, count, plen,
 * host_macs); the MAC base is the interface's. */
struct range_msg {
	uint16_t ifindex;
	uint8_t plen;
	bool host_macs;
	uint32_t count;
	rte_be32_t base;
	struct rte_ether_addr mac_base;
};

static void range_of_msg(const struct range_msg *m, struct tern_addr_range *r)
{
	memset(r, 0, sizeof(*r));
	r->base = tern_addr_v4(m->base);
	r->count = m->count;
	r->plen = m->plen;
	r->host_macs = m->host_macs;
	r->mac_base = m->mac_base;
}

static int range_add_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct range_msg m;
	struct tern_addr_range r;
	memcpy(&m, msg->data, sizeof(m));
	range_of_msg(&m, &r);
	int rc = tern_iface_range_add(w->stack, m.ifindex, &r);
	if (rc == 0 && w->idx == 0)
		tern_iface_announce(w->stack, m.ifindex, &r.base);
	return rc;
}

static int range_del_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct range_msg m;
	memcpy(&m, msg->data, sizeof(m));
	struct tern_addr base = tern_addr_v4(m.base);
	return tern_iface_range_del(w->stack, m.ifindex, &base);
}

_Static_assert(sizeof(struct range_msg) <= TERN_MSG_DATA,
	       "a range must fit in a message");

static int iface_del_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	return tern_iface_del(w->stack, (uint16_t)(uintptr_t)msg->arg);
}

/* Removes ifindex from workers [0, n). Errors are logged only: this runs
 * on paths that already failed or must go on. */
static int del_from_workers(struct tern_dp *dp, uint16_t ifindex, unsigned n)
{
	int first = 0;
	for (unsigned i = 0; i < n; i++) {
		int rc = tern_dp_call(dp, i, iface_del_fn,
				      (void *)(uintptr_t)ifindex);
		if (rc < 0 && rc != -ENOENT) {
			DP_LOG(WARNING, "remove ifindex %u from worker %u: %d",
			       ifindex, i, rc);
			if (first == 0)
				first = rc;
		}
	}
	return first;
}

/* ---- control API --------------------------------------------------- */

int tern_dp_iface_create(struct tern_dp *dp,
			 const struct tern_dp_iface_conf *conf,
			 uint16_t *ifindex, const char **why)
{
	struct tern_dp_iface_conf c;
	const char *reason = NULL;
	int rc = validate(dp, conf, &c, &reason);
	if (why != NULL)
		*why = reason;
	if (rc < 0)
		return rc;
	int ifx = ifindex_alloc(dp);
	if (ifx < 0)
		return ifx;
	if (c.name[0] == '\0') {
		snprintf(c.name, sizeof(c.name), "if%d", ifx);
		/* A user may already have called another interface so. */
		for (unsigned i = 0; i < TERN_MAX_IFACES; i++)
			if (dp->ifaces[i].used &&
			    strcmp(dp->ifaces[i].info.conf.name, c.name) == 0) {
				if (why != NULL)
					*why = "name: the default name is taken; give one";
				return -EEXIST;
			}
	}

	struct dp_iface *e = &dp->ifaces[ifx - 1];
	memset(e, 0, sizeof(*e));
	e->slot = dp_port_slot(dp, c.port_id);
	e->info.ifindex = (uint16_t)ifx;
	e->info.conf = c;
	e->info.naddrs = 1;
	e->info.addrs[0] = (struct tern_addr_range){
		.base = c.addr, .count = c.count, .plen = c.plen,
		.host_macs = c.host_macs, .mac_base = c.mac,
	};

	for (unsigned i = 0; i < dp->nworkers; i++) {
		rc = tern_dp_call(dp, i, iface_add_fn, e);
		if (rc < 0) {
			/* A timed-out add may still run later: its channel is
			 * FIFO, so a delete posted now runs after it. */
			unsigned upto = rc == -ETIMEDOUT ? i + 1 : i;
			del_from_workers(dp, (uint16_t)ifx, upto);
			return rc;
		}
	}
	/* The routes every worker reads, once the interface exists on
	 * every worker (a route to an interface a worker lacks would drop). */
	rc = dp_routes_iface_add(dp, (uint16_t)ifx, &e->info.addrs[0]);
	if (rc == 0 && tern_addr_is_set(&c.gateway)) {
		struct tern_route_info gw = {
			.prefix = tern_addr_v4(0), .plen = 0,
			.kind = TERN_ROUTE_GATEWAY, .ifindex = (uint16_t)ifx,
			.gateway = c.gateway,
		};
		rc = tern_fib_add(dp->fib, &gw);
	}
	if (rc < 0) {
		tern_fib_del_ifindex(dp->fib, (uint16_t)ifx);
		del_from_workers(dp, (uint16_t)ifx, dp->nworkers);
		if (why != NULL)
			*why = "address: the route table is full";
		return rc;
	}
	e->used = true;
	if (ifindex != NULL)
		*ifindex = (uint16_t)ifx;
	return 0;
}

int tern_dp_iface_delete(struct tern_dp *dp, uint16_t ifindex)
{
	int idx = iface_idx(dp, ifindex);
	if (idx < 0)
		return -ENOENT;
	struct dp_iface *e = &dp->ifaces[idx];
	if (e->refs > 0)
		return -EBUSY;
	/* Routes first: no worker may pick the interface on its way out. */
	tern_fib_del_ifindex(dp->fib, ifindex);
	int rc = del_from_workers(dp, ifindex, dp->nworkers);
	/* Even when a worker timed out the delete is queued behind; the
	 * registry forgets the interface either way. */
	e->used = false;
	return rc == -ETIMEDOUT ? rc : 0;
}

unsigned tern_dp_iface_list(const struct tern_dp *dp,
			    struct tern_dp_iface_info *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < TERN_MAX_IFACES; i++) {
		if (!dp->ifaces[i].used)
			continue;
		if (out != NULL && n < max)
			out[n] = dp->ifaces[i].info;
		n++;
	}
	return n;
}

int tern_dp_iface_get(const struct tern_dp *dp, uint16_t ifindex,
		      struct tern_dp_iface_info *out)
{
	int idx = iface_idx(dp, ifindex);
	if (idx < 0)
		return -ENOENT;
	if (out != NULL)
		*out = dp->ifaces[idx].info;
	return 0;
}

void tern_dp_iface_ref(struct tern_dp *dp, uint16_t ifindex, int delta)
{
	int idx = iface_idx(dp, ifindex);
	if (idx < 0)
		return;
	struct dp_iface *e = &dp->ifaces[idx];
	e->refs += delta;
	if (e->refs < 0)
		e->refs = 0;
}

/* ---- more addresses ------------------------------------------------ */

/* Runs fn with m on workers [0, n); *done: how many may have run it (a
 * timed-out call may still run: its channel is FIFO, so an undo posted
 * after it runs after it). */
static int range_call(struct tern_dp *dp, tern_msg_fn fn,
		      const struct range_msg *m, unsigned n, unsigned *done)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = tern_chan_call_data(dp->workers[i]->chan, fn, NULL, m,
					     sizeof(*m), DP_CALL_TIMEOUT_MS);
		if (rc < 0) {
			*done = rc == -ETIMEDOUT ? i + 1 : i;
			return rc;
		}
	}
	*done = n;
	return 0;
}

int tern_dp_iface_addr_add(struct tern_dp *dp, uint16_t ifindex,
			   const struct tern_addr_range *in, const char **why)
{
	const char *w = NULL;
	if (why == NULL)
		why = &w;
	*why = NULL;
	int idx = iface_idx(dp, ifindex);
	if (idx < 0) {
		*why = "ifindex: no such interface";
		return -ENOENT;
	}
	struct dp_iface *e = &dp->ifaces[idx];
	struct tern_addr_range r = *in;
	if (r.count == 0)
		r.count = 1;
	r.mac_base = e->info.conf.mac;
	if (tern_addr_range_check(&r, why) < 0)
		return -EINVAL;
	if (e->info.naddrs == TERN_IFACE_MAX_ADDRS) {
		*why = "address: the interface has 8 addresses or ranges";
		return -ENOSPC;
	}
	int rc = overlap_check(dp, &r, why);
	if (rc < 0)
		return rc;
	if (r.host_macs && host_macs_clash(dp, &r.mac_base, r.count, e)) {
		*why = "host_macs: the per-host MACs meet another interface's MAC";
		return -EEXIST;
	}
	struct range_msg m = {
		.ifindex = ifindex, .plen = r.plen, .host_macs = r.host_macs,
		.count = r.count, .base = r.base.v4, .mac_base = r.mac_base,
	};
	unsigned done, undone;
	rc = range_call(dp, range_add_fn, &m, dp->nworkers, &done);
	if (rc == 0)
		rc = dp_routes_iface_add(dp, ifindex, &r);
	if (rc < 0) {
		range_call(dp, range_del_fn, &m, done, &undone);
		if (*why == NULL)
			*why = rc == -ENOSPC ? "count: no room left in the "
					       "stacks' address tables" :
					       "address: a worker refused it";
		return rc;
	}
	e->info.addrs[e->info.naddrs++] = r;
	return 0;
}

int tern_dp_iface_addr_del(struct tern_dp *dp, uint16_t ifindex,
			   const struct tern_addr *base)
{
	int idx = iface_idx(dp, ifindex);
	if (idx < 0 || base == NULL)
		return -ENOENT;
	struct dp_iface *e = &dp->ifaces[idx];
	unsigned j;
	for (j = 0; j < e->info.naddrs; j++)
		if (tern_addr_eq(&e->info.addrs[j].base, base))
			break;
	if (j == e->info.naddrs)
		return -ENOENT;
	if (e->info.naddrs == 1)
		return -EBUSY;
	const struct tern_addr_range *r = &e->info.addrs[j];
	dp_routes_iface_del(dp, ifindex, r, e);
	struct range_msg m = {.ifindex = ifindex, .base = r->base.v4};
	unsigned done;
	int rc = range_call(dp, range_del_fn, &m, dp->nworkers, &done);
	memmove(&e->info.addrs[j], &e->info.addrs[j + 1],
		(e->info.naddrs - j - 1) * sizeof(e->info.addrs[0]));
	e->info.naddrs--;
	/* the first range is what conf describes */
	e->info.conf.addr = e->info.addrs[0].base;
	e->info.conf.plen = e->info.addrs[0].plen;
	e->info.conf.count = e->info.addrs[0].count;
	e->info.conf.host_macs = e->info.addrs[0].host_macs;
	return rc == -ETIMEDOUT ? rc : 0;
}
