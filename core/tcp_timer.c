/* TCP timers: one wheel entry per connection, armed at the earliest of
 * its deadlines (retransmission or persist, delayed ACK, keepalive or
 * TIME_WAIT or FIN-WAIT-2); RTT estimation and the RTO (RFC 6298). */
#include <errno.h>

#include "stack_priv.h"

static inline uint64_t earliest(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* A deadline that goes away leaves the timer where it is: it fires
 * once, finds nothing due and stays off (tcp_timer_fire). Cancelling
 * at every ACK that empties the flight and inserting again at the next
 * segment sent was a tenth of a request/response exchange; pushing a
 * pending timer later only writes its expiry (tern_timer_arm). */
void tcp_timer_update(struct tern_stack *s, struct tcp_conn *c)
{
	uint64_t at = 0;
	if (c->rto_at != 0)
		at = tcp_dl_ns(s, c->rto_at, TCP_DL_US);
	if (c->dack_at != 0)
		at = earliest(at, tcp_dl_ns(s, c->dack_at, TCP_DL_US));
	if (c->keep_at != 0)
		at = earliest(at, tcp_dl_ns(s, c->keep_at, TCP_DL_MS));
	if (at == 0)
		return;
	if (c->timer.pprev == NULL || c->timer.expires_ns != at)
		tw_arm(s, &c->timer, at);
}

/* RFC 6298 2.1 (before any sample), 2.2, 2.3 in integers as
 * Jacobson/Karels: srtt is scaled by 8, rttvar by 4, so RTO = SRTT +
 * max(G, 4 RTTVAR) = srtt/8 + max(G, rttvar); clamped (2.4, 2.5). Worked
 * out when needed rather than kept: four bytes of every block. */
uint32_t tcp_rto_us(const struct tern_stack *s, const struct tcp_conn *c)
{
	if (c->srtt == 0)
		return s->tcp.rto_init_us;
	uint32_t g = (uint32_t)(s->tcp.tick_us ? s->tcp.tick_us : 1);
	uint32_t var = c->rttvar > g ? c->rttvar : g;
	uint64_t rto = (uint64_t)(c->srtt >> 3) + var;
	if (rto < s->tcp.rto_min_us)
		rto = s->tcp.rto_min_us;
	if (rto > s->tcp.rto_max_us)
		rto = s->tcp.rto_max_us;
	return (uint32_t)rto;
}

void tcp_rto_arm(struct tern_stack *s, struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)tcp_rto_us(s, c) << c->backoff;
	if (rto > s->tcp.rto_max_us)
		rto = s->tcp.rto_max_us;
	c->rto_at = tcp_dl_at(s, rto * 1000u, TCP_DL_US);
	tcp_timer_update(s, c);
}

/* RFC 6298 2.2 and 2.3: the estimators (tcp_rto_us makes the RTO). */
void tcp_rtt_sample(struct tern_stack *s, struct tcp_conn *c, uint32_t rtt_us)
{
	(void)s;
	if (rtt_us == 0)
		rtt_us = 1;
	if (c->srtt == 0) {
		c->srtt = rtt_us << 3;
		c->rttvar = rtt_us << 1;	/* R/2, scaled by 4 */
	} else {
		int32_t delta = (int32_t)rtt_us - (int32_t)(c->srtt >> 3);
		c->srtt = (uint32_t)((int32_t)c->srtt + delta);	/* += delta/8, scaled */
		if (delta < 0)
			delta = -delta;
		delta -= (int32_t)(c->rttvar >> 2);
		c->rttvar = (uint32_t)((int32_t)c->rttvar + delta);	/* += (|d| - v)/4 */
	}
}

/* ---- expiries ------------------------------------------------------------ */

