/* TCP: the raw API (tern/tcp.h) and the state changes the application
 * hears about. The protocol rules are in tcp_input.c and tcp_output.c. */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>

#include <tern/rss.h>

#include "stack_priv.h"

#define TCP_DEFAULT_BUF (256u * 1024)

static const char *const state_names[TERN_TCP_NSTATES] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
	"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
	"TIME_WAIT",
};

const char *tern_tcp_state_name(enum tern_tcp_state st)
{
	return (unsigned)st < TERN_TCP_NSTATES ? state_names[st] : "?";
}

static inline struct tcp_conn *conn_of(struct tern_tcp_conn *c)
{
	return (struct tcp_conn *)c;
}

/* ---- what the application hears ----------------------------------------- */

void tcp_set_state(struct tern_stack *s, struct tcp_conn *c, uint8_t st)
{
	c->state = st;
	/* The handshake's retransmission deadline went (rto_at is 0 when a
	 * handshake completes): cancel now rather than leave the timer to
	 * fire once for nothing (tcp_timer_update), which a million idle
	 * connections opened at once would all do a second later. */
	if (st == TERN_TCP_ESTABLISHED && c->rto_at == 0 && c->dack_at == 0 &&
	    c->keep_at == 0)
		tw_cancel(s, &c->timer);
}

void tcp_conn_done(struct tern_stack *s, struct tcp_conn *c, int err)
{
	const struct tern_tcp_ops *ops = tcp_ops(s, c);
	void *arg = c->arg;
	bool tell = !(c->flags & TF_NOTIFIED) && ops != NULL &&
		    ops->closed != NULL;
	c->flags |= TF_NOTIFIED;
	tcp_conn_release(s, c);	/* deferred while input holds c */
	if (tell)
		ops->closed(arg, (struct tern_tcp_conn *)c, err);
}

void tcp_enter_time_wait(struct tern_stack *s, struct tcp_conn *c)
{
	STAT_INC(s, tcp_time_wait);
	tcp_set_state(s, c, TERN_TCP_TIME_WAIT);
	c->rto_at = 0;
	c->dack_at = 0;
	c->flags &= ~(uint32_t)(TF_PERSIST | TF_KEEPALIVE | TF_DELACK);
	pktlist_purge(s->pkt_next_off, &c->sndq);
	c->sndq_cur = NULL;
	c->sndq_bytes = 0;
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x != NULL) {
		pktq_purge(s->pkt_next_off, &x->ooo);
		x->ooo_bytes = 0;
		tcp_ext_trim(s, c);	/* unless it holds data */
	}
	c->keep_at = tcp_dl_at(s, 2 * s->tcp.msl_ns, TCP_DL_MS);
	tcp_timer_update(s, c);
	const struct tern_tcp_ops *ops = tcp_ops(s, c);
	void *arg = c->arg;
	bool tell = !(c->flags & TF_NOTIFIED) && ops != NULL &&
		    ops->closed != NULL;
	c->flags |= TF_NOTIFIED;
	c->ops = 0;
	c->arg = NULL;
	if (tell)
		ops->closed(arg, (struct tern_tcp_conn *)c, 0);
}

static inline bool rcvq_held(struct tern_stack *s, const struct tcp_conn *c)
{
	const struct tcp_ext *x = tcp_ext_of(s, c);
	return x != NULL && x->rcvq.n > 0;
}

void tcp_deliver(struct tern_stack *s, struct tcp_conn *c, struct rte_mbuf *m)
{
	const struct tern_tcp_ops *ops = tcp_ops(s, c);
	if (ops == NULL || ops->recv == NULL || rcvq_held(s, c)) {
		/* not accepted yet: hold it (the window shrinks) */
		struct tcp_ext *x = tcp_ext_get(s, c);
		if (x == NULL) {
			/* nowhere to hold it: as if it never came (the
			 * caller had moved rcv_nxt over it); sent again */
			STAT_INC(s, tcp_drop_no_ext);
			c->rcv_nxt -= m->pkt_len;
			rte_pktmbuf_free(m);
			return;
		}
		c->rcvq_bytes += m->pkt_len;
		pktq_push(s->pkt_next_off, &x->rcvq, m);
		return;
	}
	if (c->flags & TF_MANUAL_WND)
		c->rcvq_bytes += m->pkt_len;
	ops->recv(c->arg, (struct tern_tcp_conn *)c, m);
}

