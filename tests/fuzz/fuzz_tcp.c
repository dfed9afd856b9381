/* See fuzz_tcp.h. One fresh stack per input (so what one input leaves
 * behind cannot hide a leak of the next); the peer is the input: its
 * segments are built around the connection's current sequence numbers
 * (as lwIP's multi-packet fuzzer with time does), so the fuzzer reaches
 * deep states without guessing 32-bit numbers. */
#include "fuzz_tcp.h"
#include "fuzz_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include <tern/sock.h>
#include <tern/stack.h>

#define POOL_SIZE 2000	/* ring room above it (2047): double frees show */
#define FRAME_MAX 8192
#define MAX_OPS 2000
#define NSLOT 8		/* connections the application holds */
#define NLST 2		/* listeners (ports 80 and 81) */
#define NSOCK 8		/* socket descriptors */
#define HOLD_MAX 32	/* received mbufs a connection holds */
#define MAX_CONNS 16	/* the stack's table */
#define SHARED_LEN 1900	/* the buffer send-by-reference clones */
#define PAT2_PERIOD 251

static const uint8_t mac_us[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_peer[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint32_t ip_us = 0x0a000001;   /* 10.0.0.1 */
static const uint32_t ip_peer = 0x0a000063; /* 10.0.0.99 */

enum {
	BEH_RX_FREE = 0,
	BEH_RX_HOLD = 1,
	BEH_RX_ECHO = 2,
	BEH_RX_REPLY = 3,
	BEH_CLOSE_ON_FIN = 1 << 2,
	BEH_SHUT_ON_FIN = 1 << 3,
	BEH_ABORT_ON_DATA = 1 << 4,
	BEH_WRITE_ON_SENT = 1 << 5,
	BEH_CLOSE_AT_START = 1 << 6,
	BEH_CLOSE_ON_DATA = 1 << 7,
};

struct fz;

/* A connection the application holds. */
struct slot {
	struct fz *z;
	struct tern_tcp_conn *c;	/* NULL: free */
	uint8_t beh;
	bool deferred;		/* accepted, ops without recv until set_ops */
	bool rx_base_known, fin_told, app_closed, shut;
	uint16_t lport, pport;	/* the tuple's ports */
	bool tx_unchecked;	/* sent data is not the pattern (echo) */
	uint32_t rx_base, rx_got;	/* seq of stream offset 0, bytes got */
	uint32_t tx_base, tx_queued;	/* seq of stream offset 0, bytes
					 * the application queued */
	uint32_t tx_pending;	/* being queued by the call under way
				 * (which may send some at once) */
	bool sent_any;		/* the stack sent an ACK on it: */
	uint32_t sent_ack;	/* the highest ACK number */
	uint32_t sent_edge;	/* the right edge of the highest window */
	uint64_t acked;
	struct rte_mbuf *held[HOLD_MAX];
	unsigned nheld;
};

struct lst {
	struct fz *z;
	struct tern_tcp_listener *l;
	uint8_t beh, accept_mode;
};

struct fz {
	struct tern_stack *s;
	struct rte_mempool *mp;
	struct tern_clock clk;
	struct tern_socks *socks;
	const uint8_t *p;
	size_t n;
	bool trace;
	bool refuse;
	unsigned bursts;
	bool tainted;		/* raw bytes went in: data checks are off */
	bool arp_silent;	/* the peer never answers ARP */
	bool arp_due;		/* the stack asked for the peer's MAC */
	int fail;		/* first failed check, 0 none */
	struct slot slot[NSLOT];
	struct lst lst[NLST];
	uint32_t pisn[8];	/* the peer's ISN per peer port */
	uint32_t peer_ts;	/* the peer's timestamp clock */
	uint32_t last_tsval;	/* the stack's latest TSval */
	struct rte_mbuf *shared;	/* cloned by send-by-reference */
	struct rte_mbuf **hog;
	unsigned nhog;
	struct tern_tcp_conn *list[MAX_CONNS * 2];
	unsigned nlist;
};

static struct tern_fuzz_tcp_stats g_st;

void tern_fuzz_tcp_stats_get(struct tern_fuzz_tcp_stats *out, int reset)
{
	if (out != NULL)
		*out = g_st;
	if (reset)
		memset(&g_st, 0, sizeof(g_st));
}

static void fail(struct fz *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct fz *z, const char *fmt, ...)
{
	if (z->fail)
		return;
	z->fail = -3;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "tern_fuzz_tcp: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static void trace(struct fz *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void trace(struct fz *z, const char *fmt, ...)
{
	if (!z->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "[%8.3f] ", (double)tern_clock_now(&z->clk) / 1e9);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- input ------------------------------------------------------------- */

static uint8_t get8(struct fz *z)
{
	if (z->n == 0)
		return 0;
	z->n--;
	return *z->p++;
}

static uint32_t get32(struct fz *z)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | get8(z);
	return v;
}

/* ---- patterns ---------------------------------------------------------- */

/* The peer's data: the byte at sequence number seq. */
static inline uint8_t pat1(uint32_t seq)
{
	return (uint8_t)((seq % 241u) ^ 0x5c);
}

/* The application's data: the byte at stream offset off. */
static inline uint8_t pat2(uint32_t off)
{
	return (uint8_t)(off % PAT2_PERIOD);
}

static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* ---- frames ------------------------------------------------------------- */

/* Ethernet and IPv4 headers from the peer for l4len bytes of TCP;
 * returns 34. */
static size_t put_eth_ip(uint8_t *f, size_t l4len)
{
	return put_eth(f, mac_us, mac_peer, 0x0800) +
	       put_ip4(f + 14, ip_peer, ip_us, IPPROTO_TCP, l4len, 1);
}

/* f as an mbuf: one segment, or split there and then in pieces of seg
 * bytes (none above 1900 bytes, what a segment has room for). */
static struct rte_mbuf *to_mbuf(struct rte_mempool *mp, const uint8_t *f,
				size_t len, size_t split, size_t seg)
{
	if (seg == 0 || seg > 1900)
		seg = 1900;
	if (split == 0 || split > len)
		split = len;
	if (split > 1900)
		split = 1900;
	return frame_mbuf(mp, f, len, split, seg);
}

static void input_frame(struct fz *z, const uint8_t *f, size_t len,
			size_t split, size_t seg, uint64_t ol)
{
	struct rte_mbuf *m = to_mbuf(z->mp, f, len, split, seg);
	if (m == NULL) {
		trace(z, "  (no mbuf for the frame)");
		return;
	}
	m->ol_flags = ol;
	tern_stack_input(z->s, 0, &m, 1);
}

/* ---- what the stack sends ---------------------------------------------- */

static struct slot *slot_by_ports(struct fz *z, uint16_t lport, uint16_t pport)
{
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &z->slot[i];
		if (sl->c != NULL && sl->lport == lport && sl->pport == pport)
			return sl;
	}
	return NULL;
}

static void check_tx(struct fz *z, struct rte_mbuf *m)
{
	static uint8_t f[FRAME_MAX];
	uint32_t len = m->pkt_len;
	if (len > 1514) {
		fail(z, "tx: a frame of %u bytes (MTU 1500)", len);
		return;
	}
	const uint8_t *p = len >= 14 ? rte_pktmbuf_read(m, 0, len, f) : NULL;
	if (p == NULL) {
		fail(z, "tx: a frame of %u bytes", len);
		return;
	}
	if (p != f)
		memcpy(f, p, len);
	uint16_t type = rd16(f + 12);
	if (type == 0x0806) {
		/* a request for the peer: answered after this burst */
		if (len >= 42 && rd16(f + 20) == 1 && rd32(f + 38) == ip_peer)
			z->arp_due = !z->arp_silent;
		return;
	}
	if (type != 0x0800 || len < 34) {
		fail(z, "tx: ethertype %#x, %u bytes", type, len);
		return;
	}
	const uint8_t *ip = f + 14;
	unsigned ihl = (ip[0] & 15) * 4u;
	unsigned tot = rd16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < 20 || tot != len - 14 || tot < ihl) {
		fail(z, "tx: IPv4 header %#x, total length %u in %u bytes",
		     ip[0], tot, len);
		return;
	}
	if (fold(sum16(ip, ihl, 0)) != 0) {
		fail(z, "tx: bad IPv4 checksum");
		return;
	}
	if (ip[9] != IPPROTO_TCP)
		return;	/* ICMP errors and the like */
	const uint8_t *th = ip + ihl;
	unsigned l4 = tot - ihl;
	unsigned hlen = (th[12] >> 4) * 4u;
	if (l4 < 20 || hlen < 20 || hlen > l4) {
		fail(z, "tx: TCP header of %u bytes in %u", hlen, l4);
		return;
	}
	if (fold(sum16(th, l4, pseudo(rd32(ip + 12), rd32(ip + 16), 6, l4))) != 0) {
		fail(z, "tx: bad TCP checksum");
		return;
	}
	uint32_t seq = rd32(th + 4);
	uint8_t flags = th[13];
	g_st.segs_out++;
	/* the latest TSval, for the peer's TSecr */
	for (unsigned o = 20; o < hlen;) {
		uint8_t k = th[o];
		if (k == 0)
			break;
		if (k == 1) {
			o++;
			continue;
		}
		if (o + 1 >= hlen || th[o + 1] < 2 || o + th[o + 1] > hlen) {
			fail(z, "tx: malformed TCP options");
			return;
		}
		if (k == 8 && th[o + 1] == 10)
			z->last_tsval = rd32(th + o + 2);
		o += th[o + 1];
	}
	unsigned dlen = l4 - hlen;
	if (dlen > 0 && (flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG))) {
		fail(z, "tx: data on a segment with flags %#x", flags);
		return;
	}
	struct slot *sl = slot_by_ports(z, rd16(th), rd16(th + 2));
	if (sl == NULL)
		return;
	/* what it acknowledges and the window's right edge never go back
	 * (RFC 9293 3.8.6.2.2: the window does not shrink) */
	struct tern_tcp_info ti;
	if ((flags & RTE_TCP_ACK_FLAG) &&
	    !(flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) &&
	    tern_tcp_info_get(z->s, sl->c, &ti) == 0) {
		uint32_t ack = rd32(th + 8);
		uint8_t ws = ti.rcv_wscale == 0xff ? 0 : ti.rcv_wscale;
		uint32_t edge = ack + ((uint32_t)rd16(th + 14) << ws);
		if (sl->sent_any && seq_leq(ack, sl->sent_ack) &&
		    ack != sl->sent_ack)
			fail(z, "tx: ACK %u after ACK %u", ack, sl->sent_ack);
		if (sl->sent_any && seq_leq(edge, sl->sent_edge) &&
		    edge != sl->sent_edge)
			fail(z, "tx: the window's right edge moved back from %u "
			     "to %u", sl->sent_edge, edge);
		if (!sl->sent_any || seq_leq(sl->sent_ack, ack))
			sl->sent_ack = ack;
		if (!sl->sent_any || seq_leq(sl->sent_edge, edge))
			sl->sent_edge = edge;
		sl->sent_any = true;
	}
	if (dlen == 0 || sl->tx_unchecked)
		return;
	uint32_t off = seq - sl->tx_base;
	uint32_t queued = sl->tx_queued + sl->tx_pending;
	if (off > queued || queued - off < dlen) {
		fail(z, "tx: %u data bytes at stream offset %u, only %u queued",
		     dlen, off, queued);
		return;
	}
	const uint8_t *d = th + hlen;
	for (unsigned i = 0; i < dlen; i++) {
		if (d[i] != pat2(off + i)) {
			fail(z, "tx: byte %u of the stream is %#x, not %#x",
			     off + i, d[i], pat2(off + i));
			return;
		}
	}
}

