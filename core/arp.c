/* ARP (RFC 826) on the wire. The cache is the neighbour table (neigh.c),
 * which serves IPv6 ND alike; ARP tells it what frames say:
 *  - a reply whose target is one of our addresses confirms the sender
 *    (a solicited advertisement in RFC 4861 terms);
 *  - a request for one of our addresses gives the sender's address
 *    (created or updated STALE, like an unsolicited advertisement), and is
 *    answered;
 *  - any other ARP frame updates entries we already have (RFC 826 "merge"),
 *    which is how a gratuitous ARP (RFC 5227 announcement) moves a host. */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>

#include "neigh.h"
#include "stack_priv.h"
#include "wirefmt.h"

int arp_send(struct tern_stack *s, struct iface *ifc, uint16_t op,
	     const struct rte_ether_addr *sha, rte_be32_t sip,
	     const struct rte_ether_addr *tha, rte_be32_t tip,
	     const struct rte_ether_addr *eth_dst)
{
	if (sha == NULL)
		sha = &ifc->conf.mac;
	struct rte_mbuf *m = tern_stack_alloc(s);
	if (m == NULL)
		return -ENOBUFS;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)rte_pktmbuf_append(
		m, sizeof(*a));
	if (unlikely(a == NULL)) { /* a pool with tiny buffers */
		STAT_INC(s, mbuf_drop_alloc_fail);
		drop(m);
		return -ENOBUFS;
	}
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = tip;
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_ARP);
	if (eh == NULL)
		return -ENOBUFS;
	rte_ether_addr_copy(sha, &eh->src_addr);
	rte_ether_addr_copy(eth_dst, &eh->dst_addr);
	eth_xmit(s, ifc, m);
	return 0;
}

/* The sender a request to tip uses: the source of the packet waiting for
 * it when that is one of ifc's hosts (the peer then learns the emulated
 * host that will talk to it, as Linux prefers the packet's source), else
 * ifc's address for tip. */
static void request_sender(struct tern_stack *s, struct iface *ifc,
			   rte_be32_t tip, const struct rte_mbuf *hint,
			   rte_be32_t *sip, struct rte_ether_addr *sha)
{
	*sip = iface_src_for(ifc, tip);
	*sha = ifc->conf.mac;
	if (hint == NULL || hint->data_len < sizeof(struct rte_ether_hdr) +
						sizeof(struct rte_ipv4_hdr))
		return;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(
		hint, const struct rte_ether_hdr *);
	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	if (iface_owns_ip(ifc, ip->src_addr)) {
		*sip = ip->src_addr;
		*sha = eh->src_addr;
	}
	(void)s;
}

void arp_solicit(struct tern_stack *s, struct iface *ifc, rte_be32_t tip,
		 const struct rte_ether_addr *dst, const struct rte_mbuf *hint)
{
	static const struct rte_ether_addr zero;
	struct rte_ether_addr bcast, sha;
	rte_be32_t sip;
	memset(&bcast, 0xff, sizeof(bcast));
	request_sender(s, ifc, tip, hint, &sip, &sha);
	/* A unicast probe (PROBE state) goes to the known address; its
	 * target hardware field stays zero, as in a broadcast request. */
	if (arp_send(s, ifc, RTE_ARP_OP_REQUEST, &sha, sip, &zero, tip,
		     dst != NULL ? dst : &bcast) == 0)
		STAT_INC(s, arp_tx_requests);
}

/* A sender worth learning: a unicast host address with a unicast MAC,
 * not one of our addresses on this link (one stack may hold both ends of
 * two links, as ternd's ring pair does). */
static bool sender_ok(struct tern_stack *s, uint16_t link, rte_be32_t sip,
		      const struct rte_ether_addr *sha)
{
	if (sip == 0 || ip4_is_limited_bcast(sip) || ip4_is_multicast(sip) ||
	    ip4_is_loopback(sip) || !rte_is_valid_assigned_ether_addr(sha))
		return false;
	return iface_by_link_ip(s, link, sip) == NULL;
}

