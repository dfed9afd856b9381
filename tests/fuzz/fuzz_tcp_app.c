/* The TCP harness's application (see fuzz_tcp.h): the connections it
 * holds (slots), the callbacks, which check that the stack follows the
 * API and that received data is the peer's pattern, and the ops that
 * call tern_tcp_* (connect, listen, write, send by reference, consume,
 * shutdown, close, abort, options). */
#include "fuzz_tcp_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- slots and callbacks ----------------------------------------------- */

static struct slot *slot_free(struct fz *z)
{
	for (int i = 0; i < NSLOT; i++)
		if (z->slot[i].c == NULL)
			return &z->slot[i];
	return NULL;
}

/* The k-th slot, or the next one in use after it; NULL when none is. */
static struct slot *slot_pick(struct fz *z, uint8_t k)
{
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &z->slot[(k + i) % NSLOT];
		if (sl->c != NULL)
			return sl;
	}
	return NULL;
}

void fz_slot_drop_held(struct slot *sl)
{
	for (unsigned i = 0; i < sl->nheld; i++)
		rte_pktmbuf_free(sl->held[i]);
	sl->nheld = 0;
}

static void slot_init(struct fz *z, struct slot *sl, struct tern_tcp_conn *c,
		      uint8_t beh)
{
	fz_slot_drop_held(sl);
	memset(sl, 0, sizeof(*sl));
	sl->z = z;
	sl->c = c;
	sl->beh = beh;
	sl->tx_unchecked = (beh & 3) == BEH_RX_ECHO;
}

/* The slot is over: closed() came or the application aborted. */
void fz_slot_end(struct slot *sl)
{
	fz_slot_drop_held(sl);
	sl->c = NULL;
}

/* A callback about c for sl: c must still be sl's. */
static bool cb_ok(struct slot *sl, struct tern_tcp_conn *c, const char *what)
{
	if (sl == NULL) {
		fprintf(stderr, "tern_fuzz_tcp: %s callback without its argument\n",
			what);
		abort();
	}
	if (sl->c != c) {
		fz_fail(sl->z, "%s callback for a connection the application no "
		        "longer holds", what);
		return false;
	}
	return true;
}

static void set_bases(struct fz *z, struct slot *sl, bool rx, bool tx)
{
	struct tern_tcp_info ti;
	if (tern_tcp_info_get(z->s, sl->c, &ti) != 0) {
		fz_fail(z, "tcp_info_get failed on a live connection");
		return;
	}
	if (rx) {
		sl->rx_base = ti.rcv_nxt;
		sl->rx_base_known = true;
	}
	if (tx)
		sl->tx_base = ti.snd_una;
	sl->lport = ti.lport;
	sl->pport = ti.rport;
}

void fz_shut_conn(struct fz *z, struct slot *sl)
{
	sl->shut = true;
	int r = tern_tcp_shutdown_wr(z->s, sl->c);
	fz_trace(z, "  shutdown -> %d", r);
	if (r != 0 && r != -ENOTCONN)
		fz_fail(z, "tern_tcp_shutdown_wr: %d", r);
}

/* Queues n bytes of the pattern with tern_tcp_write. */
static void app_write(struct fz *z, struct slot *sl, uint32_t n)
{
	static uint8_t buf[128 * 1024 + 64];
	if (n > sizeof(buf))
		n = sizeof(buf);
	for (uint32_t i = 0; i < n; i++)
		buf[i] = pat2(sl->tx_queued + i);
	struct tern_tcp_conn *c = sl->c;
	sl->tx_pending = n;
	int r = tern_tcp_write(z->s, c, buf, n);
	fz_trace(z, "  write %u -> %d", n, r);
	/* no callback comes from a write: the slot is still c's */
	sl->tx_pending = 0;
	if (r > 0 && sl->c == c)
		sl->tx_queued += (uint32_t)r;
	if (r > (int)n)
		fz_fail(z, "tern_tcp_write took %d of %u bytes", r, n);
	if (r < 0 && r != -EAGAIN && r != -ENOTCONN && r != -EPIPE &&
	    r != -ENOBUFS)
		fz_fail(z, "tern_tcp_write: unexpected %d", r);
}

