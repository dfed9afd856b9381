/* The Toeplitz hash (rte_thash's rte_softrss_be) and source-port steering
 * by its linearity.
 *
 * Toeplitz is linear over GF(2): hash(x ^ y) = hash(x) ^ hash(y). The
 * return traffic of an active open is the tuple (remote, local, rport,
 * lport), so its hash is hash(remote, local, rport, 0) ^ C(lport), where
 * C(p) XORs the key windows of p's set bits. C is tabulated once per link
 * (two 256-entry tables); choosing lport then needs no hashing at all.
 *
 * The RETA index is the hash's low m bits (m = log2 RETA size). The map
 * from port bits to those m bits is a linear map; Gaussian elimination
 * picks m port bits ("pivots") that reach every index, the lowest such
 * bits, and for each index bit the pivot combination that flips it. For
 * tern's symmetric key the map has full rank (0x6d5a has odd parity, so
 * its 16x16 circulant is invertible) and the pivots are the lowest 8 port
 * bits for a 128-entry RETA, 9 for 512. A port is then
 *     block base | free bits | pivot bits solved for the wanted index,
 * and enumerating (block, free bits, wanted index) lists every port of
 * the range that lands on the queue exactly once. */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_thash.h>

#include <tern/rss.h>

void tern_rss_key_symmetric(uint8_t *key, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		key[i] = (i & 1) ? 0x5a : 0x6d;
}

int tern_rss_key_init(struct tern_rss_key *k, const uint8_t *key,
		      unsigned len)
{
	if (k == NULL || key == NULL || len < TERN_RSS_KEY_MIN ||
	    len > TERN_RSS_KEY_MAX || len % 4 != 0)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	/* rte_softrss_be wants the key as host-order 32-bit words (what
	 * rte_convert_rss_key does, without its aligned-load assumption). */
	for (unsigned i = 0; i < len / 4; i++)
		k->w[i] = (uint32_t)key[4 * i] << 24 |
			  (uint32_t)key[4 * i + 1] << 16 |
			  (uint32_t)key[4 * i + 2] << 8 | key[4 * i + 3];
	k->len = (uint8_t)len;
	return 0;
}

uint32_t tern_rss_hash_v4(const struct tern_rss_key *k, rte_be32_t src,
			  rte_be32_t dst, uint16_t sport, uint16_t dport)
{
	/* rte_ipv4_tuple's layout: host-order words, sport in the high half
	 * of the third, so the bit stream is src, dst, sport, dport. */
	uint32_t t[RTE_THASH_V4_L4_LEN] = {
		rte_be_to_cpu_32(src), rte_be_to_cpu_32(dst),
		(uint32_t)sport << 16 | dport,
	};
	return rte_softrss_be(t, RTE_THASH_V4_L4_LEN, (const uint8_t *)k->w);
}

uint32_t tern_rss_hash_v4_l3(const struct tern_rss_key *k, rte_be32_t src,
			     rte_be32_t dst)
{
	uint32_t t[RTE_THASH_V4_L3_LEN] = {
		rte_be_to_cpu_32(src), rte_be_to_cpu_32(dst),
	};
	return rte_softrss_be(t, RTE_THASH_V4_L3_LEN, (const uint8_t *)k->w);
}

/* ---- steering -------------------------------------------------------- */

#define PORT_BITS 16

struct tern_rss_steer {
	struct tern_rss_key key;
	uint32_t mask;			/* reta_size - 1 */
	unsigned m;			/* log2(reta_size) */
	uint16_t queue;
	bool hash_udp, hash_tcp;
	/* C(p) = c_lo[p & 0xff] ^ c_hi[p >> 8]: the hash of the return
	 * tuple's destination port alone. */
	uint32_t c_lo[256], c_hi[256];
	/* The same for the other 10 bytes of the tuple (addresses, source
	 * port): a pick hashes its tuple with 10 lookups, not 96 bit steps. */
	uint32_t c_byte[10][256];
	/* XOR basis over the m index bits: for index bit b, bvec[b] has b
	 * as its highest bit (0: none) and bdelta[b] the port bits giving
	 * it. pivots: the port bits used; block_bits: the block they fit. */
	uint32_t bvec[PORT_BITS];
	uint16_t bdelta[PORT_BITS];
	uint16_t pivots;
	unsigned block_bits;
	uint32_t nowned;		/* RETA entries pointing at queue */
	uint16_t *owned;		/* their indices (after reta) */
	uint16_t *reta;			/* reta_size entries */
};

