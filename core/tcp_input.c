/* TCP input: RFC 9293 3.10.7 ("SEGMENT ARRIVES") step by step, with RFC
 * 5961 (challenge ACKs), RFC 7323 (timestamps, PAWS, window scaling), RFC
 * 2018 (SACK blocks we report), RFC 5681/6582 (duplicate ACKs, fast
 * retransmit and recovery, NewReno partial ACKs) and RFC 3042 (limited
 * transmit). Every segment dropped increments one tcp.drop_* counter. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "stack_priv.h"
#include "wirefmt.h"

#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000)	/* RFC 7323 5.5 */

static inline uint32_t seg_space(const struct tcp_seg *g)
{
	return g->len + !!(g->flags & RTE_TCP_SYN_FLAG) +
	       !!(g->flags & RTE_TCP_FIN_FLAG);
}

/* ---- parsing ------------------------------------------------------------- */

/* Validates the header and checksum, fills g; m's data is left at the
 * TCP header. false when dropped (counted). */
static bool parse(struct tern_stack *s, struct rte_mbuf *m,
		  const struct rte_ipv4_hdr *ip, unsigned iplen,
		  struct tcp_seg *g)
{
	if (unlikely(iplen < sizeof(struct rte_tcp_hdr) ||
		     wf_pullup(m, sizeof(struct rte_tcp_hdr)) != 0)) {
		STAT_INC(s, tcp_drop_short);
		return false;
	}
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);
	unsigned hlen = (th->data_off >> 4) * 4u;
	if (unlikely(hlen < sizeof(*th) || hlen > iplen)) {
		STAT_INC(s, tcp_drop_bad_hlen);
		return false;
	}
	if (unlikely(wf_pullup(m, hlen) != 0)) {
		STAT_INC(s, tcp_drop_short);
		return false;
	}
	th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);
	if (unlikely(tern_ol_rx_l4_ip4(m, ip, th, iplen, IPPROTO_TCP) !=
		     TERN_OL_CKSUM_GOOD)) {
		STAT_INC(s, tcp_drop_bad_cksum);
		return false;
	}
	g->seq = rte_be_to_cpu_32(th->sent_seq);
	g->ack = rte_be_to_cpu_32(th->recv_ack);
	g->wnd = rte_be_to_cpu_16(th->rx_win);
	g->sport = rte_be_to_cpu_16(th->src_port);
	g->dport = rte_be_to_cpu_16(th->dst_port);
	g->flags = th->tcp_flags;
	g->hlen = (uint8_t)hlen;
	g->len = iplen - hlen;
	if (hlen > sizeof(*th))
		tcp_parse_options(th, hlen, g);
	else
		g->has_mss = g->has_ws = g->sack_perm = g->has_ts = false, g->nsack = 0;
	return true;
}

/* ---- helpers ----------------------------------------------------------------- */

/* Sends an ACK for a segment that is not acceptable (RFC 9293 3.10.7.4
 * first check), unless it is a RST. The segment is dropped. */
void tcp_ack_and_drop(struct tern_stack *s, struct tcp_conn *c,
		      const struct tcp_seg *g, struct rte_mbuf *m,
		      uint64_t *counter)
{
	(*counter)++;
	rte_pktmbuf_free(m);
	if (!(g->flags & RTE_TCP_RST_FLAG))
		tcp_send_ack(s, c);
}

/* RFC 5961 challenge ACK (sections 3.2, 4.2, 5.2). Linux limits them
 * per second globally; tern sends each (a per-stack limit can follow). */
static void challenge_ack(struct tern_stack *s, struct tcp_conn *c)
{
	STAT_INC(s, tcp_challenge_acks);
	tcp_send_ack(s, c);
}

/* ---- data ------------------------------------------------------------------ */

/* Data that arrived twice: the next ACK reports it first, as a D-SACK
 * block (RFC 2883 4), and goes at once. */
