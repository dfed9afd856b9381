/* Checksums: hand to the port what it can do, compute the rest. RFC 1071
 * one's-complement sums (tern_ol_raw_sum for the bytes of a packet, DPDK's
 * helpers for headers); RFC 768 for the UDP zero-checksum rule. */
#include <stddef.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <tern/offload.h>

uint16_t tern_ol_raw_sum(const void *buf, size_t len)
{
	/* 32-bit words into 64-bit sums, two chains of 8 bytes a step:
	 * the same 16-bit result as adding 16-bit words (2^16 is 1 modulo
	 * 2^16 - 1, RFC 1071 2(B)), several times faster than DPDK 22.11's
	 * rte_raw_cksum(), which adds one 16-bit word at a time. */
	const uint8_t *p = buf;
	uint64_t s0 = 0, s1 = 0;
	while (len >= 16) {
		uint64_t a, b;
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		s0 += (a & 0xffffffffu) + (a >> 32);
		s1 += (b & 0xffffffffu) + (b >> 32);
		p += 16;
		len -= 16;
	}
	uint64_t sum = s0 + s1;
	while (len >= 4) {
		uint32_t a;
		memcpy(&a, p, 4);
		sum += a;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t a;
		memcpy(&a, p, 2);
		sum += a;
		p += 2;
		len -= 2;
	}
	if (len) {	/* the odd byte in its lane, as rte_raw_cksum() */
		uint16_t left = 0;
		memcpy(&left, p, 1);
		sum += left;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int tern_ol_raw_cksum_mbuf(const struct rte_mbuf *m, uint32_t off,
			   uint32_t len, uint16_t *out)
{
	if ((uint64_t)off + len > m->pkt_len)
		return -1;
	const struct rte_mbuf *seg = m;
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	uint32_t sum = 0, done = 0;
	while (done < len && seg != NULL) {
		uint32_t n = RTE_MIN((uint32_t)seg->data_len - off, len - done);
		uint16_t part = tern_ol_raw_sum(
			rte_pktmbuf_mtod_offset(seg, const uint8_t *, off), n);
		/* a segment starting at an odd offset has its bytes in the
		 * other lanes of the 16-bit sum */
		if (done & 1)
			part = rte_bswap16(part);
		sum += part;
		done += n;
		off = 0;
		seg = seg->next;
	}
	if (done != len)
		return -1;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*out = (uint16_t)sum;
	return 0;
}

/* Non-complemented sum of the l4len bytes of L4 segment at l4_off (may
 * span segments) plus the IPv4 pseudo-header. The pseudo-header carries
 * l4len, not a length derived from the IP header: for UDP it is the UDP
 * length (RFC 768), which may be shorter than the IP payload. Returns -1
 * when the lengths don't fit. */
static int l4_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		  uint8_t proto, uint32_t l4_off, uint32_t l4len, uint16_t *out)
{
	uint16_t raw;
	if (tern_ol_raw_cksum_mbuf(m, l4_off, l4len, &raw) != 0)
		return -1;
	struct {
		rte_be32_t src, dst;
		uint8_t zero, proto;
		rte_be16_t len;
	} __rte_packed ph = {ip->src_addr, ip->dst_addr, 0, proto,
			     rte_cpu_to_be_16((uint16_t)l4len)};
	uint32_t sum = (uint32_t)raw + rte_raw_cksum(&ph, sizeof(ph));
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*out = (uint16_t)sum;
	return 0;
}

/* A chained packet with an odd-length segment before its last. */
static bool odd_segs(const struct rte_mbuf *m)
{
	for (const struct rte_mbuf *seg = m; seg->next != NULL; seg = seg->next)
		if (seg->data_len & 1)
			return true;
	return false;
}

void tern_ol_tx_finish(struct rte_mbuf *m, const struct tern_ol_caps *caps)
{
	uint64_t fl = m->ol_flags;
	if (!(fl & RTE_MBUF_F_TX_IPV4))
		return;
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	uint32_t l4_off = (uint32_t)m->l2_len + m->l3_len;
	uint32_t l4len = rte_be_to_cpu_16(ip->total_length) - m->l3_len;
	uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	unaligned_uint16_t *field = NULL;
	uint8_t *l4h = rte_pktmbuf_mtod_offset(m, uint8_t *, l4_off);

	if (l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		field = (unaligned_uint16_t *)(l4h +
			offsetof(struct rte_udp_hdr, dgram_cksum));
	else if (l4 == RTE_MBUF_F_TX_TCP_CKSUM)
		field = (unaligned_uint16_t *)(l4h +
			offsetof(struct rte_tcp_hdr, cksum));

	if (field != NULL) {
		bool hw = l4 == RTE_MBUF_F_TX_UDP_CKSUM ? caps->tx_udp_cksum :
							  caps->tx_tcp_cksum;
		if (hw && caps->tx_l4_cksum_even_segs && m->next != NULL &&
		    odd_segs(m))
			hw = false;	/* the port would get it wrong */
		if (hw) {
			/* Ports want the pseudo-header sum in the field
			 * (rte_eth_tx_prepare semantics). */
			*field = rte_ipv4_phdr_cksum(ip, fl);
		} else {
			uint16_t sum;
			*field = 0;
			if (l4_sum(m, ip, ip->next_proto_id, l4_off, l4len,
				   &sum) == 0) {
				sum = (uint16_t)~sum;
				if (sum == 0 && l4 == RTE_MBUF_F_TX_UDP_CKSUM)
					sum = 0xffff; /* RFC 768 */
				*field = sum;
			}
			fl &= ~RTE_MBUF_F_TX_L4_MASK;
		}
	}
	if (fl & RTE_MBUF_F_TX_IP_CKSUM) {
		ip->hdr_checksum = 0;
		if (!caps->tx_ip4_cksum) {
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			fl &= ~RTE_MBUF_F_TX_IP_CKSUM;
		}
	}
	if (!(fl & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)))
		fl &= ~RTE_MBUF_F_TX_IPV4; /* nothing left for the port */
	m->ol_flags = fl;
}

enum tern_ol_verdict tern_ol_rx_ip4(const struct rte_mbuf *m, const void *ip,
				    unsigned hlen)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	/* NONE: the field is wrong but the port verified the header's
	 * integrity (rte_mbuf_core.h), as good as GOOD for us. */
	if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		return TERN_OL_CKSUM_GOOD;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return TERN_OL_CKSUM_BAD;
	/* UNKNOWN: the port did not check; we do. */
	uint16_t sum = rte_raw_cksum(ip, hlen);
	return sum == 0xffff ? TERN_OL_CKSUM_GOOD : TERN_OL_CKSUM_BAD;
}

