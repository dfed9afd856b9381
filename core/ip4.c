/* IPv4 input (RFC 791, RFC 1122 3.2.1 validation, reassembly) and output
 * (route, header, DF and path MTU, fragmentation, neighbour resolution).
 * Output goes through a route a caller may keep (<tern/route.h>): a flow
 * that holds a valid one sends with no lookup. */
#include <errno.h>
#include <string.h>

#include <tern/mbuf_cow.h>

#include "stack_priv.h"
#include "wirefmt.h"

static void count_parse_drop(struct tern_stack *s, enum wf_verdict v)
{
	switch (v) {
	case WF_SHORT: STAT_INC(s, ip4_drop_short); break;
	case WF_BAD_VERSION: STAT_INC(s, ip4_drop_bad_version); break;
	case WF_BAD_HLEN: STAT_INC(s, ip4_drop_bad_hlen); break;
	default: STAT_INC(s, ip4_drop_bad_len); break;
	}
}

void ip4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	struct wf_ip4 ip;
	enum wf_verdict v = wf_ip4_parse(m, &ip);
	if (unlikely(v != WF_OK && v != WF_FRAGMENT)) {
		count_parse_drop(s, v);
		drop(m);
		return;
	}
	if (unlikely(tern_ol_rx_ip4(m, ip.h, ip.hlen) != TERN_OL_CKSUM_GOOD)) {
		STAT_INC(s, ip4_drop_bad_cksum);
		drop(m);
		return;
	}
	/* Ethernet pads short frames; the IP length is the truth. */
	wf_trim_to(m, ip.total);
	rte_be32_t src = ip.h->src_addr, dst = ip.h->dst_addr;
	/* RFC 1122 3.2.1.3: a source must be a host address, and a
	 * loopback one is a martian on any wire ((g): discard silently). */
	if (unlikely(ip4_is_limited_bcast(src) || ip4_is_multicast(src) ||
		     ip4_is_loopback(src) || iface_is_bcast(ifc, src))) {
		STAT_INC(s, ip4_drop_bad_src);
		drop(m);
		return;
	}
	if (!iface_owns_ip(ifc, dst) && !iface_is_bcast(ifc, dst)) {
		STAT_INC(s, ip4_drop_not_for_us);
		drop(m);
		return;
	}
	m->l3_len = ip.hlen;
	if (unlikely(v == WF_FRAGMENT)) {
		/* Only fragments for us reach reassembly (RFC 791 3.2). */
		m = ip4_reassemble(s, m, &ip);
		if (m == NULL)
			return;	/* held, or dropped and counted */
	}
	STAT_INC(s, ip4_rx_pkts);
	if (hooks_run(s, TERN_HOOK_IP_INPUT, ifc->conf.link,
		       ifc->conf.ifindex, m, &s->st.eth_drop_hook_input) !=
	    TERN_HOOK_CONTINUE)
		return;
	ip4_deliver(s, ifc, m);
}

void ip4_deliver(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	unsigned hlen = m->l3_len;
	switch (h->next_proto_id) {
	case IPPROTO_ICMP:
		icmp4_input(s, ifc, m, hlen);
		return;
	case IPPROTO_UDP:
		udp_input(s, ifc, m, hlen);
		return;
	case IPPROTO_TCP:
		tcp_input(s, ifc, m, hlen);
		return;
	default:
		/* RFC 1122 3.2.2.1 suggests protocol unreachable */
		STAT_INC(s, ip4_drop_unknown_proto);
		drop(m);
		return;
	}
}

/* ---- routes a flow can keep ---------------------------------------- */