static uint16_t fz_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct fz *z = ctx;
	if (z->refuse && ++z->bursts % 3 == 0)
		return 0;	/* the stack frees them (eth_drop_tx_full) */
	for (uint16_t i = 0; i < n; i++) {
		check_tx(z, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

/* The peer answers the stack's ARP request (outside the transmit
 * callback: the stack is not re-entered from its own output). */
static void arp_answer(struct fz *z)
{
	uint8_t f[60];
	if (!z->arp_due)
		return;
	z->arp_due = false;
	memset(f, 0, sizeof(f));
	put_eth(f, mac_us, mac_peer, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 2);
	memcpy(f + 22, mac_peer, 6);
	put32(f + 28, ip_peer);
	memcpy(f + 32, mac_us, 6);
	put32(f + 38, ip_us);
	trace(z, "  (ARP reply)");
	input_frame(z, f, sizeof(f), 0, 0, 0);
}

/* ---- the application --------------------------------------------------- */

static const struct tern_tcp_ops ops_full;
static const struct tern_tcp_ops ops_deferred;

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

static void slot_drop_held(struct slot *sl)
{
	for (unsigned i = 0; i < sl->nheld; i++)
		rte_pktmbuf_free(sl->held[i]);
	sl->nheld = 0;
}

static void slot_init(struct fz *z, struct slot *sl, struct tern_tcp_conn *c,
		      uint8_t beh)
{
	slot_drop_held(sl);
	memset(sl, 0, sizeof(*sl));
	sl->z = z;
	sl->c = c;
	sl->beh = beh;
	sl->tx_unchecked = (beh & 3) == BEH_RX_ECHO;
}

/* The slot is over: closed() came or the application aborted. */
static void slot_end(struct slot *sl)
{
	slot_drop_held(sl);
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
		fail(sl->z, "%s callback for a connection the application no "
		     "longer holds", what);
		return false;
	}
	return true;
}

static void set_bases(struct fz *z, struct slot *sl, bool rx, bool tx)
{
	struct tern_tcp_info ti;
	if (tern_tcp_info_get(z->s, sl->c, &ti) != 0) {
		fail(z, "tcp_info_get failed on a live connection");
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

static void shut_conn(struct fz *z, struct slot *sl)
{
	sl->shut = true;
	int r = tern_tcp_shutdown_wr(z->s, sl->c);
	trace(z, "  shutdown -> %d", r);
	if (r != 0 && r != -ENOTCONN)
		fail(z, "tern_tcp_shutdown_wr: %d", r);
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
	trace(z, "  write %u -> %d", n, r);
	/* no callback comes from a write: the slot is still c's */
	sl->tx_pending = 0;
	if (r > 0 && sl->c == c)
		sl->tx_queued += (uint32_t)r;
	if (r > (int)n)
		fail(z, "tern_tcp_write took %d of %u bytes", r, n);
	if (r < 0 && r != -EAGAIN && r != -ENOTCONN && r != -EPIPE &&
	    r != -ENOBUFS)
		fail(z, "tern_tcp_write: unexpected %d", r);
}

static void close_conn(struct fz *z, struct slot *sl)
{
	struct tern_tcp_conn *c = sl->c;
	sl->app_closed = true;
	int r = tern_tcp_close(z->s, c);
	trace(z, "  close -> %d", r);
	if (r != 0)
		fail(z, "tern_tcp_close: %d", r);
}

static void abort_conn(struct fz *z, struct slot *sl)
{
	struct tern_tcp_conn *c = sl->c;
	slot_end(sl);
	tern_tcp_abort(z->s, c);
	trace(z, "  abort");
}

static void cb_connected(void *arg, struct tern_tcp_conn *c)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "connected"))
		return;
	struct fz *z = sl->z;
	trace(z, "  connected");
	if (sl->rx_base_known)
		fail(z, "connected twice");
	set_bases(z, sl, true, false);
	if (sl->beh & BEH_CLOSE_AT_START)
		close_conn(z, sl);
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
		fail(z, "recv after the FIN");
		rte_pktmbuf_free(m);
		return;
	}
	if (m == NULL) {
		trace(z, "  recv FIN");
		sl->fin_told = true;
		if ((sl->beh & BEH_SHUT_ON_FIN) && !sl->app_closed)
			shut_conn(z, sl);
		if ((sl->beh & BEH_CLOSE_ON_FIN) && !sl->app_closed && sl->c == c)
			close_conn(z, sl);
		return;
	}
	uint32_t len = m->pkt_len;
	trace(z, "  recv %u", len);
	if (len == 0)
		fail(z, "recv of an empty mbuf");
	if (!sl->rx_base_known)
		fail(z, "recv before the connection was told established");
	if (!z->tainted && sl->rx_base_known) {
		uint32_t off = 0;
		for (struct rte_mbuf *g = m; g != NULL; g = g->next) {
			const uint8_t *d = rte_pktmbuf_mtod(g, const uint8_t *);
			for (uint16_t i = 0; i < g->data_len; i++, off++) {
				uint32_t seq = sl->rx_base + sl->rx_got + off;
				if (d[i] != pat1(seq)) {
					fail(z, "recv: stream byte %u is %#x, not %#x",
					     sl->rx_got + off, d[i], pat1(seq));
					goto checked;
				}
			}
		}
		if (off != len)
			fail(z, "recv: segments hold %u bytes, pkt_len %u", off, len);
		g_st.bytes_delivered += len;
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
		abort_conn(z, sl);
		return;
	}
	if ((sl->beh & BEH_CLOSE_ON_DATA) && sl->rx_got > 1000 && !sl->app_closed)
		close_conn(z, sl);
}

