/* TCP output: which segments go (windows, Nagle, silly-window avoidance,
 * the FIN), how one is built (a header mbuf of our own, the data as
 * clones of the application's mbufs, which are never written), ISNs,
 * timestamps, the window we advertise, RSTs. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <tern/mbuf_cow.h>

#include "stack_priv.h"

/* Data this short is copied into the header mbuf: an indirect mbuf costs
 * more than the copy. */
#define TCP_COPY_MAX 256

uint32_t tcp_now_us(const struct tern_stack *s)
{
	return (uint32_t)(tern_stack_now(s) / 1000u);
}

uint32_t tcp_ts_now(const struct tern_stack *s)
{
	/* RFC 7323 5.4: a clock between 1 ms and 1 s per tick; 1 ms. */
	return (uint32_t)(tern_stack_now(s) / TERN_NS_PER_MS);
}

/* ---- ISNs (RFC 6528: ISN = M + F(4-tuple, secret)) ------------------- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);      \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);      \
	} while (0)

/* SipHash-2-4 of two 64-bit words: a keyed PRF, as RFC 6528 section 3
 * asks of F(). */
uint64_t tcp_siphash_2w(const uint64_t key[2], uint64_t a, uint64_t b)
{
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ull;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ull;
	uint64_t v3 = key[1] ^ 0x7465646279746573ull;
	uint64_t m[3] = {a, b, (uint64_t)16 << 56};
	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tcp_isn(struct tern_stack *s, const struct tcp_conn *c)
{
	uint64_t f = tcp_siphash_2w(s->tcp.isn_key,
				(uint64_t)c->laddr << 32 | c->raddr,
				(uint64_t)c->lport << 16 | c->rport);
	/* M: a timer ticking every 4 microseconds (RFC 6528 section 3) */
	uint32_t m = (uint32_t)(tern_stack_now(s) / 4000u);
	return m + (uint32_t)f + s->tcp.isn_offset;
}

/* ---- the route ----------------------------------------------------------- */

/* The route c shares is looked up again when it went stale (the first
 * user to find it so updates it for all), and c's MSS follows its MTU:
 * another connection may have refreshed the entry first, so the MSS is
 * compared every time (one subtraction and a compare). */
void tcp_route_sync(struct tern_stack *s, struct tcp_conn *c)
{
	struct tern_route *rt = tcp_route_of(s, c);
	if (unlikely(!tern_route_valid(s, rt))) {
		struct tern_route fresh;
		struct tern_addr src = rt->src;
		if (tern_route_get(s, &rt->dst, &src, &fresh) != 0)
			return;	/* tern_ip_send drops what goes, counted */
		*rt = fresh;
		rt->src_given = true;	/* the connection's address stays */
	}
	uint32_t mss = rt->mtu - sizeof(struct rte_ipv4_hdr) -
		       sizeof(struct rte_tcp_hdr) - ((c->flags & TF_TS) ? 12 : 0);
	if (unlikely(mss < c->mss))
		c->mss = (uint16_t)mss;
}

/* ---- the receive window ----------------------------------------------- */

uint32_t tcp_rcv_window(struct tern_stack *s, struct tcp_conn *c)
{
	const struct tcp_cold *cold = tcp_cold_of(s, c);
	uint32_t held = c->rcvq_bytes;
	if (unlikely(c->ext != 0))
		held += tcp_ext_of(s, c)->ooo_bytes;
	uint32_t space = cold->rcvbuf > held ? cold->rcvbuf - held : 0;
	uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): open the window only
	 * by at least min(half the buffer, one MSS). */
	uint32_t step = RTE_MIN(cold->rcvbuf / 2, (uint32_t)cold->rcv_mss);
	if (space < cur + step)
		space = cur;	/* never shrink the right edge (3.8.6.2.2) */
	uint32_t max = (uint32_t)UINT16_MAX << c->rcv_wscale;
	return space > max ? max : space;
}

/* ---- segments ----------------------------------------------------------- */

/* Appends the len bytes at offset off of the send queue to m: copied
 * into m's tailroom when short, else as indirect mbufs attached to the
 * application's (which may be shared: they are never written). 0 or
 * -ENOBUFS. */
