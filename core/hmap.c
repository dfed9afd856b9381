/* The stack's hash map (see hmap.h). */
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "hmap.h"
#include "stack_priv.h"

int hmap_init(struct hmap *h, struct tern_stack *s, const char *what,
	      uint32_t cap)
{
	memset(h, 0, sizeof(*h));
	if (cap < 4)
		cap = 4;
	uint32_t slots = rte_align32pow2(cap * 2);
	h->slot = stack_zalloc(s, what, (size_t)slots * sizeof(*h->slot));
	if (h->slot == NULL)
		return -ENOMEM;
	h->mask = slots - 1;
	h->shift = 64 - (uint32_t)__builtin_ctz(slots);
	h->cap = slots / 2;
	return 0;
}

void hmap_fini(struct hmap *h)
{
	rte_free(h->slot);
	memset(h, 0, sizeof(*h));
}

static int insert(struct hmap *h, uint64_t key, uint32_t val, bool replace)
{
	uint32_t i = hmap_home(h, key);
	for (;;) {
		struct hmap_slot *e = &h->slot[i];
		if (!e->used)
			break;
		if (e->key == key) {
			if (!replace)
				return -EEXIST;
			e->val = val;
			return 0;
		}
		i = (i + 1) & h->mask;
	}
	if (h->n >= h->cap)
		return -ENOSPC;
	h->slot[i].key = key;
	h->slot[i].val = val;
	h->slot[i].used = 1;
	h->n++;
	return 0;
}

int hmap_put(struct hmap *h, uint64_t key, uint32_t val)
{
	return insert(h, key, val, false);
}

int hmap_set(struct hmap *h, uint64_t key, uint32_t val)
{
	return insert(h, key, val, true);
}

int hmap_del(struct hmap *h, uint64_t key)
{
	uint32_t i = hmap_home(h, key);
	for (;;) {
		struct hmap_slot *e = &h->slot[i];
		if (!e->used)
			return -ENOENT;
		if (e->key == key)
			break;
		i = (i + 1) & h->mask;
	}
	/* Backward shift (Knuth 6.4 algorithm R): every entry after the
	 * hole that may live there (its home is not between the hole and
	 * itself) moves into it, so no probe chain is ever cut. */
	uint32_t hole = i, j = i;
	for (;;) {
		j = (j + 1) & h->mask;
		struct hmap_slot *e = &h->slot[j];
		if (!e->used)
			break;
		uint32_t home = hmap_home(h, e->key);
		/* j's entry stays when its home lies cyclically in (hole, j] */
		bool stays = hole <= j ? (home > hole && home <= j) :
					 (home > hole || home <= j);
		if (stays)
			continue;
		h->slot[hole] = *e;
		hole = j;
	}
	h->slot[hole].used = 0;
	h->n--;
	return 0;
}