static void tcp_dsack_note(struct tern_stack *s, struct tcp_conn *c,
			   uint32_t start, uint32_t end)
{
	if (!(c->flags & TF_SACK) || start == end)
		return;
	struct tcp_ext *x = tcp_ext_get(s, c);
	if (x == NULL)
		return;	/* no block: no D-SACK */
	x->dsack_start = start;
	x->dsack_end = end;
	c->flags |= TF_ACKNOW;
}

/* Whether mp's common store holds fewer than an eighth of its mbufs (at
 * least 16). The per-lcore caches are not counted: summing them
 * (rte_mempool_avail_count) reads a cache line of each of RTE_MAX_LCORE
 * caches, per out-of-order segment; without them the estimate errs on
 * the safe side (out-of-order data is refused a little early). */
static bool ooo_pool_low(const struct rte_mempool *mp)
{
	if (mp == NULL)
		return false;
	unsigned reserve = RTE_MAX(mp->size / 8, 16u);
	return rte_mempool_get_ops(mp->ops_index)->get_count(mp) < reserve;
}

/* Inserts m (data only, covering [seq, seq + pkt_len), after rcv_nxt)
 * into the out-of-order queue, trimming what the queue already holds.
 * The segment's sequence is kept in m->hash.usr. */
static void ooo_insert(struct tern_stack *s, struct tcp_conn *c,
		       struct rte_mbuf *m, uint32_t seq)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	int off = s->pkt_next_off;
	uint32_t end = seq + m->pkt_len;
	struct tcp_ext *x = tcp_ext_get(s, c);
	if (x == NULL) {
		STAT_INC(s, tcp_drop_no_ext);	/* sent again */
		rte_pktmbuf_free(m);
		return;
	}
	if (x->ooo_bytes + m->pkt_len > cold->rcvbuf) {
		STAT_INC(s, tcp_drop_ooo_full);
		rte_pktmbuf_free(m);
		return;
	}
	if (unlikely(ooo_pool_low(m->pool))) {
		/* out-of-order data must not take the last mbufs: the
		 * segment that fills the hole, and every ACK and header,
		 * need some (Linux prunes its out-of-order queue under
		 * memory pressure for the same reason); sent again later */
		STAT_INC(s, tcp_drop_ooo_pool_low);
		rte_pktmbuf_free(m);
		return;
	}
	struct rte_mbuf **link = &x->ooo.head;
	while (*link != NULL) {
		struct rte_mbuf *q = *link;
		uint32_t qs = q->hash.usr, qe = qs + q->pkt_len;
		if (seq_leq(end, qs))
			break;	/* goes before q */
		if (seq_geq(seq, qe)) {	/* after q */
			link = pktq_nextp(off, q);
			continue;
		}
		/* overlaps q: keep q's bytes, trim ours */
		if (seq_geq(seq, qs) && seq_leq(end, qe)) {
			STAT_INC(s, tcp_drop_dup_data);
			tcp_dsack_note(s, c, seq, end);
			q->hash.fdir.hi = ++s->tcp.ooo_stamp;	/* latest */
			rte_pktmbuf_free(m);
			return;
		}
		if (seq_lt(seq, qs)) {
			/* ours starts before q: keep our head up to qs;
			 * the tail past qe is dropped (sent again later) */
			wf_trim_to(m, qs - seq);
			end = qs;
			break;
		}
		/* ours starts inside q and runs past it */
		wf_trim_front(m, qe - seq);
		seq = qe;
		link = pktq_nextp(off, q);
	}
	m->hash.usr = seq;
	m->hash.fdir.hi = ++s->tcp.ooo_stamp;
	*pktq_nextp(off, m) = *link;
	*link = m;
	if (*pktq_nextp(off, m) == NULL)
		x->ooo.tail = m;
	x->ooo.n++;
	x->ooo_bytes += m->pkt_len;
	STAT_INC(s, tcp_ooo_queued);
}

/* After rcv_nxt moved: hands over what the out-of-order queue now
 * continues; returns whether any was. */