void fz_close_conn(struct fz *z, struct slot *sl)
{
	struct tern_tcp_conn *c = sl->c;
	sl->app_closed = true;
	int r = tern_tcp_close(z->s, c);
	fz_trace(z, "  close -> %d", r);
	if (r != 0)
		fz_fail(z, "tern_tcp_close: %d", r);
}

void fz_abort_conn(struct fz *z, struct slot *sl)
{
	struct tern_tcp_conn *c = sl->c;
	fz_slot_end(sl);
	tern_tcp_abort(z->s, c);
	fz_trace(z, "  abort");
}

static void cb_connected(void *arg, struct tern_tcp_conn *c)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "connected"))
		return;
	struct fz *z = sl->z;
	fz_trace(z, "  connected");
	if (sl->rx_base_known)
		fz_fail(z, "connected twice");
	set_bases(z, sl, true, false);
	if (sl->beh & BEH_CLOSE_AT_START)
		fz_close_conn(z, sl);
}

static void cb_recv(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "recv")) {
		rte_pktmbuf_free(m);
		return;
	}
	struct fz *z = sl->z;
	if (sl->fin_told) {
		fz_fail(z, "recv after the FIN");
		rte_pktmbuf_free(m);
		return;
	}
	if (m == NULL) {
		fz_trace(z, "  recv FIN");
		sl->fin_told = true;
		if ((sl->beh & BEH_SHUT_ON_FIN) && !sl->app_closed)
			fz_shut_conn(z, sl);
		if ((sl->beh & BEH_CLOSE_ON_FIN) && !sl->app_closed && sl->c == c)
			fz_close_conn(z, sl);
		return;
	}
	uint32_t len = m->pkt_len;
	fz_trace(z, "  recv %u", len);
	if (len == 0)
		fz_fail(z, "recv of an empty mbuf");
	if (!sl->rx_base_known)
		fz_fail(z, "recv before the connection was told established");
	if (!z->tainted && sl->rx_base_known) {
		uint32_t off = 0;
		for (struct rte_mbuf *g = m; g != NULL; g = g->next) {
			const uint8_t *d = rte_pktmbuf_mtod(g, const uint8_t *);
			for (uint16_t i = 0; i < g->data_len; i++, off++) {
				uint32_t seq = sl->rx_base + sl->rx_got + off;
				if (d[i] != pat1(seq)) {
					fz_fail(z, "recv: stream byte %u is %#x, not %#x",
					        sl->rx_got + off, d[i], pat1(seq));
					goto checked;
				}
			}
		}
		if (off != len)
			fz_fail(z, "recv: segments hold %u bytes, pkt_len %u", off, len);
		fz_stats.bytes_delivered += len;
	}
checked:
	sl->rx_got += len;
	switch (sl->beh & 3) {
	case BEH_RX_HOLD:
		if (sl->nheld < HOLD_MAX) {
			sl->held[sl->nheld++] = m;
			break;
		}
		/* fall through */
	case BEH_RX_FREE:
		rte_pktmbuf_free(m);
		break;
	case BEH_RX_ECHO:
		if (tern_tcp_send(z->s, c, m) == 0)
			sl->tx_queued += len;
		else
			rte_pktmbuf_free(m);
		break;
	case BEH_RX_REPLY:
		rte_pktmbuf_free(m);
		if (!sl->app_closed)
			app_write(z, sl, 64);
		break;
	}
	if (sl->c != c)
		return;
	if ((sl->beh & BEH_ABORT_ON_DATA) && sl->rx_got > 2000) {
		fz_abort_conn(z, sl);
		return;
	}
	if ((sl->beh & BEH_CLOSE_ON_DATA) && sl->rx_got > 1000 && !sl->app_closed)
		fz_close_conn(z, sl);
}

