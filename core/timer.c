/* Timers: a hierarchical timer wheel with cascading (Varghese and Lauck,
 * "Hashed and hierarchical timing wheels", scheme 7), 8 levels of 64
 * slots, one bitmap word per level so that the clock can jump over empty
 * slots. Timers are linked in place (tern/timer.h): no allocation, no
 * failure, O(1) arm, re-arm and cancel. Semantics are in tern/timer.h,
 * the design in docs/architecture.md "Time". */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "stack_priv.h"
#include "tcp_priv.h"
#include "timer_wheel.h"

static inline uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t rotr64(uint64_t x, unsigned r)
{
	return (x >> r) | (x << ((64 - r) & 63));
}

/* ns -> ticks with the precomputed reciprocal (no division). */
static inline uint64_t ticks_floor(const struct timer_wheel *w, uint64_t ns)
{
	return rte_reciprocal_divide_u64(ns, &w->per_tick);
}

/* The tick whose start is the first at or after ns (ns >= 1): a timer
 * runs when that tick is processed, so never before ns. */
static inline uint64_t ticks_ceil(const struct timer_wheel *w, uint64_t ns)
{
	return ticks_floor(w, ns - 1) + 1;
}

static inline void set_next(struct timer_wheel *w, uint64_t tick)
{
	w->next = tick;
	w->next_ns = mul_sat(tick, w->tick_ns);
}

