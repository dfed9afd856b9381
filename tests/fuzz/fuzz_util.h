/* What the fuzz harnesses (fuzz_frame.c, fuzz_tcp*.c) share: big-endian
 * fields, the Internet checksum, the headers of frames from the peer, a
 * frame as an mbuf chain, and the pool's leak count. Header only: each
 * harness is built into tern_unit and into a libFuzzer target of its own. */
#ifndef TERN_FUZZ_UTIL_H
#define TERN_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The 16-bit one's complement sum of n bytes added to sum, unfolded. */
static inline uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/* The checksum of a sum: folded, complemented. */
static inline uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The IPv4 pseudo header's sum, for len bytes of proto. */
static inline uint32_t pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			      size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + (uint32_t)len;
}

/* An Ethernet header from src to dst; returns 14. */
static inline size_t put_eth(uint8_t *f, const uint8_t dst[6],
			     const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

/* A valid IPv4 header at ip (no options, TTL 64, not fragmented) from src
 * to dst for l4len bytes of proto; returns 20. */
static inline size_t put_ip4(uint8_t *ip, uint32_t src, uint32_t dst,
			     uint8_t proto, size_t l4len, uint16_t id)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, id);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	return 20;
}

/* len bytes of f as an mbuf: the first split bytes in the first segment
 * (0 or len and more: all of them, which must then fit one segment), the
 * rest chained in segments of seg bytes. NULL when the pool runs dry. */
static inline struct rte_mbuf *frame_mbuf(struct rte_mempool *mp,
					  const uint8_t *f, size_t len,
					  size_t split, size_t seg)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(mp);
	if (head == NULL)
		return NULL;
	size_t first = split && split < len ? split : len;
	if (first)
		memcpy(rte_pktmbuf_append(head, (uint16_t)first), f, first);
	for (size_t off = first; off < len;) {
		size_t k = len - off < seg ? len - off : seg;
		struct rte_mbuf *s = rte_pktmbuf_alloc(mp);
		if (s == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		/* filled first: chaining adds its length to the head's */
		memcpy(rte_pktmbuf_append(s, (uint16_t)k), f + off, k);
		if (rte_pktmbuf_chain(head, s) != 0) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free(head);
			return NULL;
		}
		off += k;
	}
	return head;
}

/* What the pool holds, unclamped (rte_mempool_avail_count stops at the
 * size, which hides double frees): no cache, so the ring count is exact. */
static inline unsigned in_pool(const struct rte_mempool *mp)
{
	return rte_ring_count(mp->pool_data);
}

#endif