static void cb_sent(void *arg, struct tern_tcp_conn *c, uint32_t acked)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "sent"))
		return;
	struct fz *z = sl->z;
	fz_trace(z, "  sent %u", acked);
	sl->acked += acked;
	fz_stats.bytes_acked += acked;
	if (acked == 0 || sl->acked > sl->tx_queued)
		fz_fail(z, "sent: %u acked, %llu in all of %u queued", acked,
		        (unsigned long long)sl->acked, sl->tx_queued);
	if ((sl->beh & BEH_WRITE_ON_SENT) && !sl->app_closed)
		app_write(z, sl, acked < 4096 ? acked : 4096);
}

static void cb_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "closed"))
		return;
	fz_trace(sl->z, "  closed %d", err);
	fz_stats.closed_err[err == 0 ? 0 : err == ECONNRESET ? 1 :
			err == ETIMEDOUT ? 2 : err == ECONNREFUSED ? 3 : 4]++;
	if (err != 0 && err != ECONNREFUSED && err != ECONNRESET &&
	    err != ETIMEDOUT && err != EPIPE && err != EHOSTUNREACH &&
	    err != ENETUNREACH)
		fz_fail(sl->z, "closed with error %d", err);
	if (err == 0 && !sl->app_closed && !sl->shut)
		fz_fail(sl->z, "closed(0) without a close or shutdown from the "
		        "application");
	fz_slot_end(sl);
}

const struct tern_tcp_ops fz_ops_full = {
	cb_connected, cb_recv, cb_sent, cb_closed,
};
/* Accepted, the application not ready to read: data waits in the stack. */
static const struct tern_tcp_ops ops_deferred = {
	cb_connected, NULL, cb_sent, cb_closed,
};

static void cb_accept(void *arg, struct tern_tcp_listener *l,
		      struct tern_tcp_conn *c)
{
	struct lst *ls = arg;
	struct fz *z = ls->z;
	(void)l;
	struct slot *sl = slot_free(z);
	fz_trace(z, "  accept (mode %u)%s", ls->accept_mode, sl ? "" : ", no slot");
	if (sl == NULL || ls->accept_mode == 3) {
		tern_tcp_abort(z->s, c);
		return;
	}
	slot_init(z, sl, c, ls->beh);
	set_bases(z, sl, true, true);
	switch (ls->accept_mode) {
	case 0:
		tern_tcp_set_ops(z->s, c, &fz_ops_full, sl);
		break;
	case 1:
		sl->deferred = true;
		tern_tcp_set_ops(z->s, c, &ops_deferred, sl);
		break;
	case 2:
		tern_tcp_set_ops(z->s, c, &fz_ops_full, sl);
		if (sl->c == c)
			fz_close_conn(z, sl);
		return;
	}
	if (sl->c == c && (sl->beh & BEH_CLOSE_AT_START))
		fz_close_conn(z, sl);
}

static void opts_from(struct tern_tcp_opts *o, uint8_t o1, uint8_t o2)
{
	memset(o, 0, sizeof(*o));
	o->no_sack = o1 & 1;
	o->no_wscale = (o1 >> 1) & 1;
	o->no_timestamps = (o1 >> 2) & 1;
	o->nodelay = (o1 >> 3) & 1;
	o->manual_window = (o1 >> 4) & 1;
	o->rst_on_close = (o1 >> 5) & 1;
	if (o1 & 0x40)
		o->rcvbuf = 3000;
	if (o1 & 0x80)
		o->sndbuf = 3000;
	o->cc = o2 & 3;
	if (o->cc == 3)
		o->cc = 0;
	if (o2 & 4)
		o->mss = 88;
	if (o2 & 8) {
		o->keepidle_s = 1;
		o->keepintvl_s = 1;
		o->keepcnt = 2;
	}
	if (o2 & 0x10)
		o->syn_retries = 1;
	if (o2 & 0x20)
		o->rcvbuf = 1u << 20;
	if (o2 & 0x40)
		o->rcvbuf = 500;
}

