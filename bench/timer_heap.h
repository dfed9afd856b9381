/* The binary min-heap that was core/timer.c before the timer wheel
 * (git history: core/timer.c up to 2508b4b), kept here as the baseline
 * the timer benchmark compares against. Same algorithm; it owns its array
 * (malloc, capacity given) instead of hanging off a stack. */
#ifndef TERN_BENCH_TIMER_HEAP_H
#define TERN_BENCH_TIMER_HEAP_H

#include <stdbool.h>
#include <stdint.h>

struct heap;
struct heap_timer;
typedef void (*heap_timer_fn)(struct heap *h, struct heap_timer *t);

struct heap_timer {
	uint64_t expires_ns;
	uint32_t heap_idx;	/* UINT32_MAX when not armed */
	heap_timer_fn fn;
	void *arg;
};

struct heap {
	struct heap_timer **a;
	uint32_t n, max;
};

int heap_init(struct heap *h, uint32_t max);
void heap_fini(struct heap *h);
void heap_timer_init(struct heap_timer *t, heap_timer_fn fn, void *arg);
/* -ENOSPC when full. */
int heap_arm(struct heap *h, struct heap_timer *t, uint64_t expires_ns);
void heap_cancel(struct heap *h, struct heap_timer *t);
/* Runs what is due at now (the old tern_stack_run_timers). */
unsigned heap_run(struct heap *h, uint64_t now);

static inline bool heap_pending(const struct heap_timer *t)
{
	return t->heap_idx != UINT32_MAX;
}

#endif
