/* ICMP (RFC 792): echo reply, destination unreachable. Error messages go
 * through a per-stack token bucket (RFC 1812 4.3.2.8) so a flood to a
 * closed port cannot turn into an equal flood out. */
#include <string.h>

#include <rte_icmp.h>

#include "stack_priv.h"

#define ICMP_DEST_UNREACH 3 /* RFC 792 */
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_FRAG_NEEDED 4	/* code of DEST_UNREACH, RFC 1191 */
#include "wirefmt.h"

/* errno for an ICMP error, as BSD and Linux sockets report it. */
static int icmp_errno(uint8_t type, uint8_t code)
{
	static const int unreach[16] = {
		ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED,
		EMSGSIZE, EOPNOTSUPP, ENETUNREACH, EHOSTDOWN,
		ENONET, ENETUNREACH, EHOSTUNREACH, ENETUNREACH,
		EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH,
	};
	if (type == ICMP_DEST_UNREACH)
		return code < 16 ? unreach[code] : EHOSTUNREACH;
	if (type == ICMP_PARAM_PROBLEM)
		return EPROTO;
	return EHOSTUNREACH;	/* time exceeded */
}

/* RFC 1191 7: routers that do not say the MTU get the next plateau below
 * the size of the packet they refused. */
static uint32_t plateau_below(uint32_t len)
{
	static const uint32_t p[] = {32000, 17914, 8166, 4352, 2002, 1492,
				     1006, 508, 296, 68};
	for (unsigned i = 0; i < RTE_DIM(p); i++)
		if (p[i] < len)
			return p[i];
	return 68;
}

/* An ICMP error about a packet we sent (RFC 792, RFC 1122 3.2.2): checked
 * as RFC 5927 asks before anyone believes it, then handed to the
 * transport that sent the packet (UDP now; TCP uses the same entry), and,
 * for "fragmentation needed", to the path MTU (RFC 1191). m's data is at
 * the ICMP header; iplen is the ICMP length. Consumes m. */
static void icmp4_error_input(struct tern_stack *s, struct iface *ifc,
			      struct rte_mbuf *m, rte_be32_t src,
			      rte_be32_t dst, unsigned iplen)
{
	(void)ifc;
	(void)src;
	uint8_t buf[8 + 60 + 8];
	const uint8_t *p;
	/* RFC 1122 3.2.2: the error quotes the IP header and at least 8
	 * bytes of what followed. */
	if (iplen < 8 + 20 + 8 ||
	    (p = rte_pktmbuf_read(m, 0, 8 + 20, buf)) == NULL) {
		STAT_INC(s, icmp4_drop_err_short);
		drop(m);
		return;
	}
	uint8_t type = p[0], code = p[1];
	uint16_t mtu_field = (uint16_t)(p[6] << 8 | p[7]);
	const struct rte_ipv4_hdr *in = (const struct rte_ipv4_hdr *)(p + 8);
	unsigned ihl = (unsigned)(in->version_ihl & 0xf) * 4;
	if ((in->version_ihl >> 4) != 4 || ihl < 20 || iplen < 8 + ihl + 8 ||
	    (p = rte_pktmbuf_read(m, 0, 8 + ihl + 8, buf)) == NULL) {
		STAT_INC(s, icmp4_drop_err_short);
		drop(m);
		return;
	}
	in = (const struct rte_ipv4_hdr *)(p + 8);
	const uint8_t *l4 = p + 8 + ihl;
	/* RFC 5927 4.1: the quoted packet must be one we could have sent:
	 * from one of our addresses, and the error sent back to it. */
	if (in->src_addr != dst || local_range(s, in->src_addr, NULL, NULL) == NULL) {
		STAT_INC(s, icmp4_drop_err_invalid);
		drop(m);
		return;
	}
	uint32_t info = 0;
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		/* RFC 5927 7: the reported MTU must be smaller than the
		 * packet it refused, or it says nothing. */
		uint32_t qlen = rte_be_to_cpu_16(in->total_length);
		info = mtu_field ? mtu_field : plateau_below(qlen);
		if (info >= qlen || info < 68) {
			STAT_INC(s, icmp4_drop_err_invalid);
			drop(m);
			return;
		}
	}
	int rc = -ENOENT;
	if (in->next_proto_id == IPPROTO_UDP)
		rc = udp_err4(s, in, l4, icmp_errno(type, code), info);
	else if (in->next_proto_id == IPPROTO_TCP)
		rc = tcp_err4(s, in, l4, icmp_errno(type, code), info);
	drop(m);
	if (rc != 0) {
		/* RFC 5927 4.2: no transport state matches it */
		STAT_INC(s, icmp4_drop_err_unmatched);
		return;
	}
	STAT_INC(s, icmp4_rx_errors);
	if (info != 0)
		pmtu_update(s, in->dst_addr, info);
}

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
	if (ic->icmp_type == ICMP_DEST_UNREACH || ic->icmp_type == ICMP_TIME_EXCEEDED ||
	    ic->icmp_type == ICMP_PARAM_PROBLEM) {
		icmp4_error_input(s, ifc, m, src, dst, iplen);
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