void tcp_deliver_fin(struct tern_stack *s, struct tcp_conn *c)
{
	const struct tern_tcp_ops *ops = tcp_ops(s, c);
	if (ops == NULL || ops->recv == NULL || rcvq_held(s, c) ||
	    (c->flags & (TF_NOTIFIED | TF_FIN_TOLD)))
		return;	/* told when the application takes its data */
	c->flags |= TF_FIN_TOLD;
	ops->recv(c->arg, (struct tern_tcp_conn *)c, NULL);
}

void tcp_accepted(struct tern_stack *s, struct tcp_conn *c)
{
	uint32_t li = tcp_listener_idx(c);
	struct tcp_listener *l = li ? &s->tcp.lst[li - 1] : NULL;
	tcp_listener_set(c, 0);	/* arg is the application's from now */
	if (l == NULL || !l->used) {
		tern_tcp_abort(s, (struct tern_tcp_conn *)c);
		return;
	}
	if (l->pending > 0)
		l->pending--;
	c->flags |= TF_ACCEPTED;
	l->accept(l->arg, (struct tern_tcp_listener *)l,
		  (struct tern_tcp_conn *)c);
}

void tcp_connected(struct tern_stack *s, struct tcp_conn *c)
{
	STAT_INC(s, tcp_active_opens);
	const struct tern_tcp_ops *ops = tcp_ops(s, c);
	if (ops != NULL && ops->connected != NULL)
		ops->connected(c->arg, (struct tern_tcp_conn *)c);
}

/* ---- options ---------------------------------------------------------------- */

void tcp_conn_opts_apply(struct tern_stack *s, struct tcp_conn *c,
			 const struct tern_tcp_opts *o)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	c->sndbuf = o->sndbuf ? o->sndbuf : TCP_DEFAULT_BUF;
	cold->rcvbuf = o->rcvbuf ? o->rcvbuf : TCP_DEFAULT_BUF;
	uint32_t mtu_mss = tcp_route_of(s, c)->mtu - sizeof(struct rte_ipv4_hdr) -
			   sizeof(struct rte_tcp_hdr);
	cold->rcv_mss = (uint16_t)(o->mss && o->mss < mtu_mss ? o->mss : mtu_mss);
	c->mss = RTE_MIN(cold->rcv_mss, (uint16_t)536);
	if (!o->no_sack)
		c->flags |= TF_SACK;
	if (!o->no_timestamps)
		c->flags |= TF_TS;
	if (!o->no_wscale) {
		c->flags |= TF_WS;
		/* RFC 7323 2.3: the smallest shift that lets the window
		 * reach the whole buffer */
		uint8_t sh = 0;
		while (sh < TCP_MAX_WS && (cold->rcvbuf >> sh) > UINT16_MAX)
			sh++;
		c->rcv_wscale = sh;
	}
	if (o->nodelay)
		c->flags |= TF_NODELAY;
	if (o->manual_window)
		c->flags |= TF_MANUAL_WND;
	if (o->rst_on_close)
		c->flags |= TF_RST_CLOSE;
	cold->cc_algo = o->cc ? o->cc : s->tcp.cc_default;
	cold->syn_retries = o->syn_retries;
	if (o->keepidle_s) {
		struct tcp_ext *x = tcp_ext_get(s, c);
		if (x != NULL) {	/* else keepalive stays off */
			x->keepidle_s = o->keepidle_s;
			x->keepintvl_s = o->keepintvl_s ? o->keepintvl_s : 75;
			x->keepcnt = o->keepcnt ? o->keepcnt : 9;
			c->flags |= TF_KEEPALIVE;
		}
	}
	cold->peer_wscale = 0xff;
	c->cwnd = c->mss;
	c->ssthresh = UINT32_MAX;
}

/* ---- active open ------------------------------------------------------------- */

