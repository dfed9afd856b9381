/* Interfaces: MAC, address ranges, gateway, MTU, capabilities and a
 * transmit function (DESIGN rule 3). A link carries many interfaces and an
 * interface many emulated hosts (rule 6). Per-packet lookups never scan:
 * ifindex -> interface is an array, (link, MAC) -> interface a hash, and
 * address -> range the local table (local.c). What a range needs per
 * packet (mask, network, broadcast) is computed once when it is added. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>

#include "stack_priv.h"

/* (link, MAC) packed for the MAC map: link in the top 16 bits. */
static uint64_t mac_key(uint16_t link, const struct rte_ether_addr *m)
{
	uint64_t v = (uint64_t)link;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v = v << 8 | m->addr_bytes[i];
	return v;
}

int iface_init(struct tern_stack *s, const struct tern_stack_conf *c)
{
	if (hmap_init(&s->macs, s, "tern_iface_macs", TERN_MAX_IFACES) != 0)
		return -ENOMEM;
	int rc = local_init(s, c->local_blocks);
	if (rc < 0)
		return rc;
	if (c->fib != NULL) {
		s->fib = c->fib;
		return 0;
	}
	char fname[32];
	snprintf(fname, sizeof(fname), "%s", s->name);
	struct tern_fib_conf fc = {.name = fname, .socket = s->socket};
	s->fib = tern_fib_create(&fc);
	if (s->fib == NULL)
		return -ENOMEM;
	s->fib_owned = true;
	return 0;
}

void iface_fini(struct tern_stack *s)
{
	hmap_fini(&s->macs);
	local_fini(s);
	if (s->fib_owned)
		tern_fib_destroy(s->fib);
	s->fib = NULL;
}

struct tern_fib *tern_stack_fib(struct tern_stack *s)
{
	return s->fib;
}

/* ---- lookups ------------------------------------------------------- */

const struct iface_range *local_range(struct tern_stack *s, rte_be32_t ip,
				      struct iface **ifc, uint32_t *host)
{
	uint16_t id = local_lookup_t(&s->local, ip);
	if (id == LOCAL_NO_RANGE)
		return NULL;
	/* ids are slot * TERN_IFACE_MAX_ADDRS + range index + 1 */
	struct iface *o = &s->ifaces[(id - 1) / TERN_IFACE_MAX_ADDRS];
	const struct iface_range *r = &o->ranges[(id - 1) % TERN_IFACE_MAX_ADDRS];
	if (ifc != NULL)
		*ifc = o;
	if (host != NULL)
		*host = rte_be_to_cpu_32(ip) - r->first;
	return r;
}

struct iface *iface_by_link_mac(struct tern_stack *s, uint16_t link,
				const struct rte_ether_addr *mac)
{
	uint32_t slot;
	if (hmap_get(&s->macs, mac_key(link, mac), &slot) != 0)
		return NULL;
	return &s->ifaces[slot];
}

static uint64_t mac_u64(const struct rte_ether_addr *m);

struct iface *iface_mac_owner(struct tern_stack *s, uint16_t link,
			      const struct rte_ether_addr *mac)
{
	struct iface *ifc = iface_by_link_mac(s, link, mac);
	if (likely(ifc != NULL) || s->host_mac_ranges == 0)
		return ifc;
	uint64_t v = mac_u64(mac);
	FOR_EACH_IFACE(s, ifc) {
		if (ifc->conf.link != link)
			continue;
		for (unsigned j = 0; j < ifc->nranges; j++) {
			const struct iface_range *r = &ifc->ranges[j];
			if (r->host_macs && v - mac_u64(&r->mac_base) < r->count)
				return ifc;
		}
	}
	return NULL;
}

struct iface *iface_by_link_ip(struct tern_stack *s, uint16_t link,
			       rte_be32_t ip)
{
	struct iface *ifc;
	if (local_range(s, ip, &ifc, NULL) == NULL || ifc->conf.link != link)
		return NULL;
	return ifc;
}

struct iface *iface_first_on_link(struct tern_stack *s, uint16_t link)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (ifc->conf.link == link)
			return ifc;
	return NULL;
}

