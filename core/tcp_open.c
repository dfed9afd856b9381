/* TCP opening: RFC 9293 3.10.7.2 (LISTEN: a SYN makes a connection in
 * SYN-RECEIVED, or is answered with a SYN cookie, RFC 4987 3.6; a
 * cookie's ACK makes one ESTABLISHED) and 3.10.7.3 (SYN-SENT), with the
 * options a SYN carries (RFC 7323, RFC 2018, MSS) and TIME-WAIT reuse
 * (RFC 6191). What follows the handshake is in tcp_input.c; every
 * segment dropped increments one tcp.drop_* counter. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "stack_priv.h"
#include "wirefmt.h"

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
	cold->max_sndwnd = RTE_MAX(cold->max_sndwnd, c->snd_wnd);
}

/* ---- LISTEN (3.10.7.2) --------------------------------------------------------- */

/* A connection for a listener's SYN (or a SYN cookie's ACK, g then
 * describing the SYN the cookie stands for): in the table, with its
 * route, the listener's options and the SYN's. NULL (counted) when the
 * table is full or there is no route. With scratch, the stack's scratch
 * block instead, for a SYN cookie's SYN,ACK: not in the table, given
 * back with tcp_conn_scratch_done. */
static struct tcp_conn *passive_conn_new(struct tern_stack *s,
					 struct tcp_listener *l,
					 const struct rte_ipv4_hdr *ip,
					 const struct tcp_seg *g, bool scratch)
{
	rte_be16_t lport = rte_cpu_to_be_16(g->dport);
	rte_be16_t rport = rte_cpu_to_be_16(g->sport);
	struct tcp_conn *c = scratch ?
		tcp_conn_scratch(s, ip->dst_addr, ip->src_addr, lport, rport) :
		tcp_conn_new(s, ip->dst_addr, ip->src_addr, lport, rport);
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
		if (scratch)
			tcp_conn_scratch_done(s, c);
		else
			tcp_conn_release(s, c);
		return NULL;
	}
	c->flags |= TF_PASSIVE;
	tcp_conn_opts_apply(s, c, &l->opts);
	tcp_listener_set(c, (uint32_t)(l - s->tcp.lst) + 1);
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
	struct tcp_conn *c = passive_conn_new(s, l, ip, &syn, false);
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
	cold->max_sndwnd = c->snd_wnd;
	l->pending++;	/* tcp_accepted takes it off */
	tcp_set_state(s, c, TERN_TCP_ESTABLISHED);
	tcp_keepalive_touch(s, c);
	tcp_timer_update(s, c);
	tcp_accepted(s, c);
	if (c->flags & TF_FREE) {
		rte_pktmbuf_free(m);
		return true;
	}
	/* the rest of the segment (data, FIN) as in ESTABLISHED */
	tcp_established_input(s, c, g, m);
	return true;
}

/* A SYN for a tuple in TIME-WAIT opens a new connection when it cannot
 * be an old duplicate (RFC 6191): its timestamp is newer than the last
 * one seen, or, without timestamps on both, its sequence number is above
 * the old connection's last (RFC 1122 4.2.2.13). */
bool tcp_time_wait_reusable(const struct tcp_conn *c,
			    const struct tcp_seg *g)
{
	if ((g->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
	    RTE_TCP_SYN_FLAG)
		return false;
	if ((c->flags & TF_TS) && g->has_ts)
		return (int32_t)(g->tsval - c->ts_recent) > 0;
	return seq_gt(g->seq, c->rcv_nxt);
}

void tcp_listen_input(struct tern_stack *s, struct tcp_listener *l,
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
	/* no room for another half-open connection: the backlog, or the
	 * table itself (a cookie needs no block until its ACK comes) */
	bool full = l->pending >= l->backlog || s->tcp.nfree == 0;
	if ((full && s->tcp.syncookies != 1) || s->tcp.syncookies == 2) {
		/* answer with a cookie and keep nothing: the scratch block
		 * below only builds the SYN,ACK */
		struct tcp_conn *c = passive_conn_new(s, l, ip, g, true);
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
		tcp_conn_scratch_done(s, c);
		return;
	}
	if (full) {
		/* as Linux without cookies: the SYN is dropped and the peer
		 * sends it again */
		if (l->pending >= l->backlog)
			STAT_INC(s, tcp_drop_listen_overflow);
		else
			STAT_INC(s, tcp_drop_table_full);
		return;
	}
	struct tcp_conn *c = passive_conn_new(s, l, ip, g, false);
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

void tcp_syn_sent_input(struct tern_stack *s, struct tcp_conn *c,
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
		tcp_keepalive_touch(s, c);
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
