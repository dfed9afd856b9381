/* The table of a stack's own IPv4 addresses (private to core).
 *
 * One port emulates thousands of hosts as address ranges, so "is this
 * address ours, and whose?" must cost the same for one address or a
 * million, and touch little memory when the addresses in play are many.
 * The table is a hash of /24 blocks; a block is 256 range ids indexed by
 * the last byte (DIR-24-8 with a hashed first level, hmap.h). A lookup is one
 * hash probe and one array read; the 10,000 hosts of a range live in 40 blocks
 * (20 KiB). */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H

#include <stdint.h>

#include <rte_byteorder.h>

#include "hmap.h"

struct tern_stack;

#define LOCAL_NO_RANGE 0

struct local_block {
	uint16_t range[256];	/* range id + 1; 0: not ours */
	uint32_t used;		/* non-zero entries */
	uint32_t key;		/* the block (host order, low byte zero) */
};

struct local_table {
	struct hmap map;	/* block -> index in blocks */
	struct local_block *blocks;
	uint32_t cap;
	uint32_t *free;		/* stack of free block indices */
	uint32_t nfree;
};

int local_init(struct tern_stack *s, uint32_t blocks);
void local_fini(struct tern_stack *s);
/* Range id (1-based) owning ip, or LOCAL_NO_RANGE. */
static inline uint16_t local_lookup_t(const struct local_table *t,
				      rte_be32_t ip)
{
	uint32_t h = rte_be_to_cpu_32(ip), idx;
	if (hmap_get(&t->map, h & ~0xffu, &idx) != 0)
		return LOCAL_NO_RANGE;
	return t->blocks[idx].range[h & 0xff];
}
/* Marks [first, first + count) (host order) as range id's. -ENOSPC when
 * blocks run out (nothing changed then). The caller checked overlaps. */
int local_add(struct tern_stack *s, uint32_t first, uint32_t count,
	      uint16_t id);
void local_del(struct tern_stack *s, uint32_t first, uint32_t count);
/* Blocks still free. */
uint32_t local_blocks_free(const struct tern_stack *s);

#endif