static bool ooo_drain(struct tern_stack *s, struct tcp_conn *c)
{
	int off = s->pkt_next_off;
	bool any = false;
	struct tcp_ext *x;
	while ((x = tcp_ext_of(s, c)) != NULL && x->ooo.head != NULL &&
	       !(c->flags & TF_FREE)) {
		struct rte_mbuf *q = x->ooo.head;
		uint32_t qs = q->hash.usr, qe = qs + q->pkt_len;
		if (seq_gt(qs, c->rcv_nxt))
			break;
		pktq_pop(off, &x->ooo);
		x->ooo_bytes -= q->pkt_len;
		if (seq_leq(qe, c->rcv_nxt)) {
			STAT_INC(s, tcp_drop_dup_data);
			rte_pktmbuf_free(q);
			continue;
		}
		wf_trim_front(q, c->rcv_nxt - qs);
		c->rcv_nxt = qe;
		any = true;
		tcp_deliver(s, c, q);
	}
	return any;
}

/* The text of an acceptable segment in ESTABLISHED, FIN-WAIT-1/2
 * (3.10.7.4 seventh step). m's data is the segment's data, already
 * trimmed to the window and to start at or after rcv_nxt's seq: seq. */
static void data_input(struct tern_stack *s, struct tcp_conn *c,
		       struct rte_mbuf *m, uint32_t seq)
{
	uint32_t len = m->pkt_len;
	if (seq != c->rcv_nxt) {
		/* out of order: keep it, ACK at once (RFC 5681 4.2: a
		 * duplicate ACK, with SACK blocks) */
		ooo_insert(s, c, m, seq);
		c->flags |= TF_ACKNOW;
		return;
	}
	c->rcv_nxt += len;
	if (unlikely(c->ext != 0) && tcp_ext_of(s, c)->ooo.n > 0) {
		tcp_deliver(s, c, m);
		if (c->flags & TF_FREE)
			return;
		ooo_drain(s, c);
		c->flags |= TF_ACKNOW;	/* RFC 5681 4.2: a hole filled */
		return;
	}
	/* delayed ACK (RFC 1122 4.2.3.2; RFC 5681 4.2): at least every
	 * second full-sized segment, within delack; a GRO packet counts
	 * the segments it merged. Decided before the application sees the
	 * data, as lwIP's tcp_receive: what it sends from its callback (a
	 * response, a FIN) carries the ACK and clears the flags, so no pure
	 * ACK follows it. */
	c->unacked_segs = (uint8_t)RTE_MIN(c->unacked_segs + tern_ol_rx_segs(m, len),
					   (uint32_t)UINT8_MAX);
	if (!(c->flags & TF_DATA_SEEN)) {
		/* quick ACKs at the start (as Linux: up to 16, half the
		 * window in segments), so a peer in slow start is not held
		 * back by our delayed ACKs (RFC 5681 4.2 allows it) */
		c->flags |= TF_DATA_SEEN;
		uint32_t n = tcp_cold_of(s, c)->rcvbuf /
			     (2u * RTE_MAX(tcp_cold_of(s, c)->rcv_mss, 1));
		c->quickacks = (uint16_t)RTE_MIN(n, 16u);
	}
	bool quick = c->quickacks > 0;
	if (quick)
		c->quickacks--;
	if (s->tcp.no_delack || (c->flags & TF_QUICKACK) || quick ||
	    c->unacked_segs >= 2) {
		c->flags |= TF_ACKNOW;
	} else if (!(c->flags & TF_DELACK)) {
		c->flags |= TF_DELACK;
		c->dack_at = tcp_dl_at(s, s->tcp.delack_ns, TCP_DL_US);
		tcp_timer_update(s, c);
	}
	tcp_deliver(s, c, m);
}

/* ---- synchronized states (3.10.7.4) ---------------------------------------- */

