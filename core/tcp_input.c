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

static void sb_update(struct tern_stack *s, struct tcp_conn *c,
		      const struct tcp_seg *g);
static void sack_recovery_output(struct tern_stack *s, struct tcp_conn *c);
static void established_input(struct tern_stack *s, struct tcp_conn *c,
			      const struct tcp_seg *g, struct rte_mbuf *m);
static void keepalive_touch(struct tern_stack *s, struct tcp_conn *c);

/* Sends an ACK for a segment that is not acceptable (RFC 9293 3.10.7.4
 * first check), unless it is a RST. The segment is dropped. */
static void ack_and_drop(struct tern_stack *s, struct tcp_conn *c,
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

/* Options of a SYN or SYN-ACK (RFC 7323 1.3, 2.2; RFC 2018 2; RFC 9293
 * 3.7.1): what both sides offered is in use. */
static void take_syn_options(struct tern_stack *s, struct tcp_conn *c,
			     const struct tcp_seg *g)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	tcp_route_sync(s, c);	/* the path MTU learned during the handshake */
	/* RFC 9293 3.7.1: 536 when the peer says nothing (RFC 6691) */
	cold->peer_mss = g->has_mss ? g->mss : 536;
	if (!g->has_ts)
		c->flags &= ~(uint32_t)TF_TS;
	if (!g->sack_perm)
		c->flags &= ~(uint32_t)TF_SACK;
	if (g->has_ws && (c->flags & TF_WS)) {
		c->snd_wscale = g->ws;
		cold->peer_wscale = g->ws;
	} else {
		c->flags &= ~(uint32_t)TF_WS;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
		cold->peer_wscale = 0xff;
	}
	if (c->flags & TF_TS) {
		c->ts_recent = g->tsval;
		cold->ts_recent_ms = tcp_ts_now(s);
	}
	/* The send MSS: the peer's, within our path MTU, less the options
	 * every segment carries (RFC 6691). */
	uint32_t mtu_mss = tcp_route_of(s, c)->mtu - sizeof(struct rte_ipv4_hdr) -
			   sizeof(struct rte_tcp_hdr);
	uint32_t mss = RTE_MIN((uint32_t)cold->peer_mss, mtu_mss);
	if (c->flags & TF_TS)
		mss -= 12;
	if (mss < 64)
		mss = 64;	/* a floor against absurd MSS options */
	c->mss = (uint16_t)mss;
	c->cwnd = tcp_initial_window(mss);
	c->ssthresh = UINT32_MAX;
	tcp_cc_of(cold)->init(s, c);
}

/* SYN/SYN-ACK window: never scaled (RFC 7323 2.2) */
static void take_syn_window(struct tern_stack *s, struct tcp_conn *c,
			    const struct tcp_seg *g)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	c->snd_wnd = g->wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = g->ack;
	cold->max_sndwnd = RTE_MAX(cold->max_sndwnd, c->snd_wnd);
}

static void keepalive_touch(struct tern_stack *s, struct tcp_conn *c)
{
	if (!(c->flags & TF_KEEPALIVE))
		return;
	struct tcp_ext *x = tcp_ext_of(s, c);	/* TF_KEEPALIVE has one */
	x->keep_probes = 0;
	if (c->state == TERN_TCP_TIME_WAIT || c->state == TERN_TCP_FIN_WAIT_2)
		return;
	c->keep_at = tern_stack_now(s) + (uint64_t)x->keepidle_s * TERN_NS_PER_S;
}

/* ---- LISTEN (3.10.7.2) --------------------------------------------------------- */

/* A connection for a listener's SYN (or a SYN cookie's ACK, g then
 * describing the SYN the cookie stands for): in the table, with its
 * route, the listener's options and the SYN's. NULL (counted) when the
 * table is full or there is no route. */
static struct tcp_conn *passive_conn_new(struct tern_stack *s,
					 struct tcp_listener *l,
					 const struct rte_ipv4_hdr *ip,
					 const struct tcp_seg *g)
{
	struct tcp_conn *c = tcp_conn_new(s, ip->dst_addr, ip->src_addr,
					  rte_cpu_to_be_16(g->dport),
					  rte_cpu_to_be_16(g->sport));
	if (c == NULL) {
		STAT_INC(s, tcp_drop_table_full);
		return NULL;
	}
	struct tcp_cold *cold = tcp_cold_of(s, c);
	struct tern_addr dst = tern_addr_v4(ip->src_addr);
	struct tern_addr src = tern_addr_v4(ip->dst_addr);
	struct tern_route rt;
	if (tern_route_get(s, &dst, &src, &rt) != 0 ||
	    tcp_route_hold(s, c, &rt) != 0) {
		STAT_INC(s, ip4_drop_no_route);
		tcp_conn_release(s, c);
		return NULL;
	}
	c->flags |= TF_PASSIVE;
	tcp_conn_opts_apply(s, c, &l->opts);
	cold->listener = (uint32_t)(l - s->tcp.lst) + 1;
	cold->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	take_syn_options(s, c, g);
	take_syn_window(s, c, g);
	return c;
}

