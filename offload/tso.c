/* TSO: whether the port segments a large TCP packet itself, and software
 * segmentation (GSO) when it does not. A segment is a header mbuf of its
 * own (the headers copied and adjusted) and indirect mbufs pointing into
 * the large packet's data, which is never copied or written (DESIGN: mbufs
 * that may be shared are never written in place). DPDK's librte_gso does
 * the same cut but leaves CWR on every segment, computes no checksum and
 * starts each packet with an empty indirect mbuf; this one follows RFC
 * 3168 and leaves the checksums to tern_ol_tx_finish(). */
#include <errno.h>
#include <stddef.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>

#include <tern/offload.h>

#define TSO_FLAGS (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4)

static inline uint32_t hdr_len(const struct rte_mbuf *m)
{
	return (uint32_t)m->l2_len + m->l3_len + m->l4_len;
}

/* A piece the port cuts has odd length when a boundary of m's chain or
 * of a segment falls on an odd payload offset. */
static bool odd_pieces(const struct rte_mbuf *m, uint32_t segsz)
{
	if (segsz & 1)
		return true;
	for (const struct rte_mbuf *seg = m; seg->next != NULL; seg = seg->next)
		if (seg->data_len & 1)
			return true;
	return false;
}

bool tern_ol_tso_port(struct rte_mbuf *m, const struct tern_ol_caps *caps)
{
	if (caps->tso_max == 0 || !caps->tx_ip4_cksum || !caps->tx_tcp_cksum)
		return false;
	uint32_t hlen = hdr_len(m);
	if (m->tso_segsz == 0 || m->data_len < hlen || m->pkt_len <= hlen)
		return false;
	uint32_t payload = m->pkt_len - hlen;
	uint32_t segsz = m->tso_segsz;
	if (caps->tso_frame_max != 0 && segsz + hlen > caps->tso_frame_max) {
		/* shorter segments than the MSS, as many as the port's limit
		 * takes (even: see odd_pieces) */
		if (caps->tso_frame_max <= hlen + 2)
			return false;
		segsz = (caps->tso_frame_max - hlen) & ~1u;
	}
	if (payload > caps->tso_max ||
	    (payload + segsz - 1) / segsz > TERN_OL_TSO_SEGS_MAX)
		return false;
	if (caps->tso_mbufs_max != 0 && m->nb_segs > caps->tso_mbufs_max)
		return false;
	if (caps->tx_l4_cksum_even_segs && odd_pieces(m, segsz))
		return false;	/* the port would sum a piece wrongly */
	m->tso_segsz = segsz;
	return true;
}

/* Where the byte at offset off of m's chain lives: the segment, and off
 * within it. NULL past the end. */
static struct rte_mbuf *seg_at(struct rte_mbuf *m, uint32_t *off)
{
	while (m != NULL && *off >= m->data_len) {
		*off -= m->data_len;
		m = m->next;
	}
	return m;
}

int tern_ol_tso_segment(struct rte_mbuf *m, struct rte_mempool *pool,
			struct rte_mbuf **out, unsigned max)
{
	if ((m->ol_flags & TSO_FLAGS) != TSO_FLAGS || m->tso_segsz == 0 ||
	    m->l3_len < sizeof(struct rte_ipv4_hdr) ||
	    m->l4_len < sizeof(struct rte_tcp_hdr) || max == 0)
		return -EINVAL;
	uint32_t hlen = hdr_len(m);
	if (m->data_len < hlen || m->pkt_len < hlen)
		return -EINVAL;
	uint32_t mss = m->tso_segsz;
	uint32_t payload = m->pkt_len - hlen;
	uint32_t n = payload <= mss ? 1 : (payload + mss - 1) / mss;
	if (n > max)
		return -EINVAL;
	if (n == 1) {
		/* small enough as it is: the headers already say so */
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		out[0] = m;
		return 1;
	}
	const struct rte_ipv4_hdr *ip0 =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
	const struct rte_tcp_hdr *th0 = rte_pktmbuf_mtod_offset(
		m, const struct rte_tcp_hdr *, m->l2_len + m->l3_len);
	uint16_t id0 = rte_be_to_cpu_16(ip0->packet_id);
	uint32_t seq0 = rte_be_to_cpu_32(th0->sent_seq);
	uint8_t fl0 = th0->tcp_flags;
	uint64_t ol = m->ol_flags &
		      ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_INDIRECT |
			RTE_MBUF_F_EXTERNAL);

	uint32_t off = hlen;
	struct rte_mbuf *src = seg_at(m, &off);
	uint32_t i;
	int rc = -ENOBUFS;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *h = rte_pktmbuf_alloc(pool);
		if (h == NULL)
			goto fail;
		out[i] = h;
		char *hp = rte_pktmbuf_append(h, (uint16_t)hlen);
		if (hp == NULL) {
			i++;
			goto fail;
		}
		rte_memcpy(hp, rte_pktmbuf_mtod(m, const char *), hlen);
		h->ol_flags = ol;
		h->l2_len = m->l2_len;
		h->l3_len = m->l3_len;
		h->l4_len = m->l4_len;
		h->packet_type = m->packet_type;
		h->port = m->port;

		uint32_t want = RTE_MIN(mss, payload - i * mss);
		struct rte_mbuf *last = h;
		while (want > 0) {
			if (src == NULL) {
				i++;
				rc = -EINVAL;	/* pkt_len said more */
				goto fail;
			}
			uint32_t take = RTE_MIN(want, (uint32_t)src->data_len - off);
			if (take > 0) {
				struct rte_mbuf *mi = rte_pktmbuf_alloc(pool);
				if (mi == NULL) {
					i++;
					goto fail;
				}
				rte_pktmbuf_attach(mi, src);
				mi->data_off = (uint16_t)(mi->data_off + off);
				mi->data_len = (uint16_t)take;
				mi->pkt_len = take;
				last->next = mi;
				last = mi;
				h->nb_segs++;
				h->pkt_len += take;
				want -= take;
				off += take;
			}
			if (off == src->data_len) {
				src = src->next;
				off = 0;
			}
		}

		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
			h, struct rte_ipv4_hdr *, h->l2_len);
		struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(
			h, struct rte_tcp_hdr *, h->l2_len + h->l3_len);
		ip->total_length = rte_cpu_to_be_16(
			(uint16_t)(h->pkt_len - h->l2_len));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(id0 + i));
		ip->hdr_checksum = 0;
		th->sent_seq = rte_cpu_to_be_32(seq0 + i * mss);
		uint8_t fl = fl0;
		if (i + 1 < n)
			fl &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
		if (i > 0)
			fl &= (uint8_t)~RTE_TCP_CWR_FLAG;
		th->tcp_flags = fl;
	}
	rte_pktmbuf_free(m);	/* the segments hold their own references */
	return (int)n;
fail:
	for (uint32_t k = 0; k < i; k++)
		rte_pktmbuf_free(out[k]);
	return rc;
}