int tern_route_get(struct tern_stack *s, const struct tern_addr *dst,
		   const struct tern_addr *src, struct tern_route *rt)
{
	if (dst == NULL || dst->family != TERN_AF_INET ||
	    (src != NULL && src->family != TERN_AF_NONE &&
	     src->family != TERN_AF_INET))
		return -EINVAL;
	rte_be32_t s4 = src != NULL && src->family == TERN_AF_INET ? src->v4 : 0;
	if (s4 != 0 && local_range(s, s4, NULL, NULL) == NULL)
		return -EADDRNOTAVAIL;
	struct tern_addr d = *dst;	/* dst may point into rt */
	dst = &d;
	memset(rt, 0, sizeof(*rt));
	rt->src_given = s4 != 0;
	/* Versions first: a change racing the lookup makes rt stale, never
	 * wrongly valid. */
	rt->fib_version = tern_fib_version(s->fib);
	rt->epoch = s->route_epoch;
	struct iface *ifc;
	rte_be32_t nexthop;
	if (route_lookup(s, dst->v4, s4, &ifc, &nexthop) != 0)
		return -EHOSTUNREACH;
	if (s4 == 0)
		s4 = iface_src_for(ifc, nexthop);
	rt->dst = *dst;
	rt->src = tern_addr_v4(s4);
	rt->nexthop = tern_addr_v4(nexthop);
	rt->ifindex = ifc->conf.ifindex;
	rt->mtu = pmtu_get(s, dst->v4, ifc->conf.mtu);
	rt->bcast = iface_is_bcast(ifc, dst->v4);
	iface_src_mac(s, ifc, s4, &rt->src_mac);
	rt->neigh = neigh_find(s, ifc->conf.ifindex, &rt->nexthop);
	rt->neigh_gen = rt->neigh == NEIGH_NONE ? 0 : s->neigh.hot[rt->neigh].gen;
	return 0;
}

bool tern_route_valid(const struct tern_stack *s, const struct tern_route *rt)
{
	return rt->fib_version == tern_fib_version(s->fib) &&
	       rt->epoch == s->route_epoch;
}

struct rte_mbuf *mbuf_hdr_room(struct tern_stack *s, struct rte_mbuf *m,
			       uint16_t need)
{
	if (likely(tern_mbuf_writable(m) && rte_pktmbuf_headroom(m) >= need))
		return m;
	struct rte_mbuf *h = tern_stack_alloc(s);
	if (h == NULL) {
		drop(m);
		return NULL;
	}
	h->ol_flags = m->ol_flags & ~(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL);
	h->l4_len = m->l4_len;
	h->tso_segsz = m->tso_segsz;
	if (rte_pktmbuf_chain(h, m) != 0) {
		STAT_INC(s, mbuf_drop_alloc_fail);
		drop(h);
		drop(m);
		return NULL;
	}
	return h;
}

/* The IPv4 header in front of m (data at the transport header). */
static struct rte_ipv4_hdr *ip4_build(struct tern_stack *s, struct rte_mbuf *m,
				      rte_be32_t src, rte_be32_t dst,
				      uint8_t proto, bool df)
{
	uint32_t total = m->pkt_len + sizeof(struct rte_ipv4_hdr);
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(
		m, sizeof(*h));
	h->version_ihl = RTE_IPV4_VHL_DEF;
	h->type_of_service = 0;
	h->total_length = rte_cpu_to_be_16((uint16_t)total);
	h->packet_id = rte_cpu_to_be_16(s->ip_id++);
	h->fragment_offset = df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
	h->time_to_live = 64;
	h->next_proto_id = proto;
	h->hdr_checksum = 0;
	h->src_addr = src;
	h->dst_addr = dst;
	m->l3_len = sizeof(*h);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	return h;
}

