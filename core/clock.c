/* Clocks: TSC for production, virtual for tests (DESIGN rule 2). */
#include <string.h>

#include <rte_cycles.h>

#include <tern/clock.h>

/* mult = round(1e9 * 2^shift / hz) with the largest shift that keeps mult
 * below 2^64: 64 significant bits whatever the rate. Division happens here,
 * once, never when the time is read. */
static void clock_set_rate(struct tern_clock *c, uint64_t hz)
{
	c->tsc_hz = hz;
	c->shift = 0;
	c->mult = 0;
	/* 1e9 < 2^30, so 1e9 << 97 still fits 128 bits. */
	for (uint32_t s = 0; s <= 97; s++) {
		__uint128_t num = (__uint128_t)TERN_NS_PER_S << s;
		__uint128_t m = (num + hz / 2) / hz;
		if (m >> 64)
			break;
		c->shift = s;
		c->mult = (uint64_t)m;
	}
}

void tern_clock_init_tsc_hz(struct tern_clock *c, uint64_t hz)
{
	memset(c, 0, sizeof(*c));
	clock_set_rate(c, hz ? hz : TERN_NS_PER_S);
	c->tsc_base = rte_rdtsc();
}

void tern_clock_init_tsc(struct tern_clock *c)
{
	/* Never divide by zero, even where EAL could not measure the TSC. */
	tern_clock_init_tsc_hz(c, rte_get_tsc_hz());
}

void tern_clock_init_virtual(struct tern_clock *c, uint64_t start_ns)
{
	memset(c, 0, sizeof(*c));
	c->is_virtual = true;
	c->now_ns = start_ns;
}

void tern_clock_advance(struct tern_clock *c, uint64_t ns)
{
	if (c->is_virtual)
		c->now_ns += ns;
}
