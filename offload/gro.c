/* GRO: consecutive in-order TCP/IPv4 segments of one flow in an RX burst
 * become one packet, so TCP's input runs once for them (what Linux's
 * tcp_gro_receive does per NAPI poll). The rules are Linux's: same
 * Ethernet header, IPv4 without options or fragmentation, same TOS and
 * TTL, same TCP header length and options (timestamps may advance),
 * flags ACK or ACK|PSH, contiguous sequence numbers, an ACK that does not
 * go back, every segment but the last as long as the first, and a PSH or
 * a shorter segment ends the packet. Checksums must be good: the port's
 * verdict, or software's (done here once, and recorded in ol_flags so TCP
 * does not sum again). Frames merged into another are not copied: their
 * headers are cut off and their mbufs chained behind the first frame's. */
#include <stddef.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <tern/offload.h>

#define GRO_FLOWS 8		/* flows open at once in one burst */
#define GRO_HDR (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))
#define GRO_ACK_PSH (RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG)
/* the IPv4 total length is 16 bits */
#define GRO_MAX_IPLEN UINT16_MAX

struct gro_flow {
	struct rte_mbuf *head;		/* NULL: slot free */
	struct rte_mbuf *tail;		/* last mbuf of head's chain */
	struct rte_ipv4_hdr *ip;	/* head's headers */
	struct rte_tcp_hdr *th;
	uint32_t key;			/* quick compare */
	uint32_t next_seq;		/* where the next segment starts */
	uint32_t iplen;			/* head's IPv4 total length so far */
	uint16_t mss;			/* payload of the first segment */
	uint16_t frames;		/* segments in head */
	bool closed;			/* a PSH or a short segment ended it */
};

/* A frame's parsed headers (all in its first mbuf). */
struct gro_pkt {
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint32_t key;
	uint32_t thlen, payload;
};

/* The TCP/IPv4 frame m's headers, when they are in its first mbuf;
 * false for anything else (left alone). */