int tern_ip_send(struct tern_stack *s, struct tern_route *rt,
		 struct rte_mbuf *m, uint8_t proto, unsigned flags)
{
	if (unlikely(!tern_route_valid(s, rt))) {
		struct tern_addr src = rt->src;
		int rc = tern_route_get(s, &rt->dst,
					rt->src_given ? &src : NULL, rt);
		if (rc != 0) {
			STAT_INC(s, ip4_drop_no_route);
			drop(m);
			return rc == -EADDRNOTAVAIL ? rc : -EHOSTUNREACH;
		}
	}
	struct iface *ifc = iface_get(s, rt->ifindex);
	if (unlikely(ifc == NULL)) {	/* epoch moves when one goes */
		STAT_INC(s, ip4_drop_no_route);
		drop(m);
		return -EHOSTUNREACH;
	}
	uint32_t total = m->pkt_len + sizeof(struct rte_ipv4_hdr);
	if (unlikely(total > UINT16_MAX)) {
		STAT_INC(s, ip4_drop_too_big);
		drop(m);
		return -EMSGSIZE;
	}
	/* A TSO packet (TCP) leaves as segments of tso_segsz bytes: each
	 * of those must fit the path, never the whole. */
	uint32_t wire = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) ?
			sizeof(struct rte_ipv4_hdr) + m->l4_len + m->tso_segsz :
			total;
	bool frag = wire > rt->mtu;
	if (unlikely(frag && ((flags & TERN_IP_F_DONTFRAG) ||
			      (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)))) {
		STAT_INC(s, ip4_drop_too_big);
		drop(m);
		return -EMSGSIZE;
	}
	m = mbuf_hdr_room(s, m, sizeof(struct rte_ipv4_hdr) +
			  sizeof(struct rte_ether_hdr));
	if (m == NULL)
		return -ENOBUFS;
	/* RFC 1191: DF on whatever fits the path, so the path can say when
	 * it shrinks; what does not fit is fragmented here, without DF. */
	ip4_build(s, m, rt->src.v4, rt->dst.v4, proto, !frag);
	if (unlikely(frag))
		return ip4_fragment_out(s, ifc, rt, m);
	return ip4_output_tail(s, ifc, rt, m);
}

int ip4_output_tail(struct tern_stack *s, struct iface *ifc,
		    struct tern_route *rt, struct rte_mbuf *m)
{
	enum tern_verdict v = hooks_run(s, TERN_HOOK_IP_OUTPUT, ifc->conf.link,
					ifc->conf.ifindex, m,
					&s->st.eth_drop_hook_output);
	if (v != TERN_HOOK_CONTINUE)
		return v == TERN_HOOK_DROP ? -EPERM : 0;
	STAT_INC(s, ip4_tx_pkts);
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_IPV4);
	if (eh == NULL)
		return -ENOBUFS;
	rte_ether_addr_copy(&rt->src_mac, &eh->src_addr);
	if (rt->bcast) {
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
		eth_xmit(s, ifc, m);
		return 0;
	}
	return neigh_output_cached(s, ifc, &rt->nexthop, m, &rt->neigh,
				   &rt->neigh_gen);
}

/* A held packet put back after the IP_OUTPUT hooks: it lost its route,
 * so the header says where it goes. */
void ip4_output_resume(struct tern_stack *s, struct iface *ifc,
		       struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m,
						const struct rte_ipv4_hdr *);
	struct tern_addr dst = tern_addr_v4(h->dst_addr);
	struct tern_addr src = tern_addr_v4(h->src_addr);
	struct tern_route rt;
	if (tern_route_get(s, &dst, &src, &rt) != 0 ||
	    rt.ifindex != ifc->conf.ifindex) {
		STAT_INC(s, ip4_drop_no_route);
		drop(m);
		return;
	}
	STAT_INC(s, ip4_tx_pkts);
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_IPV4);
	if (eh == NULL)
		return;
	rte_ether_addr_copy(&rt.src_mac, &eh->src_addr);
	if (rt.bcast) {
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
		eth_xmit(s, ifc, m);
		return;
	}
	neigh_output(s, ifc, &rt.nexthop, m);
}

int ip4_output(struct tern_stack *s, struct rte_mbuf *m, rte_be32_t src,
	       rte_be32_t dst, uint8_t proto)
{
	struct tern_addr d = tern_addr_v4(dst), sa = tern_addr_v4(src);
	struct tern_route rt;
	int rc = tern_route_get(s, &d, src ? &sa : NULL, &rt);
	if (unlikely(rc != 0)) {
		STAT_INC(s, ip4_drop_no_route);
		drop(m);
		return rc == -EADDRNOTAVAIL ? rc : -EHOSTUNREACH;
	}
	return tern_ip_send(s, &rt, m, proto, 0);
}
