/* The TCP harness's peer, 10.0.0.99 (see fuzz_tcp.h): the segments the
 * input describes, built around the target connection's current sequence
 * numbers, ICMP errors quoting a segment of ours, raw TCP and frame bytes,
 * and answers to the stack's ARP requests. */
#include "fuzz_tcp_priv.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_tcp.h>

/* ---- frames ------------------------------------------------------------ */

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
		fz_trace(z, "  (no mbuf for the frame)");
		return;
	}
	m->ol_flags = ol;
	tern_stack_input(z->s, 0, &m, 1);
}

/* The peer answers the stack's ARP request (outside the transmit
 * callback: the stack is not re-entered from its own output). */
void fz_arp_answer(struct fz *z)
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
	fz_trace(z, "  (ARP reply)");
	input_frame(z, f, sizeof(f), 0, 0, 0);
}

/* ---- segments ---------------------------------------------------------- */

struct target {
	bool conn;
	uint16_t lport, pport;
	struct tern_tcp_info ti;
};

static void pick_target(struct fz *z, uint8_t t, struct target *tg)
{
	static const uint16_t lports[4] = {80, 81, 82, 9};
	memset(tg, 0, sizeof(*tg));
	fz_list_conns(z);
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
	fz_trace(z, "ICMP %u/%u about %u->%u seq %u (mtu %u)", ic[0], ic[1],
	         tg->lport, tg->pport, seq, mtu);
	fz_stats.segs_in++;
	input_frame(z, f, sizeof(f), 0, 0, 0);
}

void fz_op_seg(struct fz *z)
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
	fz_trace(z, "SEG %u->%u%s flags %#x seq %u ack %u wnd %u opts %u len %u%s",
	         tg.pport, tg.lport, tg.conn ? "" : " (no conn)", flags, seq, ack,
	         wnd, ol, plen, (x & 4) ? " bad-cksum" : "");
	fz_stats.segs_in++;
	input_frame(z, f, flen, split, seg, olf);
}

void fz_op_raw_tcp(struct fz *z)
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
	fz_trace(z, "RAW_TCP %u bytes to %u->%u", n, tg.pport, tg.lport);
	input_frame(z, f, off + n, 0, 0, 0);
}

void fz_op_raw_frame(struct fz *z)
{
	static uint8_t f[FRAME_MAX];
	unsigned n = get8(z);
	n = n < 0x80 ? n : (n - 0x7f) * 16;
	for (unsigned i = 0; i < n; i++)
		f[i] = get8(z);
	z->tainted = true;
	fz_trace(z, "RAW_FRAME %u bytes", n);
	input_frame(z, f, n, 0, 0, 0);
}