/* Whether l sent a cookie recently enough for one to come back (a
 * cookie is good for two 64 s steps): only then is an ACK to the
 * listener checked as a cookie, as Linux's tcp_synq_no_recent_overflow.
 * A listener that never overflowed spends no hash on stray ACKs, counts
 * them as what they are (drop_no_conn, not syncookies_failed), and gives
 * a blind attacker no cookie to guess. */
static bool cookies_recent(const struct tern_stack *s,
			   const struct tcp_listener *l)
{
	return l->cookie_ns != 0 &&
	       tern_stack_now(s) - l->cookie_ns <= 2ull * 64 * TERN_NS_PER_S;
}

/* The ACK of a SYN cookie's SYN,ACK (RFC 4987 3.6): the connection is
 * made now, ESTABLISHED, from what the cookie carries. false when ack - 1
 * is not a cookie of ours. */
static bool cookie_ack(struct tern_stack *s, struct tcp_listener *l,
		       const struct rte_ipv4_hdr *ip, const struct tcp_seg *g,
		       struct rte_mbuf *m)
{
	uint16_t mss;
	if (s->tcp.syncookies == 1 || (g->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) ||
	    !cookies_recent(s, l) ||
	    !tcp_cookie_check(s, ip->dst_addr, ip->src_addr,
			      rte_cpu_to_be_16(g->dport), rte_cpu_to_be_16(g->sport),
			      g->seq - 1, g->ack - 1, &mss))
		return false;
	/* the SYN it answers, as far as the cookie tells */
	struct tcp_seg syn = *g;
	syn.flags = RTE_TCP_SYN_FLAG;
	syn.seq = g->seq - 1;
	syn.has_mss = true;
	syn.mss = mss;
	syn.has_ws = false;
	syn.sack_perm = false;
	syn.nsack = 0;
	if (g->has_ts) {
		uint8_t ws;
		bool sack;
		tcp_cookie_ts_opts(g->tsecr, &ws, &sack);
		syn.has_ws = ws <= TCP_MAX_WS;
		syn.ws = ws;
		syn.sack_perm = sack;
	}
	struct tcp_conn *c = passive_conn_new(s, l, ip, &syn);
	if (c == NULL) {
		rte_pktmbuf_free(m);
		return true;
	}
	struct tcp_cold *cold = tcp_cold_of(s, c);
	STAT_INC(s, tcp_syncookies_recv);
	STAT_INC(s, tcp_passive_opens);
	/* the window the SYN,ACK offered (unscaled, RFC 7323 2.2): the
	 * peer may send into it before we send anything (RFC 9293
	 * 3.8.6.2.2: the right edge never moves back) */
	c->rcv_adv = c->rcv_nxt + RTE_MIN(tcp_rcv_window(s, c), (uint32_t)UINT16_MAX);
	cold->iss = g->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = g->ack;
	c->recover = cold->iss;
	c->snd_sml = cold->iss;
	c->snd_wnd = g->wnd << c->snd_wscale;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = g->ack;
	cold->max_sndwnd = c->snd_wnd;
	l->pending++;	/* tcp_accepted takes it off */
	tcp_set_state(s, c, TERN_TCP_ESTABLISHED);
	keepalive_touch(s, c);
	tcp_timer_update(s, c);
	tcp_accepted(s, c);
	if (c->flags & TF_FREE) {
		rte_pktmbuf_free(m);
		return true;
	}
	/* the rest of the segment (data, FIN) as in ESTABLISHED */
	established_input(s, c, g, m);
	return true;
}

/* A SYN for a tuple in TIME-WAIT opens a new connection when it cannot
 * be an old duplicate (RFC 6191): its timestamp is newer than the last
 * one seen, or, without timestamps on both, its sequence number is above
 * the old connection's last (RFC 1122 4.2.2.13). */