void tcp_established_input(struct tern_stack *s, struct tcp_conn *c,
			   const struct tcp_seg *g, struct rte_mbuf *m)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	uint32_t seq = g->seq;
	uint32_t len = seg_space(g);
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	bool rst = (g->flags & RTE_TCP_RST_FLAG) != 0;

	if (c->state == TERN_TCP_SYN_RECEIVED && (g->flags & RTE_TCP_SYN_FLAG) &&
	    !rst) {
		if (seq == cold->irs && !(g->flags & RTE_TCP_ACK_FLAG)) {
			/* the peer sent its SYN again: our SYN,ACK was lost
			 * (below rcv_nxt, the sequence check would only ACK) */
			STAT_INC(s, tcp_syn_retrans);
			STAT_INC(s, tcp_drop_syn);
			tcp_send_seg(s, c, cold->iss, 0,
				     RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
			rte_pktmbuf_free(m);
			return;
		}
		if (!(c->flags & TF_PASSIVE) && (g->flags & RTE_TCP_ACK_FLAG) &&
		    seq + 1 == c->rcv_nxt && g->ack == c->snd_nxt && g->len == 0) {
			/* simultaneous open: the peer's SYN,ACK answers our
			 * SYN; its ACK completes the handshake (RFC 9293
			 * figure 7, line 5; Linux takes it so) */
			struct tcp_seg ack = *g;
			ack.flags &= (uint8_t)~RTE_TCP_SYN_FLAG;
			ack.seq = seq + 1;
			tcp_established_input(s, c, &ack, m);
			return;
		}
	}

	/* RFC 7323 5.3 (PAWS) before the sequence check: R1; a timestamp
	 * one tick behind still passes (Linux's TCP_PAWS_WINDOW: clocks
	 * read at the edge of a tick) */
	if ((c->flags & TF_TS) && g->has_ts && !rst &&
	    (int32_t)(c->ts_recent - g->tsval) > 1 &&
	    tcp_ts_now(s) - cold->ts_recent_ms < TCP_PAWS_IDLE_MS) {
		tcp_ack_and_drop(s, c, g, m, &s->st.tcp_drop_paws);
		return;
	}

	/* first: sequence number (the four cases of 3.10.7.4) */
	bool ok;
	if (len == 0)
		ok = wnd == 0 ? seq == c->rcv_nxt :
			seq_geq(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd);
	else
		ok = wnd != 0 &&
		     ((seq_geq(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd)) ||
		      (seq_geq(seq + len - 1, c->rcv_nxt) &&
		       seq_lt(seq + len - 1, c->rcv_nxt + wnd)));
	/* a zero window still takes ACKs, URG and RST (3.10.7.4): a pure
	 * ACK at rcv_nxt passed above; data at rcv_nxt is trimmed to 0 */
	if (!ok && wnd == 0 && seq == c->rcv_nxt && !rst)
		ok = true;
	if (!ok) {
		if (rst) {
			STAT_INC(s, tcp_drop_rst);
			rte_pktmbuf_free(m);
			return;
		}
		/* data wholly below rcv_nxt came twice: say so (D-SACK) */
		if (g->len > 0 && seq_leq(g->seq + g->len, c->rcv_nxt))
			tcp_dsack_note(s, c, g->seq, g->seq + g->len);
		if (c->state == TERN_TCP_TIME_WAIT && (g->flags & RTE_TCP_FIN_FLAG)) {
			/* the peer's FIN again (below RCV.NXT): our last ACK
			 * was lost. ACK it, restart 2 MSL (3.10.7.4) */
			c->keep_at = tcp_dl_at(s, 2 * s->tcp.msl_ns, TCP_DL_MS);
			tcp_timer_update(s, c);
		}
		tcp_ack_and_drop(s, c, g, m, &s->st.tcp_drop_out_of_window);
		return;
	}

	/* second: RST (RFC 5961 3.2) */
	if (rst) {
		if (seq != c->rcv_nxt) {
			challenge_ack(s, c);
			STAT_INC(s, tcp_drop_rst);
			rte_pktmbuf_free(m);
			return;
		}
		STAT_INC(s, tcp_rx_rst);
		rte_pktmbuf_free(m);
		switch (c->state) {
		case TERN_TCP_SYN_RECEIVED:
			/* passive: back to nothing (the listener stays) */
			if (c->flags & TF_PASSIVE) {
				tcp_conn_release(s, c);
				return;
			}
			STAT_INC(s, tcp_attempt_fails);
			tcp_conn_done(s, c, ECONNREFUSED);
			return;
		case TERN_TCP_ESTABLISHED:
			STAT_INC(s, tcp_estab_resets);
			tcp_conn_done(s, c, ECONNRESET);
			return;
		case TERN_TCP_CLOSE_WAIT:
			/* the peer already closed its side: what fails now
			 * is our writing (Linux tcp_reset: EPIPE) */
			STAT_INC(s, tcp_estab_resets);
			tcp_conn_done(s, c, EPIPE);
			return;
		case TERN_TCP_FIN_WAIT_1:
		case TERN_TCP_FIN_WAIT_2:
		case TERN_TCP_CLOSING:
		case TERN_TCP_LAST_ACK:
			/* our FIN (or data) unacknowledged: the close did not
			 * complete, whether the application closed or only
			 * shut its side down */
			tcp_conn_done(s, c, ECONNRESET);
			return;
		default:	/* TIME_WAIT: the application heard closed(0) */
			tcp_conn_done(s, c, 0);
			return;
		}
	}

	/* fourth: SYN in a synchronized state (RFC 5961 4.2) */
	if (g->flags & RTE_TCP_SYN_FLAG) {
		challenge_ack(s, c);
		STAT_INC(s, tcp_drop_syn);
		rte_pktmbuf_free(m);
		return;
	}

	/* RFC 7323 4.3: ts_recent from a segment covering rcv_nxt */
	if ((c->flags & TF_TS) && g->has_ts && seq_leq(seq, c->rcv_adv) &&
	    seq_leq(seq, c->rcv_nxt) && (int32_t)(g->tsval - c->ts_recent) >= 0) {
		c->ts_recent = g->tsval;
		cold->ts_recent_ms = tcp_ts_now(s);
	}

	/* fifth: ACK */
	if (!tcp_ack_input(s, c, g, m))
		return;
	tcp_keepalive_touch(s, c);

	/* seventh: text. m to the data, trimmed to the window. */
	uint32_t dlen = g->len;
	bool fin = (g->flags & RTE_TCP_FIN_FLAG) != 0;
	uint32_t dseq = seq;
	rte_pktmbuf_adj(m, g->hlen);
	if (dlen > 0) {
		switch (c->state) {
		case TERN_TCP_ESTABLISHED:
		case TERN_TCP_FIN_WAIT_1:
		case TERN_TCP_FIN_WAIT_2:
			break;
		default:
			/* CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer
			 * already sent its FIN; nothing more can come */
			STAT_INC(s, tcp_drop_state);
			rte_pktmbuf_free(m);
			tcp_output(s, c);
			return;
		}
		if (c->flags & TF_APP_CLOSED) {
			/* RFC 1122 4.2.2.13 as Linux: data for a closed
			 * application resets the connection */
			STAT_INC(s, tcp_drop_after_close);
			rte_pktmbuf_free(m);
			/* as a reply to the segment: <SEQ=SEG.ACK><CTL=RST> */
			tcp_send_seg(s, c, g->ack, 0, RTE_TCP_RST_FLAG);
			tcp_conn_done(s, c, 0);
			return;
		}
		/* drop what precedes rcv_nxt */
		if (seq_lt(dseq, c->rcv_nxt)) {
			uint32_t cut = c->rcv_nxt - dseq;
			tcp_dsack_note(s, c, dseq, dseq + RTE_MIN(cut, dlen));
			if (cut >= dlen) {
				STAT_INC(s, tcp_drop_dup_data);
				rte_pktmbuf_free(m);
				m = NULL;
				dlen = 0;
				c->flags |= TF_ACKNOW;	/* RFC 5681 4.2 */
			} else {
				/* across segments: the data may start in
				 * the second (a header-only first mbuf) */
				wf_trim_front(m, cut);
				dseq += cut;
				dlen -= cut;
			}
		}
		/* and what passes the window */
		uint32_t right = c->rcv_nxt + wnd;
		if (m != NULL && seq_gt(dseq + dlen, right)) {
			uint32_t keep = seq_gt(right, dseq) ? right - dseq : 0;
			fin = false;	/* the FIN lies past the window */
			if (keep == 0) {
				rte_pktmbuf_free(m);
				m = NULL;
				dlen = 0;
				c->flags |= TF_ACKNOW;
			} else {
				wf_trim_to(m, keep);
				dlen = keep;
			}
		}
		if (m != NULL) {
			STAT_ADD(s, tcp_rx_bytes, dlen);
			tcp_seq_note(&cold->rcvd_hi, c->rcv_nxt - cold->irs - 1);
			wf_trim_to(m, dlen);
			data_input(s, c, m, dseq);
			m = NULL;
			if (c->flags & TF_FREE)
				return;
		}
	} else {
		rte_pktmbuf_free(m);
		m = NULL;
	}
	if (m != NULL)
		rte_pktmbuf_free(m);

	/* eighth: FIN, once all before it has arrived */
	if (fin && seq + g->len + (g->flags & RTE_TCP_SYN_FLAG ? 1 : 0) == c->rcv_nxt &&
	    !(c->flags & TF_FIN_RCVD)) {
		c->flags |= TF_FIN_RCVD | TF_ACKNOW;
		c->rcv_nxt++;
		switch (c->state) {
		case TERN_TCP_SYN_RECEIVED:
		case TERN_TCP_ESTABLISHED:
			tcp_set_state(s, c, TERN_TCP_CLOSE_WAIT);
			break;
		case TERN_TCP_FIN_WAIT_1:
			/* our FIN not acked yet (else we would be in
			 * FIN-WAIT-2 after the ACK step) */
			tcp_set_state(s, c, TERN_TCP_CLOSING);
			break;
		case TERN_TCP_FIN_WAIT_2:
			tcp_send_ack(s, c);
			tcp_deliver_fin(s, c);
			if (!(c->flags & TF_FREE))
				tcp_enter_time_wait(s, c);
			return;
		default:
			break;
		}
		tcp_deliver_fin(s, c);
		if (c->flags & TF_FREE)
			return;
	} else if (fin && c->state == TERN_TCP_TIME_WAIT) {
		/* a retransmitted FIN: ACK it, restart 2 MSL (3.10.7.4) */
		tcp_send_ack(s, c);
		c->keep_at = tcp_dl_at(s, 2 * s->tcp.msl_ns, TCP_DL_MS);
		tcp_timer_update(s, c);
		return;
	} else if (fin) {
		c->flags |= TF_ACKNOW;	/* a FIN out of order: dup ACK */
	}
	tcp_output(s, c);
}

