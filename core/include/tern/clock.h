/* Injected time (DESIGN rule 2). The stack reads time only through its
 * clock: TSC in production, a virtual clock in tests, so retransmission,
 * ARP timeouts and generator pacing are tested without sleeping.
 *
 * The current time is cached. A TSC clock changes only when its owner
 * calls tern_clock_update() — the data-plane loop does it once at the top
 * of each iteration — so everything one iteration does sees one time and
 * pays for one TSC read; tern_clock_now() is a load. A virtual clock
 * changes only with tern_clock_advance(). Callers that need a precise
 * instant (latency stamps) use tern_clock_read(), which reads the TSC
 * without moving the cached time. */
#ifndef TERN_CLOCK_H
#define TERN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_clock {
	uint64_t now_ns;	/* cached current time */
	bool is_virtual;
	uint32_t shift;		/* tsc: ns = (cycles * mult) >> shift */
	uint64_t mult;
	uint64_t tsc_base;	/* tsc: cycle count at time zero */
	uint64_t tsc_hz;	/* tsc: cycles per second */
};

/* TSC clock at the rate rte_get_tsc_hz() reports; time zero is now. */
void tern_clock_init_tsc(struct tern_clock *c);
/* The same with a given rate (0 = 1 GHz); tests use it to check the
 * conversion at rates this machine does not have. */
void tern_clock_init_tsc_hz(struct tern_clock *c, uint64_t hz);
void tern_clock_init_virtual(struct tern_clock *c, uint64_t start_ns);
/* Virtual clocks only (it moves the cached time); a TSC clock ignores it. */
void tern_clock_advance(struct tern_clock *c, uint64_t ns);

/* ns for a count of TSC cycles: a 64x64->128-bit multiply and a shift,
 * no division. mult is 1e9/hz scaled by 2^shift to 64 significant bits,
 * so the result is within 1 ns of cycles * 1e9 / hz up to 2^63 ns (292
 * years of uptime); the product cannot overflow 128 bits. */
static inline uint64_t tern_clock_cycles_to_ns(const struct tern_clock *c,
					       uint64_t cycles)
{
	return (uint64_t)(((__uint128_t)cycles * c->mult) >> c->shift);
}

/* The cached time: what this loop iteration is working at. */
static inline uint64_t tern_clock_now(const struct tern_clock *c)
{
	return c->now_ns;
}

/* A fresh reading (one TSC read); the cached time does not change. For a
 * virtual clock, the virtual time. */
static inline uint64_t tern_clock_read(const struct tern_clock *c)
{
	if (c->is_virtual)
		return c->now_ns;
	return tern_clock_cycles_to_ns(c, rte_rdtsc() - c->tsc_base);
}

/* Reads the TSC once and caches the time; returns it. Called by the
 * clock's owner (the data-plane loop, a benchmark), once per iteration.
 * A virtual clock keeps its time. */
static inline uint64_t tern_clock_update(struct tern_clock *c)
{
	c->now_ns = tern_clock_read(c);
	return c->now_ns;
}

#define TERN_NS_PER_US 1000ull
#define TERN_NS_PER_MS 1000000ull
#define TERN_NS_PER_S 1000000000ull

#ifdef __cplusplus
}
#endif
#endif