static bool time_wait_reusable(const struct tcp_conn *c,
			       const struct tcp_seg *g)
{
	if ((g->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
	    RTE_TCP_SYN_FLAG)
		return false;
	if ((c->flags & TF_TS) && g->has_ts)
		return (int32_t)(g->tsval - c->ts_recent) > 0;
	return seq_gt(g->seq, c->rcv_nxt);
}

static void listen_input(struct tern_stack *s, struct tcp_listener *l,
			 const struct rte_ipv4_hdr *ip, const struct tcp_seg *g,
			 struct rte_mbuf *m)
{
	if (g->flags & RTE_TCP_RST_FLAG) {
		STAT_INC(s, tcp_drop_rst);
		rte_pktmbuf_free(m);
		return;
	}
	if (g->flags & RTE_TCP_ACK_FLAG) {
		if (cookie_ack(s, l, ip, g, m))
			return;
		if (!(g->flags & RTE_TCP_SYN_FLAG) && cookies_recent(s, l))
			STAT_INC(s, tcp_syncookies_failed);
		STAT_INC(s, tcp_drop_no_conn);
		tcp_send_rst_reply(s, ip, g);
		rte_pktmbuf_free(m);
		return;
	}
	if (!(g->flags & RTE_TCP_SYN_FLAG) || (g->flags & RTE_TCP_FIN_FLAG)) {
		STAT_INC(s, tcp_drop_bad_flags);
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_free(m);	/* data on a SYN is not taken (no TFO) */
	bool full = l->pending >= l->backlog;
	if ((full && s->tcp.syncookies != 1) || s->tcp.syncookies == 2) {
		/* answer with a cookie and keep nothing: the connection
		 * below only builds the SYN,ACK and goes at once */
		struct tcp_conn *c = passive_conn_new(s, l, ip, g);
		if (c == NULL)
			return;
		struct tcp_cold *cold = tcp_cold_of(s, c);
		if (!(c->flags & TF_TS)) {
			/* without timestamps the cookie has no room for
			 * window scaling and SACK-permitted (RFC 4987 3.6),
			 * so the SYN,ACK offers neither (as Linux): both ends
			 * then agree the connection goes without */
			c->flags &= ~(uint32_t)(TF_WS | TF_SACK);
			c->snd_wscale = 0;
			c->rcv_wscale = 0;
		}
		cold->iss = tcp_cookie_make(s, c, g->seq, cold->peer_mss);
		c->snd_una = cold->iss;
		c->snd_nxt = c->snd_max = cold->iss + 1;
		c->flags |= TF_COOKIE;
		l->cookie_ns = tern_stack_now(s);
		STAT_INC(s, tcp_syncookies_sent);
		tcp_send_seg(s, c, cold->iss, 0, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		tcp_conn_release(s, c);
		return;
	}
	if (full) {
		/* as Linux without cookies: the SYN is dropped and the peer
		 * sends it again */
		STAT_INC(s, tcp_drop_listen_overflow);
		return;
	}
	struct tcp_conn *c = passive_conn_new(s, l, ip, g);
	if (c == NULL)
		return;
	struct tcp_cold *cold = tcp_cold_of(s, c);
	l->pending++;
	cold->iss = tcp_isn(s, c);
	c->snd_una = cold->iss;
	c->snd_nxt = c->snd_max = cold->iss + 1;
	c->snd_sml = cold->iss;
	c->recover = cold->iss;	/* RFC 6582 3.2 step 1, as tern_tcp_connect */
	STAT_INC(s, tcp_passive_opens);
	tcp_set_state(s, c, TERN_TCP_SYN_RECEIVED);
	tcp_send_seg(s, c, cold->iss, 0, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	/* the handshake's RTT is the first sample (RFC 6298 2.2), as for
	 * an active open; a retransmitted SYN,ACK gives none (Karn) */
	c->flags |= TF_RTT_TIMING;
	c->rtt_seq = cold->iss;
	c->rtt_start_us = tcp_now_us(s);
	tcp_rto_arm(s, c);
}

/* ---- SYN-SENT (3.10.7.3) --------------------------------------------------- */

static void syn_sent_input(struct tern_stack *s, struct tcp_conn *c,
			   const struct rte_ipv4_hdr *ip, const struct tcp_seg *g,
			   struct rte_mbuf *m)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	bool ack = (g->flags & RTE_TCP_ACK_FLAG) != 0;
	rte_pktmbuf_free(m);	/* data on a SYN-ACK is not taken */
	if (ack && (seq_leq(g->ack, cold->iss) || seq_gt(g->ack, c->snd_max))) {
		STAT_INC(s, tcp_drop_bad_ack);
		if (!(g->flags & RTE_TCP_RST_FLAG))
			tcp_send_rst_reply(s, ip, g);
		return;
	}
	if (g->flags & RTE_TCP_RST_FLAG) {
		if (!ack) {
			STAT_INC(s, tcp_drop_rst);
			return;
		}
		STAT_INC(s, tcp_rx_rst);
		STAT_INC(s, tcp_attempt_fails);
		tcp_conn_done(s, c, ECONNREFUSED);
		return;
	}
	if (!(g->flags & RTE_TCP_SYN_FLAG)) {
		STAT_INC(s, tcp_drop_bad_flags);
		return;
	}
	cold->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	take_syn_options(s, c, g);
	take_syn_window(s, c, g);
	if (ack) {
		c->snd_una = g->ack;
		c->backoff = 0;
		c->retries = 0;
		c->rto_at = 0;
		if (c->flags & TF_RTT_TIMING) {
			c->flags &= ~(uint32_t)TF_RTT_TIMING;
			tcp_rtt_sample(s, c, tcp_now_us(s) - c->rtt_start_us);
		}
		tcp_set_state(s, c, TERN_TCP_ESTABLISHED);
		keepalive_touch(s, c);
		c->flags |= TF_ACKNOW;
		tcp_connected(s, c);
		if (c->flags & TF_FREE)
			return;
		tcp_output(s, c);
		tcp_timer_update(s, c);
		return;
	}
	/* simultaneous open (3.10.7.3 fourth step; RFC 9293 figure 7) */
	tcp_set_state(s, c, TERN_TCP_SYN_RECEIVED);
	tcp_send_seg(s, c, cold->iss, 0, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	tcp_rto_arm(s, c);
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
	bool filled = unlikely(c->ext != 0) && tcp_ext_of(s, c)->ooo.n > 0;
	tcp_deliver(s, c, m);
	if (c->flags & TF_FREE)
		return;
	if (filled) {
		ooo_drain(s, c);
		c->flags |= TF_ACKNOW;	/* RFC 5681 4.2: a hole filled */
		return;
	}
	/* delayed ACK (RFC 1122 4.2.3.2; RFC 5681 4.2): at least every
	 * second full-sized segment, within delack; a GRO packet counts
	 * the segments it merged */
	c->unacked_segs = (uint16_t)(c->unacked_segs + tern_ol_rx_segs(m, len));
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
		c->dack_at = tern_stack_now(s) + s->tcp.delack_ns;
		tcp_timer_update(s, c);
	}
}

/* ---- ACK processing (3.10.7.4 fifth step) ------------------------------------ */

/* New data acknowledged is forward progress: the next hop is there
 * (RFC 4861 7.3.1 hints from upper layers; Linux's dst_confirm), so its
 * entry stays REACHABLE and a sender is not held up by probes every
 * ReachableTime. At most about once a second per shared route. */
static inline void route_confirm(struct tern_stack *s, const struct tcp_conn *c)
{
	uint32_t i = tcp_cold_of(s, c)->route;
	if (unlikely(i == TCP_NO_ROUTE))
		return;
	struct tcp_route_ent *e = &s->tcp.routes.ent[i];
	uint32_t now = (uint32_t)(tern_stack_now(s) >> 30);
	if (e->confirmed != now) {
		e->confirmed = now;
		neigh_confirm_cached(s, e->rt.neigh, e->rt.neigh_gen);
	}
}

/* New data acknowledged: frees it, samples the RTT, grows the window or
 * handles recovery (RFC 6582), updates timers. */
static void ack_advance(struct tern_stack *s, struct tcp_conn *c,
			const struct tcp_seg *g)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	uint32_t acked = g->ack - c->snd_una;
	uint32_t data = acked;
	/* the FIN takes a sequence number, not a byte of the queue */
	if ((c->flags & TF_FIN_SENT) && g->ack == c->snd_una + c->sndq_bytes + 1)
		data = c->sndq_bytes;
	if (data > c->sndq_bytes)
		data = c->sndq_bytes;
	/* RTT (RFC 6298 3; Karn: only segments not sent again) */
	if ((c->flags & TF_RTT_TIMING) && seq_gt(g->ack, c->rtt_seq)) {
		c->flags &= ~(uint32_t)TF_RTT_TIMING;
		tcp_rtt_sample(s, c, tcp_now_us(s) - c->rtt_start_us);
		/* the backed-off RTO stays until a sample replaces it
		 * (RFC 6298 5, Karn) */
		c->backoff = 0;
	}
	c->retries = 0;
	route_confirm(s, c);
	tcp_sndq_acked(s, c, data);
	tcp_seq_note(&cold->acked_hi, g->ack - cold->iss - 1);	/* bytes acked */
	c->snd_una = g->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;

	if (c->flags & TF_RECOVERY) {
		if (seq_geq(g->ack, c->recover)) {
			/* full ACK (RFC 6582 3.2 step 3): deflate to
			 * ssthresh, the step's second choice and Linux's;
			 * RFC 6675 5: recovery ends */
			c->cwnd = c->ssthresh;
			c->flags &= ~(uint32_t)(TF_RECOVERY | TF_SACK_RECOV);
			c->dupacks = 0;
		} else if (c->flags & TF_SACK_RECOV) {
			/* partial ACK in SACK recovery: the scoreboard says
			 * what goes (RFC 6675 5 (C)) */
			sb_update(s, c, g);
			struct tcp_ext *x = tcp_ext_of(s, c);
			if (x != NULL && seq_lt(x->high_rxt, c->snd_una))
				x->high_rxt = c->snd_una;
			sack_recovery_output(s, c);
			tcp_rto_arm(s, c);
		} else {
			/* partial ACK (step 4): send the next hole, deflate
			 * by what was acked, add back one MSS */
			STAT_INC(s, tcp_fast_retrans);
			tcp_send_seg(s, c, c->snd_una,
				     RTE_MIN((uint32_t)c->mss, c->sndq_bytes),
				     RTE_TCP_ACK_FLAG);
			STAT_INC(s, tcp_retrans_segs);
			cold->retransmits++;
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			c->cwnd += c->mss;
			if (c->cwnd < c->mss)
				c->cwnd = c->mss;
		}
	} else {
		c->dupacks = 0;
		tcp_cc_of(cold)->ack(s, c, acked);
	}
	/* RFC 6298 5.2/5.3: stop the timer when all is acked, else restart */
	c->flags &= ~(uint32_t)TF_PERSIST;
	if (c->snd_una == c->snd_max)
		c->rto_at = 0;
	else
		tcp_rto_arm(s, c);
	tcp_timer_update(s, c);
	if (data > 0 && c->ops != NULL && c->ops->sent != NULL &&
	    !(c->flags & TF_APP_CLOSED))
		c->ops->sent(c->arg, (struct tern_tcp_conn *)c, data);
}

/* A SACK block about data we sent, above the cumulative ACK (RFC 2018
 * 4: others are ignored). */
static inline bool sack_block_ok(const struct tcp_conn *c,
				 const struct tcp_sack_block *b)
{
	return seq_gt(b->start, c->snd_una) && seq_lt(b->start, b->end) &&
	       seq_leq(b->end, c->snd_max);
}

/* Bytes the ACK's SACK blocks report above the cumulative ACK. */
static uint32_t sacked_above_una(const struct tcp_conn *c,
				 const struct tcp_seg *g)
{
	uint32_t n = 0;
	if (!(c->flags & TF_SACK))
		return 0;
	for (unsigned i = 0; i < g->nsack; i++)
		if (sack_block_ok(c, &g->sack[i]))
			n += g->sack[i].end - g->sack[i].start;
	return n;
}

/* RFC 6675 2: with SACK, an ACK is a duplicate when its blocks report
 * data above the cumulative ACK not SACKed before, whatever its window
 * and whether it carries data. RFC 5681's conditions (no data, the same
 * window) tell a dupack from a window update or a data segment when
 * nothing else can; a new SACK block says it outright. Linux receivers
 * grow their window with nearly every ACK (receive buffer auto-tuning)
 * and, in a two-way transfer, carry their SACKs on data: without this
 * their dupacks did not count and losses waited for the RTO. */
static bool sack_news(struct tern_stack *s, const struct tcp_conn *c,
		      const struct tcp_seg *g)
{
	bool news = false;
	if (!(c->flags & TF_SACK) || g->nsack == 0)
		return false;
	/* no block: every block above snd_una is news */
	struct tcp_ext *x = tcp_ext_get(s, (struct tcp_conn *)c);
	/* what was SACKed before, unless snd_una passed it (or it was
	 * never set) */
	uint32_t high = x != NULL && seq_gt(x->sack_high, c->snd_una) &&
			seq_leq(x->sack_high, c->snd_max) ?
			x->sack_high : c->snd_una;
	for (unsigned i = 0; i < g->nsack; i++) {
		const struct tcp_sack_block *b = &g->sack[i];
		if (sack_block_ok(c, b) && seq_gt(b->end, high)) {
			high = b->end;
			news = true;
		}
	}
	if (x != NULL)
		x->sack_high = high;
	return news;
}

/* ---- SACK scoreboard and loss recovery (RFC 6675) ------------------------------ */

/* The scoreboard: what the peer SACKed above snd_una, as up to
 * TCP_SB_MAX sorted, disjoint ranges (the on-demand block's sb). More
 * ranges than that keep the lowest ones, which recovery acts on. */
static void sb_trim(struct tcp_ext *x, const struct tcp_conn *c)
{
	unsigned k = 0;
	for (unsigned i = 0; i < x->sb_n; i++) {
		struct tcp_sack_block b = x->sb[i];
		if (seq_leq(b.end, c->snd_una) || seq_gt(b.end, c->snd_max))
			continue;
		if (seq_lt(b.start, c->snd_una))
			b.start = c->snd_una;
		x->sb[k++] = b;
	}
	x->sb_n = (uint8_t)k;
}

static void sb_add(struct tcp_ext *x, struct tcp_sack_block b)
{
	struct tcp_sack_block out[TCP_SB_MAX + 1];
	unsigned n = 0;
	bool placed = false;
	for (unsigned i = 0; i <= x->sb_n; i++) {
		struct tcp_sack_block cur;
		if (i < x->sb_n && (placed || seq_lt(x->sb[i].start, b.start)))
			cur = x->sb[i];
		else if (!placed) {
			cur = b;
			placed = true;
			i--;	/* x->sb[i] still to place */
		} else
			break;
		if (n > 0 && seq_geq(out[n - 1].end, cur.start)) {
			if (seq_gt(cur.end, out[n - 1].end))
				out[n - 1].end = cur.end;
		} else if (n < TCP_SB_MAX + 1) {
			out[n++] = cur;
		}
	}
	if (n > TCP_SB_MAX)
		n = TCP_SB_MAX;
	memcpy(x->sb, out, n * sizeof(out[0]));
	x->sb_n = (uint8_t)n;
}

static void sb_update(struct tern_stack *s, struct tcp_conn *c,
		      const struct tcp_seg *g)
{
	struct tcp_ext *x = (c->flags & TF_SACK) && g->nsack > 0 ?
			    tcp_ext_get(s, c) : tcp_ext_of(s, c);
	if (x == NULL)
		return;	/* no block: no scoreboard */
	sb_trim(x, c);
	if (!(c->flags & TF_SACK))
		return;
	for (unsigned i = 0; i < g->nsack; i++)
		if (sack_block_ok(c, &g->sack[i]))
			sb_add(x, g->sack[i]);
}

/* SACKed bytes above seq. */
static uint32_t sb_above(const struct tcp_ext *x, uint32_t seq)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < x->sb_n; i++) {
		const struct tcp_sack_block *b = &x->sb[i];
		if (seq_geq(b->start, seq))
			n += b->end - b->start;
		else if (seq_gt(b->end, seq))
			n += b->end - seq;
	}
	return n;
}

