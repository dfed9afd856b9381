// The clock: TSC cycles to ns by multiply and shift (checked against the
// exact 128-bit arithmetic on rte_get_tsc_hz() and other rates), the cached
// time (now is what the last update read; read does not move it), and the
// virtual clock (update and read keep the virtual time).
#include "harness.h"

#include <random>

#include <rte_cycles.h>

namespace {

// cycles * 1e9 / hz, exactly (what the conversion approximates).
uint64_t exact_ns(uint64_t cycles, uint64_t hz)
{
	return (uint64_t)((__uint128_t)cycles * TERN_NS_PER_S / hz);
}

void check_rate(uint64_t hz)
{
	tern_clock c;
	tern_clock_init_tsc_hz(&c, hz);
	EXPECT_EQ(c.tsc_hz, hz);
	// The largest cycle count whose time is below 2^63 ns (292 years).
	__uint128_t lim = ((__uint128_t)1 << 63) * hz / TERN_NS_PER_S;
	uint64_t max = lim > UINT64_MAX ? UINT64_MAX : (uint64_t)lim;
	std::vector<uint64_t> cyc = {0, 1, 2, hz - 1, hz, hz + 1, 3 * hz + 7};
	const uint64_t year_s = 365ull * 86400;
	for (uint64_t years : {1ull, 10ull, 100ull})
		if ((__uint128_t)hz * year_s * years <= max)
			cyc.push_back(hz * year_s * years);
	std::mt19937_64 rng(hz);
	for (int i = 0; i < 20000; i++) {
		uint64_t v = rng();
		// every magnitude, not only huge values
		v >>= rng() % 64;
		cyc.push_back(v % max);
	}
	cyc.push_back(max);
	for (uint64_t x : cyc) {
		uint64_t want = exact_ns(x, hz);
		uint64_t got = tern_clock_cycles_to_ns(&c, x);
		uint64_t diff = got > want ? got - want : want - got;
		ASSERT_LE(diff, 1u) << "hz " << hz << " cycles " << x << " want "
				    << want << " got " << got;
	}
}

}  // namespace

TEST(Clock, ConversionMatchesTscHzArithmetic)
{
	uint64_t hz = rte_get_tsc_hz();
	ASSERT_GT(hz, 0u);
	check_rate(hz);
}

TEST(Clock, ConversionAtOtherRates)
{
	// Common TSC rates, odd ones, ARM generic timers (tens of MHz) and the
	// extremes the multiplier must still represent.
	for (uint64_t hz : {1000000000ull, 2400000000ull, 3333333333ull,
			    2194843000ull, 25000000ull, 19200000ull, 1000ull, 1ull,
			    7999999999ull, 1ull << 62})
		check_rate(hz);
}

TEST(Clock, ZeroRateMeansOneGigahertz)
{
	tern_clock c;
	tern_clock_init_tsc_hz(&c, 0);
	EXPECT_EQ(c.tsc_hz, TERN_NS_PER_S);
	EXPECT_EQ(tern_clock_cycles_to_ns(&c, 123456789), 123456789u);
}

TEST(Clock, TscNowIsCachedUntilUpdate)
{
	tern_clock c;
	tern_clock_init_tsc(&c);
	uint64_t t0 = tern_clock_update(&c);
	EXPECT_EQ(tern_clock_now(&c), t0);
	rte_delay_us_block(2000);
	// Two milliseconds later the cached time has not moved...
	EXPECT_EQ(tern_clock_now(&c), t0);
	// ...a fresh reading has, and reading does not move the cache...
	uint64_t r = tern_clock_read(&c);
	EXPECT_GE(r, t0 + 1900 * TERN_NS_PER_US);
	EXPECT_EQ(tern_clock_now(&c), t0);
	// ...and an update takes the new time.
	uint64_t t1 = tern_clock_update(&c);
	EXPECT_GE(t1, r);
	EXPECT_EQ(tern_clock_now(&c), t1);
	// advance is for virtual clocks only.
	tern_clock_advance(&c, TERN_NS_PER_S);
	EXPECT_EQ(tern_clock_now(&c), t1);
}

TEST(Clock, TscReadAgreesWithCycles)
{
	tern_clock c;
	tern_clock_init_tsc(&c);
	uint64_t before = rte_rdtsc() - c.tsc_base;
	uint64_t ns = tern_clock_read(&c);
	uint64_t after = rte_rdtsc() - c.tsc_base;
	uint64_t hz = rte_get_tsc_hz();
	EXPECT_GE(ns + 1, exact_ns(before, hz));
	EXPECT_LE(ns, exact_ns(after, hz) + 1);
}

TEST(Clock, VirtualKeepsItsTime)
{
	tern_clock c;
	tern_clock_init_virtual(&c, 5);
	EXPECT_EQ(tern_clock_now(&c), 5u);
	EXPECT_EQ(tern_clock_update(&c), 5u) << "no TSC behind a virtual clock";
	EXPECT_EQ(tern_clock_read(&c), 5u);
	tern_clock_advance(&c, 10);
	EXPECT_EQ(tern_clock_now(&c), 15u);
	EXPECT_EQ(tern_clock_read(&c), 15u);
	EXPECT_EQ(tern_clock_update(&c), 15u);
	EXPECT_EQ(tern_clock_now(&c), 15u);
}