bool iface_owns_ip(const struct iface *ifc, rte_be32_t ip)
{
	uint32_t h = rte_be_to_cpu_32(ip);
	for (unsigned j = 0; j < ifc->nranges; j++)
		if (h - ifc->ranges[j].first < ifc->ranges[j].count)
			return true;
	return false;
}

bool iface_is_bcast(const struct iface *ifc, rte_be32_t ip)
{
	if (ip4_is_limited_bcast(ip))
		return true;
	for (unsigned j = 0; j < ifc->nranges; j++)
		if (ifc->ranges[j].bcast == ip && ip != 0)
			return true;
	return false;
}

struct iface *iface_bcast_on_link(struct tern_stack *s, uint16_t link,
				  rte_be32_t dst)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (ifc->conf.link == link && ifc->nranges > 0 &&
		    iface_is_bcast(ifc, dst))
			return ifc;
	return NULL;
}

bool iface_on_link(const struct iface *ifc, rte_be32_t ip)
{
	for (unsigned j = 0; j < ifc->nranges; j++)
		if ((ip & ifc->ranges[j].mask) == ifc->ranges[j].net)
			return true;
	return false;
}

rte_be32_t iface_src_for(const struct iface *ifc, rte_be32_t dst)
{
	for (unsigned j = 0; j < ifc->nranges; j++)
		if ((dst & ifc->ranges[j].mask) == ifc->ranges[j].net)
			return ifc->ranges[j].base;
	return ifc->nranges ? ifc->ranges[0].base : 0;
}

/* A MAC as a 48-bit number, and back. */
static uint64_t mac_u64(const struct rte_ether_addr *m)
{
	uint64_t v = 0;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v = v << 8 | m->addr_bytes[i];
	return v;
}

static void mac_from_u64(uint64_t v, struct rte_ether_addr *m)
{
	for (int i = RTE_ETHER_ADDR_LEN - 1; i >= 0; i--, v >>= 8)
		m->addr_bytes[i] = (uint8_t)v;
}

void iface_host_mac(const struct iface *ifc, const struct iface_range *r,
		    uint32_t host, struct rte_ether_addr *mac)
{
	if (!r->host_macs)
		*mac = ifc->conf.mac;
	else
		mac_from_u64(mac_u64(&r->mac_base) + host, mac);
}

void iface_src_mac(struct tern_stack *s, const struct iface *ifc,
		   rte_be32_t src, struct rte_ether_addr *mac)
{
	uint32_t h = rte_be_to_cpu_32(src);
	for (unsigned j = 0; j < ifc->nranges; j++) {
		const struct iface_range *r = &ifc->ranges[j];
		if (h - r->first < r->count) {
			iface_host_mac(ifc, r, h - r->first, mac);
			return;
		}
	}
	*mac = ifc->conf.mac;
	(void)s;
}

/* ---- interfaces ---------------------------------------------------- */

static void mac_register(struct tern_stack *s, const struct iface *ifc)
{
	/* the first interface with a (link, MAC) keeps it */
	hmap_put(&s->macs, mac_key(ifc->conf.link, &ifc->conf.mac), ifc->slot);
}

/* ifc is going: its (link, MAC) moves to another interface sharing it,
 * or leaves the map. */
static void mac_unregister(struct tern_stack *s, const struct iface *ifc)
{
	uint64_t k = mac_key(ifc->conf.link, &ifc->conf.mac);
	uint32_t slot;
	if (hmap_get(&s->macs, k, &slot) != 0 || slot != ifc->slot)
		return;
	hmap_del(&s->macs, k);
	struct iface *o;
	FOR_EACH_IFACE(s, o)
		if (o != ifc && o->conf.link == ifc->conf.link &&
		    rte_is_same_ether_addr(&o->conf.mac, &ifc->conf.mac)) {
			hmap_put(&s->macs, k, o->slot);
			return;
		}
}