static inline void tw_link(struct tern_timer_link **head, struct tern_timer_link *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* O(1): pprev finds the link to rewrite. The slot's bitmap bit goes when
 * t was alone in it, i.e. pprev is a slot head and nothing follows. */
static inline void tw_unlink(struct timer_wheel *w, struct tern_timer_link *t)
{
	struct tern_timer_link **pp = t->pprev;
	*pp = t->next;
	if (t->next != NULL) {
		t->next->pprev = pp;
	} else {
		uintptr_t off = (uintptr_t)pp - (uintptr_t)&w->slot[0][0];
		if (off < sizeof(w->slot)) {
			size_t i = off / sizeof(w->slot[0][0]);
			w->map[i / TW_SLOTS] &= ~(1ull << (i % TW_SLOTS));
		} else if (pp == &w->due) {
			w->due_min = UINT64_MAX;
		}
	}
	t->next = NULL;
	t->pprev = NULL;
}

/* Places t, due at tick e, in the finest level whose range covers e - clk:
 * level L holds distances in [64^L, 64^(L+1)), in the slot named by e's
 * bits [6L, 6L + 6). That slot's range starts after clk, so it cascades
 * (or, at level 0, runs) no later than e. */
static void tw_insert(struct timer_wheel *w, struct tern_timer_link *t, uint64_t e)
{
	if (unlikely(e < w->clk))
		e = w->clk;	/* only a clock going back; still never early */
	uint64_t delta = e - w->clk;
	unsigned lvl = 0;
	if (delta >= TW_SLOTS) {
		lvl = (63u - (unsigned)__builtin_clzll(delta)) / TW_BITS;
		if (unlikely(lvl >= TW_LEVELS)) {
			/* Beyond the span: the last slot it can have; the
			 * cascade of that slot places it again, closer. */
			lvl = TW_LEVELS - 1;
			e = w->clk + TW_MAX_DELTA;
		}
	}
	unsigned sh = lvl * TW_BITS;
	unsigned idx = (unsigned)(e >> sh) & (TW_SLOTS - 1);
	tw_link(&w->slot[lvl][idx], t);
	w->map[lvl] |= 1ull << idx;
	uint64_t at = (e >> sh) << sh;	/* when it runs or cascades */
	if (at < w->next)
		set_next(w, at);
}

/* The first tick at or after clk with work: per level, the first slot in
 * use at or after the level's next boundary, found with a rotate and a
 * count of trailing zeros. UINT64_MAX when the wheel is empty. */
static uint64_t tw_find_next(const struct timer_wheel *w)
{
	uint64_t best = UINT64_MAX;
	for (unsigned lvl = 0; lvl < TW_LEVELS; lvl++) {
		uint64_t map = w->map[lvl];
		if (map == 0)
			continue;
		unsigned sh = lvl * TW_BITS;
		uint64_t mask = (1ull << sh) - 1;
		/* the first boundary of this level at or after clk */
		uint64_t c = (w->clk >> sh) + ((w->clk & mask) != 0);
		uint64_t r = c + (uint64_t)__builtin_ctzll(
					 rotr64(map, (unsigned)c & (TW_SLOTS - 1)));
		uint64_t at = r > (UINT64_MAX >> sh) ? UINT64_MAX : r << sh;
		if (at < best)
			best = at;
	}
	return best;
}

/* At tick n, every level whose range begins at n hands the slot of that
 * range down: each timer goes where its distance from n puts it now
 * (level 0 at the latest when it is due within 64 ticks). No callback
 * runs here. */
static void tw_cascade(struct timer_wheel *w, uint64_t n)
{
	for (unsigned lvl = 1; lvl < TW_LEVELS; lvl++) {
		unsigned sh = lvl * TW_BITS;
		if (n & ((1ull << sh) - 1))
			break;
		unsigned idx = (unsigned)(n >> sh) & (TW_SLOTS - 1);
		if (!(w->map[lvl] & (1ull << idx)))
			continue;
		struct tern_timer_link *list = w->slot[lvl][idx];
		w->slot[lvl][idx] = NULL;
		w->map[lvl] &= ~(1ull << idx);
		while (list != NULL) {
			struct tern_timer_link *t = list;
			list = t->next;
			tw_insert(w, t, ticks_ceil(w, t->expires_ns));
		}
	}
}

/* Runs the timers of list *head (taken whole: what callbacks arm meanwhile
 * lands elsewhere) that expire at or before limit_ns; those pushed later
 * in the meantime (tern_timer_arm leaves them where they were) go back
 * into the wheel at their expiry. The batch head is local, so a callback
 * can still cancel or re-arm any timer of the batch through its pprev. */
static unsigned run_list(struct tern_stack *s, struct tern_timer_link **head,
			 uint64_t limit_ns)
{
	struct timer_wheel *w = s->tw;
	struct tern_timer_link *batch = *head;
	unsigned ran = 0;

	*head = NULL;
	if (batch == NULL)
		return 0;
	batch->pprev = &batch;
	while (batch != NULL) {
		struct tern_timer_link *t = batch;
		batch = t->next;
		if (batch != NULL)
			batch->pprev = &batch;
		if (unlikely(t->expires_ns > limit_ns)) {
			tw_insert(w, t, ticks_ceil(w, t->expires_ns));
			continue;
		}
		t->next = NULL;
		t->pprev = NULL;
		/* may arm, re-arm or cancel anything */
		struct tcp_conn *c = tcp_conn_of_timer(s, t);
		if (c != NULL) {
			tcp_timer_fire(s, c);
		} else {
			struct tern_timer *tm = container_of(t, struct tern_timer, link);
			tm->fn(s, tm);
		}
		ran++;
	}
	return ran;
}

unsigned tern_stack_run_timers(struct tern_stack *s)
{
	struct timer_wheel *w = s->tw;
	uint64_t now = tern_clock_now(s->clock);
	unsigned ran = 0;

	if (likely(w->due == NULL && now < w->next_ns))
		return 0;
	if (w->due != NULL) {
		w->due_min = UINT64_MAX;
		ran += run_list(s, &w->due, now);
	}
	if (now < w->next_ns)
		return ran;
	uint64_t cur = ticks_floor(w, now);
	for (;;) {
		uint64_t n = tw_find_next(w);
		if (n > cur)
			break;
		/* Nothing happens between clk and n: jump. */
		w->clk = n;
		tw_cascade(w, n);
		/* What callbacks arm from here on is after tick n. */
		w->clk = n + 1;
		unsigned idx = (unsigned)n & (TW_SLOTS - 1);
		if (w->map[0] & (1ull << idx)) {
			w->map[0] &= ~(1ull << idx);
			ran += run_list(s, &w->slot[0][idx],
					mul_sat(n, w->tick_ns));
		}
	}
	if (w->clk <= cur)
		w->clk = cur + 1;
	set_next(w, tw_find_next(w));
	return ran;
}

uint64_t tern_stack_next_timer(const struct tern_stack *s)
{
	const struct timer_wheel *w = s->tw;
	uint64_t best = w->due != NULL ? w->due_min : UINT64_MAX;
	uint64_t n = tw_find_next(w);
	if (n != UINT64_MAX) {
		/* A timer of tick n (or cascading at n) expires after the
		 * end of tick n - 1. */
		uint64_t lo = n == 0 ? 0 : mul_sat(n - 1, w->tick_ns);
		if (lo != UINT64_MAX && n != 0)
			lo++;
		if (lo < best)
			best = lo;
	}
	return best;
}

void tern_timer_init(struct tern_timer *t, tern_timer_fn fn, void *arg)
{
	t->link.next = NULL;
	t->link.pprev = NULL;
	t->link.expires_ns = 0;
	t->fn = fn;
	t->arg = arg;
}

void tw_arm(struct tern_stack *s, struct tern_timer_link *t, uint64_t expires_ns)
{
	struct timer_wheel *w = s->tw;
	uint64_t now = tern_clock_now(s->clock);

	if (t->pprev != NULL) {
		/* Pushed later (TCP on most ACKs): it stays where it is, a
		 * slot that comes no later than the new expiry, and moves
		 * when that slot is reached (run_list, or a cascade, which
		 * places by expires_ns). Touches t alone. */
		if (expires_ns >= t->expires_ns && expires_ns > now) {
			t->expires_ns = expires_ns;
			return;
		}
		tw_unlink(w, t);
	}
	t->expires_ns = expires_ns;
	if (expires_ns <= now) {
		tw_link(&w->due, t);
		if (expires_ns < w->due_min)
			w->due_min = expires_ns;
		return;
	}
	tw_insert(w, t, ticks_ceil(w, expires_ns));
}

void tw_cancel(struct tern_stack *s, struct tern_timer_link *t)
{
	if (t->pprev != NULL)
		tw_unlink(s->tw, t);
}

void tern_timer_arm(struct tern_stack *s, struct tern_timer *t,
		    uint64_t expires_ns)
{
	tw_arm(s, &t->link, expires_ns);
}

void tern_timer_cancel(struct tern_stack *s, struct tern_timer *t)
{
	tw_cancel(s, &t->link);
}

int timer_init(struct tern_stack *s, uint32_t tick_ns)
{
	struct timer_wheel *w = stack_zalloc(s, "tern_timer_wheel", sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->tick_ns = tick_ns ? tick_ns : TW_TICK_DEFAULT_NS;
	w->per_tick = rte_reciprocal_value_u64(w->tick_ns);
	/* The tick holding "now" counts as processed: what is armed at or
	 * before now goes to the due list, anything later after it. */
	w->clk = ticks_floor(w, tern_clock_now(s->clock)) + 1;
	w->due_min = UINT64_MAX;
	set_next(w, UINT64_MAX);
	s->tw = w;
	return 0;
}

static void disarm_list(struct tern_timer_link *t)
{
	while (t != NULL) {
		struct tern_timer_link *n = t->next;
		t->next = NULL;
		t->pprev = NULL;
		t = n;
	}
}

void timer_fini(struct tern_stack *s)
{
	struct timer_wheel *w = s->tw;
	if (w == NULL)
		return;
	/* Owners may look at their timers after the stack is gone. */
	disarm_list(w->due);
	for (unsigned l = 0; l < TW_LEVELS; l++)
		for (unsigned i = 0; i < TW_SLOTS; i++)
			disarm_list(w->slot[l][i]);
	rte_free(w);
	s->tw = NULL;
}
