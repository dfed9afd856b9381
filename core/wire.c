/* In-memory wire between two links. It behaves like a NIC pair: checksums
 * a sender offloaded are completed in flight and TSO packets are cut into
 * segments (as hardware would: give the interface tso_max), and the
 * receiver sees clean RX flags ("not checked"), so software verification
 * runs on the receiving side. An impairment engine per direction makes it
 * a bad link: frames in flight are offered to it at the sending stack's
 * clock, and each pump delivers what is due. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_malloc.h>

#include <tern/impair.h>
#include <tern/offload.h>
#include <tern/wire.h>

#define WIRE_QLEN 4096

struct wire_end {
	struct tern_wire *w;
	int side;
	unsigned n;
	struct rte_mbuf *q[WIRE_QLEN];
	uint64_t sent;
	struct tern_impair *imp;	/* owned; NULL: a perfect link */
};

struct tern_wire {
	struct tern_stack *stack[2];
	uint16_t link[2];
	struct wire_end end[2];
	tern_wire_tap_fn tap;
	void *tap_arg;
	bool nic_cksum;		/* tern_wire_set_nic_cksum */
	bool nic_lro;		/* tern_wire_set_nic_lro */
};

struct tern_wire *tern_wire_create(struct tern_stack *a, uint16_t link_a,
				   struct tern_stack *b, uint16_t link_b)
{
	struct tern_wire *w = rte_zmalloc("tern_wire", sizeof(*w), 0);
	if (w == NULL)
		return NULL;
	w->stack[0] = a;
	w->stack[1] = b;
	w->link[0] = link_a;
	w->link[1] = link_b;
	for (int i = 0; i < 2; i++) {
		w->end[i].w = w;
		w->end[i].side = i;
	}
	return w;
}

void tern_wire_destroy(struct tern_wire *w)
{
	if (w == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		rte_pktmbuf_free_bulk(w->end[i].q, w->end[i].n);
		tern_impair_destroy(w->end[i].imp);
	}
	rte_free(w);
}

void *tern_wire_end(struct tern_wire *w, int side)
{
	return &w->end[side & 1];
}

void tern_wire_set_tap(struct tern_wire *w, tern_wire_tap_fn fn, void *arg)
{
	w->tap = fn;
	w->tap_arg = arg;
}

void tern_wire_set_impair(struct tern_wire *w, int side,
			  struct tern_impair *imp)
{
	struct wire_end *e = &w->end[side & 1];
	if (e->imp != imp)
		tern_impair_destroy(e->imp);
	e->imp = imp;
}

struct tern_impair *tern_wire_impair(const struct tern_wire *w, int side)
{
	return w->end[side & 1].imp;
}

uint16_t tern_wire_tx(void *endp, struct rte_mbuf **pkts, uint16_t n)
{
	struct wire_end *e = endp;
	uint16_t k = 0;
	while (k < n && e->n < WIRE_QLEN)
		e->q[e->n++] = pkts[k++];
	e->sent += k;
	return k;
}

uint64_t tern_wire_sent(const struct tern_wire *w, int side)
{
	return w->end[side & 1].sent;
}

void tern_wire_set_nic_cksum(struct tern_wire *w, bool on)
{
	w->nic_cksum = on;
}

void tern_wire_set_nic_lro(struct tern_wire *w, bool on)
{
	w->nic_lro = on;
}

/* What a receiving NIC with LRO hands its host for the segments a
 * sending NIC cut from the TSO packet m, when it merges them all: one
 * packet as tern_ol_gro_tcp4 makes (IPv4 length and header checksum for
 * the whole, RTE_MBUF_F_RX_LRO, tso_segsz, header lengths, checksums
 * good). Returns the frames it stands for, 0 when m is not a TCP/IPv4
 * TSO packet such a merge can stand for (it is then cut as before). */
static unsigned lro_pass(struct rte_mbuf *m)
{
	uint32_t hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	if (!(m->ol_flags & RTE_MBUF_F_TX_IPV4) || m->tso_segsz == 0 ||
	    m->l3_len != sizeof(struct rte_ipv4_hdr) || m->pkt_len <= hdr ||
	    m->pkt_len - m->l2_len > UINT16_MAX || m->data_len < hdr)
		return 0;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  m->l2_len);
	uint32_t pay = m->pkt_len - hdr;
	uint16_t mss = m->tso_segsz;
	uint8_t l4 = m->l4_len;
	tern_ol_reset(m, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	tern_ol_lro_mark(m, ip, m->pkt_len - m->l2_len, mss, l4);
	return (pay + mss - 1) / mss;
}

/* What a NIC does to an outgoing frame with TX offload flags: a TSO
 * packet becomes segments (out[] gets them; the headers come from the
 * frame's own pool), each with its checksums done, or, in NIC checksum
 * mode (tern_wire_set_nic_cksum), left to the NICs: the receiving one
 * vouches for what the sending one would have written; with nic_lro on a
 * link without impairment, a TSO packet leaves whole as the receiving
 * NIC's LRO packet (lro_pass, e->sent counting its frames). Returns how
 * many frames leave (0: the segments could not be made; the frame is
 * gone). */
