/* The timer wheel of a stack (private to core/timer.c; stack_priv.h holds
 * only a pointer). docs/architecture.md "Time" explains the design. */
#ifndef TERN_TIMER_WHEEL_H
#define TERN_TIMER_WHEEL_H

#include <stdint.h>

#include <rte_reciprocal.h>

#include <tern/clock.h>
#include <tern/timer.h>

#define TW_BITS 6			/* slots per level: 64, one bitmap word */
#define TW_SLOTS (1u << TW_BITS)
#define TW_LEVELS 8			/* 48 bits of ticks */
#define TW_SPAN_BITS (TW_BITS * TW_LEVELS)
/* The largest distance a slot can hold; farther timers are clamped to it
 * and placed again, closer, when their slot cascades. */
#define TW_MAX_DELTA ((1ull << TW_SPAN_BITS) - 1)
/* 100 us: ten times finer than the 1 ms TCP asks of its timers (RTO,
 * delayed ACK, TLP are milliseconds or more), coarse enough that the
 * timers of one connection burst share slots. docs/bench.md has the
 * figures per tick. */
#define TW_TICK_DEFAULT_NS (100 * TERN_NS_PER_US)

struct timer_wheel {
	/* Every tick before clk has been processed; level 0 holds ticks
	 * [clk, clk + 64), level L slot i the 2^(6L)-tick range whose index
	 * at that level is i, next to come at or after clk. */
	uint64_t clk;
	/* A tick no later than the next one with work (a level-0 slot to
	 * run or a slot to cascade): run_timers before next_ns is a
	 * compare. Lowered on arm, exact after each run, stale (early)
	 * after a cancel. */
	uint64_t next;
	uint64_t next_ns;		/* next * tick_ns, saturated */
	uint64_t tick_ns;
	struct rte_reciprocal_u64 per_tick;	/* ns -> ticks, no division */
	/* Armed at or before the stack's time: run by the next call. */
	struct tern_timer_link *due;
	uint64_t due_min;		/* no later than their expiries */
	uint64_t map[TW_LEVELS];	/* bit i: slot i of that level in use */
	struct tern_timer_link *slot[TW_LEVELS][TW_SLOTS];
};

#endif