struct tern_tcp_conn *tern_tcp_connect(struct tern_stack *s,
				       const struct tern_tcp_connect_conf *cc)
{
	if (s == NULL || cc == NULL || cc->remote.family != TERN_AF_INET ||
	    cc->rport == 0 || cc->remote.v4 == 0 ||
	    (cc->local.family != TERN_AF_NONE && cc->local.family != TERN_AF_INET)) {
		rte_errno = EINVAL;
		return NULL;
	}
	int ops = tcp_ops_ref(s, cc->ops);
	if (ops < 0) {
		rte_errno = ENOSPC;	/* TCP_OPS_MAX callback tables */
		return NULL;
	}
	struct tern_route rt;
	int rc = tern_route_get(s, &cc->remote,
				cc->local.family == TERN_AF_INET ? &cc->local : NULL,
				&rt);
	if (rc != 0) {
		rte_errno = rc == -EADDRNOTAVAIL ? EADDRNOTAVAIL : EHOSTUNREACH;
		return NULL;
	}
	if (rt.bcast) {
		rte_errno = EINVAL;	/* TCP has no broadcast */
		return NULL;
	}
	uint16_t lport = cc->lport;
	if (lport == 0) {
		rc = tern_stack_pick_port(s, IPPROTO_TCP, &rt.src, &cc->remote,
					  cc->rport, &lport);
		if (rc != 0) {
			rte_errno = EADDRINUSE;
			return NULL;
		}
	} else if (tcp_lookup(s, rt.src.v4, cc->remote.v4,
			      rte_cpu_to_be_16(lport),
			      rte_cpu_to_be_16(cc->rport)) != NULL) {
		rte_errno = EADDRINUSE;
		return NULL;
	}
	struct tcp_conn *c = tcp_conn_new(s, rt.src.v4, cc->remote.v4,
					  rte_cpu_to_be_16(lport),
					  rte_cpu_to_be_16(cc->rport));
	if (c == NULL) {
		STAT_INC(s, tcp_drop_table_full);
		rte_errno = ENOSPC;
		return NULL;
	}
	struct tcp_cold *cold = tcp_cold_of(s, c);
	if (tcp_route_hold(s, c, &rt) != 0) {
		tcp_conn_release(s, c);
		rte_errno = ENOMEM;
		return NULL;
	}
	tcp_conn_opts_apply(s, c, &cc->opts);
	c->ops = (uint8_t)ops;
	c->arg = cc->arg;
	cold->iss = tcp_isn(s, c);
	c->snd_una = cold->iss;
	c->snd_nxt = c->snd_max = cold->iss + 1;
	c->snd_sml = cold->iss;
	c->recover = cold->iss;
	tcp_set_state(s, c, TERN_TCP_SYN_SENT);
	c->flags |= TF_RTT_TIMING;
	c->rtt_seq = cold->iss;
	c->rtt_start_us = tcp_now_us(s);
	tcp_hold(s);
	tcp_send_seg(s, c, cold->iss, 0, RTE_TCP_SYN_FLAG);
	tcp_rto_arm(s, c);
	tcp_unhold(s);
	return (struct tern_tcp_conn *)c;
}

/* ---- the application's side ------------------------------------------------------ */

void *tern_tcp_arg(const struct tern_tcp_conn *c)
{
	const struct tcp_conn *k = (const struct tcp_conn *)c;
	return k && !tcp_listener_idx(k) ? k->arg : NULL;
}

/* Data held while the connection had no receiver goes to it now. */
static void rcvq_flush(struct tern_stack *s, struct tcp_conn *c)
{
	bool had = rcvq_held(s, c);
	while (rcvq_held(s, c) && tcp_ops(s, c) != NULL && tcp_ops(s, c)->recv != NULL &&
	       !(c->flags & (TF_FREE | TF_NOTIFIED))) {
		struct rte_mbuf *m = pktq_pop(s->pkt_next_off, &tcp_ext_of(s, c)->rcvq);
		if (!(c->flags & TF_MANUAL_WND))
			c->rcvq_bytes -= m->pkt_len;
		tcp_ops(s, c)->recv(c->arg, (struct tern_tcp_conn *)c, m);
	}
	if (c->flags & (TF_FREE | TF_NOTIFIED))
		return;
	if (c->flags & TF_FIN_RCVD)
		tcp_deliver_fin(s, c);
	if (had && !(c->flags & TF_FREE))
		tern_tcp_recved(s, (struct tern_tcp_conn *)c, 0);
}

int tern_tcp_set_ops(struct tern_stack *s, struct tern_tcp_conn *tc,
		     const struct tern_tcp_ops *ops, void *arg)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return -EINVAL;
	int i = tcp_ops_ref(s, ops);
	if (i < 0)
		return -ENOSPC;
	c->ops = (uint8_t)i;
	c->arg = arg;
	if (rcvq_held(s, c) || (c->flags & TF_FIN_RCVD)) {
		tcp_hold(s);
		rcvq_flush(s, c);
		tcp_unhold(s);
	}
	return 0;
}