enum tern_ol_verdict tern_ol_rx_l4_ip4(const struct rte_mbuf *m,
				       const void *ip, const void *l4,
				       unsigned l4len, uint8_t proto)
{
	if (proto == IPPROTO_UDP &&
	    ((const struct rte_udp_hdr *)l4)->dgram_cksum == 0)
		return TERN_OL_CKSUM_GOOD; /* RFC 768: no checksum sent */
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		return TERN_OL_CKSUM_GOOD;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return TERN_OL_CKSUM_BAD;
	/* Headers are in the first segment (core guarantees it), so the
	 * offset of l4 from the data start is well defined. */
	uint32_t off = (uint32_t)((const uint8_t *)l4 -
				  rte_pktmbuf_mtod(m, const uint8_t *));
	uint16_t sum;
	if (l4_sum(m, ip, proto, off, l4len, &sum) != 0)
		return TERN_OL_CKSUM_BAD;
	return sum == 0xffff ? TERN_OL_CKSUM_GOOD : TERN_OL_CKSUM_BAD;
}

unsigned tern_ol_tx_pending(const struct rte_mbuf *m, struct tern_ol_fix fix[2])
{
	uint64_t fl = m->ol_flags;
	unsigned n = 0;
	if (!(fl & RTE_MBUF_F_TX_IPV4) || (fl & RTE_MBUF_F_TX_TCP_SEG) ||
	    m->data_len < (uint32_t)m->l2_len + m->l3_len)
		return 0;
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
	if (fl & RTE_MBUF_F_TX_IP_CKSUM) {
		/* the field is zero (tern_ol_tx_finish): sum the header */
		fix[n].off = m->l2_len + offsetof(struct rte_ipv4_hdr, hdr_checksum);
		fix[n].val = (rte_be16_t)~rte_raw_cksum(ip, m->l3_len);
		n++;
	}
	uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	if (l4 == RTE_MBUF_F_TX_UDP_CKSUM || l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
		/* The field holds the pseudo-header sum, so, as the NIC does,
		 * summing the L4 bytes as they are gives the checksum. */
		uint32_t l4_off = (uint32_t)m->l2_len + m->l3_len;
		uint32_t l4len = rte_be_to_cpu_16(ip->total_length) - m->l3_len;
		uint16_t sum;
		if (tern_ol_raw_cksum_mbuf(m, l4_off, l4len, &sum) != 0)
			return n;
		uint16_t v = (uint16_t)~sum;
		if (l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
			if (v == 0)
				v = 0xffff;	/* RFC 768 */
			fix[n].off = l4_off + offsetof(struct rte_udp_hdr, dgram_cksum);
		} else {
			fix[n].off = l4_off + offsetof(struct rte_tcp_hdr, cksum);
		}
		fix[n].val = v;
		n++;
	}
	return n;
}