int tern_iface_add(struct tern_stack *s, const struct tern_iface_conf *conf)
{
	if (conf == NULL || conf->tx == NULL || conf->ifindex == 0 ||
	    conf->ifindex >= TERN_MAX_IFINDEX ||
	    !rte_is_valid_assigned_ether_addr(&conf->mac) ||
	    (conf->mtu != 0 && conf->mtu < 68) ||
	    (tern_addr_is_set(&conf->gateway) &&
	     conf->gateway.family != TERN_AF_INET))
		return -EINVAL;
	if (iface_get(s, conf->ifindex) != NULL)
		return -EEXIST;
	for (unsigned i = 0; i < TERN_MAX_IFACES; i++) {
		struct iface *ifc = &s->ifaces[i];
		if (ifc->used)
			continue;
		memset(ifc, 0, sizeof(*ifc));
		ifc->slot = (uint16_t)i;
		ifc->conf = *conf;
		ifc->conf.name[TERN_IFNAMSIZ - 1] = '\0';
		if (ifc->conf.mtu == 0)
			ifc->conf.mtu = RTE_ETHER_MTU;
		if (s->fib_owned && tern_addr_is_set(&conf->gateway)) {
			struct tern_route_info r = {
				.prefix = tern_addr_v4(0),
				.plen = 0,
				.kind = TERN_ROUTE_GATEWAY,
				.ifindex = conf->ifindex,
				.gateway = conf->gateway,
			};
			int rc = tern_fib_add(s->fib, &r);
			if (rc < 0 && rc != -EEXIST)
				return rc;
		}
		ifc->used = true;
		s->route_epoch++;
		s->active[s->nactive++] = ifc;
		s->ifslot[conf->ifindex] = (uint8_t)(i + 1);
		mac_register(s, ifc);
		return 0;
	}
	return -ENOSPC;
}

static void range_forget(struct tern_stack *s, struct iface *ifc,
			 unsigned j);

int tern_iface_del(struct tern_stack *s, uint16_t ifindex)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	neigh_iface_gone(s, ifindex);
	while (ifc->nranges > 0)
		range_forget(s, ifc, ifc->nranges - 1);
	if (s->fib_owned)
		tern_fib_del_ifindex(s->fib, ifindex);
	mac_unregister(s, ifc);
	for (unsigned i = 0; i < s->nactive; i++) {
		if (s->active[i] != ifc)
			continue;
		memmove(&s->active[i], &s->active[i + 1],
			(s->nactive - i - 1) * sizeof(s->active[0]));
		s->nactive--;
		break;
	}
	s->ifslot[ifindex] = 0;
	s->route_epoch++;
	memset(ifc, 0, sizeof(*ifc));
	return 0;
}

/* ---- ranges -------------------------------------------------------- */

static uint32_t hmask(uint8_t plen)
{
	return plen == 0 || plen > 32 ? 0 : ~0u << (32 - plen);
}

int tern_addr_range_check(const struct tern_addr_range *r, const char **why)
{
	const char *w = NULL;
	uint32_t count = r->count ? r->count : 1;
	uint32_t first = r->base.family == TERN_AF_INET ?
			 rte_be_to_cpu_32(r->base.v4) : 0;
	uint64_t last = (uint64_t)first + count - 1;
	uint32_t m = hmask(r->plen);

	if (r->base.family != TERN_AF_INET)
		w = "address: not an IPv4 address";
	else if (r->plen < 1 || r->plen > 32)
		w = "address: prefix length must be 1..32";
	else if (count > TERN_RANGE_MAX_HOSTS)
		w = "count: more than 1048576 addresses";
	else if (last > UINT32_MAX || (first & m) != ((uint32_t)last & m))
		w = "count: the addresses leave the subnet of the prefix";
	else if ((first >> 24) == 0 || (first >> 24) == 127 ||
		 (last >> 24) == 127 || (first >> 28) >= 14 ||
		 (last >> 28) >= 14 || ((first >> 24) < 127 && (last >> 24) > 127))
		w = "address: not unicast host addresses (0/8, 127/8, "
		    "multicast and class E are refused)";
	else if (r->plen <= 30 && ((first & ~m) == 0 ||
				   ((uint32_t)last & ~m) == ~m))
		w = "address: the network or broadcast address of the subnet "
		    "is in the range";
	else if (r->host_macs &&
		 !rte_is_zero_ether_addr(&r->mac_base) &&
		 !rte_is_valid_assigned_ether_addr(&r->mac_base))
		w = "mac: must be a non-zero unicast address";
	else if (r->host_macs &&
		 (mac_u64(&r->mac_base) + count - 1) >> 40 !=
		 mac_u64(&r->mac_base) >> 40)
		w = "mac: the per-host MACs would leave the first octet";
	if (why != NULL)
		*why = w;
	return w == NULL ? 0 : -EINVAL;
}

