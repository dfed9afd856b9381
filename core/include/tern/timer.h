/* Timers of a stack: a hierarchical timer wheel (core/timer.c). A timer
 * lives in its owner (a connection, the ARP table) and is linked into the
 * wheel in place: arming allocates nothing and cannot fail; arm, re-arm
 * and cancel are O(1).
 *
 * Semantics:
 * - A timer never runs before expires_ns. It runs on the first
 *   tern_stack_run_timers() at or after expires_ns rounded up to a
 *   multiple of the stack's timer_tick_ns, so at most one tick late when
 *   run_timers is called every tick; a tick of 1 ns is exact.
 * - A timer armed at or before the stack's current time runs on the next
 *   tern_stack_run_timers() call — also when a callback arms it: a
 *   callback re-arming itself "now" runs again on the next call, not in a
 *   loop within this one.
 * - Callbacks may arm, re-arm and cancel any timer, themselves included,
 *   and also timers due in the same call: a cancelled one does not run.
 *   While its callback runs a timer is not pending.
 * - Order: by tick; within one tick, and among timers armed in the past,
 *   it is unspecified (not by expires_ns; deterministic for one sequence
 *   of calls). */
#ifndef TERN_TIMER_H
#define TERN_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;
struct tern_timer;
typedef void (*tern_timer_fn)(struct tern_stack *s, struct tern_timer *t);

/* The wheel's part of a timer: its links and expiry (24 bytes on 64-bit
 * targets). Owners read expires_ns, the last armed expiry. */
struct tern_timer_link {
	struct tern_timer_link *next;
	struct tern_timer_link **pprev;	/* NULL when not pending */
	uint64_t expires_ns;		/* last armed expiry (absolute) */
};

/* 40 bytes on 64-bit targets: the link, then what runs. (TCP's
 * connections embed the link alone and are run without fn and arg: the
 * wheel knows their array.) */
struct tern_timer {
	struct tern_timer_link link;
	tern_timer_fn fn;
	void *arg;
};

void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg);
/* Arms t for absolute time expires_ns on stack s, or moves it there when
 * it is pending already. Cannot fail. */
void tern_timer_arm(struct tern_stack *s, struct tern_timer *t,
		    uint64_t expires_ns);
/* Disarms t; harmless when t is not pending. */
void tern_timer_cancel(struct tern_stack *s, struct tern_timer *t);
static inline bool tern_timer_pending(const struct tern_timer *t)
{
	return t->link.pprev != NULL;
}

/* Runs every due timer; returns how many ran. Call once per loop. */
unsigned tern_stack_run_timers(struct tern_stack *s);
/* A time no later than the earliest pending expiry, UINT64_MAX when
 * nothing is pending. It is the start of the earliest non-empty wheel
 * slot (found in the bitmaps, without looking at timers): within one tick
 * below the earliest expiry when that timer is due within 64 ticks and
 * no coarser slot starts before it, otherwise up to that coarser slot's
 * width early. Cheap: a few bit operations per wheel level. */
uint64_t tern_stack_next_timer(const struct tern_stack *s);

#ifdef __cplusplus
}
#endif
#endif