static void cb_sent(void *arg, struct tern_tcp_conn *c, uint32_t acked)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "sent"))
		return;
	struct fz *z = sl->z;
	trace(z, "  sent %u", acked);
	sl->acked += acked;
	g_st.bytes_acked += acked;
	if (acked == 0 || sl->acked > sl->tx_queued)
		fail(z, "sent: %u acked, %llu in all of %u queued", acked,
		     (unsigned long long)sl->acked, sl->tx_queued);
	if ((sl->beh & BEH_WRITE_ON_SENT) && !sl->app_closed)
		app_write(z, sl, acked < 4096 ? acked : 4096);
}

static void cb_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct slot *sl = arg;
	if (!cb_ok(sl, c, "closed"))
		return;
	trace(sl->z, "  closed %d", err);
	g_st.closed_err[err == 0 ? 0 : err == ECONNRESET ? 1 :
			err == ETIMEDOUT ? 2 : err == ECONNREFUSED ? 3 : 4]++;
	if (err != 0 && err != ECONNREFUSED && err != ECONNRESET &&
	    err != ETIMEDOUT && err != EPIPE && err != EHOSTUNREACH &&
	    err != ENETUNREACH)
		fail(sl->z, "closed with error %d", err);
	if (err == 0 && !sl->app_closed && !sl->shut)
		fail(sl->z, "closed(0) without a close or shutdown from the "
		     "application");
	slot_end(sl);
}

