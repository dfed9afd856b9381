/* Bounds-checked header validation (see wirefmt.h). */
#include <string.h>

#include "wirefmt.h"

int wf_pullup(struct rte_mbuf *m, uint32_t len)
{
	if (likely(m->data_len >= len))
		return 0;
	if (m->pkt_len < len || rte_pktmbuf_tailroom(m) < len - m->data_len ||
	    rte_mbuf_refcnt_read(m) != 1)
		return -1;
	while (m->data_len < len) {
		struct rte_mbuf *seg = m->next;
		if (seg == NULL || rte_mbuf_refcnt_read(seg) != 1)
			return -1;
		uint16_t n = (uint16_t)RTE_MIN((uint32_t)seg->data_len,
					       len - m->data_len);
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
		       rte_pktmbuf_mtod(seg, const uint8_t *), n);
		m->data_len = (uint16_t)(m->data_len + n);
		seg->data_off = (uint16_t)(seg->data_off + n);
		seg->data_len = (uint16_t)(seg->data_len - n);
		if (seg->data_len == 0) {
			m->next = seg->next;
			m->nb_segs--;
			seg->next = NULL;
			rte_pktmbuf_free_seg(seg);
		}
	}
	return 0;
}

void wf_trim_to(struct rte_mbuf *m, uint32_t len)
{
	if (len >= m->pkt_len)
		return;
	struct rte_mbuf *seg = m;
	uint32_t left = len;
	uint16_t nseg = 1;
	/* the segment holding the last byte we keep (the first one when
	 * len is 0) */
	while (left > seg->data_len && seg->next != NULL) {
		left -= seg->data_len;
		seg = seg->next;
		nseg++;
	}
	seg->data_len = (uint16_t)left;
	struct rte_mbuf *rest = seg->next;
	seg->next = NULL;
	rte_pktmbuf_free(rest); /* frees the chain after seg */
	m->nb_segs = nseg;
	m->pkt_len = len;
}

void wf_trim_front(struct rte_mbuf *m, uint32_t len)
{
	if (len > m->pkt_len)
		len = m->pkt_len;
	m->pkt_len -= len;
	uint16_t k = (uint16_t)RTE_MIN(len, (uint32_t)m->data_len);
	m->data_off = (uint16_t)(m->data_off + k);
	m->data_len = (uint16_t)(m->data_len - k);
	len -= k;
	while (len > 0 && m->next != NULL) {
		struct rte_mbuf *seg = m->next;
		if (seg->data_len <= len) {
			len -= seg->data_len;
			m->next = seg->next;
			m->nb_segs--;
			seg->next = NULL;
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		seg->data_off = (uint16_t)(seg->data_off + len);
		seg->data_len = (uint16_t)(seg->data_len - len);
		len = 0;
	}
}

enum wf_verdict wf_eth_parse(struct rte_mbuf *m, struct wf_eth *out)
{
	if (wf_pullup(m, sizeof(struct rte_ether_hdr)) != 0)
		return WF_SHORT;
	out->h = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	out->type = rte_be_to_cpu_16(out->h->ether_type);
	return WF_OK;
}

enum wf_verdict wf_arp_parse(struct rte_mbuf *m, struct wf_arp *out)
{
	if (wf_pullup(m, sizeof(struct rte_arp_hdr)) != 0)
		return WF_SHORT;
	const struct rte_arp_hdr *h = rte_pktmbuf_mtod(m,
						       const struct rte_arp_hdr *);
	if (h->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    h->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    h->arp_hlen != RTE_ETHER_ADDR_LEN || h->arp_plen != 4)
		return WF_UNSUPPORTED;
	uint16_t op = rte_be_to_cpu_16(h->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return WF_UNSUPPORTED;
	out->h = h;
	out->op = op;
	return WF_OK;
}

enum wf_verdict wf_ip4_parse(struct rte_mbuf *m, struct wf_ip4 *out)
{
	if (wf_pullup(m, sizeof(struct rte_ipv4_hdr)) != 0)
		return WF_SHORT;
	struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if ((h->version_ihl >> 4) != 4)
		return WF_BAD_VERSION;
	unsigned hlen = (unsigned)(h->version_ihl & 0xf) * 4;
	if (hlen < sizeof(struct rte_ipv4_hdr))
		return WF_BAD_HLEN;
	if (wf_pullup(m, hlen) != 0)
		return WF_SHORT;
	h = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	unsigned total = rte_be_to_cpu_16(h->total_length);
	if (total < hlen || total > m->pkt_len)
		return WF_BAD_LEN;
	out->h = h;
	out->hlen = hlen;
	out->total = total;
	/* RFC 791: MF set or a non-zero offset means a fragment. */
	if (h->fragment_offset &
	    RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return WF_FRAGMENT;
	return WF_OK;
}

enum wf_verdict wf_udp_parse(struct rte_mbuf *m, unsigned iplen,
			     struct wf_udp *out)
{
	if (iplen < sizeof(struct rte_udp_hdr) ||
	    wf_pullup(m, sizeof(struct rte_udp_hdr)) != 0)
		return WF_SHORT;
	struct rte_udp_hdr *h = rte_pktmbuf_mtod(m, struct rte_udp_hdr *);
	unsigned len = rte_be_to_cpu_16(h->dgram_len);
	/* RFC 768: the length covers header and data; it may be shorter
	 * than the IP payload (the rest is ignored), never longer. */
	if (len < sizeof(struct rte_udp_hdr) || len > iplen)
		return WF_BAD_LEN;
	out->h = h;
	out->len = len;
	return WF_OK;
}

enum wf_verdict wf_icmp_parse(struct rte_mbuf *m, unsigned iplen,
			      const struct rte_icmp_hdr **out)
{
	if (iplen < sizeof(struct rte_icmp_hdr) ||
	    wf_pullup(m, sizeof(struct rte_icmp_hdr)) != 0)
		return WF_SHORT;
	*out = rte_pktmbuf_mtod(m, const struct rte_icmp_hdr *);
	return WF_OK;
}
