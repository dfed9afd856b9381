/* TCP ACK processing: RFC 9293 3.10.7.4's fifth step, with RFC 5961 5.2
 * (the acceptable ACK range), RFC 6298 (RTT samples, Karn), RFC 5681/6582
 * (duplicate ACKs, fast retransmit, NewReno partial ACKs), RFC 3042
 * (limited transmit) and RFC 6675 (the SACK scoreboard and SACK-based
 * loss recovery). Called from tcp_input.c for every segment of a
 * synchronized connection. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "stack_priv.h"
#include "wirefmt.h"

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
		tcp_count_retrans(s, c, 1, len);
		STAT_INC(s, tcp_sack_retrans);
		x->high_rxt = seq + len;
	}
}

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
void tcp_ack_advance(struct tern_stack *s, struct tcp_conn *c,
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
			uint32_t len = RTE_MIN((uint32_t)c->mss, c->sndq_bytes);
			tcp_send_seg(s, c, c->snd_una, len, RTE_TCP_ACK_FLAG);
			tcp_count_retrans(s, c, 1, len);
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
	const struct tern_tcp_ops *ops = tcp_ops(s, c);
	if (data > 0 && ops != NULL && ops->sent != NULL &&
	    !(c->flags & TF_APP_CLOSED))
		ops->sent(c->arg, (struct tern_tcp_conn *)c, data);
}

/* RFC 2018 8: a receiver may discard data it SACKed (reneging; Linux
 * does under memory pressure). An ACK that moves SND.UNA to the start of
 * a SACKed range, or into one, shows it: the receiver would have covered
 * data it still held with its cumulative ACK. As Linux's
 * tcp_check_sack_reneging: the scoreboard is forgotten and the RTO comes
 * half an RTT later (at least 10 ms), going back to SND.UNA with nothing
 * skipped; else every RTO would skip the data the receiver no longer has
 * until the connection gave up. Called after the ACK's blocks are in. */
static void sack_reneging_check(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_ext *x = tcp_ext_of(s, c);
	/* sb_trim cut every range to start at SND.UNA or above, and sorted
	 * the first is the lowest */
	if (x == NULL || x->sb_n == 0 || x->sb[0].start != c->snd_una)
		return;
	x->sb_n = 0;
	STAT_INC(s, tcp_sack_reneging);
	uint64_t half_rtt_us = RTE_MAX((uint64_t)(c->srtt >> 4), 10000u);
	c->rto_at = tcp_dl_at(s, half_rtt_us * 1000u, TCP_DL_US);
	tcp_timer_update(s, c);
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
		tcp_count_retrans(s, c, 1, len);
		tcp_send_seg(s, c, c->snd_una, len, RTE_TCP_ACK_FLAG);
		x->high_rxt = c->snd_una + len;
		sack_recovery_output(s, c);
		tcp_rto_arm(s, c);
		return;
	}
	uint32_t len = RTE_MIN((uint32_t)c->mss, c->sndq_bytes);
	tcp_count_retrans(s, c, 1, len);
	tcp_send_seg(s, c, c->snd_una, len, RTE_TCP_ACK_FLAG);
	c->cwnd = c->ssthresh + 3u * c->mss;
	tcp_rto_arm(s, c);
}

/* The fifth step for synchronized states. false when the segment is
 * dropped (counted) or the connection went. */
bool tcp_ack_input(struct tern_stack *s, struct tcp_conn *c,
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
		tcp_keepalive_touch(s, c);
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
		tcp_ack_and_drop(s, c, g, m, &s->st.tcp_drop_bad_ack);
		return false;
	}
	if (seq_lt(g->ack, lo)) {
		STAT_INC(s, tcp_challenge_acks);
		tcp_ack_and_drop(s, c, g, m, &s->st.tcp_drop_bad_ack);
		return false;
	}
	cold->win_probes = 0;	/* the peer answers (tcp_timer.c) */
	bool advanced = seq_gt(g->ack, c->snd_una);
	uint32_t wnd = g->wnd << c->snd_wscale;
	if (advanced) {
		tcp_ack_advance(s, c, g);
		if (c->flags & TF_FREE) {
			rte_pktmbuf_free(m);
			return false;
		}
		sb_update(s, c, g);
		sack_reneging_check(s, c);
	} else if (g->ack == c->snd_una &&
		   !(g->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) &&
		   c->snd_max != c->snd_una) {
		bool news = sack_news(s, c, g);
		sb_update(s, c, g);
		if ((g->len == 0 && wnd == c->snd_wnd) || news)
			dup_ack(s, c, g);
	}
	/* window update (3.10.7.4: SND.WL1 < SEG.SEQ, or = and WL2 <= ACK),
	 * by Linux's rule (tcp_may_update_window), which needs no WL2: an
	 * ACK that moves SND.UNA is never older than the last update, and
	 * one that does not, with the same SEG.SEQ, may only open the
	 * window or close it to zero (an old ACK cannot shrink it) */
	if (advanced || seq_lt(c->snd_wl1, g->seq) ||
	    (c->snd_wl1 == g->seq && (wnd > c->snd_wnd || wnd == 0))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = g->seq;
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
				c->keep_at = tcp_dl_at(s, s->tcp.fin_timeout_ns, TCP_DL_MS);
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