static const struct tern_tcp_ops ops_full = {
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
	trace(z, "  accept (mode %u)%s", ls->accept_mode, sl ? "" : ", no slot");
	if (sl == NULL || ls->accept_mode == 3) {
		tern_tcp_abort(z->s, c);
		return;
	}
	slot_init(z, sl, c, ls->beh);
	set_bases(z, sl, true, true);
	switch (ls->accept_mode) {
	case 0:
		tern_tcp_set_ops(z->s, c, &ops_full, sl);
		break;
	case 1:
		sl->deferred = true;
		tern_tcp_set_ops(z->s, c, &ops_deferred, sl);
		break;
	case 2:
		tern_tcp_set_ops(z->s, c, &ops_full, sl);
		if (sl->c == c)
			close_conn(z, sl);
		return;
	}
	if (sl->c == c && (sl->beh & BEH_CLOSE_AT_START))
		close_conn(z, sl);
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

/* ---- time ---------------------------------------------------------------- */

#define TICK_NS 100000ull

/* Moves the clock to target, running each timer at its time. */
static void advance_to(struct fz *z, uint64_t target)
{
	unsigned guard = 0;
	for (;;) {
		uint64_t now = tern_clock_now(&z->clk);
		uint64_t nt = tern_stack_next_timer(z->s);
		if (nt > target)
			break;
		if (nt > now)
			tern_clock_advance(&z->clk, nt - now);
		unsigned ran = tern_stack_run_timers(z->s);
		arp_answer(z);
		if (ran == 0 && nt <= now) {
			if (now + TICK_NS > target)
				break;
			tern_clock_advance(&z->clk, TICK_NS);
		}
		if (++guard > 200000) {
			fail(z, "timers never settle (a timer re-arms itself "
			     "in the past?)");
			return;
		}
	}
	uint64_t now = tern_clock_now(&z->clk);
	if (target > now)
		tern_clock_advance(&z->clk, target - now);
	tern_stack_run_timers(z->s);
	arp_answer(z);
	z->peer_ts = (uint32_t)(tern_clock_now(&z->clk) / 1000000u) + 77777;
}

static void advance_ms(struct fz *z, uint64_t ms)
{
	advance_to(z, tern_clock_now(&z->clk) + ms * 1000000ull);
}

/* ---- checks -------------------------------------------------------------- */

static int collect(void *arg, struct tern_tcp_conn *c)
{
	struct fz *z = arg;
	if (z->nlist < sizeof(z->list) / sizeof(z->list[0]))
		z->list[z->nlist++] = c;
	return 0;
}

static void list_conns(struct fz *z)
{
	z->nlist = 0;
	tern_tcp_foreach(z->s, collect, z);
}

static void check_all(struct fz *z)
{
	list_conns(z);
	uint32_t count = tern_tcp_count(z->s);
	if (count != z->nlist)
		fail(z, "tern_tcp_count %u, but %u connections in use", count,
		     z->nlist);
	if (count > MAX_CONNS)
		fail(z, "%u connections in a table of %u", count, MAX_CONNS);
	for (unsigned i = 0; i < z->nlist; i++) {
		struct tern_tcp_info ti;
		if (tern_tcp_info_get(z->s, z->list[i], &ti) != 0) {
			fail(z, "tcp_info_get failed");
			continue;
		}
		uint32_t snd_max = ti.snd_una + ti.unacked;
		if (ti.state < 32)
			g_st.states_seen |= 1u << ti.state;
		if (ti.state == TERN_TCP_CLOSED || ti.state >= TERN_TCP_NSTATES)
			fail(z, "a connection in use in state %u", ti.state);
		if (!seq_leq(ti.snd_una, ti.snd_nxt) || !seq_leq(ti.snd_nxt, snd_max))
			fail(z, "%s: snd_una %u snd_nxt %u snd_max %u out of order",
			     tern_tcp_state_name(ti.state), ti.snd_una, ti.snd_nxt,
			     snd_max);
		if (ti.state != TERN_TCP_TIME_WAIT &&
		    ti.unacked > ti.send_queued + 2)
			fail(z, "%s: %u bytes in flight, %u queued",
			     tern_tcp_state_name(ti.state), ti.unacked,
			     ti.send_queued);
		if (ti.mss == 0)
			fail(z, "%s: MSS 0", tern_tcp_state_name(ti.state));
	}
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &z->slot[i];
		if (sl->c == NULL)
			continue;
		if (tern_tcp_state(sl->c) == TERN_TCP_CLOSED ||
		    tern_tcp_arg(sl->c) != sl) {
			fail(z, "slot %d: its connection went without closed() "
			     "(state %s)", i,
			     tern_tcp_state_name(tern_tcp_state(sl->c)));
			continue;
		}
		/* nothing is lost between TCP and the application: what
		 * rcv_nxt took was handed over (the FIN told once) */
		struct tern_tcp_info ti;
		if (!sl->deferred && sl->rx_base_known &&
		    tern_tcp_info_get(z->s, sl->c, &ti) == 0 &&
		    ti.rcv_nxt - sl->rx_base != sl->rx_got + sl->fin_told)
			fail(z, "slot %d (%s): rcv_nxt is %u past the start, the "
			     "application got %u bytes%s", i,
			     tern_tcp_state_name(ti.state), ti.rcv_nxt - sl->rx_base,
			     sl->rx_got, sl->fin_told ? " and the FIN" : "");
	}
}

/* ---- the ops ------------------------------------------------------------- */

struct target {
	bool conn;
	uint16_t lport, pport;
	struct tern_tcp_info ti;
};

static void pick_target(struct fz *z, uint8_t t, struct target *tg)
{
	static const uint16_t lports[4] = {80, 81, 82, 9};
	memset(tg, 0, sizeof(*tg));
	list_conns(z);
	if (!(t & 0x80) && z->nlist > 0) {
		struct tern_tcp_conn *c = z->list[(t & 0x7f) % z->nlist];
		if (tern_tcp_info_get(z->s, c, &tg->ti) == 0) {
			tg->conn = true;
			tg->lport = tg->ti.lport;
			tg->pport = tg->ti.rport;
			return;
		}
	}
	tg->lport = lports[t & 3];
	tg->pport = 1000 + ((t >> 2) & 7);
	for (unsigned i = 0; i < z->nlist; i++) {
		struct tern_tcp_info ti;
		if (tern_tcp_info_get(z->s, z->list[i], &ti) == 0 &&
		    ti.lport == tg->lport && ti.rport == tg->pport) {
			tg->conn = true;
			tg->ti = ti;
			return;
		}
	}
}

static uint32_t unit_of(unsigned sel, const struct target *tg)
{
	switch (sel & 3) {
	case 0:
		return 1;
	case 1:
		return 64;
	case 2:
		return tg->conn && tg->ti.mss ? tg->ti.mss : 1448;
	default:
		return 32768;
	}
}

/* An ICMP error from the peer about a segment we sent from lport to pport
 * with sequence number seq, l4len bytes long: kind 0 fragmentation needed
 * (the MTU from mtu), 1 port unreachable, 2 host unreachable, 3 time
 * exceeded. */
static void icmp_error(struct fz *z, const struct target *tg, unsigned kind,
		       uint32_t seq, uint16_t mtu, size_t l4len)
{
	static const uint8_t tc[4][2] = {{3, 4}, {3, 3}, {3, 1}, {11, 0}};
	uint8_t f[14 + 20 + 8 + 20 + 8];
	size_t off = put_eth(f, mac_us, mac_peer, 0x0800);
	off += put_ip4(f + off, ip_peer, ip_us, IPPROTO_ICMP, 8 + 20 + 8, 1);
	uint8_t *ic = f + off;
	memset(ic, 0, 8);
	ic[0] = tc[kind & 3][0];
	ic[1] = tc[kind & 3][1];
	if ((kind & 3) == 0)
		put16(ic + 6, mtu);
	uint8_t *q = ic + 8;	/* the quoted header, ours to the peer */
	put_ip4(q, ip_us, ip_peer, IPPROTO_TCP, l4len, 0);
	put16(q + 20, tg->lport);
	put16(q + 22, tg->pport);
	put32(q + 24, seq);
	put16(ic + 2, fold(sum16(ic, 8 + 20 + 8, 0)));
	trace(z, "ICMP %u/%u about %u->%u seq %u (mtu %u)", ic[0], ic[1],
	      tg->lport, tg->pport, seq, mtu);
	g_st.segs_in++;
	input_frame(z, f, sizeof(f), 0, 0, 0);
}