static bool can_queue(uint8_t st)
{
	return st == TERN_TCP_SYN_SENT || st == TERN_TCP_SYN_RECEIVED ||
	       st == TERN_TCP_ESTABLISHED || st == TERN_TCP_CLOSE_WAIT;
}

uint32_t tern_tcp_send_space(const struct tern_tcp_conn *tc)
{
	const struct tcp_conn *c = (const struct tcp_conn *)tc;
	if (c == NULL || !can_queue(c->state) || (c->flags & TF_SHUT_WR))
		return 0;
	return c->sndq_bytes < c->sndbuf ? c->sndbuf - c->sndq_bytes : 0;
}

int tern_tcp_send(struct tern_stack *s, struct tern_tcp_conn *tc,
		  struct rte_mbuf *m)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || m == NULL)
		return -EINVAL;
	if (c->flags & (TF_FREE | TF_APP_CLOSED))
		return -ENOTCONN;
	if (c->flags & TF_SHUT_WR)
		return -EPIPE;
	if (!can_queue(c->state))
		return -ENOTCONN;
	if (c->sndq_bytes != 0 && c->sndq_bytes + m->pkt_len > c->sndbuf)
		return -EAGAIN;
	if (m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	c->sndq_bytes += m->pkt_len;
	tcp_sndq_push(s, c, m);
	if (c->state == TERN_TCP_ESTABLISHED || c->state == TERN_TCP_CLOSE_WAIT)
		tcp_push(s, c);
	return 0;
}

int tern_tcp_write(struct tern_stack *s, struct tern_tcp_conn *tc,
		   const void *buf, uint32_t len)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	uint32_t space = tern_tcp_send_space(tc);
	if (space == 0) {
		if (c->flags & TF_SHUT_WR)
			return -EPIPE;
		if (!can_queue(c->state) || (c->flags & (TF_FREE | TF_APP_CLOSED)))
			return -ENOTCONN;
		return len == 0 ? 0 : -EAGAIN;
	}
	uint32_t want = RTE_MIN(len, space), done = 0;
	const uint8_t *p = buf;
	while (done < want) {
		struct rte_mbuf *m = tern_stack_alloc(s);
		if (m == NULL)
			break;
		uint32_t room = rte_pktmbuf_tailroom(m);
		uint32_t n = RTE_MIN(room, want - done);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), p + done, n);
		c->sndq_bytes += n;
		tcp_sndq_push(s, c, m);
		done += n;
	}
	if (done == 0)
		return -ENOBUFS;
	if (c->state == TERN_TCP_ESTABLISHED || c->state == TERN_TCP_CLOSE_WAIT)
		tcp_push(s, c);
	return (int)done;
}

void tern_tcp_flush(struct tern_stack *s, struct tern_tcp_conn *tc)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return;
	uint32_t nd = c->flags & TF_NODELAY;
	c->flags |= TF_NODELAY;
	tcp_push(s, c);
	if (!nd && !(c->flags & TF_FREE))
		c->flags &= ~(uint32_t)TF_NODELAY;
}

void tern_tcp_recved(struct tern_stack *s, struct tern_tcp_conn *tc,
		     uint32_t len)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return;
	if (c->flags & TF_MANUAL_WND)
		c->rcvq_bytes = len > c->rcvq_bytes ? 0 : c->rcvq_bytes - len;
	if (c->state < TERN_TCP_ESTABLISHED || c->state == TERN_TCP_TIME_WAIT)
		return;
	/* a window update when the window opened by at least two MSS or
	 * half the buffer (RFC 9293 3.8.6.2.2; as BSD's tcp_output) */
	struct tcp_cold *cold = tcp_cold_of(s, c);
	uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t now = tcp_rcv_window(s, c);
	if (now >= adv + RTE_MIN(2u * cold->rcv_mss, cold->rcvbuf / 2)) {
		tcp_hold(s);
		tcp_send_ack(s, c);
		tcp_unhold(s);
	}
}