/* ---- header prediction ----------------------------------------------------- */

/* The two segments a bulk transfer is made of (Van Jacobson's header
 * prediction, as BSD's tcp_input and Linux's fast path): in ESTABLISHED,
 * only ACK (and PSH) set, the next sequence number expected, no SACK
 * blocks, the same window, nothing being sent again, a timestamp that
 * moves forward. Then
 * - a pure ACK that acknowledges new data goes straight to ack_advance;
 * - in-order data that acknowledges nothing new, fits the window and
 *   finds no out-of-order queue goes straight to data_input.
 * Each skips the RFC 9293 3.10.7.4 steps that cannot apply (PAWS, the
 * four sequence cases, RST, SYN, the state switch after the ACK, the
 * window trims, FIN). Anything else: false, and established_input does
 * every step. What both paths do is the same code the full path calls,
 * so prediction changes the cost, never the behaviour. */
static bool tcp_predict(struct tern_stack *s, struct tcp_conn *c,
			const struct tcp_seg *g, struct rte_mbuf *m)
{
	if ((g->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG |
			 RTE_TCP_URG_FLAG | RTE_TCP_ACK_FLAG)) != RTE_TCP_ACK_FLAG ||
	    g->seq != c->rcv_nxt || g->nsack != 0 ||
	    c->snd_nxt != c->snd_max ||
	    ((uint32_t)g->wnd << c->snd_wscale) != c->snd_wnd ||
	    (c->flags & (TF_RECOVERY | TF_PERSIST | TF_APP_CLOSED)))
		return false;
	if (c->flags & TF_TS) {
		if (!g->has_ts || (int32_t)(g->tsval - c->ts_recent) < 0)
			return false;
	}
	struct tcp_cold *cold = tcp_cold_of(s, c);
	if (g->len == 0) {
		/* a pure ACK of new data, not a duplicate, none to trim
		 * from the scoreboard */
		if (!seq_gt(g->ack, c->snd_una) || seq_gt(g->ack, c->snd_max) ||
		    c->dupacks != 0 ||
		    (unlikely(c->ext != 0) && tcp_ext_of(s, c)->sb_n != 0))
			return false;
		STAT_INC(s, tcp_rx_predicted_acks);
		if (c->flags & TF_TS) {
			c->ts_recent = g->tsval;
			cold->ts_recent_ms = tcp_ts_now(s);
		}
		cold->win_probes = 0;
		rte_pktmbuf_free(m);
		tcp_ack_advance(s, c, g);
		if (c->flags & TF_FREE)
			return true;
		c->snd_wl1 = g->seq;
		tcp_keepalive_touch(s, c);
		tcp_output(s, c);
		return true;
	}
	/* in-order data: nothing new acknowledged, all of it within the
	 * window, nothing waiting out of order */
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (g->ack != c->snd_una || g->len > wnd ||
	    (unlikely(c->ext != 0) && tcp_ext_of(s, c)->ooo.n != 0))
		return false;
	STAT_INC(s, tcp_rx_predicted_data);
	if (c->flags & TF_TS) {
		c->ts_recent = g->tsval;
		cold->ts_recent_ms = tcp_ts_now(s);
	}
	cold->win_probes = 0;
	if (seq_lt(c->snd_wl1, g->seq))	/* the same window: WL1 only */
		c->snd_wl1 = g->seq;
	tcp_keepalive_touch(s, c);
	rte_pktmbuf_adj(m, g->hlen);
	wf_trim_to(m, g->len);	/* Ethernet padding */
	STAT_ADD(s, tcp_rx_bytes, g->len);
	tcp_seq_note(&cold->rcvd_hi, c->rcv_nxt - cold->irs - 1);	/* bytes received */
	data_input(s, c, m, g->seq);
	if (c->flags & TF_FREE)
		return true;
	tcp_output(s, c);
	return true;
}