/* ---- the ops ----------------------------------------------------------- */

/* CONNECT */
void fz_op_connect(struct fz *z)
{
	uint8_t o1 = get8(z), o2 = get8(z), beh = get8(z), p = get8(z);
	struct slot *sl = slot_free(z);
	fz_trace(z, "CONNECT opts %#x/%#x beh %#x ports %#x", o1, o2, beh, p);
	if (sl == NULL)
		return;
	struct tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.remote = tern_addr_v4h(ip_peer);
	cc.rport = (uint16_t)(2000 + (p & 7));
	cc.lport = (p & 8) ? (uint16_t)(3000 + ((p >> 4) & 7)) : 0;
	cc.ops = &fz_ops_full;
	cc.arg = sl;
	opts_from(&cc.opts, o1, o2);
	slot_init(z, sl, NULL, beh);
	struct tern_tcp_conn *c = tern_tcp_connect(z->s, &cc);
	fz_trace(z, "  -> %s", c ? "ok" : "failed");
	if (c == NULL)
		return;
	sl->c = c;
	struct tern_tcp_info ti;
	tern_tcp_info_get(z->s, c, &ti);
	if (ti.state != TERN_TCP_SYN_SENT)
		fz_fail(z, "connect: state %s", tern_tcp_state_name(ti.state));
	sl->tx_base = ti.snd_una + 1;
	sl->lport = ti.lport;
	sl->pport = ti.rport;
}

void fz_op_listen(struct fz *z)
{
	uint8_t w = get8(z), o1 = get8(z), o2 = get8(z), beh = get8(z);
	uint8_t am = get8(z);
	struct lst *ls = &z->lst[w & 1];
	fz_trace(z, "LISTEN %u opts %#x/%#x beh %#x accept %#x", 80 + (w & 1), o1,
	         o2, beh, am);
	if (ls->l != NULL)
		return;
	struct tern_tcp_listen_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.port = (uint16_t)(80 + (w & 1));
	lc.backlog = (am >> 2) & 3;	/* 0: the default */
	lc.accept = cb_accept;
	lc.arg = ls;
	opts_from(&lc.opts, o1, o2);
	ls->z = z;
	ls->beh = beh;
	ls->accept_mode = am & 3;
	ls->l = tern_tcp_listen(z->s, &lc);
	if (ls->l == NULL)
		fz_fail(z, "listen on %u failed", lc.port);
}

void fz_op_listener_close(struct fz *z)
{
	uint8_t w = get8(z);
	struct lst *ls = &z->lst[w & 1];
	fz_trace(z, "LISTENER_CLOSE %u", 80 + (w & 1));
	if (ls->l == NULL)
		return;
	tern_tcp_listener_close(z->s, ls->l);
	ls->l = NULL;
}

void fz_op_write(struct fz *z)
{
	uint8_t k = get8(z), l = get8(z);
	struct slot *sl = slot_pick(z, k);
	fz_trace(z, "WRITE %u", len_big(l));
	if (sl != NULL)
		app_write(z, sl, len_big(l));
}

