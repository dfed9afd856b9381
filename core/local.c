/* The local address table (see local.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "local.h"
#include "stack_priv.h"

int local_init(struct tern_stack *s, uint32_t blocks)
{
	struct local_table *t = &s->local;

	memset(t, 0, sizeof(*t));
	t->cap = blocks ? blocks : 1024;
	if (t->cap < 8)
		t->cap = 8;
	t->blocks = stack_zalloc(s, "tern_local_blocks",
				 t->cap * sizeof(*t->blocks));
	t->free = stack_zalloc(s, "tern_local_free", t->cap * sizeof(*t->free));
	if (t->blocks == NULL || t->free == NULL ||
	    hmap_init(&t->map, s, "tern_local_map", t->cap) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++)
		t->free[i] = t->cap - 1 - i;
	t->nfree = t->cap;
	return 0;
}

void local_fini(struct tern_stack *s)
{
	struct local_table *t = &s->local;
	hmap_fini(&t->map);
	rte_free(t->blocks);
	rte_free(t->free);
	memset(t, 0, sizeof(*t));
}

uint32_t local_blocks_free(const struct tern_stack *s)
{
	return s->local.nfree;
}

static struct local_block *block_get(struct local_table *t, uint32_t key,
				     bool create)
{
	uint32_t idx;
	if (hmap_get(&t->map, key, &idx) == 0)
		return &t->blocks[idx];
	if (!create || t->nfree == 0)
		return NULL;
	idx = t->free[--t->nfree];
	if (hmap_put(&t->map, key, idx) != 0) {
		t->nfree++;
		return NULL;
	}
	struct local_block *b = &t->blocks[idx];
	memset(b, 0, sizeof(*b));
	b->key = key;
	return b;
}

static void block_put(struct local_table *t, struct local_block *b)
{
	if (b->used != 0)
		return;
	hmap_del(&t->map, b->key);
	t->free[t->nfree++] = (uint32_t)(b - t->blocks);
}

/* Blocks [first, last] spans that are not in the table yet. */
static uint32_t blocks_needed(const struct local_table *t, uint32_t first,
			      uint32_t last)
{
	uint32_t n = 0;
	for (uint64_t k = first & ~0xffu; k <= (last & ~0xffu); k += 256) {
		uint32_t idx;
		if (hmap_get(&t->map, (uint32_t)k, &idx) != 0)
			n++;
	}
	return n;
}

int local_add(struct tern_stack *s, uint32_t first, uint32_t count,
	      uint16_t id)
{
	struct local_table *t = &s->local;
	if (count == 0)
		return 0;
	uint32_t last = first + count - 1;
	if (blocks_needed(t, first, last) > t->nfree)
		return -ENOSPC;
	for (uint64_t a = first; a <= last; a++) {
		struct local_block *b = block_get(t, (uint32_t)a & ~0xffu, true);
		if (b == NULL) {	/* cannot happen after the count */
			local_del(s, first, (uint32_t)(a - first));
			return -ENOSPC;
		}
		if (b->range[a & 0xff] == LOCAL_NO_RANGE)
			b->used++;
		b->range[a & 0xff] = id;
	}
	return 0;
}

void local_del(struct tern_stack *s, uint32_t first, uint32_t count)
{
	struct local_table *t = &s->local;
	struct local_block *b = NULL;
	for (uint64_t a = first; a < (uint64_t)first + count; a++) {
		if (b == NULL || b->key != ((uint32_t)a & ~0xffu)) {
			if (b != NULL)
				block_put(t, b);
			b = block_get(t, (uint32_t)a & ~0xffu, false);
			if (b == NULL) {
				a |= 0xff;	/* nothing of ours in it */
				continue;
			}
		}
		if (b->range[a & 0xff] != LOCAL_NO_RANGE) {
			b->range[a & 0xff] = LOCAL_NO_RANGE;
			b->used--;
		}
	}
	if (b != NULL)
		block_put(t, b);
}