/* ---- entry -------------------------------------------------------------------- */

void tcp_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
	       unsigned hlen)
{
	(void)ifc;
	const struct rte_ipv4_hdr *iph = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct rte_ipv4_hdr ip = *iph;	/* survives the adj below */
	unsigned iplen = rte_be_to_cpu_16(ip.total_length) - hlen;
	rte_pktmbuf_adj(m, (uint16_t)hlen);

	struct tcp_seg g;
	if (!parse(s, m, &ip, iplen, &g)) {
		rte_pktmbuf_free(m);
		return;
	}
	/* wire segments: a GRO packet (offload/gro.c) stands for several */
	STAT_ADD(s, tcp_rx_segs, tern_ol_rx_segs(m, g.len));
	/* RFC 1122 4.2.3.10: no broadcast or multicast destination */
	if (unlikely(ip4_is_multicast(ip.dst_addr) ||
		     ip4_is_limited_bcast(ip.dst_addr) ||
		     iface_is_bcast(ifc, ip.dst_addr))) {
		STAT_INC(s, tcp_drop_bad_flags);
		rte_pktmbuf_free(m);
		return;
	}
	tcp_hold(s);
	rte_be16_t lport = rte_cpu_to_be_16(g.dport);
	rte_be16_t rport = rte_cpu_to_be_16(g.sport);
	/* the hash the burst worked out (tcp_rx_hints), if it still is
	 * this segment's */
	const struct tcp_rx_hint *x = s->rx_hint;
	uint32_t h = x != NULL && x->m == m && x->laddr == ip.dst_addr &&
			     x->raddr == ip.src_addr && x->lport == lport &&
			     x->rport == rport ?
		     x->hash : tcp_hash4(ip.dst_addr, ip.src_addr, lport, rport);
	struct tcp_conn *c = tcp_lookup_h(s, h, ip.dst_addr, ip.src_addr,
					  lport, rport);
	if (c == NULL) {
		struct tcp_listener *l = tcp_listener_find(s, ip.dst_addr, g.dport);
		if (l != NULL) {
			tcp_listen_input(s, l, &ip, &g, m);
		} else {
			/* CLOSED (3.10.7.1): RST unless it is one */
			if (g.flags & RTE_TCP_RST_FLAG) {
				STAT_INC(s, tcp_drop_rst);
			} else {
				STAT_INC(s, tcp_drop_no_conn);
				tcp_send_rst_reply(s, &ip, &g);
			}
			rte_pktmbuf_free(m);
		}
	} else if (c->state == TERN_TCP_ESTABLISHED && tcp_predict(s, c, &g, m)) {
		/* done on the predicted path */
	} else if (c->state == TERN_TCP_SYN_SENT) {
		tcp_syn_sent_input(s, c, &ip, &g, m);
	} else if (c->state == TERN_TCP_TIME_WAIT && tcp_time_wait_reusable(c, &g)) {
		/* a new incarnation of the tuple: the old one goes */
		struct tcp_listener *l = tcp_listener_find(s, ip.dst_addr, g.dport);
		if (l != NULL) {
			STAT_INC(s, tcp_tw_reused);
			tcp_conn_release(s, c);
			tcp_listen_input(s, l, &ip, &g, m);
		} else {
			tcp_established_input(s, c, &g, m);
		}
	} else {
		tcp_established_input(s, c, &g, m);
	}
	tcp_unhold(s);
}