int tern_tcp_shutdown_wr(struct tern_stack *s, struct tern_tcp_conn *tc)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return -EINVAL;
	switch (c->state) {
	case TERN_TCP_SYN_RECEIVED:
	case TERN_TCP_ESTABLISHED:
	case TERN_TCP_CLOSE_WAIT:
		break;
	case TERN_TCP_SYN_SENT:
		/* RFC 9293 3.10.4: queue the FIN until established */
		c->flags |= TF_SHUT_WR;
		return 0;
	default:
		return (c->flags & TF_SHUT_WR) ? 0 : -ENOTCONN;
	}
	if (c->flags & TF_SHUT_WR)
		return 0;
	c->flags |= TF_SHUT_WR;
	tcp_push(s, c);
	return 0;
}

int tern_tcp_close(struct tern_stack *s, struct tern_tcp_conn *tc)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return -EINVAL;
	if (c->flags & TF_APP_CLOSED)
		return 0;
	c->flags |= TF_APP_CLOSED;
	tcp_hold(s);
	bool unread = rcvq_held(s, c) ||
		      ((c->flags & TF_MANUAL_WND) && c->rcvq_bytes > 0);
	switch (c->state) {
	case TERN_TCP_SYN_SENT:
		/* RFC 9293 3.10.4: delete the TCB */
		tcp_conn_done(s, c, 0);
		break;
	case TERN_TCP_SYN_RECEIVED:
	case TERN_TCP_ESTABLISHED:
	case TERN_TCP_CLOSE_WAIT:
		if ((c->flags & TF_RST_CLOSE) || unread) {
			/* RFC 1122 4.2.2.13 (unread data), or the
			 * generator's choice: RST, no TIME_WAIT */
			tcp_send_rst(s, c);
			tcp_conn_done(s, c, 0);
			break;
		}
		c->flags |= TF_SHUT_WR;
		tcp_output(s, c);
		tcp_timer_update(s, c);
		break;
	case TERN_TCP_FIN_WAIT_2:
		c->keep_at = tcp_dl_at(s, s->tcp.fin_timeout_ns, TCP_DL_MS);
		tcp_timer_update(s, c);
		break;
	default:
		/* FIN-WAIT-1, CLOSING, LAST_ACK: the close is under way */
		break;
	}
	tcp_unhold(s);
	return 0;
}

void tern_tcp_abort(struct tern_stack *s, struct tern_tcp_conn *tc)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return;
	tcp_hold(s);
	switch (c->state) {
	case TERN_TCP_SYN_RECEIVED:
	case TERN_TCP_ESTABLISHED:
	case TERN_TCP_FIN_WAIT_1:
	case TERN_TCP_FIN_WAIT_2:
	case TERN_TCP_CLOSE_WAIT:
		/* RFC 9293 3.10.5 */
		tcp_send_rst(s, c);
		break;
	default:
		break;
	}
	c->flags |= TF_NOTIFIED;	/* no callback follows an abort */
	tcp_conn_release(s, c);
	tcp_unhold(s);
}

/* ---- inspection ------------------------------------------------------------------ */

enum tern_tcp_state tern_tcp_state(const struct tern_tcp_conn *tc)
{
	const struct tcp_conn *c = (const struct tcp_conn *)tc;
	return c ? (enum tern_tcp_state)c->state : TERN_TCP_CLOSED;
}