static void op_seg(struct fz *z)
{
	static const uint8_t flag_sets[12] = {
		RTE_TCP_ACK_FLAG,
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
		RTE_TCP_SYN_FLAG,
		RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG,
		RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG,
		RTE_TCP_RST_FLAG,
		RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG,
		RTE_TCP_ACK_FLAG,
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
		RTE_TCP_FIN_FLAG,
		RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG,
	};
	static uint8_t f[FRAME_MAX];
	uint8_t t = get8(z), fb = get8(z), ss = get8(z), sd = get8(z);
	uint8_t as = get8(z), ad = get8(z), w = get8(z), o = get8(z);
	struct target tg;
	pick_target(z, t, &tg);
	uint8_t flags = (fb & 0x80) ? (fb & 0x7f) : flag_sets[fb % 12];

	uint32_t rcv_nxt = tg.conn && tg.ti.state != TERN_TCP_SYN_SENT ?
			   tg.ti.rcv_nxt : z->pisn[tg.pport & 7];
	uint32_t seq;
	switch (ss & 3) {
	case 0: seq = rcv_nxt; break;
	case 1: seq = rcv_nxt + (tg.conn ? tg.ti.rcv_wnd : 0); break;
	case 2: seq = rcv_nxt - 1; break;
	default: seq = get32(z); break;
	}
	seq += (uint32_t)((int32_t)(int8_t)sd * (int32_t)unit_of(ss >> 2, &tg));
	uint32_t una = tg.conn ? tg.ti.snd_una : 0;
	uint32_t ack;
	switch (as & 3) {
	case 0: ack = una; break;
	case 1: ack = tg.conn ? tg.ti.snd_nxt : 0; break;
	case 2: ack = una + (tg.conn ? tg.ti.unacked : 0); break;
	default: ack = get32(z); break;
	}
	ack += (uint32_t)((int32_t)(int8_t)ad * (int32_t)unit_of(as >> 2, &tg));
	uint16_t wnd = w == 0 ? 0 : w == 0xff ? 0xffff : (uint16_t)(w << 8 | 0xff);

	/* options */
	uint8_t opt[64];
	unsigned ol = 0;
	if (o & 8) {
		unsigned n = get8(z) % 41;
		for (unsigned i = 0; i < n; i++)
			opt[ol++] = get8(z);
	} else {
		if (o & 4) {
			uint8_t m1 = get8(z), m2 = get8(z);
			static const uint16_t mss[4] = {1460, 536, 1, 9000};
			if (!(m1 & 1)) {
				opt[ol++] = 2;
				opt[ol++] = 4;
				put16(opt + ol, mss[m2 & 3]);
				ol += 2;
			}
			if (m1 & 2) {
				opt[ol++] = 1;
				opt[ol++] = 3;
				opt[ol++] = 3;
				opt[ol++] = (m2 >> 2) & 15;
			}
			if (m1 & 4) {
				opt[ol++] = 4;
				opt[ol++] = 2;
			}
		}
		if (o & 1) {
			opt[ol++] = 1;
			opt[ol++] = 1;
			opt[ol++] = 8;
			opt[ol++] = 10;
			put32(opt + ol, (o & 0x10) ? z->peer_ts - 0x10000000u :
				       z->peer_ts);
			put32(opt + ol + 4, z->last_tsval);
			ol += 8;
		}
		if (o & 2) {
			uint8_t sb = get8(z);
			unsigned nb = 1 + (sb & 3);
			unsigned room = (40 - ol - 2) / 8;
			if (nb > room)
				nb = room;
			uint32_t u = (sb & 4) ? 1 : unit_of(2, &tg);
			if (nb > 0) {
				opt[ol++] = 5;
				opt[ol++] = (uint8_t)(2 + 8 * nb);
				for (unsigned i = 0; i < nb; i++) {
					uint8_t b1 = get8(z), b2 = get8(z);
					uint32_t st = una + b1 * u;
					put32(opt + ol, st);
					put32(opt + ol + 4, st + (b2 ? b2 : 1) * u);
					ol += 8;
				}
			}
		}
	}
	while (ol % 4)
		opt[ol++] = 0;
	if (ol > 40)
		ol = 40;

	uint8_t lb = get8(z), x = get8(z);
	uint32_t plen = lb < 0x80 ? lb : (uint32_t)(lb - 0x7f) * 32;
	if (x & 0x20) {
		/* an ICMP error quoting a segment of ours: ack is its seq */
		icmp_error(z, &tg, x >> 6, ack, wnd, 20 + ol + plen);
		return;
	}
	unsigned hlen = 20 + ol;
	size_t off = put_eth_ip(f, hlen + plen);
	uint8_t *th = f + off;
	memset(th, 0, 20);
	put16(th, tg.pport);
	put16(th + 2, tg.lport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((hlen / 4) << 4);
	th[13] = flags;
	put16(th + 14, wnd);
	memcpy(th + 20, opt, ol);
	uint32_t dseq = seq + ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0);
	for (uint32_t i = 0; i < plen; i++)
		th[hlen + i] = (x & 0x10) ? 0 : pat1(dseq + i);
	if (x & 0x10 && plen > 0)
		z->tainted = true;
	uint16_t ck = fold(sum16(th, hlen + plen, pseudo(ip_peer, ip_us, 6,
							 hlen + plen)));
	put16(th + 16, (x & 4) ? (uint16_t)~ck : ck);
	size_t flen = off + hlen + plen;
	size_t split = 0, seg = 0;
	switch (x & 3) {
	case 1: split = 40; break;
	case 2: split = off + hlen; break;
	case 3: split = off + hlen + 1; seg = 300; break;
	}
	uint64_t olf = (x & 8) ? (RTE_MBUF_F_RX_IP_CKSUM_GOOD |
				  RTE_MBUF_F_RX_L4_CKSUM_GOOD) : 0;
	trace(z, "SEG %u->%u%s flags %#x seq %u ack %u wnd %u opts %u len %u%s",
	      tg.pport, tg.lport, tg.conn ? "" : " (no conn)", flags, seq, ack,
	      wnd, ol, plen, (x & 4) ? " bad-cksum" : "");
	g_st.segs_in++;
	input_frame(z, f, flen, split, seg, olf);
}

static void op_time(struct fz *z)
{
	uint8_t t = get8(z);
	uint64_t ms = t < 100 ? t : t < 200 ? (uint64_t)(t - 99) * 50 :
			  (uint64_t)(t - 199) * 1000;
	trace(z, "TIME +%llu ms", (unsigned long long)ms);
	advance_ms(z, ms);
}

static void op_connect(struct fz *z)
{
	uint8_t o1 = get8(z), o2 = get8(z), beh = get8(z), p = get8(z);
	struct slot *sl = slot_free(z);
	trace(z, "CONNECT opts %#x/%#x beh %#x ports %#x", o1, o2, beh, p);
	if (sl == NULL)
		return;
	struct tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.remote = tern_addr_v4h(ip_peer);
	cc.rport = (uint16_t)(2000 + (p & 7));
	cc.lport = (p & 8) ? (uint16_t)(3000 + ((p >> 4) & 7)) : 0;
	cc.ops = &ops_full;
	cc.arg = sl;
	opts_from(&cc.opts, o1, o2);
	slot_init(z, sl, NULL, beh);
	struct tern_tcp_conn *c = tern_tcp_connect(z->s, &cc);
	trace(z, "  -> %s", c ? "ok" : "failed");
	if (c == NULL)
		return;
	sl->c = c;
	struct tern_tcp_info ti;
	tern_tcp_info_get(z->s, c, &ti);
	if (ti.state != TERN_TCP_SYN_SENT)
		fail(z, "connect: state %s", tern_tcp_state_name(ti.state));
	sl->tx_base = ti.snd_una + 1;
	sl->lport = ti.lport;
	sl->pport = ti.rport;
}