int tcp_err4(struct tern_stack *s, const struct rte_ipv4_hdr *in,
	     const uint8_t *l4, int err, uint32_t info)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)l4;
	struct tcp_conn *c = tcp_lookup(s, in->src_addr, in->dst_addr,
					th->src_port, th->dst_port);
	if (c == NULL)
		return -ENOENT;
	/* RFC 5927 4.1: the quoted sequence number must be in flight */
	uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
	if (seq_lt(seq, c->snd_una) || seq_geq(seq, c->snd_max))
		return -ENOENT;
	STAT_INC(s, tcp_rx_icmp_errors);
	if (err == EMSGSIZE) {
		/* RFC 1191: the path learns the new MTU (ip4_frag.c, which
		 * believes nothing below its floor) and the MSS follows the
		 * route's; what is in flight goes again at the new size */
		uint16_t before = c->mss;
		pmtu_update(s, in->dst_addr, info);
		tcp_route_of(s, c)->epoch = 0;	/* look the route up again */
		tcp_route_sync(s, c);
		/* a SYN goes again by its own timer (moving snd_nxt back to
		 * the ISS there left it behind snd_una once the handshake
		 * completed) */
		if (c->mss < before && c->state != TERN_TCP_SYN_SENT &&
		    c->state != TERN_TCP_SYN_RECEIVED) {
			c->snd_nxt = c->snd_una;
			tcp_hold(s);
			tcp_output(s, c);
			tcp_unhold(s);
		}
		return 0;
	}
	/* RFC 5461 / RFC 1122 4.2.3.9: soft errors while established;
	 * a hard error during the handshake ends it */
	if (c->state == TERN_TCP_SYN_SENT && (err == ECONNREFUSED ||
					      err == EHOSTUNREACH ||
					      err == ENETUNREACH)) {
		tcp_hold(s);
		STAT_INC(s, tcp_attempt_fails);
		tcp_conn_done(s, c, err);
		tcp_unhold(s);
	}
	return 0;
}