/* IsLost (RFC 6675 4): more than (DupThresh - 1) * SMSS bytes SACKed
 * above seq. */
static bool sb_lost(const struct tcp_ext *x, const struct tcp_conn *c,
		    uint32_t seq)
{
	return sb_above(x, seq) > 2u * c->mss;
}

/* The holes below the highest SACKed byte, in order: hole i runs from
 * the end of range i - 1 (snd_una for the first) to the start of range i. */
static void sb_hole(const struct tcp_ext *x, const struct tcp_conn *c,
		    unsigned i, uint32_t *start, uint32_t *end)
{
	*start = i == 0 ? c->snd_una : x->sb[i - 1].end;
	*end = x->sb[i].start;
}

/* pipe (RFC 6675 4, SetPipe): bytes the network holds: every byte not
 * SACKed counts unless lost, plus each byte retransmitted (below
 * HighRxt) again. */
static uint32_t sb_pipe(const struct tcp_ext *x, const struct tcp_conn *c)
{
	uint32_t pipe = 0;
	for (unsigned i = 0; i <= x->sb_n; i++) {
		uint32_t a, b;
		if (i < x->sb_n)
			sb_hole(x, c, i, &a, &b);
		else {
			a = x->sb_n ? x->sb[x->sb_n - 1].end : c->snd_una;
			b = c->snd_max;
		}
		if (!seq_lt(a, b))
			continue;
		if (!(i < x->sb_n && sb_lost(x, c, a)))
			pipe += b - a;
		if (seq_gt(x->high_rxt, a))
			pipe += (seq_lt(x->high_rxt, b) ? x->high_rxt : b) - a;
	}
	return pipe;
}