static void op_listen(struct fz *z)
{
	uint8_t w = get8(z), o1 = get8(z), o2 = get8(z), beh = get8(z);
	uint8_t am = get8(z);
	struct lst *ls = &z->lst[w & 1];
	trace(z, "LISTEN %u opts %#x/%#x beh %#x accept %#x", 80 + (w & 1), o1,
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
		fail(z, "listen on %u failed", lc.port);
}

static void op_listener_close(struct fz *z)
{
	uint8_t w = get8(z);
	struct lst *ls = &z->lst[w & 1];
	trace(z, "LISTENER_CLOSE %u", 80 + (w & 1));
	if (ls->l == NULL)
		return;
	tern_tcp_listener_close(z->s, ls->l);
	ls->l = NULL;
}

static uint32_t len_big(uint8_t l)
{
	return l < 0x40 ? l : l < 0x80 ? (uint32_t)(l - 0x3f) * 64 :
	       (uint32_t)(l - 0x7f) * 1024;
}

static void op_write(struct fz *z)
{
	uint8_t k = get8(z), l = get8(z);
	struct slot *sl = slot_pick(z, k);
	trace(z, "WRITE %u", len_big(l));
	if (sl != NULL)
		app_write(z, sl, len_big(l));
}

static void op_send_ref(struct fz *z)
{
	uint8_t k = get8(z), l = get8(z), mode = get8(z);
	struct slot *sl = slot_pick(z, k);
	uint32_t n = l < 0x80 ? l : (uint32_t)(l - 0x7f) * 16;
	trace(z, "SEND_REF %u mode %u", n, mode & 3);
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
	trace(z, "  -> %d", r);
	if (r == 0) {
		if (sl->c == c)
			sl->tx_queued += n;
	} else {
		rte_pktmbuf_free(m);
		if (r != -EAGAIN && r != -ENOTCONN && r != -EPIPE)
			fail(z, "tern_tcp_send: unexpected %d", r);
	}
}

static void op_consume(struct fz *z)
{
	uint8_t k = get8(z), l = get8(z);
	struct slot *sl = slot_pick(z, k);
	uint32_t n = len_big(l);
	trace(z, "CONSUME %u", n);
	if (sl == NULL)
		return;
	slot_drop_held(sl);
	tern_tcp_recved(z->s, sl->c, n);
}

/* SHUTDOWN, CLOSE, ABORT: one byte picks the slot, whose connection
 * then goes through fn. */
static void op_on_slot(struct fz *z, const char *name,
		       void (*fn)(struct fz *, struct slot *))
{
	struct slot *sl = slot_pick(z, get8(z));
	trace(z, "%s", name);
	if (sl != NULL)
		fn(z, sl);
}

static void op_setopt(struct fz *z)
{
	uint8_t k = get8(z), sub = get8(z), v = get8(z);
	struct slot *sl = slot_pick(z, k);
	trace(z, "SETOPT %u %#x", sub % 8, v);
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
			tern_tcp_set_ops(z->s, c, &ops_full, sl);
		}
		break;
	default:
		tern_tcp_recved(z->s, c, 0);
		break;
	}
}

static void op_raw_tcp(struct fz *z)
{
	static uint8_t f[FRAME_MAX];
	uint8_t t = get8(z), l = get8(z);
	struct target tg;
	pick_target(z, t, &tg);
	unsigned n = l & 0x7f;
	size_t off = put_eth_ip(f, n);
	for (unsigned i = 0; i < n; i++)
		f[off + i] = get8(z);
	if (n >= 4) {
		put16(f + off, tg.pport);
		put16(f + off + 2, tg.lport);
	}
	if (n >= 18 && !(l & 0x80)) {
		put16(f + off + 16, 0);
		put16(f + off + 16, fold(sum16(f + off, n, pseudo(ip_peer, ip_us,
								   6, n))));
	}
	z->tainted = true;
	trace(z, "RAW_TCP %u bytes to %u->%u", n, tg.pport, tg.lport);
	input_frame(z, f, off + n, 0, 0, 0);
}

static void op_raw_frame(struct fz *z)
{
	static uint8_t f[FRAME_MAX];
	unsigned n = get8(z);
	n = n < 0x80 ? n : (n - 0x7f) * 16;
	for (unsigned i = 0; i < n; i++)
		f[i] = get8(z);
	z->tainted = true;
	trace(z, "RAW_FRAME %u bytes", n);
	input_frame(z, f, n, 0, 0, 0);
}

