/* The local address table (see local.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "local.h"
#include "stack_priv.h"

int local_init(struct tern_stack *s, uint32_t blocks)
{
	struct local_table *t = &s->local;
	char name[RTE_HASH_NAMESIZE];

	memset(t, 0, sizeof(*t));
	t->cap = blocks ? blocks : 1024;
	if (t->cap < 8)
		t->cap = 8;	/* rte_hash's minimum */
	snprintf(name, sizeof(name), "tern_lo_%p", (void *)s);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = t->cap,
		.key_len = sizeof(uint32_t),
		.hash_func = rte_hash_crc,
		.socket_id = s->socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	t->h = rte_hash_create(&hp);
	if (t->h == NULL && s->socket != SOCKET_ID_ANY) {
		hp.socket_id = SOCKET_ID_ANY;
		t->h = rte_hash_create(&hp);
	}
	t->blocks = stack_zalloc(s, "tern_local_blocks",
				 t->cap * sizeof(*t->blocks));
	t->free = stack_zalloc(s, "tern_local_free", t->cap * sizeof(*t->free));
	if (t->h == NULL || t->blocks == NULL || t->free == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++)
		t->free[i] = t->cap - 1 - i;
	t->nfree = t->cap;
	return 0;
}

void local_fini(struct tern_stack *s)
{
	struct local_table *t = &s->local;
	rte_hash_free(t->h);
	rte_free(t->blocks);
	rte_free(t->free);
	memset(t, 0, sizeof(*t));
}

uint16_t local_lookup(const struct tern_stack *s, rte_be32_t ip)
{
	const struct local_table *t = &s->local;
	uint32_t h = rte_be_to_cpu_32(ip);
	uint32_t key = h & ~0xffu;
	void *data;
	if (rte_hash_lookup_data(t->h, &key, &data) < 0)
		return LOCAL_NO_RANGE;
	return t->blocks[(uintptr_t)data].range[h & 0xff];
}

uint32_t local_blocks_free(const struct tern_stack *s)
{
	return s->local.nfree;
}

static struct local_block *block_get(struct local_table *t, uint32_t key,
				     bool create)
{
	void *data;
	if (rte_hash_lookup_data(t->h, &key, &data) >= 0)
		return &t->blocks[(uintptr_t)data];
	if (!create || t->nfree == 0)
		return NULL;
	uint32_t idx = t->free[--t->nfree];
	if (rte_hash_add_key_data(t->h, &key, (void *)(uintptr_t)idx) < 0) {
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
	rte_hash_del_key(t->h, &b->key);
	t->free[t->nfree++] = (uint32_t)(b - t->blocks);
}

/* Blocks [first, last] spans that are not in the table yet. */
static uint32_t blocks_needed(const struct local_table *t, uint32_t first,
			      uint32_t last)
{
	uint32_t n = 0;
	for (uint64_t k = first & ~0xffu; k <= (last & ~0xffu); k += 256) {
		uint32_t key = (uint32_t)k;
		if (rte_hash_lookup(t->h, &key) < 0)
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