/* NextSeg (RFC 6675 4) and the sending loop of 5 (C): while pipe leaves
 * room in cwnd, (1) the lowest lost hole above HighRxt, (2) new data,
 * (3) a hole above HighRxt below the highest SACKed byte. */
static void sack_recovery_output(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x == NULL)
		return;	/* SACK recovery has one */
	for (int guard = 0; guard < 64; guard++) {
		if (sb_pipe(x, c) + c->mss > c->cwnd)
			break;
		uint32_t seq = 0, len = 0;
		bool found = false;
		for (int rule = 1; rule <= 3 && !found; rule += 2) {
			for (unsigned i = 0; i < x->sb_n && !found; i++) {
				uint32_t a, b;
				sb_hole(x, c, i, &a, &b);
				if (seq_lt(a, x->high_rxt))
					a = x->high_rxt;
				if (!seq_lt(a, b))
					continue;
				if (rule == 1 && !sb_lost(x, c, a))
					continue;
				seq = a;
				len = RTE_MIN(b - a, (uint32_t)c->mss);
				found = true;
			}
			if (rule == 1 && !found) {
				/* rule 2: new data, if the windows let it go */
				uint32_t end = c->snd_una + c->sndq_bytes;
				if (seq_lt(c->snd_max, end) &&
				    seq_leq(c->snd_max + 1, c->snd_una + c->snd_wnd)) {
					uint32_t n = RTE_MIN(end - c->snd_max,
							     (uint32_t)c->mss);
					n = RTE_MIN(n, c->snd_una + c->snd_wnd - c->snd_max);
					if (tcp_send_seg(s, c, c->snd_max, n,
							 RTE_TCP_ACK_FLAG) != 0)
						return;
					STAT_ADD(s, tcp_tx_bytes, n);
					cold->bytes_sent += n;
					c->snd_max += n;
					c->snd_nxt = c->snd_max;
					found = true;
					len = 0;	/* sent */
				}
			}
		}
		if (!found)
			break;
		if (len == 0)
			continue;
		if (tcp_send_seg(s, c, seq, len, RTE_TCP_ACK_FLAG) != 0)
			return;
		STAT_INC(s, tcp_retrans_segs);
		STAT_INC(s, tcp_sack_retrans);
		cold->retransmits++;
		x->high_rxt = seq + len;
	}
}

