/* Interfaces: MAC, several IPv4 addresses, gateway, MTU, capabilities and
 * a transmit function (DESIGN rule 3). A link carries many interfaces
 * (rule 6); lookups scan the small table, which is per lcore. */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>

#include "stack_priv.h"

struct iface *iface_get(struct tern_stack *s, uint16_t ifindex)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (ifc->conf.ifindex == ifindex)
			return ifc;
	return NULL;
}

struct iface *iface_by_link_mac(struct tern_stack *s, uint16_t link,
				const struct rte_ether_addr *mac)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (ifc->conf.link == link &&
		    rte_is_same_ether_addr(&ifc->conf.mac, mac))
			return ifc;
	return NULL;
}

bool iface_owns_ip(const struct iface *ifc, rte_be32_t ip)
{
	for (unsigned j = 0; j < ifc->naddrs; j++)
		if (ifc->addrs[j].addr.v4 == ip)
			return true;
	return false;
}

bool iface_is_bcast(const struct iface *ifc, rte_be32_t ip)
{
	if (ip4_is_limited_bcast(ip))
		return true;
	for (unsigned j = 0; j < ifc->naddrs; j++) {
		uint8_t plen = ifc->addrs[j].plen;
		if (plen >= 31)
			continue; /* RFC 3021: no broadcast on /31 */
		rte_be32_t mask = ip4_mask(plen);
		if ((ip & mask) == (ifc->addrs[j].addr.v4 & mask) &&
		    (ip | mask) == RTE_BE32(0xffffffff))
			return true;
	}
	return false;
}

struct iface *iface_by_link_ip(struct tern_stack *s, uint16_t link,
			       rte_be32_t ip)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (ifc->conf.link == link && iface_owns_ip(ifc, ip))
			return ifc;
	return NULL;
}

struct iface *iface_for_ip4(struct tern_stack *s, uint16_t link,
			    const struct rte_ether_addr *mac, rte_be32_t dst)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc) {
		if (ifc->conf.link != link ||
		    (mac != NULL && !rte_is_same_ether_addr(&ifc->conf.mac, mac)))
			continue;
		if (iface_owns_ip(ifc, dst) || iface_is_bcast(ifc, dst))
			return ifc;
	}
	return NULL;
}

struct iface *iface_first_on_link(struct tern_stack *s, uint16_t link)
{
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (ifc->conf.link == link)
			return ifc;
	return NULL;
}

rte_be32_t iface_src_for(const struct iface *ifc, rte_be32_t dst)
{
	for (unsigned j = 0; j < ifc->naddrs; j++) {
		rte_be32_t mask = ip4_mask(ifc->addrs[j].plen);
		if ((dst & mask) == (ifc->addrs[j].addr.v4 & mask))
			return ifc->addrs[j].addr.v4;
	}
	return ifc->naddrs ? ifc->addrs[0].addr.v4 : 0;
}

int tern_iface_add(struct tern_stack *s, const struct tern_iface_conf *conf)
{
	if (conf == NULL || conf->tx == NULL ||
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
		ifc->conf = *conf;
		ifc->conf.name[TERN_IFNAMSIZ - 1] = '\0';
		if (ifc->conf.mtu == 0)
			ifc->conf.mtu = RTE_ETHER_MTU;
		ifc->used = true;
		s->active[s->nactive++] = ifc;
		return 0;
	}
	return -ENOSPC;
}

int tern_iface_del(struct tern_stack *s, uint16_t ifindex)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	arp_iface_gone(s, ifindex);
	for (unsigned i = 0; i < s->nactive; i++) {
		if (s->active[i] != ifc)
			continue;
		memmove(&s->active[i], &s->active[i + 1],
			(s->nactive - i - 1) * sizeof(s->active[0]));
		s->nactive--;
		break;
	}
	memset(ifc, 0, sizeof(*ifc));
	return 0;
}

int tern_iface_addr_add(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr, uint8_t plen)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	if (addr == NULL || addr->family != TERN_AF_INET || plen == 0 ||
	    plen > 32 || addr->v4 == 0 || ip4_is_limited_bcast(addr->v4) ||
	    ip4_is_multicast(addr->v4))
		return -EINVAL;
	if (iface_owns_ip(ifc, addr->v4))
		return -EEXIST;
	if (ifc->naddrs == TERN_IFACE_MAX_ADDRS)
		return -ENOSPC;
	ifc->addrs[ifc->naddrs].addr = *addr;
	ifc->addrs[ifc->naddrs].plen = plen;
	ifc->naddrs++;
	return 0;
}

int tern_iface_addr_del(struct tern_stack *s, uint16_t ifindex,
			const struct tern_addr *addr)
{
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	for (unsigned j = 0; j < ifc->naddrs; j++) {
		if (tern_addr_eq(&ifc->addrs[j].addr, addr)) {
			memmove(&ifc->addrs[j], &ifc->addrs[j + 1],
				(ifc->naddrs - j - 1) * sizeof(ifc->addrs[0]));
			ifc->naddrs--;
			return 0;
		}
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
	struct rte_ether_addr bcast;
	memset(&bcast, 0xff, sizeof(bcast));
	int rc = arp_send(s, ifc, RTE_ARP_OP_REQUEST, addr->v4, &zero, addr->v4,
			  &bcast);
	if (rc == 0)
		STAT_INC(s, arp_tx_gratuitous);
	return rc;
}

int tern_iface_by_addr(const struct tern_stack *s, const struct tern_addr *addr)
{
	if (addr == NULL || addr->family != TERN_AF_INET)
		return -ENOENT;
	struct iface *ifc;
	FOR_EACH_IFACE(s, ifc)
		if (iface_owns_ip(ifc, addr->v4))
			return ifc->conf.ifindex;
	return -ENOENT;
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