static unsigned nic_finish(const struct tern_wire *w, struct wire_end *e,
			   struct rte_mbuf *m,
			   struct rte_mbuf *out[TERN_OL_TSO_SEGS_MAX])
{
	static const struct tern_ol_caps none;
	unsigned n = 1;
	/* whole only over a perfect link: an impaired one loses and
	 * reorders frames, not TSO packets */
	if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) && w->nic_cksum && w->nic_lro &&
	    e->imp == NULL) {
		unsigned segs = lro_pass(m);
		if (segs > 0) {
			out[0] = m;
			e->sent += segs - 1;	/* the frames it stands for */
			return 1;
		}
	}
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		int k = tern_ol_tso_segment(m, m->pool, out,
					    TERN_OL_TSO_SEGS_MAX);
		if (k < 0) {
			rte_pktmbuf_free(m);
			return 0;
		}
		n = (unsigned)k;
	} else {
		out[0] = m;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t rx = 0;
		uint64_t fl = out[i]->ol_flags;
		if ((fl & RTE_MBUF_F_TX_IPV4) && w->nic_cksum) {
			/* the fields keep the pseudo-header sums */
			if (fl & RTE_MBUF_F_TX_IP_CKSUM)
				rx |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
			if (fl & RTE_MBUF_F_TX_L4_MASK)
				rx |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		} else if (fl & RTE_MBUF_F_TX_IPV4) {
			/* the field holds the pseudo-header sum: restart
			 * from zero */
			tern_ol_tx_finish(out[i], &none);
		}
		/* else RX flags UNKNOWN: the receiver checks */
		tern_ol_reset(out[i], rx);
	}
	return n;
}

/* Frames on their way into the receiving stack, in order, by bursts. */
struct sink {
	struct tern_wire *w;
	int side;		/* the sending side */
	unsigned k;
	struct rte_mbuf *batch[64];
};

static void sink_flush(struct sink *o)
{
	int to = o->side ^ 1;
	if (o->k)
		tern_stack_input(o->w->stack[to], o->w->link[to], o->batch,
				 (uint16_t)o->k);
	o->k = 0;
}

/* A frame leaving the wire: the tap sees it (and may drop it). */
static void deliver(struct sink *o, struct rte_mbuf *m)
{
	struct tern_wire *w = o->w;
	if (w->tap && w->tap(w->tap_arg, o->side, m)) {
		rte_pktmbuf_free(m);
		return;
	}
	o->batch[o->k++] = m;
	if (o->k == RTE_DIM(o->batch))
		sink_flush(o);
}

/* Delivers one side's frames in flight: what its engine holds and is due
 * first, then the frames sent since the last pump, each through the
 * engine when there is one. Returns frames moved. */
static unsigned side_pump(struct tern_wire *w, int side)
{
	struct wire_end *e = &w->end[side];
	struct sink o;	/* not zeroed: the batch is written before read */
	o.w = w;
	o.side = side;
	o.k = 0;
	struct rte_mbuf *q[WIRE_QLEN];
	unsigned n = e->n, moved = n;
	/* the receiving stack may send on this end while we deliver */
	memcpy(q, e->q, n * sizeof(q[0]));
	e->n = 0;
	struct rte_mbuf *seg[TERN_OL_TSO_SEGS_MAX];
	if (e->imp == NULL) {
		for (unsigned i = 0; i < n; i++) {
			unsigned k = nic_finish(w, e, q[i], seg);
			for (unsigned j = 0; j < k; j++)
				deliver(&o, seg[j]);
		}
		sink_flush(&o);
		return moved;
	}
	uint64_t now = tern_stack_now(w->stack[side]);
	struct rte_mbuf *out[2];
	unsigned r;
	while ((r = tern_impair_release(e->imp, now, out, NULL, 2)) > 0) {
		for (unsigned j = 0; j < r; j++)
			deliver(&o, out[j]);
		moved += r;
	}
	/* Corruption spares the Ethernet header, as a real link's FCS would
	 * have caught a bad MAC: the receiver's checksums must find it. */
	const struct tern_impair_pkt pi = {0, sizeof(struct rte_ether_hdr),
					   sizeof(struct rte_ether_hdr)};
	for (unsigned i = 0; i < n; i++) {
		unsigned k = nic_finish(w, e, q[i], seg);
		for (unsigned j = 0; j < k; j++) {
			int c = tern_impair_offer(e->imp, seg[j], now, &pi, out);
			if (c < 0) {
				rte_pktmbuf_free(seg[j]);
				continue;
			}
			for (int x = 0; x < c; x++)
				deliver(&o, out[x]);
		}
	}
	sink_flush(&o);
	return moved;
}

unsigned tern_wire_pump(struct tern_wire *w, unsigned max_rounds)
{
	unsigned total = 0;
	for (unsigned r = 0; r < max_rounds; r++) {
		unsigned moved = 0;
		for (int side = 0; side < 2; side++)
			moved += side_pump(w, side);
		total += moved;
		if (moved == 0)
			break;
	}
	return total;
}