/* RFC 5681 2 (DUPLICATE ACKNOWLEDGMENT) and 3.2, RFC 3042, RFC 6582. */
static void dup_ack(struct tern_stack *s, struct tcp_conn *c,
		    const struct tcp_seg *g)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	STAT_INC(s, tcp_dup_acks);
	if (c->flags & TF_SACK_RECOV) {
		sack_recovery_output(s, c);	/* RFC 6675 5 (C) */
		return;
	}
	if (c->flags & TF_RECOVERY) {
		c->cwnd += c->mss;	/* inflate (RFC 6582 3.2 step 5) */
		return;
	}
	/* RFC 6675 4 (IsLost): the segment at snd_una is lost once more
	 * than (DupThresh - 1) * SMSS bytes above it are SACKed, however
	 * few ACKs said so. Linux receivers acknowledge a burst with one
	 * ACK (its SACK block covering all of it), so counting ACKs alone
	 * left such losses to the RTO. */
	if (c->dupacks < 2 && sacked_above_una(c, g) > 2u * c->mss)
		c->dupacks = 2;
	c->dupacks++;
	if (c->dupacks < 3) {
		/* limited transmit (RFC 3042): one new segment per dupack,
		 * past cwnd by at most two */
		uint32_t sndq_end = c->snd_una + c->sndq_bytes;
		uint32_t flight = c->snd_max - c->snd_una;
		if (seq_lt(c->snd_nxt, sndq_end) &&
		    flight + c->mss <= c->cwnd + 2u * c->mss &&
		    seq_leq(c->snd_nxt + c->mss, c->snd_una + c->snd_wnd)) {
			uint32_t len = RTE_MIN((uint32_t)c->mss, sndq_end - c->snd_nxt);
			uint8_t fl = RTE_TCP_ACK_FLAG;
			if (c->snd_nxt + len == sndq_end)
				fl |= RTE_TCP_PSH_FLAG;
			if (tcp_send_seg(s, c, c->snd_nxt, len, fl) == 0) {
				c->snd_nxt += len;
				c->snd_max = seq_max(c->snd_max, c->snd_nxt);
				STAT_ADD(s, tcp_tx_bytes, len);
				cold->bytes_sent += len;
			}
		}
		return;
	}
	if (c->dupacks != 3)
		return;
	/* RFC 6582 3.2 step 2: only when the ACK covers more than
	 * "recover" (one fast retransmit per window of data) */
	if (!seq_gt(c->snd_una, c->recover))
		return;
	tcp_cc_of(cold)->cong(s, c);
	c->recover = c->snd_max;
	c->flags |= TF_RECOVERY;
	c->flags &= ~(uint32_t)TF_RTT_TIMING;
	STAT_INC(s, tcp_fast_retrans);
	struct tcp_ext *x = tcp_ext_of(s, c);
	if ((c->flags & TF_SACK) && x != NULL && x->sb_n > 0) {
		/* RFC 6675 5 steps 4.1-4.4: cwnd = ssthresh, the first
		 * hole goes now, then what the pipe allows */
		c->flags |= TF_SACK_RECOV;
		STAT_INC(s, tcp_sack_recoveries);
		c->cwnd = c->ssthresh;
		uint32_t len = RTE_MIN((uint32_t)c->mss, x->sb[0].start - c->snd_una);
		STAT_INC(s, tcp_retrans_segs);
		cold->retransmits++;
		tcp_send_seg(s, c, c->snd_una, len, RTE_TCP_ACK_FLAG);
		x->high_rxt = c->snd_una + len;
		sack_recovery_output(s, c);
		tcp_rto_arm(s, c);
		return;
	}
	STAT_INC(s, tcp_retrans_segs);
	cold->retransmits++;
	tcp_send_seg(s, c, c->snd_una, RTE_MIN((uint32_t)c->mss, c->sndq_bytes),
		     RTE_TCP_ACK_FLAG);
	c->cwnd = c->ssthresh + 3u * c->mss;
	tcp_rto_arm(s, c);
}

