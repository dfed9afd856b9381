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
	return plen == 0 ? 0 : ~0u << (32 - plen);
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

	if (c->addr.family != TERN_AF_INET || c->plen < 1 || c->plen > 32) {
		*why = "address: not an IPv4 prefix like 10.0.0.2/24";
		return -EINVAL;
	}
	uint32_t h = rte_be_to_cpu_32(c->addr.v4);
	if (h == 0 || (h >> 24) == 127 || (h >> 28) >= 14) {
		*why = "address: not a unicast host address (0.0.0.0, 127/8, "
		       "multicast and class E are refused)";
		return -EINVAL;
	}
	if (is_net_or_bcast(&c->addr, c->plen)) {
		*why = "address: is the network or broadcast address of its prefix";
		return -EINVAL;
	}

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
		if (e->info.conf.port_id == c->port_id &&
		    rte_is_same_ether_addr(&e->info.conf.mac, &out->mac) &&
		    tern_addr_eq(&e->info.conf.addr, &out->addr)) {
			*why = "address: this MAC and address are already on "
			       "the port";
			return -EEXIST;
		}
	}
	return 0;
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
	rc = tern_iface_addr_add(w->stack, ic.ifindex, &c->addr, c->plen);
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
