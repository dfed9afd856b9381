/* See fuzz_frame.h. A fresh stack per input, so what one input leaves
 * queued (an ARP wait, a timer) cannot hide a leak of the next. */
#include "fuzz_frame.h"
#include "fuzz_util.h"

#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <tern/stack.h>

#define POOL_SIZE 500 /* ring room above it: double frees show */
#define FRAME_MAX 2048

static const uint8_t mac_us[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_peer[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint32_t ip_us = 0x0a000001;   /* 10.0.0.1 */
static const uint32_t ip_peer = 0x0a000063; /* 10.0.0.99 */
static const uint32_t ip_far = 0x0a000042;  /* 10.0.0.66: never resolved */

struct sink {
	unsigned refuse; /* every n-th burst is refused (tx full), 0: never */
	unsigned bursts;
};

static uint16_t sink_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct sink *s = ctx;
	if (s->refuse && ++s->bursts % s->refuse == 0)
		return 0; /* the stack frees them and counts eth_drop_tx_full */
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	return n;
}

static void echo_rx(void *arg, struct tern_udp_pcb *pcb, struct rte_mbuf *m,
		    const struct tern_addr *src, uint16_t sport,
		    const struct tern_addr *dst)
{
	(void)dst;
	struct tern_stack *s = arg;
	/* Echo (exercises the output path from inside input), and also send
	 * to a host that never answers so something waits in the ARP queue. */
	struct rte_mbuf *c = rte_pktmbuf_copy(m, tern_stack_pool(s), 0, UINT32_MAX);
	tern_udp_sendto(s, pcb, src, sport, m);
	if (c) {
		struct tern_addr far = tern_addr_v4h(ip_far);
		tern_udp_sendto(s, pcb, &far, 7, c);
	}
}

static void sink_rx(void *arg, struct tern_udp_pcb *pcb, struct rte_mbuf *m,
		    const struct tern_addr *src, uint16_t sport,
		    const struct tern_addr *dst)
{
	(void)arg, (void)pcb, (void)src, (void)sport, (void)dst;
	rte_pktmbuf_free(m);
}

/* An Ethernet header from the peer to us. */
static size_t eth_in(uint8_t *f, uint16_t type)
{
	return put_eth(f, mac_us, mac_peer, type);
}

/* A valid IPv4 header at ip from the peer to us for l4len bytes of
 * protocol proto. */
static size_t ip4_in(uint8_t *ip, uint8_t proto, size_t l4len)
{
	return put_ip4(ip, ip_peer, ip_us, proto, l4len, 0);
}

/* f in mbufs: split bytes first (0: all), the rest in pieces of 700. */
static struct rte_mbuf *to_mbuf(struct rte_mempool *mp, const uint8_t *f,
				size_t len, size_t split)
{
	return frame_mbuf(mp, f, len, split, 700);
}

/* Builds the frame the input describes into f; returns its length. */
static size_t build(const uint8_t *in, size_t n, unsigned mode, uint8_t *f)
{
	size_t off = 0, room = FRAME_MAX - 14 - 20 - 8;
	if (n > room)
		n = room;
	switch (mode) {
	case 0:
		memcpy(f, in, n);
		return n;
	case 1:
		off = eth_in(f, 0x0806);
		break;
	case 2:
		off = eth_in(f, 0x0800);
		break;
	case 3: {
		static const uint8_t protos[4] = {1, 17, 6, 253};
		uint8_t proto = n ? protos[in[0] & 3] : 17;
		off = eth_in(f, 0x0800);
		off += ip4_in(f + off, proto, n);
		break;
	}
	case 4: {
		uint16_t dport = n && (in[0] & 1) ? 9 : 7;
		off = eth_in(f, 0x0800);
		off += ip4_in(f + off, 17, 8 + n);
		uint8_t *u = f + off;
		put16(u, 4000);
		put16(u + 2, dport);
		put16(u + 4, (uint16_t)(8 + n));
		put16(u + 6, 0);
		memcpy(u + 8, in, n);
		uint16_t ck = fold(sum16(u, 8 + n, pseudo(ip_peer, ip_us, 17, 8 + n)));
		put16(u + 6, ck ? ck : 0xffff);
		return off + 8 + n;
	}
	case 5:
		off = eth_in(f, 0x0800);
		off += ip4_in(f + off, 1, n);
		memcpy(f + off, in, n);
		if (n >= 4) {
			put16(f + off + 2, 0);
			put16(f + off + 2, fold(sum16(f + off, n, 0)));
		}
		return off + n;
	}
	memcpy(f + off, in, n);
	return off + n;
}

/* Mode 6: a sequence of IPv4 fragments of one datagram, with time passing
 * between them (see fuzz_frame.h): overlaps, gaps, duplicates, oversize,
 * too many, timeouts. */
static void inject_fragments(struct tern_stack *s, struct rte_mempool *mp,
			     struct tern_clock *clk, const uint8_t *in, size_t n,
			     size_t split, uint64_t ol)
{
	static const uint8_t protos[3] = {17, 17, 1};
	static uint8_t frame[FRAME_MAX];
	if (n < 3)
		return;
	uint8_t proto = protos[in[0] % 3];
	uint16_t id = in[1];
	unsigned nrec = in[2] % 33;
	const uint8_t *rec = in + 3;
	size_t avail = (n - 3) / 4;
	if (nrec > avail)
		nrec = (unsigned)avail;
	const uint8_t *body = rec + 4 * nrec;
	size_t blen = n - 3 - 4 * (size_t)nrec;
	for (unsigned r = 0; r < nrec; r++, rec += 4) {
		uint16_t fo = (uint16_t)(rec[0] << 8 | rec[1]) & 0x3fff;
		size_t len = 8u * rec[2] + (rec[3] >> 6);
		if (len == 0)
			len = 1;
		if (len > FRAME_MAX - 14 - 20)
			len = FRAME_MAX - 14 - 20;
		size_t off = eth_in(frame, 0x0800);
		off += ip4_in(frame + off, proto, len);
		uint8_t *ip = frame + 14;
		put16(ip + 4, id);
		put16(ip + 6, fo);
		put16(ip + 10, 0);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		size_t from = (size_t)(fo & 0x1fff) * 8;
		for (size_t i = 0; i < len; i++)
			frame[off + i] = from + i < blen ? body[from + i] : 0;
		struct rte_mbuf *m = to_mbuf(mp, frame, off + len, split);
		if (m == NULL)
			return;
		m->ol_flags = ol;
		tern_stack_input(s, 0, &m, 1);
		for (unsigned t = 0; t < (rec[3] & 63u); t++) {
			tern_clock_advance(clk, 1000000000ull);
			tern_stack_run_timers(s);
		}
	}
	/* Past the reassembly timeout: whatever waits is dropped, counted. */
	for (int t = 0; t < 35; t++) {
		tern_clock_advance(clk, 1000000000ull);
		tern_stack_run_timers(s);
	}
}

static struct rte_mempool *fuzz_pool(void)
{
	static struct rte_mempool *mp;
	if (!mp)
		mp = rte_pktmbuf_pool_create_by_ops("tern_fuzz_pool", POOL_SIZE,
						    0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						    SOCKET_ID_ANY, "ring_mp_mc");
	return mp;
}

int tern_fuzz_frame(const uint8_t *data, size_t len)
{
	static const uint64_t rxflags[4] = {
		0,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_BAD,
		RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE,
	};
	static uint8_t frame[FRAME_MAX];
	struct rte_mempool *mp = fuzz_pool();
	if (!mp)
		return -1;
	if (len < 2)
		return 0;
	unsigned before = in_pool(mp);
	unsigned mode = (data[0] & 7) % TERN_FUZZ_MODES;
	size_t split = data[1] & 0x3f;
	uint64_t ol = rxflags[data[1] >> 6];

	struct tern_clock clk;
	tern_clock_init_virtual(&clk, 1000000000ull);
	struct tern_stack_conf sc = {
		.name = "fuzz", .pool = mp, .clock = &clk,
		.neigh_retrans_ms = 10, .neigh_mcast_probes = 2, .neigh_queue_len = 4,
	};
	struct tern_stack *s = tern_stack_create(&sc);
	if (!s)
		return -1;
	struct sink sink = {.refuse = data[0] >> 7 ? 2 : 0};
	struct tern_iface_conf ic = {
		.ifindex = 1, .link = 0, .name = "fz0", .mtu = 1500,
		.tx = sink_tx, .tx_ctx = &sink,
	};
	memcpy(ic.mac.addr_bytes, mac_us, 6);
	ic.gateway = tern_addr_v4h(0x0a0000fe);
	/* Bit 6 of byte 0: the port offloads checksums. */
	ic.caps.tx_ip4_cksum = ic.caps.tx_udp_cksum = ic.caps.tx_tcp_cksum =
		(data[0] >> 6) & 1;
	struct tern_addr a = tern_addr_v4h(ip_us);
	struct tern_addr peer = tern_addr_v4h(ip_peer);
	struct rte_ether_addr pm;
	memcpy(pm.addr_bytes, mac_peer, 6);
	int rc = -1;
	if (tern_iface_add(s, &ic) != 0 ||
	    tern_iface_addr_add(s, 1, &a, 24) != 0)
		goto out;
	/* Bit 5 of byte 0: the peer is already resolved (replies go out at
	 * once) or not (replies wait in the ARP queue). */
	if ((data[0] >> 5) & 1)
		tern_neigh_add(s, 1, &peer, &pm);
	struct tern_addr any = {0};
	if (!tern_udp_open(s, &any, 7, echo_rx, s) ||
	    !tern_udp_open(s, &any, 9, sink_rx, NULL))
		goto out;

	if (mode == 6) {
		inject_fragments(s, mp, &clk, data + 2, len - 2, split, ol);
		rc = 0;
		goto out;
	}
	size_t flen = build(data + 2, len - 2, mode, frame);
	struct rte_mbuf *m = to_mbuf(mp, frame, flen, split);
	if (!m)
		goto out;
	m->ol_flags = ol;
	tern_stack_input(s, 0, &m, 1);
	/* Let ARP retries and give-ups run. */
	for (int i = 0; i < 5; i++) {
		tern_clock_advance(&clk, 20 * 1000000ull);
		tern_stack_run_timers(s);
	}
	rc = 0;
out:
	tern_stack_destroy(s);
	/* The pool is full again (compared with before, so that one leak
	 * is reported once, not by every later input). */
	if (in_pool(mp) != before) {
		fprintf(stderr, "tern_fuzz_frame: %d mbufs leaked (negative: freed twice)\n",
			(int)before - (int)in_pool(mp));
		return -1;
	}
	return rc;
}