/* The fifth step for synchronized states. false when the segment is
 * dropped (counted) or the connection went. */
static bool ack_input(struct tern_stack *s, struct tcp_conn *c,
		      const struct tcp_seg *g, struct rte_mbuf *m)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	if (!(g->flags & RTE_TCP_ACK_FLAG)) {
		STAT_INC(s, tcp_drop_bad_flags);
		rte_pktmbuf_free(m);
		return false;
	}
	if (c->state == TERN_TCP_SYN_RECEIVED) {
		if (seq_leq(g->ack, c->snd_una) || seq_gt(g->ack, c->snd_max)) {
			/* <SEQ=SEG.ACK><CTL=RST> */
			STAT_INC(s, tcp_drop_bad_ack);
			rte_pktmbuf_free(m);
			tcp_send_seg(s, c, g->ack, 0, RTE_TCP_RST_FLAG);
			return false;
		}
		c->snd_una = g->ack;
		c->backoff = 0;
		c->retries = 0;
		c->rto_at = 0;	/* the window: below, as for any ACK */
		if (c->flags & TF_RTT_TIMING) {
			c->flags &= ~(uint32_t)TF_RTT_TIMING;
			tcp_rtt_sample(s, c, tcp_now_us(s) - c->rtt_start_us);
		}
		tcp_set_state(s, c, TERN_TCP_ESTABLISHED);
		keepalive_touch(s, c);
		tcp_timer_update(s, c);
		if (c->flags & TF_PASSIVE)
			tcp_accepted(s, c);
		else
			tcp_connected(s, c);	/* simultaneous open */
		if (c->flags & TF_FREE) {
			rte_pktmbuf_free(m);
			return false;
		}
		/* continue with this segment as in ESTABLISHED */
	}
	/* RFC 5961 5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT */
	uint32_t lo = c->snd_una - RTE_MAX(cold->max_sndwnd, 1u);
	if (seq_gt(g->ack, c->snd_max)) {
		/* acks what we never sent: ACK and drop (3.10.7.4) */
		ack_and_drop(s, c, g, m, &s->st.tcp_drop_bad_ack);
		return false;
	}
	if (seq_lt(g->ack, lo)) {
		STAT_INC(s, tcp_challenge_acks);
		ack_and_drop(s, c, g, m, &s->st.tcp_drop_bad_ack);
		return false;
	}
	cold->win_probes = 0;	/* the peer answers (tcp_timer.c) */
	bool advanced = seq_gt(g->ack, c->snd_una);
	uint32_t wnd = g->wnd << c->snd_wscale;
	if (advanced) {
		ack_advance(s, c, g);
		if (c->flags & TF_FREE) {
			rte_pktmbuf_free(m);
			return false;
		}
		sb_update(s, c, g);
	} else if (g->ack == c->snd_una &&
		   !(g->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) &&
		   c->snd_max != c->snd_una) {
		bool news = sack_news(s, c, g);
		sb_update(s, c, g);
		if ((g->len == 0 && wnd == c->snd_wnd) || news)
			dup_ack(s, c, g);
	}
	/* window update (3.10.7.4: SND.WL1 < SEG.SEQ, or = and WL2 <= ACK) */
	if (seq_lt(c->snd_wl1, g->seq) ||
	    (c->snd_wl1 == g->seq && seq_leq(c->snd_wl2, g->ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = g->seq;
		c->snd_wl2 = g->ack;
		cold->max_sndwnd = RTE_MAX(cold->max_sndwnd, wnd);
	}
	/* our FIN acknowledged? */
	bool fin_acked = (c->flags & TF_FIN_SENT) && c->snd_una == c->snd_max &&
			 c->sndq_bytes == 0;
	switch (c->state) {
	case TERN_TCP_FIN_WAIT_1:
		if (fin_acked) {
			tcp_set_state(s, c, TERN_TCP_FIN_WAIT_2);
			if (c->flags & TF_APP_CLOSED) {
				c->keep_at = tern_stack_now(s) + s->tcp.fin_timeout_ns;
				tcp_timer_update(s, c);
			}
		}
		break;
	case TERN_TCP_CLOSING:
		if (fin_acked) {
			tcp_enter_time_wait(s, c);
			rte_pktmbuf_free(m);
			return false;
		}
		break;
	case TERN_TCP_LAST_ACK:
		if (fin_acked) {
			rte_pktmbuf_free(m);
			tcp_conn_done(s, c, 0);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* ---- synchronized states (3.10.7.4) ---------------------------------------- */

static void established_input(struct tern_stack *s, struct tcp_conn *c,
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
			established_input(s, c, &ack, m);
			return;
		}
	}

	/* RFC 7323 5.3 (PAWS) before the sequence check: R1; a timestamp
	 * one tick behind still passes (Linux's TCP_PAWS_WINDOW: clocks
	 * read at the edge of a tick) */
	if ((c->flags & TF_TS) && g->has_ts && !rst &&
	    (int32_t)(c->ts_recent - g->tsval) > 1 &&
	    tcp_ts_now(s) - cold->ts_recent_ms < TCP_PAWS_IDLE_MS) {
		ack_and_drop(s, c, g, m, &s->st.tcp_drop_paws);
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
			c->keep_at = tern_stack_now(s) + 2 * s->tcp.msl_ns;
			tcp_timer_update(s, c);
		}
		ack_and_drop(s, c, g, m, &s->st.tcp_drop_out_of_window);
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
	if (!ack_input(s, c, g, m))
		return;
	keepalive_touch(s, c);

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
		c->keep_at = tern_stack_now(s) + 2 * s->tcp.msl_ns;
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
		ack_advance(s, c, g);
		if (c->flags & TF_FREE)
			return true;
		c->snd_wl1 = g->seq;
		c->snd_wl2 = g->ack;
		keepalive_touch(s, c);
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
	if (seq_lt(c->snd_wl1, g->seq) ||
	    (c->snd_wl1 == g->seq && seq_leq(c->snd_wl2, g->ack))) {
		c->snd_wl1 = g->seq;
		c->snd_wl2 = g->ack;
	}
	keepalive_touch(s, c);
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
			listen_input(s, l, &ip, &g, m);
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
		syn_sent_input(s, c, &ip, &g, m);
	} else if (c->state == TERN_TCP_TIME_WAIT && time_wait_reusable(c, &g)) {
		/* a new incarnation of the tuple: the old one goes */
		struct tcp_listener *l = tcp_listener_find(s, ip.dst_addr, g.dport);
		if (l != NULL) {
			STAT_INC(s, tcp_tw_reused);
			tcp_conn_release(s, c);
			listen_input(s, l, &ip, &g, m);
		} else {
			established_input(s, c, &g, m);
		}
	} else {
		established_input(s, c, &g, m);
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
