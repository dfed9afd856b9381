/* Timers: a binary min-heap of armed timers keyed on expiry. Timer
 * structs live in their owners (no allocation per arm); heap_idx lets
 * cancel and re-arm work in O(log n). */
#include <errno.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "stack_priv.h"

int timer_init(struct tern_stack *s)
{
	s->heap = rte_calloc("tern_timers", TIMER_HEAP_MAX, sizeof(*s->heap), 0);
	s->heap_n = 0;
	return s->heap ? 0 : -ENOMEM;
}

void timer_fini(struct tern_stack *s)
{
	for (uint32_t i = 0; i < s->heap_n; i++)
		s->heap[i]->heap_idx = UINT32_MAX;
	rte_free(s->heap);
	s->heap = NULL;
	s->heap_n = 0;
}

void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg)
{
	t->expires_ns = 0;
	t->heap_idx = UINT32_MAX;
	t->fn = fn;
	t->arg = arg;
}

static void place(struct tern_stack *s, uint32_t i, struct tern_timer *t)
{
	s->heap[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct tern_stack *s, uint32_t i)
{
	struct tern_timer *t = s->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (s->heap[p]->expires_ns <= t->expires_ns)
			break;
		place(s, i, s->heap[p]);
		i = p;
	}
	place(s, i, t);
}

static void sift_down(struct tern_stack *s, uint32_t i)
{
	struct tern_timer *t = s->heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t best = t->expires_ns;
		if (l < s->heap_n && s->heap[l]->expires_ns < best) {
			m = l;
			best = s->heap[l]->expires_ns;
		}
		if (r < s->heap_n && s->heap[r]->expires_ns < best)
			m = r;
		if (m == i)
			break;
		place(s, i, s->heap[m]);
		i = m;
	}
	place(s, i, t);
}

int tern_timer_arm(struct tern_stack *s, struct tern_timer *t,
		   uint64_t expires_ns)
{
	if (tern_timer_pending(t)) {
		uint64_t old = t->expires_ns;
		t->expires_ns = expires_ns;
		if (expires_ns < old)
			sift_up(s, t->heap_idx);
		else
			sift_down(s, t->heap_idx);
		return 0;
	}
	if (s->heap_n == TIMER_HEAP_MAX)
		return -ENOSPC;
	t->expires_ns = expires_ns;
	place(s, s->heap_n++, t);
	sift_up(s, t->heap_idx);
	return 0;
}

void tern_timer_cancel(struct tern_stack *s, struct tern_timer *t)
{
	if (!tern_timer_pending(t))
		return;
	uint32_t i = t->heap_idx;
	t->heap_idx = UINT32_MAX;
	s->heap_n--;
	if (i == s->heap_n)
		return;
	struct tern_timer *last = s->heap[s->heap_n];
	place(s, i, last);
	if (i > 0 && s->heap[(i - 1) / 2]->expires_ns > last->expires_ns)
		sift_up(s, i);
	else
		sift_down(s, i);
}

unsigned tern_stack_run_timers(struct tern_stack *s)
{
	uint64_t now = tern_clock_now(s->clock);
	unsigned ran = 0;
	/* A callback that re-arms itself at or before now runs again on the
	 * next call, not in a loop here. */
	unsigned limit = s->heap_n;
	while (ran < limit && s->heap_n > 0 && s->heap[0]->expires_ns <= now) {
		struct tern_timer *t = s->heap[0];
		tern_timer_cancel(s, t);
		t->fn(s, t); /* may re-arm t or others */
		ran++;
	}
	return ran;
}

uint64_t tern_stack_next_timer(const struct tern_stack *s)
{
	return s->heap_n ? s->heap[0]->expires_ns : UINT64_MAX;
}