static void rto_expired(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	c->rto_at = 0;
	if (c->flags & TF_PERSIST) {
		/* RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17: probe the zero window
		 * (as Linux: a segment one below SND.UNA, which the peer
		 * answers with its window), backing off without limit. */
		uint32_t edge = c->snd_una + c->snd_wnd;
		uint32_t unsent = c->snd_una + c->sndq_bytes - c->snd_nxt;
		if (seq_gt(edge, c->snd_nxt) && unsent > 0) {
			/* 3.8.6.2.1 (d): send what the small window takes */
			c->flags &= ~(uint32_t)TF_PERSIST;
			uint32_t len = RTE_MIN(RTE_MIN(edge - c->snd_nxt, unsent),
					       (uint32_t)c->mss);
			if (tcp_send_seg(s, c, c->snd_nxt, len, RTE_TCP_ACK_FLAG |
					 RTE_TCP_PSH_FLAG) == 0) {
				STAT_ADD(s, tcp_tx_bytes, len);
				c->snd_nxt += len;
				c->snd_max = seq_max(c->snd_max, c->snd_nxt);
			}
			tcp_rto_arm(s, c);
			return;
		}
		/* RFC 1122 4.2.2.17 keeps the connection while the probes
		 * are acknowledged; when none is (the peer is gone), give up
		 * as on retransmissions (Linux: tcp_retries2), else a closed
		 * connection with data queued would probe forever. */
		if (cold->win_probes >= s->tcp.retries) {
			STAT_INC(s, tcp_conn_timeouts);
			tcp_conn_done(s, c, ETIMEDOUT);
			return;
		}
		cold->win_probes++;
		STAT_INC(s, tcp_window_probes);
		tcp_send_seg(s, c, c->snd_una - 1, 0, RTE_TCP_ACK_FLAG);
		if (c->backoff < 16)
			c->backoff++;
		tcp_rto_arm(s, c);
		return;
	}
	STAT_INC(s, tcp_rto_expired);
	bool syn = c->state == TERN_TCP_SYN_SENT ||
		   c->state == TERN_TCP_SYN_RECEIVED;
	uint8_t limit = !syn ? s->tcp.retries :
			cold->syn_retries ? cold->syn_retries : s->tcp.syn_retries;
	if (c->retries >= limit) {
		STAT_INC(s, tcp_conn_timeouts);
		if (c->state == TERN_TCP_SYN_SENT)
			STAT_INC(s, tcp_attempt_fails);
		tcp_conn_done(s, c, ETIMEDOUT);
		return;
	}
	c->retries++;
	if (c->backoff < 16)
		c->backoff++;
	/* Karn: no RTT from what is sent again */
	c->flags &= ~(uint32_t)TF_RTT_TIMING;
	if (c->state == TERN_TCP_SYN_SENT) {
		STAT_INC(s, tcp_syn_retrans);
		cold->retransmits++;
		tcp_send_seg(s, c, cold->iss, 0, RTE_TCP_SYN_FLAG);
		tcp_rto_arm(s, c);
		return;
	}
	if (c->state == TERN_TCP_SYN_RECEIVED) {
		STAT_INC(s, tcp_syn_retrans);
		cold->retransmits++;
		tcp_send_seg(s, c, cold->iss, 0,
			     RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		tcp_rto_arm(s, c);
		return;
	}
	/* RFC 5681 3.1 (eq. 4) via the algorithm, then loss window; go back
	 * to SND.UNA (RFC 6298 5.4-5.6) */
	tcp_cc_of(cold)->rto(s, c);
	c->flags &= ~(uint32_t)(TF_RECOVERY | TF_SACK_RECOV);
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x != NULL)
		x->high_rxt = c->snd_una;
	c->dupacks = 0;
	c->recover = c->snd_max;
	c->snd_nxt = c->snd_una;
	tcp_rto_arm(s, c);
	tcp_output(s, c);
}

static void keep_expired(struct tern_stack *s, struct tcp_conn *c)
{
	c->keep_at = 0;
	switch (c->state) {
	case TERN_TCP_TIME_WAIT:
		tcp_conn_release(s, c);
		return;
	case TERN_TCP_FIN_WAIT_2:
		/* closed by the application, the peer never sent its FIN
		 * (Linux tcp_fin_timeout): give up without a RST */
		tcp_conn_done(s, c, 0);
		return;
	default:
		break;
	}
	if (!(c->flags & TF_KEEPALIVE))
		return;
	struct tcp_ext *x = tcp_ext_of(s, c);	/* TF_KEEPALIVE has one */
	/* RFC 1122 4.2.3.6: a probe with SEG.SEQ = SND.NXT - 1 */
	if (x->keep_probes >= x->keepcnt) {
		STAT_INC(s, tcp_conn_timeouts);
		tcp_send_rst(s, c);
		tcp_conn_done(s, c, ETIMEDOUT);
		return;
	}
	x->keep_probes++;
	STAT_INC(s, tcp_keepalive_probes);
	tcp_send_seg(s, c, c->snd_una - 1, 0, RTE_TCP_ACK_FLAG);
	c->keep_at = tcp_dl_at(s, (uint64_t)x->keepintvl_s * TERN_NS_PER_S,
			       TCP_DL_MS);
	tcp_timer_update(s, c);
}

void tcp_timer_fire(struct tern_stack *s, struct tcp_conn *c)
{
	tcp_hold(s);
	if (c->dack_at != 0 && tcp_dl_due(s, c->dack_at, TCP_DL_US)) {
		c->dack_at = 0;
		if (c->flags & (TF_DELACK | TF_ACKNOW)) {
			STAT_INC(s, tcp_delayed_acks);
			tcp_send_ack(s, c);
		}
	}
	if (!(c->flags & TF_FREE) && c->rto_at != 0 &&
	    tcp_dl_due(s, c->rto_at, TCP_DL_US))
		rto_expired(s, c);
	if (!(c->flags & TF_FREE) && c->keep_at != 0 &&
	    tcp_dl_due(s, c->keep_at, TCP_DL_MS))
		keep_expired(s, c);
	if (!(c->flags & TF_FREE))
		tcp_timer_update(s, c);
	tcp_unhold(s);
}

/* Traffic from the peer: the keepalive idle time starts again (RFC 1122
 * 4.2.3.6), the unanswered probes are forgotten. */
void tcp_keepalive_touch(struct tern_stack *s, struct tcp_conn *c)
{
	if (!(c->flags & TF_KEEPALIVE))
		return;
	struct tcp_ext *x = tcp_ext_of(s, c);	/* TF_KEEPALIVE has one */
	x->keep_probes = 0;
	if (c->state == TERN_TCP_TIME_WAIT || c->state == TERN_TCP_FIN_WAIT_2)
		return;
	c->keep_at = tcp_dl_at(s, (uint64_t)x->keepidle_s * TERN_NS_PER_S,
			       TCP_DL_MS);
}
