/* IPv4 input (RFC 791, RFC 1122 3.2.1 validation) and output (route,
 * header, neighbour resolution). */
#include <errno.h>
#include <string.h>

#include "stack_priv.h"
#include "wirefmt.h"

static void count_parse_drop(struct tern_stack *s, enum wf_verdict v)
{
	switch (v) {
	case WF_SHORT: STAT_INC(s, ip4_drop_short); break;
	case WF_BAD_VERSION: STAT_INC(s, ip4_drop_bad_version); break;
	case WF_BAD_HLEN: STAT_INC(s, ip4_drop_bad_hlen); break;
	case WF_FRAGMENT: STAT_INC(s, ip4_drop_fragment); break;
	default: STAT_INC(s, ip4_drop_bad_len); break;
	}
}

void ip4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	struct wf_ip4 ip;
	enum wf_verdict v = wf_ip4_parse(m, &ip);
	if (unlikely(v != WF_OK)) {
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
	STAT_INC(s, ip4_rx_pkts);
	m->l3_len = ip.hlen;
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
	default:
		/* RFC 1122 3.2.2.1 suggests protocol unreachable; TCP will
		 * take its own number when it lands. */
		STAT_INC(s, ip4_drop_unknown_proto);
		drop(m);
		return;
	}
}

int ip4_output(struct tern_stack *s, struct rte_mbuf *m, rte_be32_t src,
	       rte_be32_t dst, uint8_t proto)
{
	struct iface *ifc;
	rte_be32_t nexthop;
	if (unlikely(route_lookup(s, dst, src, &ifc, &nexthop) != 0)) {
		STAT_INC(s, ip4_drop_no_route);
		drop(m);
		return -EHOSTUNREACH;
	}
	if (src == 0)
		src = iface_src_for(ifc, nexthop);
	uint32_t total = m->pkt_len + sizeof(struct rte_ipv4_hdr);
	if (unlikely(total > ifc->conf.mtu)) {
		/* no fragmentation yet: callers size their packets */
		STAT_INC(s, ip4_drop_too_big);
		drop(m);
		return -EMSGSIZE;
	}
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(
		m, sizeof(*h));
	if (unlikely(h == NULL)) {
		STAT_INC(s, mbuf_drop_alloc_fail);
		drop(m);
		return -ENOBUFS;
	}
	h->version_ihl = RTE_IPV4_VHL_DEF;
	h->type_of_service = 0;
	h->total_length = rte_cpu_to_be_16((uint16_t)total);
	h->packet_id = rte_cpu_to_be_16(s->ip_id++);
	h->fragment_offset = 0;
	h->time_to_live = 64;
	h->next_proto_id = proto;
	h->hdr_checksum = 0;
	h->src_addr = src;
	h->dst_addr = dst;
	m->l3_len = sizeof(*h);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;

	enum tern_verdict v = hooks_run(s, TERN_HOOK_IP_OUTPUT, ifc->conf.link,
					ifc->conf.ifindex, m,
					&s->st.eth_drop_hook_output);
	if (v != TERN_HOOK_CONTINUE)
		return v == TERN_HOOK_DROP ? -EPERM : 0;
	STAT_INC(s, ip4_tx_pkts);
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_IPV4);
	if (eh == NULL)
		return -ENOBUFS;
	if (iface_is_bcast(ifc, dst)) {
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
		eth_xmit(s, ifc, m);
		return 0;
	}
	arp_output(s, ifc, nexthop, m);
	return 0;
}