int tern_tcp_info_get(const struct tern_stack *s, const struct tern_tcp_conn *tc,
		      struct tern_tcp_info *o)
{
	const struct tcp_conn *c = (const struct tcp_conn *)tc;
	if (s == NULL || c == NULL || o == NULL)
		return -EINVAL;
	const struct tcp_cold *cold = &s->tcp.cold[c - s->tcp.conns];
	memset(o, 0, sizeof(*o));
	o->state = c->state;
	o->local = tern_addr_v4(c->laddr);
	o->remote = tern_addr_v4(c->raddr);
	o->lport = rte_be_to_cpu_16(c->lport);
	o->rport = rte_be_to_cpu_16(c->rport);
	o->snd_una = c->snd_una;
	o->snd_nxt = c->snd_nxt;
	o->snd_wnd = c->snd_wnd;
	o->rcv_nxt = c->rcv_nxt;
	o->rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	o->cwnd = c->cwnd;
	o->ssthresh = c->ssthresh;
	o->srtt_us = c->srtt >> 3;
	o->rttvar_us = c->rttvar >> 2;
	o->rto_us = tcp_rto_us(s, c);
	o->mss = c->mss;
	o->snd_wscale = (c->flags & TF_WS) ? c->snd_wscale : 0xff;
	o->rcv_wscale = (c->flags & TF_WS) ? c->rcv_wscale : 0xff;
	o->sack = (c->flags & TF_SACK) != 0;
	o->timestamps = (c->flags & TF_TS) != 0;
	o->cc = cold->cc_algo;
	o->send_queued = c->sndq_bytes;
	/* RFC 9293: SYN and FIN take a sequence number each */
	bool syn_acked = c->state >= TERN_TCP_ESTABLISHED ||
			 (c->state == TERN_TCP_SYN_RECEIVED && c->snd_una != cold->iss);
	bool fin_acked = (c->flags & TF_FIN_SENT) && c->snd_una == c->snd_max;
	uint32_t acked_off = syn_acked ? c->snd_una - cold->iss - 1 - fin_acked : 0;
	o->bytes_acked = syn_acked ? tcp_seq_count(cold->acked_hi, acked_off) : 0;
	/* sent once: what is acked and what is in flight up to SND.MAX
	 * (less the SYN and a FIN); then what was sent again, as Linux's
	 * tcpi_bytes_sent */
	uint32_t sent_off = c->state >= TERN_TCP_SYN_SENT ?
		c->snd_max - cold->iss - 1 - ((c->flags & TF_FIN_SENT) != 0) : 0;
	o->bytes_retrans = cold->bytes_retrans;
	o->bytes_sent = o->bytes_acked + (uint32_t)(sent_off - acked_off) +
			cold->bytes_retrans;
	bool syn_rcvd = c->state >= TERN_TCP_SYN_RECEIVED;
	bool fin_rcvd = (c->flags & TF_FIN_RCVD) != 0;
	o->bytes_received = syn_rcvd ?
		tcp_seq_count(cold->rcvd_hi, c->rcv_nxt - cold->irs - 1 - fin_rcvd) : 0;
	o->retransmits = cold->retransmits;
	o->backoff = c->backoff;
	o->rcv_mss = cold->rcv_mss;
	o->unacked = c->snd_max - c->snd_una;
	return 0;
}

void tern_tcp_set_isn_offset(struct tern_stack *s, uint32_t offset)
{
	if (s != NULL)
		s->tcp.isn_offset = offset;
}

/* ---- live options ------------------------------------------------------------- */

void tern_tcp_set_nodelay(struct tern_stack *s, struct tern_tcp_conn *tc, bool on)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return;
	if (!on) {
		c->flags &= ~(uint32_t)TF_NODELAY;
		return;
	}
	c->flags |= TF_NODELAY;
	tern_tcp_flush(s, tc);	/* what Nagle held goes now, as Linux does */
}

void tern_tcp_set_keepalive(struct tern_stack *s, struct tern_tcp_conn *tc,
			    uint32_t idle_s, uint32_t intvl_s, uint32_t cnt)
{
	struct tcp_conn *c = conn_of(tc);
	if (s == NULL || c == NULL || (c->flags & TF_FREE))
		return;
	struct tcp_ext *x = idle_s ? tcp_ext_get(s, c) : tcp_ext_of(s, c);
	if (x != NULL) {
		x->keepidle_s = idle_s;
		x->keepintvl_s = intvl_s ? intvl_s : 75;
		x->keepcnt = cnt ? cnt : 9;
	}
	if (idle_s == 0 || x == NULL) {	/* off, or no block for it */
		c->flags &= ~(uint32_t)TF_KEEPALIVE;
		if (c->state != TERN_TCP_TIME_WAIT && c->state != TERN_TCP_FIN_WAIT_2)
			c->keep_at = 0;
	} else {
		c->flags |= TF_KEEPALIVE;
		if (c->state == TERN_TCP_ESTABLISHED || c->state == TERN_TCP_CLOSE_WAIT) {
			x->keep_probes = 0;
			c->keep_at = tcp_dl_at(s, (uint64_t)idle_s * TERN_NS_PER_S, TCP_DL_MS);
		}
	}
	tcp_timer_update(s, c);
}

void tern_tcp_set_sndbuf(struct tern_tcp_conn *tc, uint32_t bytes)
{
	struct tcp_conn *c = conn_of(tc);
	if (c != NULL && bytes > 0)
		c->sndbuf = bytes;
}