/* The connected route of range j of ifc, when the stack keeps its
 * routes: added with the first range of a subnet, removed with the last. */
static bool subnet_shared(const struct iface *ifc, unsigned j)
{
	for (unsigned k = 0; k < ifc->nranges; k++)
		if (k != j && ifc->ranges[k].net == ifc->ranges[j].net &&
		    ifc->ranges[k].plen == ifc->ranges[j].plen)
			return true;
	return false;
}

static uint16_t range_id(const struct iface *ifc, unsigned j)
{
	return (uint16_t)(ifc->slot * TERN_IFACE_MAX_ADDRS + j + 1);
}

/* Removes range j: local table, route, then the array (ranges after it
 * move down and take their new ids in the local table). */
static void range_forget(struct tern_stack *s, struct iface *ifc, unsigned j)
{
	struct iface_range *r = &ifc->ranges[j];
	local_del(s, r->first, r->count);
	if (r->host_macs)
		s->host_mac_ranges--;
	if (s->fib_owned && !subnet_shared(ifc, j)) {
		struct tern_addr p = tern_addr_v4(r->net);
		tern_fib_del(s->fib, &p, r->plen, TERN_ROUTE_CONNECTED,
			     ifc->conf.ifindex);
	}
	memmove(&ifc->ranges[j], &ifc->ranges[j + 1],
		(ifc->nranges - j - 1) * sizeof(ifc->ranges[0]));
	ifc->nranges--;
	s->route_epoch++;
	for (unsigned k = j; k < ifc->nranges; k++)
		local_add(s, ifc->ranges[k].first, ifc->ranges[k].count,
			  range_id(ifc, k));
}

/* True when [first, first + count) meets an address of the stack. */
static bool overlaps(struct tern_stack *s, uint32_t first, uint32_t count)
{
	struct iface *o;
	FOR_EACH_IFACE(s, o)
		for (unsigned j = 0; j < o->nranges; j++) {
			const struct iface_range *r = &o->ranges[j];
			if ((uint64_t)first < (uint64_t)r->first + r->count &&
			    (uint64_t)r->first < (uint64_t)first + count)
				return true;
		}
	return false;
}

int tern_iface_range_add(struct tern_stack *s, uint16_t ifindex,
			 const struct tern_addr_range *in)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	if (in == NULL || tern_addr_range_check(in, NULL) < 0)
		return -EINVAL;
	uint32_t count = in->count ? in->count : 1;
	uint32_t first = rte_be_to_cpu_32(in->base.v4);
	if (overlaps(s, first, count))
		return -EEXIST;
	if (ifc->nranges == TERN_IFACE_MAX_ADDRS)
		return -ENOSPC;
	unsigned j = ifc->nranges;
	struct iface_range *r = &ifc->ranges[j];
	memset(r, 0, sizeof(*r));
	r->base = in->base.v4;
	r->first = first;
	r->count = count;
	r->plen = in->plen;
	r->mask = ip4_mask(in->plen);
	r->net = r->base & r->mask;
	/* RFC 3021: a /31 (and a /32) has no broadcast address */
	r->bcast = in->plen >= 31 ? 0 : (r->net | ~r->mask);
	r->host_macs = in->host_macs;
	r->mac_base = rte_is_zero_ether_addr(&in->mac_base) ? ifc->conf.mac :
							      in->mac_base;
	int rc = local_add(s, first, count, range_id(ifc, j));
	if (rc < 0)
		return rc;
	ifc->nranges++;
	s->route_epoch++;
	if (r->host_macs)
		s->host_mac_ranges++;
	if (s->fib_owned && !subnet_shared(ifc, j)) {
		struct tern_route_info ri = {
			.prefix = tern_addr_v4(r->net),
			.plen = r->plen,
			.kind = TERN_ROUTE_CONNECTED,
			.ifindex = ifindex,
		};
		rc = tern_fib_add(s->fib, &ri);
		if (rc < 0 && rc != -EEXIST) {
			range_forget(s, ifc, j);
			return rc;
		}
	}
	return 0;
}