static int attach_data(struct tern_stack *s, struct tcp_conn *c,
		       struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	/* find the packet holding off: from where the last segment was
	 * found when that is not past it (segments go out in order; a
	 * retransmission starts again from the head) */
	struct rte_mbuf *p = c->sndq.head;
	if (c->sndq_cur != NULL) {
		uint32_t base = *pktq_posp(s->pkt_pos_off, c->sndq_cur) -
				*pktq_posp(s->pkt_pos_off, p);
		if (off >= base) {
			p = c->sndq_cur;
			off -= base;
		}
	}
	while (p != NULL && off >= p->pkt_len) {
		off -= p->pkt_len;
		p = *pktq_nextp(s->pkt_next_off, p);
	}
	c->sndq_cur = p;
	struct rte_mbuf *seg = p;
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
		if (seg == NULL && p != NULL) {
			p = *pktq_nextp(s->pkt_next_off, p);
			seg = p;
		}
	}
	bool copy = len <= TCP_COPY_MAX && len <= rte_pktmbuf_tailroom(m);
	struct rte_mbuf *last = m;
	while (len > 0) {
		if (seg == NULL)
			return -EINVAL;	/* queue shorter than said */
		uint32_t take = RTE_MIN(len, (uint32_t)seg->data_len - off);
		if (take > 0) {
			if (copy) {
				char *dst = rte_pktmbuf_append(m, (uint16_t)take);
				memcpy(dst, rte_pktmbuf_mtod_offset(seg, char *, off),
				       take);
			} else {
				struct rte_mbuf *mi = rte_pktmbuf_alloc(s->pool);
				if (mi == NULL) {
					STAT_INC(s, mbuf_drop_alloc_fail);
					return -ENOBUFS;
				}
				rte_pktmbuf_attach(mi, seg);
				mi->data_off = (uint16_t)(mi->data_off + off);
				mi->data_len = (uint16_t)take;
				mi->pkt_len = take;
				mi->next = NULL;
				mi->nb_segs = 1;
				last->next = mi;
				last = mi;
				m->nb_segs++;
				m->pkt_len += take;
			}
			len -= take;
		}
		off = 0;
		seg = seg->next;
		if (seg == NULL && p != NULL) {
			p = *pktq_nextp(s->pkt_next_off, p);
			seg = p;
		}
	}
	return 0;
}

/* SACK blocks (RFC 2018 section 4) from the out-of-order queue: the
 * queue holds disjoint segments in order; each run of adjacent segments
 * is one block. The block holding the latest segment goes first, then
 * the others from the most recently received (each segment's arrival
 * stamp is in m->hash.fdir.hi), as RFC 2018 asks and Linux does. A
 * duplicate the peer sent is reported before them all (D-SACK, RFC 2883
 * 4), once. */
static unsigned sack_blocks(struct tern_stack *s, struct tcp_conn *c,
			    struct tcp_sack_block *b, unsigned max)
{
	struct tcp_ext *x = tcp_ext_of(s, c);	/* the caller saw one */
	unsigned n = 0;
	if (x->dsack_start != x->dsack_end && max > 0) {
		b[0].start = x->dsack_start;
		b[0].end = x->dsack_end;
		x->dsack_start = x->dsack_end = 0;
		n = 1;
	}
	unsigned first = n;
	uint32_t stamp[TCP_MAX_SACK];
	uint32_t cs = 0, ce = 0, cstamp = 0;
	bool open = false;
	for (struct rte_mbuf *m = x->ooo.head;; m = *pktq_nextp(s->pkt_next_off, m)) {
		uint32_t start = 0, end = 0, st = 0;
		if (m != NULL) {
			start = m->hash.usr;
			end = start + m->pkt_len;
			st = m->hash.fdir.hi;
			if (open && ce == start) {
				ce = end;
				cstamp = RTE_MAX(cstamp, st);
				continue;
			}
		}
		if (open) {
			/* keep the run if it is among the latest `max` */
			unsigned i = n;
			while (i > first && (int32_t)(cstamp - stamp[i - 1]) > 0)
				i--;
			if (i < max) {
				unsigned last = n < max ? n : max - 1;
				for (unsigned j = last; j > i; j--) {
					b[j] = b[j - 1];
					stamp[j] = stamp[j - 1];
				}
				b[i].start = cs;
				b[i].end = ce;
				stamp[i] = cstamp;
				if (n < max)
					n++;
			}
		}
		if (m == NULL)
			break;
		cs = start;
		ce = end;
		cstamp = st;
		open = true;
	}
	return n;
}

