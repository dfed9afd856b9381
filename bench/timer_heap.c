/* The old timer heap (see timer_heap.h): a binary min-heap of armed
 * timers keyed on expiry; heap_idx lets cancel and re-arm work in
 * O(log n). */
#include <errno.h>
#include <stdlib.h>

#include "timer_heap.h"

int heap_init(struct heap *h, uint32_t max)
{
	h->a = calloc(max, sizeof(*h->a));
	h->n = 0;
	h->max = max;
	return h->a ? 0 : -ENOMEM;
}

void heap_fini(struct heap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->a[i]->heap_idx = UINT32_MAX;
	free(h->a);
	h->a = NULL;
	h->n = 0;
}

void heap_timer_init(struct heap_timer *t, heap_timer_fn fn, void *arg)
{
	t->expires_ns = 0;
	t->heap_idx = UINT32_MAX;
	t->fn = fn;
	t->arg = arg;
}

static void place(struct heap *h, uint32_t i, struct heap_timer *t)
{
	h->a[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct heap *h, uint32_t i)
{
	struct heap_timer *t = h->a[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (h->a[p]->expires_ns <= t->expires_ns)
			break;
		place(h, i, h->a[p]);
		i = p;
	}
	place(h, i, t);
}

static void sift_down(struct heap *h, uint32_t i)
{
	struct heap_timer *t = h->a[i];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t best = t->expires_ns;
		if (l < h->n && h->a[l]->expires_ns < best) {
			m = l;
			best = h->a[l]->expires_ns;
		}
		if (r < h->n && h->a[r]->expires_ns < best)
			m = r;
		if (m == i)
			break;
		place(h, i, h->a[m]);
		i = m;
	}
	place(h, i, t);
}

int heap_arm(struct heap *h, struct heap_timer *t, uint64_t expires_ns)
{
	if (heap_pending(t)) {
		uint64_t old = t->expires_ns;
		t->expires_ns = expires_ns;
		if (expires_ns < old)
			sift_up(h, t->heap_idx);
		else
			sift_down(h, t->heap_idx);
		return 0;
	}
	if (h->n == h->max)
		return -ENOSPC;
	t->expires_ns = expires_ns;
	place(h, h->n++, t);
	sift_up(h, t->heap_idx);
	return 0;
}

void heap_cancel(struct heap *h, struct heap_timer *t)
{
	if (!heap_pending(t))
		return;
	uint32_t i = t->heap_idx;
	t->heap_idx = UINT32_MAX;
	h->n--;
	if (i == h->n)
		return;
	struct heap_timer *last = h->a[h->n];
	place(h, i, last);
	if (i > 0 && h->a[(i - 1) / 2]->expires_ns > last->expires_ns)
		sift_up(h, i);
	else
		sift_down(h, i);
}

unsigned heap_run(struct heap *h, uint64_t now)
{
	unsigned ran = 0;
	/* A callback that re-arms itself at or before now runs again on the
	 * next call, not in a loop here. */
	unsigned limit = h->n;
	while (ran < limit && h->n > 0 && h->a[0]->expires_ns <= now) {
		struct heap_timer *t = h->a[0];
		heap_cancel(h, t);
		t->fn(h, t); /* may re-arm t or others */
		ran++;
	}
	return ran;
}
