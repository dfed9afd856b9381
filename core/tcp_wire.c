/* TCP options on the wire (RFC 9293 3.1 and 3.2, RFC 7323, RFC 2018),
 * apart from the state machine (DESIGN: wire formats in their own file). */
#include <string.h>

#include <rte_byteorder.h>

#include "tcp_priv.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void tcp_parse_options(const struct rte_tcp_hdr *th, unsigned hlen,
		       struct tcp_seg *seg)
{
	const uint8_t *p = (const uint8_t *)(th + 1);
	const uint8_t *end = (const uint8_t *)th + hlen;
	bool syn = (th->tcp_flags & RTE_TCP_SYN_FLAG) != 0;

	seg->has_mss = seg->has_ws = seg->sack_perm = seg->has_ts = false;
	seg->nsack = 0;
	while (p < end) {
		uint8_t kind = p[0];
		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2 || p[1] < 2 || p[1] > end - p)
			break;	/* malformed: stop, keep what we have */
		uint8_t len = p[1];
		switch (kind) {
		case TCP_OPT_MSS:
			/* RFC 9293 3.7.1: only in SYNs */
			if (len == 4 && syn) {
				seg->has_mss = true;
				seg->mss = rd16(p + 2);
			}
			break;
		case TCP_OPT_WS:
			if (len == 3 && syn) {
				seg->has_ws = true;
				/* RFC 7323 2.3: above 14 is taken as 14 */
				seg->ws = p[2] > TCP_MAX_WS ? TCP_MAX_WS : p[2];
			}
			break;
		case TCP_OPT_SACK_PERM:
			if (len == 2 && syn)
				seg->sack_perm = true;
			break;
		case TCP_OPT_TS:
			if (len == 10) {
				seg->has_ts = true;
				seg->tsval = rd32(p + 2);
				seg->tsecr = rd32(p + 6);
			}
			break;
		case TCP_OPT_SACK:
			if (len >= 10 && (len - 2) % 8 == 0) {
				unsigned n = (len - 2u) / 8u;
				if (n > TCP_MAX_SACK)
					n = TCP_MAX_SACK;
				for (unsigned i = 0; i < n; i++) {
					seg->sack[i].start = rd32(p + 2 + 8 * i);
					seg->sack[i].end = rd32(p + 6 + 8 * i);
				}
				seg->nsack = (uint8_t)n;
			}
			break;
		default:
			break;	/* unknown: skipped by its length */
		}
		p += len;
	}
}

unsigned tcp_write_options(uint8_t *p, const struct tcp_out_opts *o)
{
	uint8_t *q = p;

	if (o->syn) {
		q[0] = TCP_OPT_MSS;
		q[1] = 4;
		wr16(q + 2, o->mss);
		q += 4;
		if (o->sack_perm && o->ts) {
			q[0] = TCP_OPT_SACK_PERM;
			q[1] = 2;
			q += 2;
		} else if (o->sack_perm) {
			q[0] = q[1] = TCP_OPT_NOP;
			q[2] = TCP_OPT_SACK_PERM;
			q[3] = 2;
			q += 4;
		} else if (o->ts) {
			q[0] = q[1] = TCP_OPT_NOP;
			q += 2;
		}
		if (o->ts) {
			q[0] = TCP_OPT_TS;
			q[1] = 10;
			wr32(q + 2, o->tsval);
			wr32(q + 6, o->tsecr);
			q += 10;
		}
		if (o->ws) {
			q[0] = TCP_OPT_NOP;
			q[1] = TCP_OPT_WS;
			q[2] = 3;
			q[3] = o->wscale;
			q += 4;
		}
		return (unsigned)(q - p);
	}
	if (o->ts) {
		q[0] = q[1] = TCP_OPT_NOP;
		q[2] = TCP_OPT_TS;
		q[3] = 10;
		wr32(q + 4, o->tsval);
		wr32(q + 8, o->tsecr);
		q += 12;
	}
	if (o->nsack > 0) {
		unsigned room = (40u - (unsigned)(q - p) - 4u) / 8u;
		unsigned n = o->nsack < room ? o->nsack : room;
		q[0] = q[1] = TCP_OPT_NOP;
		q[2] = TCP_OPT_SACK;
		q[3] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n; i++) {
			wr32(q + 4 + 8 * i, o->sack[i].start);
			wr32(q + 8 + 8 * i, o->sack[i].end);
		}
		q += 4 + 8 * n;
	}
	return (unsigned)(q - p);
}