int tcp_send_seg(struct tern_stack *s, struct tcp_conn *c, uint32_t seq,
		 uint32_t len, uint8_t flags)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	struct rte_mbuf *m = tern_stack_alloc(s);
	if (unlikely(m == NULL))
		return -ENOBUFS;
	bool syn = (flags & RTE_TCP_SYN_FLAG) != 0;
	struct tcp_out_opts o;
	o.syn = syn;
	o.mss = cold->rcv_mss;
	o.sack_perm = (c->flags & TF_SACK) != 0;
	o.ts = (c->flags & TF_TS) != 0;
	o.tsval = tcp_ts_now(s);
	if (c->flags & TF_COOKIE)
		o.tsval = tcp_cookie_tsval(o.tsval, c);
	o.tsecr = c->ts_recent;
	o.ws = (c->flags & TF_WS) != 0;
	o.wscale = c->rcv_wscale;
	o.nsack = 0;
	if (!syn && (c->flags & TF_SACK) && unlikely(c->ext != 0)) {
		const struct tcp_ext *x = tcp_ext_of(s, c);
		if (x->ooo.n > 0 || x->dsack_start != x->dsack_end)
			o.nsack = (uint8_t)sack_blocks(s, c, o.sack, o.ts ? 3 : 4);
	}

	uint8_t optbuf[40];
	unsigned optlen = tcp_write_options(optbuf, &o);
	unsigned hlen = sizeof(struct rte_tcp_hdr) + optlen;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)rte_pktmbuf_append(
		m, (uint16_t)hlen);
	th->src_port = c->lport;
	th->dst_port = c->rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & RTE_TCP_ACK_FLAG) ? rte_cpu_to_be_32(c->rcv_nxt) : 0;
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	uint32_t wnd;
	if (syn) {
		/* RFC 7323 2.2: the window of a SYN is never scaled */
		wnd = RTE_MIN(tcp_rcv_window(s, c), (uint32_t)UINT16_MAX);
		th->rx_win = rte_cpu_to_be_16((uint16_t)wnd);
	} else {
		wnd = tcp_rcv_window(s, c);
		uint32_t field = wnd >> c->rcv_wscale;
		/* round up so the edge we had is kept (scaling loses bits) */
		if ((field << c->rcv_wscale) < wnd && field < UINT16_MAX)
			field++;
		th->rx_win = rte_cpu_to_be_16((uint16_t)field);
		wnd = field << c->rcv_wscale;
	}
	th->cksum = 0;
	th->tcp_urp = 0;
	memcpy(th + 1, optbuf, optlen);
	if (len > 0 && attach_data(s, c, m, seq - c->snd_una + c->sndq_off,
				   len) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	if (flags & RTE_TCP_ACK_FLAG) {
		if (seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + wnd;
		c->flags &= ~(uint32_t)(TF_ACKNOW | TF_DELACK);
		c->unacked_segs = 0;
		if (c->dack_at != 0) {
			c->dack_at = 0;
			tcp_timer_update(s, c);
		}
	}
	/* More data than one segment takes (several MSS, or one MSS whose
	 * SACK blocks leave less room than the MSS assumed, RFC 6691): a
	 * TSO packet, cut into segments of seg bytes by the port or, before
	 * it, in software (eth.c); the header and its options go in each. */
	uint32_t room = (uint32_t)tcp_route_of(s, c)->mtu - sizeof(struct rte_ipv4_hdr);
	uint32_t seg = room > hlen ? RTE_MIN((uint32_t)c->mss, room - hlen) :
				     c->mss;
	uint64_t ol = RTE_MBUF_F_TX_TCP_CKSUM;
	uint32_t nsegs = 1;
	if (len > seg) {
		ol |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = (uint16_t)seg;
		nsegs = (len + seg - 1) / seg;
	}
	tern_ol_reset(m, ol);
	m->packet_type = 0;
	m->l4_len = (uint8_t)hlen;
	STAT_ADD(s, tcp_tx_segs, nsegs);
	if (flags & RTE_TCP_RST_FLAG)
		STAT_INC(s, tcp_tx_rst);
	int rc = tern_ip_send(s, tcp_route_of(s, c), m, IPPROTO_TCP,
			      TERN_IP_F_DONTFRAG);
	return rc;
}

void tcp_send_ack(struct tern_stack *s, struct tcp_conn *c)
{
	tcp_send_seg(s, c, c->snd_nxt, 0, RTE_TCP_ACK_FLAG);
}

void tcp_send_rst(struct tern_stack *s, struct tcp_conn *c)
{
	tcp_send_seg(s, c, c->snd_nxt, 0, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
}

void tcp_send_rst_reply(struct tern_stack *s, const struct rte_ipv4_hdr *ip,
			const struct tcp_seg *seg)
{
	struct rte_mbuf *m = tern_stack_alloc(s);
	if (unlikely(m == NULL))
		return;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)rte_pktmbuf_append(
		m, sizeof(*th));
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(seg->dport);
	th->dst_port = rte_cpu_to_be_16(seg->sport);
	if (seg->flags & RTE_TCP_ACK_FLAG) {
		/* <SEQ=SEG.ACK><CTL=RST> */
		th->sent_seq = rte_cpu_to_be_32(seg->ack);
		th->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		uint32_t l = seg->len + !!(seg->flags & RTE_TCP_SYN_FLAG) +
			     !!(seg->flags & RTE_TCP_FIN_FLAG);
		th->recv_ack = rte_cpu_to_be_32(seg->seq + l);
		th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	th->data_off = (uint8_t)((sizeof(*th) / 4) << 4);
	tern_ol_reset(m, RTE_MBUF_F_TX_TCP_CKSUM);
	m->packet_type = 0;
	m->l4_len = sizeof(*th);
	STAT_INC(s, tcp_tx_segs);
	STAT_INC(s, tcp_tx_rst);
	ip4_output(s, m, ip->dst_addr, ip->src_addr, IPPROTO_TCP);
}

/* ---- what goes now -------------------------------------------------------- */

/* The most data tcp_output puts in one segment: whole MSS, as many as
 * the interface's TSO takes in one packet, or software segmentation
 * (every interface has it) when the port has no TSO. */
static uint32_t tso_limit(struct tern_stack *s, const struct tcp_conn *c)
{
	uint32_t max = TERN_OL_TSO_MAX;
	const struct iface *ifc = iface_get(s, tcp_route_of(s, c)->ifindex);
	if (ifc != NULL && ifc->conf.caps.tso_max != 0)
		max = RTE_MIN(max, ifc->conf.caps.tso_max);
	uint32_t n = RTE_MIN(max / c->mss, (uint32_t)TERN_OL_TSO_SEGS_MAX);
	return n > 1 ? n * c->mss : c->mss;
}

static bool can_send_data(uint8_t st)
{
	return st == TERN_TCP_ESTABLISHED || st == TERN_TCP_CLOSE_WAIT ||
	       st == TERN_TCP_FIN_WAIT_1 || st == TERN_TCP_CLOSING ||
	       st == TERN_TCP_LAST_ACK;
}

/* How much of len (> one MSS: unsent data in the window) goes in one
 * TSO segment: whole MSS up to tso. A shorter tail joins only when it
 * would go on its own right after them: it ends the queued data and
 * Nagle (RFC 1122 4.2.3.4) lets it go, data being in flight by then.
 * What goes again (go-back-N after an RTO) stops at SND.MAX, so one
 * segment is never partly new and partly old by more than one MSS (as
 * when segments were MSS-sized). */
static uint32_t tso_len(const struct tcp_conn *c, const struct tcp_cold *cold,
			uint32_t len, uint32_t unsent, uint32_t tso, bool rexmit)
{
	if (len > tso)
		len = tso;
	uint32_t tail = len % c->mss;
	if (tail != 0 &&
	    !(len == unsent &&
	      ((c->flags & (TF_NODELAY | TF_SHUT_WR)) ||
	       (cold->max_sndwnd > 0 && tail >= cold->max_sndwnd / 2))))
		len -= tail;
	if (rexmit) {
		uint32_t old = c->snd_max - c->snd_nxt;
		len = RTE_MIN(len, old > c->mss ? old - old % c->mss :
						  (uint32_t)c->mss);
	}
	return len;
}

void tcp_output(struct tern_stack *s, struct tcp_conn *c)
{
	if (!can_send_data(c->state)) {
		if (c->flags & TF_ACKNOW)
			tcp_send_ack(s, c);
		return;
	}
	struct tcp_cold *cold = tcp_cold_of(s, c);
	tcp_route_sync(s, c);	/* segments no larger than the path takes */
	uint32_t sndq_end = c->snd_una + c->sndq_bytes;
	uint32_t tso = tso_limit(s, c);
	bool sent = false, nobufs = false;
	uint32_t now_ms = (uint32_t)(tern_stack_now(s) / TERN_NS_PER_MS);
	/* RFC 5681 4.1: after an idle period longer than an RTO, start
	 * again from the restart window */
	if (c->snd_una == c->snd_max && seq_gt(sndq_end, c->snd_nxt) &&
	    c->lsnd_ms != 0 && now_ms - c->lsnd_ms > tcp_rto_us(s, c) / 1000u)
		tcp_cc_of(cold)->after_idle(s, c);

	for (;;) {
		uint32_t wnd = RTE_MIN(c->snd_wnd, c->cwnd);
		uint32_t edge = c->snd_una + wnd;
		uint32_t avail = seq_gt(edge, c->snd_nxt) ? edge - c->snd_nxt : 0;
		uint32_t unsent = seq_gt(sndq_end, c->snd_nxt) ?
				  sndq_end - c->snd_nxt : 0;
		bool fin_due = (c->flags & TF_SHUT_WR) && c->snd_nxt == sndq_end;
		if (unsent == 0 && !fin_due)
			break;
		bool rexmit = seq_lt(c->snd_nxt, c->snd_max);
		uint32_t len = RTE_MIN(unsent, avail);
		if (len > c->mss)
			len = tso_len(c, cold, len, unsent, tso, rexmit);
		bool cut = false;	/* len ends where a SACKed range starts */
		const struct tcp_ext *x = rexmit ? tcp_ext_of(s, c) : NULL;
		if (x != NULL && x->sb_n > 0) {
			/* going back after an RTO: what the peer SACKed is
			 * not sent again (RFC 6675 5.1) */
			bool skipped = false;
			for (unsigned i = 0; i < x->sb_n; i++) {
				const struct tcp_sack_block *b = &x->sb[i];
				if (seq_geq(c->snd_nxt, b->start) &&
				    seq_lt(c->snd_nxt, b->end)) {
					c->snd_nxt = b->end;
					skipped = true;
					break;
				}
				if (seq_gt(b->start, c->snd_nxt) &&
				    seq_lt(b->start, c->snd_nxt + len)) {
					len = b->start - c->snd_nxt;
					cut = true;
				}
			}
			if (skipped)
				continue;
		}
		if (unsent > 0 && len == 0)
			break;	/* window closed: the persist timer decides */
		/* (a hole before a SACKed range is as long as it is: no
		 * waiting for more, which would never come) */
		if (len > 0 && len < c->mss && len < unsent && !cut)
			break;	/* wait for more window (sender SWS) */
		/* Nagle (RFC 1122 4.2.3.4) with Minshall's refinement, as
		 * Linux and FreeBSD: a short segment waits only while
		 * another short one is unacknowledged, so a write that ends
		 * in a partial segment is not held behind its own full ones */
		if (len > 0 && len < c->mss && !cut && c->snd_nxt != c->snd_una &&
		    seq_gt(c->snd_sml, c->snd_una) &&
		    seq_leq(c->snd_sml, c->snd_nxt) &&
		    !(c->flags & TF_NODELAY) && !(c->flags & TF_SHUT_WR) &&
		    !(cold->max_sndwnd > 0 && len >= cold->max_sndwnd / 2))
			break;
		bool fin = (c->flags & TF_SHUT_WR) && c->snd_nxt + len == sndq_end;
		uint8_t fl = RTE_TCP_ACK_FLAG;
		/* PSH where the data ends, and where new data stops at the
		 * congestion window outside recovery (what Linux marks; a
		 * burst cut by the peer's window carries none) */
		if (len > 0 && (len == unsent ||
				(!rexmit && c->cwnd < c->snd_wnd &&
				 !(c->flags & TF_RECOVERY) &&
				 avail - len < RTE_MIN(unsent - len, (uint32_t)c->mss))))
			fl |= RTE_TCP_PSH_FLAG;
		if (fin)
			fl |= RTE_TCP_FIN_FLAG;
		if (tcp_send_seg(s, c, c->snd_nxt, len, fl) == -ENOBUFS) {
			nobufs = true;
			break;
		}
		if (rexmit) {
			/* counted per MSS, as they leave */
			uint32_t n = len > c->mss ? (len + c->mss - 1) / c->mss : 1;
			tcp_count_retrans(s, c, n, len);
		} else {
			STAT_ADD(s, tcp_tx_bytes, len);
			if (!(c->flags & TF_RTT_TIMING) && len > 0) {
				c->flags |= TF_RTT_TIMING;
				c->rtt_seq = c->snd_nxt;
				c->rtt_start_us = tcp_now_us(s);
			}
		}
		if (len > 0)
			c->lsnd_ms = now_ms | 1;	/* 0 is never */
		if (len > 0 && len < c->mss)
			c->snd_sml = c->snd_nxt + len;
		c->snd_nxt += len + (fin ? 1 : 0);
		if (fin && !(c->flags & TF_FIN_SENT)) {
			c->flags |= TF_FIN_SENT;
			if (c->state == TERN_TCP_ESTABLISHED)
				tcp_set_state(s, c, TERN_TCP_FIN_WAIT_1);
			else if (c->state == TERN_TCP_CLOSE_WAIT)
				tcp_set_state(s, c, TERN_TCP_LAST_ACK);
		}
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		sent = true;
		if (fin)
			break;
	}
	if (!sent && (c->flags & TF_ACKNOW))
		tcp_send_ack(s, c);
	if (c->snd_una != c->snd_max) {
		if (c->rto_at == 0 || (c->flags & TF_PERSIST)) {
			if (c->flags & TF_PERSIST)
				c->backoff = 0;	/* the window opened */
			c->flags &= ~(uint32_t)TF_PERSIST;
			tcp_rto_arm(s, c);
		}
	} else if (seq_gt(sndq_end, c->snd_nxt)) {
		/* Data waits and nothing is in flight: the window is shut
		 * (3.8.6.1, probe it) or too small to send into without
		 * silly windows (3.8.6.2.1 (d): the override timeout sends
		 * what fits). Either way the persist timer acts. */
		if (!(c->flags & TF_PERSIST) || c->rto_at == 0) {
			c->flags |= TF_PERSIST;
			tcp_rto_arm(s, c);
		}
	} else if (nobufs && c->rto_at == 0) {
		/* The FIN alone found no mbuf: nothing else would bring us
		 * back here, so the retransmission timer sends it again. */
		tcp_rto_arm(s, c);
	}
}

void tcp_push(struct tern_stack *s, struct tcp_conn *c)
{
	tcp_hold(s);
	tcp_output(s, c);
	tcp_timer_update(s, c);
	tcp_unhold(s);
}

void tcp_sndq_acked(struct tern_stack *s, struct tcp_conn *c, uint32_t acked)
{
	/* acked counts data bytes only (the caller takes SYN/FIN off) */
	if (acked > c->sndq_bytes)
		acked = c->sndq_bytes;
	c->sndq_bytes -= acked;
	c->sndq_off += acked;
	while (c->sndq.head != NULL && c->sndq_off >= c->sndq.head->pkt_len) {
		struct rte_mbuf *m = pktlist_pop(s->pkt_next_off, &c->sndq);
		c->sndq_off -= m->pkt_len;
		if (c->sndq_cur == m)
			c->sndq_cur = NULL;
		rte_pktmbuf_free(m);
	}
}