int tern_iface_range_del(struct tern_stack *s, uint16_t ifindex,
			 const struct tern_addr *base)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL || base == NULL || base->family != TERN_AF_INET)
		return -ENOENT;
	for (unsigned j = 0; j < ifc->nranges; j++) {
		if (ifc->ranges[j].base == base->v4) {
			range_forget(s, ifc, j);
			return 0;
		}
	}
	return -ENOENT;
}

unsigned tern_iface_range_list(const struct tern_stack *s, uint16_t ifindex,
			       struct tern_addr_range *out, unsigned max)
{
	struct iface *ifc = iface_get((struct tern_stack *)s, ifindex);
	if (ifc == NULL)
		return 0;
	for (unsigned j = 0; j < ifc->nranges && j < max && out != NULL; j++) {
		const struct iface_range *r = &ifc->ranges[j];
		memset(&out[j], 0, sizeof(out[j]));
		out[j].base = tern_addr_v4(r->base);
		out[j].count = r->count;
		out[j].plen = r->plen;
		out[j].host_macs = r->host_macs;
		if (r->host_macs)
			out[j].mac_base = r->mac_base;
	}
	return ifc->nranges;
}

int tern_iface_addr_add(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr, uint8_t plen)
{
	if (addr == NULL)
		return -EINVAL;
	struct tern_addr_range r = {.base = *addr, .count = 1, .plen = plen};
	return tern_iface_range_add(s, ifindex, &r);
}

int tern_iface_addr_del(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	if (addr == NULL || addr->family != TERN_AF_INET)
		return -ENOENT;
	for (unsigned j = 0; j < ifc->nranges; j++)
		if (ifc->ranges[j].base == addr->v4 &&
		    ifc->ranges[j].count == 1) {
			range_forget(s, ifc, j);
			return 0;
		}
	return -ENOENT;
}

int tern_iface_announce(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	if (addr == NULL || addr->family != TERN_AF_INET ||
	    !iface_owns_ip(ifc, addr->v4))
		return -EINVAL;
	/* RFC 5227 2.3: an ARP request with sender = target = our address,
	 * broadcast, target hardware address zero. */
	static const struct rte_ether_addr zero;
	struct rte_ether_addr bcast, mac;
	memset(&bcast, 0xff, sizeof(bcast));
	iface_src_mac(s, ifc, addr->v4, &mac);
	int rc = arp_send(s, ifc, RTE_ARP_OP_REQUEST, &mac, addr->v4, &zero,
			  addr->v4, &bcast);
	if (rc == 0)
		STAT_INC(s, arp_tx_gratuitous);
	return rc;
}

int tern_iface_by_addr(const struct tern_stack *s, const struct tern_addr *addr)
{
	struct iface *ifc;
	if (addr == NULL || addr->family != TERN_AF_INET ||
	    local_range((struct tern_stack *)s, addr->v4, &ifc, NULL) == NULL)
		return -ENOENT;
	return ifc->conf.ifindex;
}

int tern_iface_mac_for(const struct tern_stack *s, const struct tern_addr *addr,
		       struct rte_ether_addr *mac)
{
	struct iface *ifc;
	uint32_t host;
	const struct iface_range *r;
	if (addr == NULL || addr->family != TERN_AF_INET ||
	    (r = local_range((struct tern_stack *)s, addr->v4, &ifc, &host)) == NULL)
		return -ENOENT;
	iface_host_mac(ifc, r, host, mac);
	return 0;
}

int tern_iface_stats_get(const struct tern_stack *s, uint16_t ifindex,
			 struct tern_iface_stats *out)
{
	struct iface *ifc = iface_get((struct tern_stack *)s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	*out = ifc->stats;
	return 0;
}
