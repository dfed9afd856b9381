/* A hash map from 64-bit keys to 32-bit values, for the per-packet lookups
 * of the stack (neighbours, own addresses, MAC demux, UDP bindings): every
 * key those need packs into 64 bits (an IPv4 address with its interface, a
 * /24 block, a link and a MAC, an address and a port), so a lookup is one
 * multiply, one 16-byte slot and one compare, usually in one cache line.
 *
 * Open addressing with linear probing; deletion shifts the following
 * entries back instead of leaving tombstones, so lookups never slow down
 * with churn. Sized at creation for a given number of entries (load at
 * most one half), allocated on the stack's NUMA socket; it cannot grow, so
 * a full map refuses new keys (callers count that).
 *
 * Measured against rte_hash (20-byte keys, the cuckoo table with two
 * buckets per key and a signature array): 3-10x fewer cycles per lookup on
 * the same tables (bench/neigh_bench.c, docs/bench.md). */
#ifndef TERN_HMAP_H
#define TERN_HMAP_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

struct tern_stack;

struct hmap_slot {
	uint64_t key;
	uint32_t val;
	uint32_t used;
};

struct hmap {
	struct hmap_slot *slot;
	uint32_t mask;		/* slots - 1 (a power of two) */
	uint32_t shift;		/* 64 - log2(slots) */
	uint32_t n;		/* entries */
	uint32_t cap;		/* entries allowed: slots / 2 */
};

/* Room for cap entries. 0 or -ENOMEM. */
int hmap_init(struct hmap *h, struct tern_stack *s, const char *what,
	      uint32_t cap);
void hmap_fini(struct hmap *h);

static inline uint32_t hmap_home(const struct hmap *h, uint64_t key)
{
	/* Fibonacci hashing (Knuth 6.4): the top bits of the product by
	 * 2^64/phi; sequential keys (addresses, ports) land one per slot. */
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> h->shift);
}

/* 0 and *val when key is present, else -ENOENT. */
static inline int hmap_get(const struct hmap *h, uint64_t key, uint32_t *val)
{
	uint32_t i = hmap_home(h, key);
	for (;;) {
		const struct hmap_slot *e = &h->slot[i];
		if (!e->used)
			return -ENOENT;
		if (e->key == key) {
			*val = e->val;
			return 0;
		}
		i = (i + 1) & h->mask;
	}
}

/* -EEXIST (the key is there; its value unchanged), -ENOSPC (full). */
int hmap_put(struct hmap *h, uint64_t key, uint32_t val);
/* Replaces the value of a present key, or inserts it. -ENOSPC. */
int hmap_set(struct hmap *h, uint64_t key, uint32_t val);
/* -ENOENT. */
int hmap_del(struct hmap *h, uint64_t key);

#endif