/* Answers the request m (data at the ARP header) in place: the request
 * becomes the reply. The RX path made the header bytes ours to write. */
static void answer(struct tern_stack *s, struct iface *ifc,
		   struct rte_mbuf *m, const struct rte_ether_addr *our_mac)
{
	struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	struct rte_ether_addr sha = a->arp_data.arp_sha;
	rte_be32_t sip = a->arp_data.arp_sip, tip = a->arp_data.arp_tip;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&sha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = sip;
	rte_ether_addr_copy(our_mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = tip;
	wf_trim_to(m, sizeof(*a)); /* Ethernet padding */
	tern_ol_reset(m, 0);
	m->packet_type = 0;
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_ARP);
	if (eh == NULL)
		return;
	rte_ether_addr_copy(our_mac, &eh->src_addr);
	rte_ether_addr_copy(&sha, &eh->dst_addr);
	STAT_INC(s, arp_tx_replies);
	eth_xmit(s, ifc, m);
}

void arp_input(struct tern_stack *s, uint16_t link, struct rte_mbuf *m)
{
	struct wf_arp arp;
	enum wf_verdict v = wf_arp_parse(m, &arp);
	if (v != WF_OK) {
		if (v == WF_SHORT)
			STAT_INC(s, arp_drop_malformed);
		else
			STAT_INC(s, arp_drop_unsupported);
		drop(m);
		return;
	}
	const struct rte_arp_ipv4 *d = &arp.h->arp_data;
	rte_be32_t sip = d->arp_sip, tip = d->arp_tip;
	struct rte_ether_addr sha = d->arp_sha;
	struct tern_addr sender = tern_addr_v4(sip);
	if (arp.op == RTE_ARP_OP_REQUEST)
		STAT_INC(s, arp_rx_requests);
	else
		STAT_INC(s, arp_rx_replies);

	struct iface *ifc = iface_by_link_ip(s, link, tip);
	if (ifc == NULL) {
		/* Not for one of our addresses: a gratuitous announcement
		 * (sip == tip) or a frame between others still updates an
		 * address we already have (RFC 826 merge), on every
		 * interface of the link; it confirms nothing. */
		if (sender_ok(s, link, sip, &sha)) {
			struct iface *o;
			FOR_EACH_IFACE(s, o)
				if (o->conf.link == link)
					neigh_input(s, o, &sender, &sha, 0, true);
		}
		STAT_INC(s, arp_drop_not_for_us);
		drop(m);
		return;
	}
	ifc->stats.rx_pkts++;
	/* frame bytes, like IPv4's: eth_input already stripped the header */
	ifc->stats.rx_bytes += m->pkt_len + sizeof(struct rte_ether_hdr);
	if (sip == tip) {
		/* someone announces our own address: conflict, don't learn */
		STAT_INC(s, arp_drop_not_for_us);
		drop(m);
		return;
	}
	bool learn = sender_ok(s, link, sip, &sha);
	if (arp.op != RTE_ARP_OP_REQUEST) {
		/* A reply to us confirms the sender, whichever lcore asked:
		 * the learn callback shares the confirmation. */
		if (learn)
			neigh_input(s, ifc, &sender, &sha,
				    TERN_NEIGH_F_CONFIRMED | TERN_NEIGH_F_CREATE,
				    true);
		else
			STAT_INC(s, arp_drop_bad_sender);
		drop(m);
		return;
	}
	/* A request to us: learn the sender (RFC 826: merge, and add since
	 * we are the target), then answer. An RFC 5227 probe (sender 0)
	 * is answered without learning anything. */
	if (learn)
		neigh_input(s, ifc, &sender, &sha, TERN_NEIGH_F_CREATE, true);
	else if (sip != 0) {
		STAT_INC(s, arp_drop_bad_sender);
		drop(m);
		return;
	}
	/* each host of a range with MACs of its own answers with its own */
	struct rte_ether_addr mac;
	iface_src_mac(s, ifc, tip, &mac);
	answer(s, ifc, m, &mac);
}
