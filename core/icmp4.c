/* ICMP (RFC 792): echo reply, destination unreachable. Error messages go
 * through a per-stack token bucket (RFC 1812 4.3.2.8) so a flood to a
 * closed port cannot turn into an equal flood out. */
#include <string.h>

#include <rte_icmp.h>

#include "stack_priv.h"

#define ICMP_DEST_UNREACH 3 /* RFC 792 */
#include "wirefmt.h"

static void echo_reply(struct tern_stack *s, struct iface *ifc,
		       struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst)
{
	/* The request mbuf becomes the reply: same id, seq and data. */
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod(m, struct rte_icmp_hdr *);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	uint16_t sum;
	if (tern_ol_raw_cksum_mbuf(m, 0, m->pkt_len, &sum) != 0) {
		STAT_INC(s, icmp4_drop_short);
		drop(m);
		return;
	}
	ic->icmp_cksum = (uint16_t)~sum;
	tern_ol_reset(m, 0);
	m->packet_type = 0;
	STAT_INC(s, icmp4_tx_echo_replies);
	(void)ifc;
	ip4_output(s, m, dst, src, IPPROTO_ICMP);
}

void icmp4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
		 unsigned hlen)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	rte_be32_t src = ip->src_addr, dst = ip->dst_addr;
	unsigned iplen = rte_be_to_cpu_16(ip->total_length) - hlen;
	rte_pktmbuf_adj(m, (uint16_t)hlen);

	const struct rte_icmp_hdr *ic;
	if (wf_icmp_parse(m, iplen, &ic) != WF_OK) {
		STAT_INC(s, icmp4_drop_short);
		drop(m);
		return;
	}
	uint16_t sum;
	if (tern_ol_raw_cksum_mbuf(m, 0, iplen, &sum) != 0 || sum != 0xffff) {
		STAT_INC(s, icmp4_drop_bad_cksum);
		drop(m);
		return;
	}
	if (ic->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && ic->icmp_code == 0) {
		STAT_INC(s, icmp4_rx_echo_requests);
		if (!iface_owns_ip(ifc, dst)) {
			/* RFC 1122 3.2.2.6 lets hosts ignore broadcast echo;
			 * Linux does by default, and so do we. */
			STAT_INC(s, icmp4_drop_broadcast);
			drop(m);
			return;
		}
		echo_reply(s, ifc, m, src, dst);
		return;
	}
	STAT_INC(s, icmp4_rx_other);
	drop(m);
}

static bool icmp_rate_ok(struct tern_stack *s)
{
	const uint64_t cost = TERN_NS_PER_S / ICMP_RATE_PER_S;
	uint64_t now = tern_clock_now(s->clock);
	s->icmp_credit_ns += now - s->icmp_last_ns;
	s->icmp_last_ns = now;
	if (s->icmp_credit_ns > ICMP_BURST * cost)
		s->icmp_credit_ns = ICMP_BURST * cost;
	if (s->icmp_credit_ns < cost)
		return false;
	s->icmp_credit_ns -= cost;
	return true;
}

void icmp4_send_unreach(struct tern_stack *s, struct iface *ifc,
			const struct rte_mbuf *orig, uint8_t code)
{
	const struct rte_ipv4_hdr *oh = rte_pktmbuf_mtod(orig,
							 const struct rte_ipv4_hdr *);
	/* RFC 1122 3.2.2: never about broadcasts, multicasts, or packets
	 * whose source is not a host address. */
	if (iface_is_bcast(ifc, oh->dst_addr) || ip4_is_multicast(oh->dst_addr) ||
	    oh->src_addr == 0)
		return;
	if (!icmp_rate_ok(s)) {
		STAT_INC(s, icmp4_drop_ratelimit);
		return;
	}
	/* RFC 792: the original IP header plus 64 bits of its data. */
	unsigned qlen = (unsigned)(oh->version_ihl & 0xf) * 4 + 8;
	if (qlen > orig->pkt_len)
		qlen = orig->pkt_len;
	struct rte_mbuf *m = tern_stack_alloc(s);
	if (m == NULL)
		return;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(
		m, (uint16_t)(sizeof(struct rte_icmp_hdr) + qlen));
	if (p == NULL) {
		drop(m);
		return;
	}
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)p;
	ic->icmp_type = ICMP_DEST_UNREACH;
	ic->icmp_code = code;
	ic->icmp_cksum = 0;
	ic->icmp_ident = 0; /* unused field, must be zero */
	ic->icmp_seq_nb = 0;
	const void *q = rte_pktmbuf_read(orig, 0, qlen, p + sizeof(*ic));
	if (q != p + sizeof(*ic))
		memcpy(p + sizeof(*ic), q, qlen);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(p, sizeof(*ic) + qlen);
	STAT_INC(s, icmp4_tx_unreachable);
	ip4_output(s, m, oh->dst_addr, oh->src_addr, IPPROTO_ICMP);
}