void fz_op_send_ref(struct fz *z)
{
	uint8_t k = get8(z), l = get8(z), mode = get8(z);
	struct slot *sl = slot_pick(z, k);
	uint32_t n = l < 0x80 ? l : (uint32_t)(l - 0x7f) * 16;
	fz_trace(z, "SEND_REF %u mode %u", n, mode & 3);
	if (sl == NULL)
		return;
	struct rte_mbuf *m = NULL;
	uint32_t base = sl->tx_queued;
	switch (mode & 3) {
	case 0:
	case 1: {
		/* direct: one mbuf, or a chain of pieces of up to 300 */
		uint32_t piece = (mode & 3) ? 300 : 1900;
		if (n > 1900 && !(mode & 3))
			n = 1900;
		for (uint32_t done = 0; done < n || m == NULL;) {
			struct rte_mbuf *g = rte_pktmbuf_alloc(z->mp);
			if (g == NULL) {
				rte_pktmbuf_free(m);
				return;
			}
			uint32_t k2 = n - done < piece ? n - done : piece;
			uint8_t *d = (uint8_t *)rte_pktmbuf_append(g, (uint16_t)k2);
			for (uint32_t i = 0; i < k2; i++)
				d[i] = pat2(base + done + i);
			done += k2;
			if (m == NULL) {
				m = g;
			} else if (rte_pktmbuf_chain(m, g) != 0) {
				rte_pktmbuf_free(g);
				rte_pktmbuf_free(m);
				return;
			}
			if (n == 0)
				break;
		}
		break;
	}
	case 2: {
		/* a clone of the shared buffer (the stack must not write it) */
		uint32_t o = base % PAT2_PERIOD;
		if (n > SHARED_LEN - o)
			n = SHARED_LEN - o;
		m = rte_pktmbuf_clone(z->shared, z->mp);
		if (m == NULL)
			return;
		rte_pktmbuf_adj(m, (uint16_t)o);
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - n));
		break;
	}
	default:
		n = 0;
		m = rte_pktmbuf_alloc(z->mp);
		if (m == NULL)
			return;
		break;
	}
	struct tern_tcp_conn *c = sl->c;
	sl->tx_pending = n;
	int r = tern_tcp_send(z->s, c, m);
	sl->tx_pending = 0;
	fz_trace(z, "  -> %d", r);
	if (r == 0) {
		if (sl->c == c)
			sl->tx_queued += n;
	} else {
		rte_pktmbuf_free(m);
		if (r != -EAGAIN && r != -ENOTCONN && r != -EPIPE)
			fz_fail(z, "tern_tcp_send: unexpected %d", r);
	}
}

void fz_op_consume(struct fz *z)
{
	uint8_t k = get8(z), l = get8(z);
	struct slot *sl = slot_pick(z, k);
	uint32_t n = len_big(l);
	fz_trace(z, "CONSUME %u", n);
	if (sl == NULL)
		return;
	fz_slot_drop_held(sl);
	tern_tcp_recved(z->s, sl->c, n);
}

/* SHUTDOWN, CLOSE, ABORT: one byte picks the slot, whose connection
 * then goes through fn. */
void fz_op_on_slot(struct fz *z, const char *name,
		   void (*fn)(struct fz *, struct slot *))
{
	struct slot *sl = slot_pick(z, get8(z));
	fz_trace(z, "%s", name);
	if (sl != NULL)
		fn(z, sl);
}

void fz_op_setopt(struct fz *z)
{
	uint8_t k = get8(z), sub = get8(z), v = get8(z);
	struct slot *sl = slot_pick(z, k);
	fz_trace(z, "SETOPT %u %#x", sub % 8, v);
	if (sl == NULL)
		return;
	struct tern_tcp_conn *c = sl->c;
	switch (sub % 8) {
	case 0:
		tern_tcp_set_nodelay(z->s, c, true);
		break;
	case 1:
		tern_tcp_set_nodelay(z->s, c, false);
		break;
	case 2:
		tern_tcp_set_keepalive(z->s, c, 1 + (v & 3), (v >> 2) & 3,
				       (v >> 4) & 3);
		break;
	case 3:
		tern_tcp_set_keepalive(z->s, c, 0, 0, 0);
		break;
	case 4: {
		static const uint32_t sz[4] = {1, 1000, 4000, 256 * 1024};
		tern_tcp_set_sndbuf(c, sz[v & 3]);
		break;
	}
	case 5:
		tern_tcp_flush(z->s, c);
		break;
	case 6:
		if (sl->deferred) {
			sl->deferred = false;
			tern_tcp_set_ops(z->s, c, &fz_ops_full, sl);
		}
		break;
	default:
		tern_tcp_recved(z->s, c, 0);
		break;
	}
}

