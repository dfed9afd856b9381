/* Congestion control as an ops table with per-connection state sized in
 * advance (DESIGN: like FreeBSD's cc_algo): NewReno (RFC 5681, RFC 6582
 * for recovery, which tcp_input.c does) and CUBIC (RFC 9438). */
#include <math.h>
#include <string.h>

#include "stack_priv.h"

static uint32_t flight_of(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

/* ---- NewReno ---------------------------------------------------------- */

static void reno_init(struct tern_stack *s, struct tcp_conn *c)
{
	(void)s;
	(void)c;
}

/* Slow start (RFC 5681 3.1), shared by every algorithm (RFC 9438 4.10
 * for CUBIC): cwnd grows by every byte acked, up to ssthresh. RFC 3465
 * bounds the growth per ACK at L = 2 SMSS; Linux does not, and neither
 * does tern: receivers with GRO or LRO (Linux's, most NICs') acknowledge
 * a whole burst with one stretch ACK, and an L bound halves slow start's
 * growth against them. false when cwnd has reached ssthresh: congestion
 * avoidance is the caller's. */
static bool slow_start(struct tcp_conn *c, uint32_t acked)
{
	if (c->cwnd >= c->ssthresh)
		return false;
	uint64_t w = (uint64_t)c->cwnd + acked;
	c->cwnd = (uint32_t)RTE_MIN(w, (uint64_t)RTE_MAX(c->ssthresh, c->cwnd));
	return true;
}

/* Congestion avoidance adds SMSS * SMSS / cwnd per ACK (RFC 5681 eq. 3). */
static void reno_ack(struct tern_stack *s, struct tcp_conn *c, uint32_t acked)
{
	(void)s;
	if (slow_start(c, acked))
		return;
	uint32_t inc = (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd);
	c->cwnd += inc ? inc : 1;
}

/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS) */
static void reno_cong(struct tern_stack *s, struct tcp_conn *c)
{
	(void)s;
	c->ssthresh = RTE_MAX(flight_of(c) / 2, 2u * c->mss);
}

static void reno_rto(struct tern_stack *s, struct tcp_conn *c)
{
	(void)s;
	/* RFC 5681 3.1: only the first expiry of a loss episode sets
	 * ssthresh; the loss window is one segment */
	if (c->retries <= 1)
		c->ssthresh = RTE_MAX(flight_of(c) / 2, 2u * c->mss);
	c->cwnd = c->mss;
}

/* RFC 5681 4.1: restart window after an idle period longer than an RTO */
static void reno_after_idle(struct tern_stack *s, struct tcp_conn *c)
{
	(void)s;
	c->cwnd = RTE_MIN(tcp_initial_window(c->mss), c->cwnd);
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = reno_init,
	.ack = reno_ack,
	.cong = reno_cong,
	.rto = reno_rto,
	.after_idle = reno_after_idle,
};

/* ---- CUBIC (RFC 9438) ------------------------------------------------ */

#define CUBIC_C 0.4		/* 4.2: C */
#define CUBIC_BETA 0.7		/* 4.6: beta_cubic */

static uint32_t now_ms(const struct tern_stack *s)
{
	uint32_t t = (uint32_t)(tern_stack_now(s) / TERN_NS_PER_MS);
	return t ? t : 1;	/* 0 means "no epoch" */
}

/* CUBIC's state is in the on-demand block, taken when slow start ends
 * (a block's state starts zeroed, as cubic_init left it). */
static void cubic_init(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x != NULL)
		memset(&x->cc.cubic, 0, sizeof(x->cc.cubic));
}

static void cubic_ack(struct tern_stack *s, struct tcp_conn *c, uint32_t acked)
{
	if (slow_start(c, acked))
		return;
	struct tcp_ext *x = tcp_ext_get(s, c);
	if (x == NULL) {
		reno_ack(s, c, acked);	/* no block: Reno's growth */
		return;
	}
	struct tcp_cubic *k = &x->cc.cubic;
	uint32_t t_now = now_ms(s);
	double mss = c->mss;
	if (k->epoch_ms == 0) {
		/* 4.2: a new congestion avoidance epoch */
		k->epoch_ms = t_now;
		k->w_est = c->cwnd;
		if (c->cwnd < k->w_max) {
			double d = (k->w_max - c->cwnd) / mss / CUBIC_C;
			k->k_ms = (uint32_t)(cbrt(d) * 1000.0);
			k->origin = k->w_max;
		} else {
			k->k_ms = 0;
			k->origin = c->cwnd;
		}
	}
	/* t: time since the epoch plus one RTT (4.2, W_cubic(t + RTT)) */
	double rtt = c->srtt ? (c->srtt >> 3) / 1e6 : 0.1;
	double t = (t_now - k->epoch_ms) / 1000.0 + rtt - k->k_ms / 1000.0;
	double target = k->origin + CUBIC_C * t * t * t * mss;
	/* 4.3: the Reno-friendly region, alpha = 3 (1 - beta) / (1 + beta) */
	double alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
	k->w_est += (uint32_t)(alpha * mss * acked / c->cwnd);
	if (target < k->w_est)
		target = k->w_est;
	/* 4.4/4.5: grow toward the target by (target - cwnd) / cwnd per
	 * MSS acked, at most 1.5x per RTT */
	double cw = c->cwnd;
	if (target > cw) {
		if (target > 1.5 * cw)
			target = 1.5 * cw;
		double inc = (target - cw) / cw * acked;
		c->cwnd += inc >= 1.0 ? (uint32_t)inc : 1;
	} else {
		/* in the plateau: a small increase (4.4: not below cwnd) */
		uint32_t inc = (uint32_t)((uint64_t)c->mss * acked / (100u * c->cwnd));
		c->cwnd += inc;
	}
}

static void cubic_cong(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_ext *x = tcp_ext_get(s, c);
	uint32_t cw = c->cwnd;
	if (x != NULL) {	/* else only the cut below */
		struct tcp_cubic *k = &x->cc.cubic;
		/* 4.7: fast convergence */
		if (cw < k->w_last_max)
			k->w_max = (uint32_t)(cw * (1.0 + CUBIC_BETA) / 2.0);
		else
			k->w_max = cw;
		k->w_last_max = cw;
		k->epoch_ms = 0;
	}
	uint32_t flight = flight_of(c);
	c->ssthresh = RTE_MAX((uint32_t)(flight * CUBIC_BETA), 2u * c->mss);
}

static void cubic_rto(struct tern_stack *s, struct tcp_conn *c)
{
	if (c->retries <= 1)
		cubic_cong(s, c);
	c->cwnd = c->mss;
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x != NULL)
		x->cc.cubic.epoch_ms = 0;
}

static void cubic_after_idle(struct tern_stack *s, struct tcp_conn *c)
{
	reno_after_idle(s, c);
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x != NULL)
		x->cc.cubic.epoch_ms = 0;
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.ack = cubic_ack,
	.cong = cubic_cong,
	.rto = cubic_rto,
	.after_idle = cubic_after_idle,
};

const struct tcp_cc_ops *tcp_cc_of(const struct tcp_cold *cold)
{
	return cold->cc_algo == TERN_TCP_CC_NEWRENO ? &tcp_cc_newreno :
						      &tcp_cc_cubic;
}