static void op_sock(struct fz *z)
{
	static uint8_t buf[64 * 1024];
	uint8_t sub = get8(z), a = get8(z), b = get8(z);
	struct tern_socks *t = z->socks;
	int fd = a % NSOCK;
	struct sockaddr_in in;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	int r = 0;
	switch (sub % 12) {
	case 0: {
		fd = tern_sock_socket(t, AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			break;
		int one = 1;
		if (b & 1)
			tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_REUSEADDR,
					     &one, sizeof(one));
		in.sin_port = htons(82);
		r = tern_sock_bind(t, fd, (struct sockaddr *)&in, sizeof(in));
		if (r == 0)
			r = tern_sock_listen(t, fd, (b >> 1) & 3);
		break;
	}
	case 1: {
		fd = tern_sock_socket(t, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		int one = 1, small = 2000;
		if (b & 1)
			tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_NODELAY,
					     &one, sizeof(one));
		if (b & 2)
			tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_RCVBUF,
					     &small, sizeof(small));
		if (b & 4)
			tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_SNDBUF,
					     &small, sizeof(small));
		if (b & 8)
			tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_KEEPALIVE,
					     &one, sizeof(one));
		in.sin_port = htons((uint16_t)(2100 + ((b >> 4) & 7)));
		in.sin_addr.s_addr = htonl(ip_peer);
		r = tern_sock_connect(t, fd, (struct sockaddr *)&in, sizeof(in));
		break;
	}
	case 2: {
		socklen_t sl = sizeof(in);
		r = tern_sock_accept(t, fd, (struct sockaddr *)&in, &sl);
		break;
	}
	case 3: {
		int flags = ((b & 1) ? MSG_PEEK : 0) | ((b & 2) ? MSG_DONTWAIT : 0);
		r = (int)tern_sock_recv(t, fd, buf, len_big(b >> 2) % sizeof(buf),
					flags);
		break;
	}
	case 4:
		memset(buf, 0x6b, sizeof(buf));
		r = (int)tern_sock_send(t, fd, buf, len_big(b) % sizeof(buf), 0);
		break;
	case 5:
		r = tern_sock_shutdown(t, fd, b % 3);
		break;
	case 6:
		r = tern_sock_close(t, fd);
		break;
	case 7: {
		int v = b >> 3;
		struct linger lg = {1, 0};
		switch (b & 7) {
		case 0: r = tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)); break;
		case 1: r = tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)); break;
		case 2: v++; r = tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)); break;
		case 3: v++; r = tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)); break;
		case 4: v++; r = tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)); break;
		case 5: v = 1 + v * 200; r = tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)); break;
		case 6: r = tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)); break;
		default: r = tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_CONGESTION, (b & 8) ? "reno" : "cubic", 5); break;
		}
		break;
	}
	case 8: {
		struct pollfd pf[NSOCK];
		for (int i = 0; i < NSOCK; i++) {
			pf[i].fd = i;
			pf[i].events = POLLIN | POLLOUT | POLLRDHUP;
			pf[i].revents = 0;
		}
		r = tern_sock_poll(t, pf, NSOCK);
		break;
	}
	case 9: {
		struct tcp_info ti;
		socklen_t l = sizeof(ti);
		socklen_t al = sizeof(in);
		switch (b % 6) {
		case 0: r = tern_sock_getsockopt(t, fd, IPPROTO_TCP, TCP_INFO, &ti, &l); break;
		case 1: l = sizeof(int); r = tern_sock_getsockopt(t, fd, SOL_SOCKET, SO_ERROR, &ti, &l); break;
		case 2: l = sizeof(int); r = tern_sock_getsockopt(t, fd, IPPROTO_TCP, TCP_MAXSEG, &ti, &l); break;
		case 3: r = tern_sock_getsockname(t, fd, (struct sockaddr *)&in, &al); break;
		case 4: r = tern_sock_getpeername(t, fd, (struct sockaddr *)&in, &al); break;
		default:
			r = tern_sock_fcntl(t, fd, F_GETFL, 0);
			if (r >= 0)
				r = tern_sock_fcntl(t, fd, F_SETFL, r ^ O_NONBLOCK);
			(void)tern_sock_is_nonblocking(t, fd);
			break;
		}
		break;
	}
	case 10:
		in.sin_port = htons(2100);
		in.sin_addr.s_addr = htonl(ip_peer);
		r = tern_sock_connect(t, fd, (struct sockaddr *)&in, sizeof(in));
		break;
	default: {
		struct iovec iov[3] = {
			{buf, 100}, {buf + 100, len_big(b >> 1) % 4096}, {buf + 8192, 1000},
		};
		r = (b & 1) ? (int)tern_sock_writev(t, fd, iov, 3) :
			      (int)tern_sock_readv(t, fd, iov, 3);
		break;
	}
	}
	trace(z, "SOCK %u fd %d %#x -> %d", sub % 12, fd, b, r);
}

static void op_hog(struct fz *z)
{
	uint8_t b = get8(z);
	if (b & 0x80) {
		trace(z, "HOG release %u", z->nhog);
		for (unsigned i = 0; i < z->nhog; i++)
			rte_pktmbuf_free(z->hog[i]);
		z->nhog = 0;
		return;
	}
	unsigned want = (b & 0x7f) * 16u + 1;
	unsigned got = 0;
	while (got < want && z->nhog < POOL_SIZE) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(z->mp);
		if (m == NULL)
			break;
		z->hog[z->nhog++] = m;
		got++;
	}
	trace(z, "HOG take %u (holding %u)", got, z->nhog);
}

/* ---- the run ------------------------------------------------------------- */

static struct rte_mempool *fuzz_pool(void)
{
	static struct rte_mempool *mp;
	if (!mp)
		mp = rte_pktmbuf_pool_create_by_ops("tern_fuzz_tcp_pool",
						    POOL_SIZE, 0, 0,
						    RTE_MBUF_DEFAULT_BUF_SIZE,
						    SOCKET_ID_ANY, "ring_mp_mc");
	return mp;
}

static int abort_each(void *arg, struct tern_tcp_conn *c)
{
	struct fz *z = arg;
	struct tern_tcp_info ti;
	tern_tcp_info_get(z->s, c, &ti);
	fprintf(stderr, "tern_fuzz_tcp: left: %u->%u in %s, %u queued, %u in "
		"flight\n", ti.rport, ti.lport, tern_tcp_state_name(ti.state),
		ti.send_queued, ti.unacked);
	tern_tcp_abort(z->s, c);
	return 0;
}

static void run_ops(struct fz *z)
{
	for (unsigned i = 0; i < MAX_OPS && z->n > 0 && !z->fail; i++) {
		g_st.ops++;
		switch (get8(z) % TERN_FUZZ_TCP_NOPS) {
		case TERN_FZ_SEG: op_seg(z); break;
		case TERN_FZ_TIME: op_time(z); break;
		case TERN_FZ_CONNECT: op_connect(z); break;
		case TERN_FZ_LISTEN: op_listen(z); break;
		case TERN_FZ_LISTENER_CLOSE: op_listener_close(z); break;
		case TERN_FZ_WRITE: op_write(z); break;
		case TERN_FZ_SEND_REF: op_send_ref(z); break;
		case TERN_FZ_CONSUME: op_consume(z); break;
		case TERN_FZ_SHUTDOWN: op_on_slot(z, "SHUTDOWN", shut_conn); break;
		case TERN_FZ_CLOSE: op_on_slot(z, "CLOSE", close_conn); break;
		case TERN_FZ_ABORT: op_on_slot(z, "ABORT", abort_conn); break;
		case TERN_FZ_SETOPT: op_setopt(z); break;
		case TERN_FZ_RAW_TCP: op_raw_tcp(z); break;
		case TERN_FZ_RAW_FRAME: op_raw_frame(z); break;
		case TERN_FZ_SOCK: op_sock(z); break;
		case TERN_FZ_HOG: op_hog(z); break;
		}
		arp_answer(z);
		check_all(z);
	}
}

/* With the trace on: the stack's counters that moved. */
static void trace_counters(struct fz *z)
{
	if (!z->trace)
		return;
	struct tern_stack_stats st;
	unsigned n;
	const struct tern_counter_desc *d = tern_stack_counter_descs(&n);
	tern_stack_stats_get(z->s, &st);
	fprintf(stderr, "counters:");
	for (unsigned i = 0; i < n; i++) {
		uint64_t v;
		memcpy(&v, (const uint8_t *)&st + d[i].offset, sizeof(v));
		if (v != 0)
			fprintf(stderr, " %s.%s=%llu", d[i].proto, d[i].name,
				(unsigned long long)v);
	}
	fprintf(stderr, "\n");
}

/* The end: let go of everything, let the timers finish, and check that
 * nothing is left. */
