/* The TCP harness's checks (see fuzz_tcp.h for what is checked and
 * fuzz_tcp_priv.h for the pieces): every frame the stack sends, as its
 * transmit callback; every connection and slot after each op; and the
 * trace (TERN_FUZZ_TRACE=1). */
#include "fuzz_tcp_priv.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_tcp.h>

/* ---- failures and the trace -------------------------------------------- */

void fz_fail(struct fz *z, const char *fmt, ...)
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

void fz_trace(struct fz *z, const char *fmt, ...)
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
		fz_fail(z, "tx: a frame of %u bytes (MTU 1500)", len);
		return;
	}
	const uint8_t *p = len >= 14 ? rte_pktmbuf_read(m, 0, len, f) : NULL;
	if (p == NULL) {
		fz_fail(z, "tx: a frame of %u bytes", len);
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
		fz_fail(z, "tx: ethertype %#x, %u bytes", type, len);
		return;
	}
	const uint8_t *ip = f + 14;
	unsigned ihl = (ip[0] & 15) * 4u;
	unsigned tot = rd16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < 20 || tot != len - 14 || tot < ihl) {
		fz_fail(z, "tx: IPv4 header %#x, total length %u in %u bytes",
		        ip[0], tot, len);
		return;
	}
	if (fold(sum16(ip, ihl, 0)) != 0) {
		fz_fail(z, "tx: bad IPv4 checksum");
		return;
	}
	if (ip[9] != IPPROTO_TCP)
		return;	/* ICMP errors and the like */
	const uint8_t *th = ip + ihl;
	unsigned l4 = tot - ihl;
	unsigned hlen = (th[12] >> 4) * 4u;
	if (l4 < 20 || hlen < 20 || hlen > l4) {
		fz_fail(z, "tx: TCP header of %u bytes in %u", hlen, l4);
		return;
	}
	if (fold(sum16(th, l4, pseudo(rd32(ip + 12), rd32(ip + 16), 6, l4))) != 0) {
		fz_fail(z, "tx: bad TCP checksum");
		return;
	}
	uint32_t seq = rd32(th + 4);
	uint8_t flags = th[13];
	fz_stats.segs_out++;
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
			fz_fail(z, "tx: malformed TCP options");
			return;
		}
		if (k == 8 && th[o + 1] == 10)
			z->last_tsval = rd32(th + o + 2);
		o += th[o + 1];
	}
	unsigned dlen = l4 - hlen;
	if (dlen > 0 && (flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG))) {
		fz_fail(z, "tx: data on a segment with flags %#x", flags);
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
			fz_fail(z, "tx: ACK %u after ACK %u", ack, sl->sent_ack);
		if (sl->sent_any && seq_leq(edge, sl->sent_edge) &&
		    edge != sl->sent_edge)
			fz_fail(z, "tx: the window's right edge moved back from %u "
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
		fz_fail(z, "tx: %u data bytes at stream offset %u, only %u queued",
		        dlen, off, queued);
		return;
	}
	const uint8_t *d = th + hlen;
	for (unsigned i = 0; i < dlen; i++) {
		if (d[i] != pat2(off + i)) {
			fz_fail(z, "tx: byte %u of the stream is %#x, not %#x",
			        off + i, d[i], pat2(off + i));
			return;
		}
	}
}

uint16_t fz_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
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

/* ---- checks ------------------------------------------------------------ */

static int collect(void *arg, struct tern_tcp_conn *c)
{
	struct fz *z = arg;
	if (z->nlist < sizeof(z->list) / sizeof(z->list[0]))
		z->list[z->nlist++] = c;
	return 0;
}

void fz_list_conns(struct fz *z)
{
	z->nlist = 0;
	tern_tcp_foreach(z->s, collect, z);
}

void fz_check_all(struct fz *z)
{
	fz_list_conns(z);
	uint32_t count = tern_tcp_count(z->s);
	if (count != z->nlist)
		fz_fail(z, "tern_tcp_count %u, but %u connections in use", count,
		        z->nlist);
	if (count > MAX_CONNS)
		fz_fail(z, "%u connections in a table of %u", count, MAX_CONNS);
	for (unsigned i = 0; i < z->nlist; i++) {
		struct tern_tcp_info ti;
		if (tern_tcp_info_get(z->s, z->list[i], &ti) != 0) {
			fz_fail(z, "tcp_info_get failed");
			continue;
		}
		uint32_t snd_max = ti.snd_una + ti.unacked;
		if (ti.state < 32)
			fz_stats.states_seen |= 1u << ti.state;
		if (ti.state == TERN_TCP_CLOSED || ti.state >= TERN_TCP_NSTATES)
			fz_fail(z, "a connection in use in state %u", ti.state);
		if (!seq_leq(ti.snd_una, ti.snd_nxt) || !seq_leq(ti.snd_nxt, snd_max))
			fz_fail(z, "%s: snd_una %u snd_nxt %u snd_max %u out of order",
			        tern_tcp_state_name(ti.state), ti.snd_una, ti.snd_nxt,
			        snd_max);
		if (ti.state != TERN_TCP_TIME_WAIT &&
		    ti.unacked > ti.send_queued + 2)
			fz_fail(z, "%s: %u bytes in flight, %u queued",
			        tern_tcp_state_name(ti.state), ti.unacked,
			        ti.send_queued);
		if (ti.mss == 0)
			fz_fail(z, "%s: MSS 0", tern_tcp_state_name(ti.state));
	}
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &z->slot[i];
		if (sl->c == NULL)
			continue;
		if (tern_tcp_state(sl->c) == TERN_TCP_CLOSED ||
		    tern_tcp_arg(sl->c) != sl) {
			fz_fail(z, "slot %d: its connection went without closed() "
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
			fz_fail(z, "slot %d (%s): rcv_nxt is %u past the start, the "
			        "application got %u bytes%s", i,
			        tern_tcp_state_name(ti.state), ti.rcv_nxt - sl->rx_base,
			        sl->rx_got, sl->fin_told ? " and the FIN" : "");
	}
}

/* With the trace on: the stack's counters that moved. */
void fz_trace_counters(struct fz *z)
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