static uint32_t port_contrib(const struct tern_rss_steer *st, uint16_t p)
{
	return st->c_lo[p & 0xff] ^ st->c_hi[p >> 8];
}

static void steer_basis(struct tern_rss_steer *st)
{
	unsigned rank = 0;

	/* Lowest port bits first, so the pivots stay low and a solved port
	 * stays in its small aligned block. */
	for (unsigned j = 0; j < PORT_BITS && rank < st->m; j++) {
		uint32_t v = port_contrib(st, (uint16_t)(1u << j)) & st->mask;
		uint16_t d = (uint16_t)(1u << j);
		for (int b = (int)st->m - 1; b >= 0 && v != 0; b--) {
			if (!(v >> b & 1))
				continue;
			if (st->bvec[b] != 0) {
				v ^= st->bvec[b];
				d ^= st->bdelta[b];
				continue;
			}
			st->bvec[b] = v;
			st->bdelta[b] = d;
			st->pivots |= (uint16_t)(1u << j);
			st->block_bits = j + 1;
			rank++;
			break;
		}
	}
}

struct tern_rss_steer *tern_rss_steer_create(const struct tern_rss_conf *c)
{
	if (c == NULL || c->reta == NULL || c->reta_size == 0 ||
	    c->reta_size > TERN_RSS_RETA_MAX ||
	    (c->reta_size & (c->reta_size - 1)) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_rss_key k;
	if (tern_rss_key_init(&k, c->key, c->key_len) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	size_t sz = sizeof(struct tern_rss_steer) +
		    2 * (size_t)c->reta_size * sizeof(uint16_t);
	struct tern_rss_steer *st = rte_zmalloc("tern_rss_steer", sz, 0);
	if (st == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	st->key = k;
	st->mask = c->reta_size - 1;
	st->m = (unsigned)__builtin_ctz(c->reta_size);
	st->queue = c->queue;
	st->hash_udp = c->hash_udp;
	st->hash_tcp = c->hash_tcp;
	st->reta = (uint16_t *)(st + 1);
	st->owned = st->reta + c->reta_size;
	for (unsigned i = 0; i < c->reta_size; i++) {
		st->reta[i] = c->reta[i];
		if (c->reta[i] == c->queue)
			st->owned[st->nowned++] = (uint16_t)i;
	}
	for (unsigned b = 0; b < 256; b++) {
		st->c_lo[b] = tern_rss_hash_v4(&k, 0, 0, 0, (uint16_t)b);
		st->c_hi[b] = tern_rss_hash_v4(&k, 0, 0, 0, (uint16_t)(b << 8));
		for (unsigned i = 0; i < 4; i++) {
			/* byte i of an address in network order */
			uint32_t a = b << (24 - 8 * i);
			st->c_byte[i][b] = tern_rss_hash_v4(&k,
				rte_cpu_to_be_32(a), 0, 0, 0);
			st->c_byte[4 + i][b] = tern_rss_hash_v4(&k, 0,
				rte_cpu_to_be_32(a), 0, 0);
		}
		st->c_byte[8][b] = tern_rss_hash_v4(&k, 0, 0, (uint16_t)(b << 8), 0);
		st->c_byte[9][b] = tern_rss_hash_v4(&k, 0, 0, (uint16_t)b, 0);
	}
	steer_basis(st);
	return st;
}

void tern_rss_steer_free(struct tern_rss_steer *st)
{
	rte_free(st);
}

static bool hashes_ports(const struct tern_rss_steer *st, uint8_t proto)
{
	return (proto == IPPROTO_UDP && st->hash_udp) ||
	       (proto == IPPROTO_TCP && st->hash_tcp);
}

uint16_t tern_rss_steer_queue(const struct tern_rss_steer *st, uint8_t proto,
			      rte_be32_t src, rte_be32_t dst, uint16_t sport,
			      uint16_t dport)
{
	uint32_t h = hashes_ports(st, proto) ?
		tern_rss_hash_v4(&st->key, src, dst, sport, dport) :
		tern_rss_hash_v4_l3(&st->key, src, dst);
	return st->reta[h & st->mask];
}

/* hash(src, dst, sport, 0) by the byte tables. */
static uint32_t tuple_hash(const struct tern_rss_steer *st, rte_be32_t src,
			   rte_be32_t dst, uint16_t sport)
{
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;
	return st->c_byte[0][s[0]] ^ st->c_byte[1][s[1]] ^
	       st->c_byte[2][s[2]] ^ st->c_byte[3][s[3]] ^
	       st->c_byte[4][d[0]] ^ st->c_byte[5][d[1]] ^
	       st->c_byte[6][d[2]] ^ st->c_byte[7][d[3]] ^
	       st->c_byte[8][sport >> 8] ^ st->c_byte[9][sport & 0xff];
}

/* The pivot bits that move the index by t; false when t is out of reach
 * (a key whose map is not of full rank). */
static bool solve(const struct tern_rss_steer *st, uint32_t t, uint16_t *d)
{
	uint16_t out = 0;
	for (int b = (int)st->m - 1; b >= 0 && t != 0; b--) {
		if (!(t >> b & 1))
			continue;
		if (st->bvec[b] == 0)
			return false;
		t ^= st->bvec[b];
		out ^= st->bdelta[b];
	}
	*d = out;
	return true;
}

/* Spreads the low bits of v over the set bits of mask (a software pdep:
 * at most 16 iterations). */
static uint16_t deposit(uint32_t v, uint16_t mask)
{
	uint16_t out = 0;
	for (uint16_t bit = 1; mask != 0; bit <<= 1) {
		uint16_t low = mask & (uint16_t)-mask;
		if (v & bit)
			out |= low;
		mask &= (uint16_t)(mask - 1);
	}
	return out;
}

int tern_rss_steer_port(const struct tern_rss_steer *st, uint8_t proto,
			rte_be32_t local, rte_be32_t remote, uint16_t rport,
			uint16_t lo, uint16_t hi, uint32_t *cursor,
			tern_port_busy_fn busy, void *arg, uint16_t *port)
{
	if (st == NULL || cursor == NULL || port == NULL || lo == 0 || lo > hi)
		return -EINVAL;
	if (!hashes_ports(st, proto))
		return -EOPNOTSUPP;
	if (st->nowned == 0)
		return -ENOENT;

	uint32_t bsize = 1u << st->block_bits;
	uint32_t first = lo & ~(bsize - 1);
	uint32_t nblocks = ((hi - first) >> st->block_bits) + 1;
	uint16_t inblock = (uint16_t)(bsize - 1);
	uint16_t freebits = inblock & (uint16_t)~st->pivots;
	unsigned fshift = (unsigned)__builtin_popcount(freebits);
	uint32_t nrest = nblocks << fshift;	/* (block, free bits) pairs */
	/* Every (block, free bits, owned index) once: each is a distinct
	 * port that lands on the queue, and together they are all of them. */
	uint32_t total = nrest * st->nowned;
	uint32_t h0 = tuple_hash(st, remote, local, rport);
	bool any = false;

	/* Candidate n = rest * nowned + k, walked without dividing. */
	uint32_t n = *cursor % total;
	uint32_t k = n % st->nowned, rest = n / st->nowned;
	for (uint32_t i = 0; i < total; i++) {
		uint32_t r = st->owned[k];
		uint32_t p0 = first + (rest >> fshift) * bsize +
			      deposit(rest & ((1u << fshift) - 1), freebits);
		uint32_t cur = n;
		if (++n == total)
			n = 0;
		if (++k == st->nowned) {
			k = 0;
			if (++rest == nrest)
				rest = 0;
		}
		uint16_t d;
		if (!solve(st, (h0 ^ port_contrib(st, (uint16_t)p0) ^ r) &
				       st->mask, &d))
			continue;
		uint32_t p = p0 ^ d;
		if (p < lo || p > hi)
			continue;
		any = true;
		if (busy != NULL && busy(arg, (uint16_t)p))
			continue;
		*cursor = cur + 1;
		*port = (uint16_t)p;
		return 0;
	}
	/* None at all: the key cannot reach this queue's entries from
	 * these ports (a map of less than full rank). */
	return any ? -EADDRINUSE : -ENOENT;
}