static int finish(struct fz *z, bool graceful)
{
	int rc = 0;
	trace(z, "END (%s)", graceful ? "close" : "abort");
	trace_counters(z);
	/* the application's buffers first: a close with data unread resets */
	for (unsigned i = 0; i < z->nhog; i++)
		rte_pktmbuf_free(z->hog[i]);
	z->nhog = 0;
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &z->slot[i];
		if (sl->c == NULL)
			continue;
		slot_drop_held(sl);
		if (graceful) {
			sl->beh = 0;	/* no more writes from callbacks */
			if (sl->deferred) {
				sl->deferred = false;
				tern_tcp_set_ops(z->s, sl->c, &ops_full, sl);
			}
			if (sl->c != NULL && !sl->app_closed)
				close_conn(z, sl);
		} else {
			abort_conn(z, sl);
		}
	}
	for (int fd = 0; fd < NSOCK; fd++) {
		if (!graceful) {
			struct linger lg = {1, 0};
			tern_sock_setsockopt(z->socks, fd, SOL_SOCKET, SO_LINGER,
					     &lg, sizeof(lg));
		}
		tern_sock_close(z->socks, fd);
	}
	for (int i = 0; i < NLST; i++) {
		if (z->lst[i].l != NULL)
			tern_tcp_listener_close(z->s, z->lst[i].l);
		z->lst[i].l = NULL;
	}
	/* The peer is silent from here: retransmissions time out, FIN-WAIT-2
	 * and TIME_WAIT end (3 hours covers every timeout of the stack's
	 * configuration: 15 retries of at most 120 s, keepalive, 60 s). */
	uint64_t end = tern_clock_now(&z->clk) + 3 * 3600ull * 1000000000ull;
	while (tern_tcp_count(z->s) > 0 && !z->fail &&
	       tern_clock_now(&z->clk) < end)
		advance_ms(z, 10000);
	check_all(z);
	if (tern_tcp_count(z->s) > 0) {
		fprintf(stderr, "tern_fuzz_tcp: %u connections left 3 hours "
			"after the application %s them\n", tern_tcp_count(z->s),
			graceful ? "closed" : "aborted");
		rc = -2;
		tern_tcp_foreach(z->s, abort_each, z);
	}
	for (int i = 0; i < NSLOT; i++) {
		if (z->slot[i].c != NULL) {
			fprintf(stderr, "tern_fuzz_tcp: slot %d never got closed()\n", i);
			rc = -2;
			slot_end(&z->slot[i]);
		}
	}
	tern_socks_destroy(z->socks);
	z->socks = NULL;
	return rc;
}

int tern_fuzz_tcp_one(const uint8_t *data, size_t len)
{
	static struct fz zz;
	static struct rte_mbuf *hog[POOL_SIZE];
	struct rte_mempool *mp = fuzz_pool();
	if (mp == NULL)
		return -1;
	if (len < 1)
		return 0;
	unsigned before = in_pool(mp);
	g_st.runs++;
	struct fz *z = &zz;
	memset(z, 0, sizeof(*z));
	z->mp = mp;
	z->hog = hog;
	z->p = data;
	z->n = len;
	static int trace_env = -1;
	if (trace_env < 0) {
		const char *e = getenv("TERN_FUZZ_TRACE");
		trace_env = e != NULL && e[0] != '\0' && e[0] != '0';
	}
	z->trace = trace_env;
	uint8_t h = get8(z);
	z->refuse = (h >> 5) & 1;
	z->arp_silent = (h >> 6) & 1;
	for (unsigned i = 0; i < 8; i++)
		z->pisn[i] = 0x10000000u * (i + 1) + 0x1234567u * i;

	tern_clock_init_virtual(&z->clk, 1000000000ull);
	z->peer_ts = 77777;
	struct tern_stack_conf sc = {
		.name = "fuzz_tcp", .pool = mp, .clock = &z->clk, .seed = 1,
		.neigh_max = 8, .neigh_retrans_ms = 100, .neigh_mcast_probes = 2,
		.neigh_queue_len = 4, .local_blocks = 2, .ip4_frag_max = 4,
		.udp_max_pcbs = 4, .tcp_max_conns = MAX_CONNS,
		.tcp_max_listeners = 4,
		.tcp_cc = (h & 3) == 1 ? TERN_TCP_CC_NEWRENO :
			  (h & 3) == 2 ? TERN_TCP_CC_CUBIC : 0,
		.tcp_no_delack = (h >> 2) & 1,
		.tcp_rto_min_ms = (h & 8) ? 20 : 0,
		.tcp_syn_retries = (h & 0x10) ? 2 : 0,
		.tcp_retries = (h & 0x10) ? 4 : 0,
	};
	z->s = tern_stack_create(&sc);
	if (z->s == NULL)
		return -1;
	struct tern_iface_conf ic = {
		.ifindex = 1, .link = 0, .name = "fz0", .mtu = 1500,
		.tx = fz_tx, .tx_ctx = z,
	};
	memcpy(ic.mac.addr_bytes, mac_us, 6);
	struct tern_addr a = tern_addr_v4h(ip_us);
	struct tern_addr peer = tern_addr_v4h(ip_peer);
	struct rte_ether_addr pm;
	memcpy(pm.addr_bytes, mac_peer, 6);
	int rc = -1;
	if (tern_iface_add(z->s, &ic) != 0 ||
	    tern_iface_addr_add(z->s, 1, &a, 24) != 0)
		goto out;
	if (!((h >> 6) & 1) && tern_neigh_add(z->s, 1, &peer, &pm) != 0)
		goto out;
	z->socks = tern_socks_create(z->s, NSOCK);
	z->shared = rte_pktmbuf_alloc(mp);
	if (z->socks == NULL || z->shared == NULL)
		goto out;
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(z->shared, SHARED_LEN);
	if (d == NULL)
		goto out;
	for (unsigned i = 0; i < SHARED_LEN; i++)
		d[i] = pat2(i);

	run_ops(z);
	rc = finish(z, (h >> 7) & 1);
	if (z->fail)
		rc = z->fail;
out:
	if (z->socks != NULL)
		tern_socks_destroy(z->socks);
	for (int i = 0; i < NSLOT; i++)
		slot_end(&z->slot[i]);
	for (unsigned i = 0; i < z->nhog; i++)
		rte_pktmbuf_free(z->hog[i]);
	z->nhog = 0;
	tern_stack_destroy(z->s);
	/* the shared buffer came back unchanged (the stack never writes
	 * what it is given by reference) and no clone of it is left */
	if (z->shared != NULL) {
		if (rte_mbuf_refcnt_read(z->shared) != 1)
			fail(z, "the shared buffer still has %u references",
			     rte_mbuf_refcnt_read(z->shared));
		const uint8_t *sd = rte_pktmbuf_mtod(z->shared, const uint8_t *);
		for (unsigned i = 0; i < z->shared->data_len; i++)
			if (sd[i] != pat2(i)) {
				fail(z, "the shared buffer was written at %u", i);
				break;
			}
		rte_pktmbuf_free(z->shared);
	}
	if (z->fail && rc == 0)
		rc = z->fail;
	/* compared with before, so that one leak is reported once */
	if (in_pool(mp) != before) {
		fprintf(stderr, "tern_fuzz_tcp: %d mbufs leaked (negative: "
			"freed twice)\n", (int)before - (int)in_pool(mp));
		return -1;
	}
	return rc;
}