static bool gro_parse(struct rte_mbuf *m, struct gro_pkt *p)
{
	if (m->data_len < GRO_HDR + sizeof(struct rte_tcp_hdr))
		return false;
	p->eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (p->eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return false;
	p->ip = (struct rte_ipv4_hdr *)(p->eh + 1);
	if (p->ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    p->ip->next_proto_id != IPPROTO_TCP)
		return false;
	p->th = (struct rte_tcp_hdr *)(p->ip + 1);
	uint32_t ports;
	memcpy(&ports, &p->th->src_port, sizeof(ports));
	p->key = p->ip->src_addr ^ p->ip->dst_addr ^ ports;
	return true;
}

static inline bool same_flow(const struct gro_flow *f, const struct gro_pkt *p)
{
	return f->key == p->key && f->ip->src_addr == p->ip->src_addr &&
	       f->ip->dst_addr == p->ip->dst_addr &&
	       f->th->src_port == p->th->src_port &&
	       f->th->dst_port == p->th->dst_port;
}

/* Whether frame m (parsed in p) may be merged at all: no fragment, no
 * padding, data, ACK or ACK|PSH only, good checksums (software sums are
 * recorded in m->ol_flags as good). */
static bool gro_candidate(struct rte_mbuf *m, struct gro_pkt *p)
{
	const struct rte_ipv4_hdr *ip = p->ip;
	if (ip->fragment_offset &
	    RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return false;
	if ((p->th->tcp_flags & ~RTE_TCP_PSH_FLAG) != RTE_TCP_ACK_FLAG)
		return false;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	p->thlen = (uint32_t)(p->th->data_off >> 4) * 4;
	if (p->thlen < sizeof(struct rte_tcp_hdr) ||
	    m->data_len < GRO_HDR + p->thlen ||
	    tot <= sizeof(*ip) + p->thlen ||
	    m->pkt_len != sizeof(struct rte_ether_hdr) + tot)
		return false;
	p->payload = tot - sizeof(*ip) - p->thlen;
	if (tern_ol_rx_ip4(m, ip, sizeof(*ip)) != TERN_OL_CKSUM_GOOD ||
	    tern_ol_rx_l4_ip4(m, ip, p->th, tot - sizeof(*ip), IPPROTO_TCP) !=
		    TERN_OL_CKSUM_GOOD)
		return false;	/* the normal path counts the drop */
	m->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK |
				       RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
		      RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return true;
}

/* Options as the head's, but for the values of a timestamp option in
 * the usual place (NOP, NOP, TS), which may advance (RFC 7323: TSval
 * and TSecr never go back within a flow). */
static bool same_options(const struct rte_tcp_hdr *a,
			 const struct rte_tcp_hdr *b, uint32_t thlen)
{
	const uint8_t *oa = (const uint8_t *)(a + 1);
	const uint8_t *ob = (const uint8_t *)(b + 1);
	uint32_t olen = thlen - sizeof(*a);
	if (olen >= 12 && oa[0] == 1 && oa[1] == 1 && oa[2] == 8 &&
	    oa[3] == 10 && memcmp(oa, ob, 4) == 0) {
		uint32_t va, ea, vb, eb;
		memcpy(&va, oa + 4, 4);
		memcpy(&ea, oa + 8, 4);
		memcpy(&vb, ob + 4, 4);
		memcpy(&eb, ob + 8, 4);
		if ((int32_t)(rte_be_to_cpu_32(vb) - rte_be_to_cpu_32(va)) < 0 ||
		    (int32_t)(rte_be_to_cpu_32(eb) - rte_be_to_cpu_32(ea)) < 0)
			return false;
		return memcmp(oa + 12, ob + 12, olen - 12) == 0;
	}
	return memcmp(oa, ob, olen) == 0;
}

/* Whether p continues flow f. */
static bool gro_fits(const struct gro_flow *f, const struct gro_pkt *p)
{
	const struct rte_tcp_hdr *h = f->th, *t = p->th;
	if (f->closed || f->frames >= TERN_OL_TSO_SEGS_MAX ||
	    p->payload > f->mss ||
	    f->iplen + p->payload > GRO_MAX_IPLEN ||
	    rte_be_to_cpu_32(t->sent_seq) != f->next_seq ||
	    (int32_t)(rte_be_to_cpu_32(t->recv_ack) -
		      rte_be_to_cpu_32(h->recv_ack)) < 0 ||
	    (h->data_off >> 4) * 4u != p->thlen ||
	    f->ip->type_of_service != p->ip->type_of_service ||
	    f->ip->time_to_live != p->ip->time_to_live ||
	    (f->ip->fragment_offset ^ p->ip->fragment_offset) != 0 ||
	    memcmp(rte_pktmbuf_mtod(f->head, const void *), p->eh,
		   sizeof(*p->eh)) != 0)
		return false;
	return same_options(h, t, p->thlen);
}

/* Appends frame m (parsed in p) to flow f: its headers cut off, its
 * mbufs chained, the head's ACK, window, PSH and timestamp the latest. */
static void gro_merge(struct gro_flow *f, struct rte_mbuf *m,
		      const struct gro_pkt *p)
{
	struct rte_tcp_hdr *h = f->th;
	const struct rte_tcp_hdr *t = p->th;
	h->recv_ack = t->recv_ack;
	h->rx_win = t->rx_win;
	h->tcp_flags |= t->tcp_flags & RTE_TCP_PSH_FLAG;
	if (p->thlen >= sizeof(*h) + 12 &&
	    ((const uint8_t *)(t + 1))[2] == 8)	/* the TS values */
		memcpy((uint8_t *)(h + 1) + 4, (const uint8_t *)(t + 1) + 4, 8);
	f->next_seq += p->payload;
	f->iplen += p->payload;
	f->frames++;
	if ((t->tcp_flags & RTE_TCP_PSH_FLAG) || p->payload < f->mss)
		f->closed = true;

	uint32_t hdr = GRO_HDR + p->thlen;
	uint32_t pay = m->pkt_len - hdr;
	uint16_t nseg = m->nb_segs;
	rte_pktmbuf_adj(m, (uint16_t)hdr);	/* data_len >= hdr: checked */
	if (m->data_len == 0 && m->next != NULL) {
		/* a header-only mbuf (a cut TSO packet's): let it go now */
		struct rte_mbuf *next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
		nseg--;
	}
	f->tail->next = m;
	struct rte_mbuf *last = m;
	while (last->next != NULL)
		last = last->next;
	f->tail = last;
	f->head->nb_segs = (uint16_t)(f->head->nb_segs + nseg);
	f->head->pkt_len += pay;
}

void tern_ol_lro_mark(struct rte_mbuf *h, struct rte_ipv4_hdr *ip,
		      uint32_t iplen, uint16_t mss, uint8_t l4_len)
{
	ip->total_length = rte_cpu_to_be_16((uint16_t)iplen);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	h->ol_flags |= RTE_MBUF_F_RX_LRO;
	h->tso_segsz = mss;
	h->l2_len = sizeof(struct rte_ether_hdr);
	h->l3_len = sizeof(struct rte_ipv4_hdr);
	h->l4_len = l4_len;
}

/* Makes flow f's head one packet again: IPv4 length and header checksum
 * (a capture shows a consistent header; the TCP checksum is the first
 * segment's, as after Linux's GRO), and the marks TCP reads. */
static void gro_finish(struct gro_flow *f)
{
	if (f->frames > 1)
		tern_ol_lro_mark(f->head, f->ip, f->iplen, f->mss,
				 (uint8_t)((f->th->data_off >> 4) * 4));
	f->head = NULL;
}

uint16_t tern_ol_gro_tcp4(struct rte_mbuf **pkts, uint16_t n,
			  uint32_t *merged)
{
	struct gro_flow fl[GRO_FLOWS];
	unsigned nfl = 0, victim = 0;
	uint16_t k = 0;
	uint32_t absorbed = 0;
	for (unsigned i = 0; i < GRO_FLOWS; i++)
		fl[i].head = NULL;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct gro_pkt p;
		if (!gro_parse(m, &p)) {
			pkts[k++] = m;
			continue;
		}
		struct gro_flow *f = NULL;
		for (unsigned j = 0; j < nfl; j++)
			if (fl[j].head != NULL && same_flow(&fl[j], &p)) {
				f = &fl[j];
				break;
			}
		bool cand = gro_candidate(m, &p);
		if (f != NULL && cand && gro_fits(f, &p)) {
			gro_merge(f, m, &p);
			absorbed++;
			continue;
		}
		/* anything else of the flow ends its packet (order kept) */
		if (f != NULL)
			gro_finish(f);
		pkts[k++] = m;
		if (!cand)
			continue;
		if (f == NULL) {
			for (unsigned j = 0; j < nfl; j++)
				if (fl[j].head == NULL) {
					f = &fl[j];
					break;
				}
		}
		if (f == NULL) {
			if (nfl < GRO_FLOWS) {
				f = &fl[nfl++];
			} else {
				f = &fl[victim];
				victim = (victim + 1) % GRO_FLOWS;
				gro_finish(f);
			}
		}
		f->head = m;
		f->tail = rte_pktmbuf_lastseg(m);
		f->ip = p.ip;
		f->th = p.th;
		f->key = p.key;
		f->next_seq = rte_be_to_cpu_32(p.th->sent_seq) + p.payload;
		f->iplen = rte_be_to_cpu_16(p.ip->total_length);
		f->mss = (uint16_t)p.payload;
		f->frames = 1;
		f->closed = (p.th->tcp_flags & RTE_TCP_PSH_FLAG) != 0;
	}
	for (unsigned j = 0; j < nfl; j++)
		if (fl[j].head != NULL)
			gro_finish(&fl[j]);
	*merged = absorbed;
	return k;
}
