/* Injected time (DESIGN rule 2). The stack reads time only through its
 * clock: TSC in production, a virtual clock in tests, so retransmission,
 * ARP timeouts and generator pacing are tested without sleeping. */
#ifndef TERN_CLOCK_H
#define TERN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_clock {
	bool is_virtual;
	uint64_t virt_ns;	/* virtual: current time */
	uint64_t tsc_hz;	/* tsc: cycles per second */
	uint64_t tsc_base;	/* tsc: cycle count at time zero */
};

void tern_clock_init_tsc(struct tern_clock *c);
void tern_clock_init_virtual(struct tern_clock *c, uint64_t start_ns);
/* Virtual clocks only; a TSC clock ignores it. */
void tern_clock_advance(struct tern_clock *c, uint64_t ns);

static inline uint64_t tern_clock_now(const struct tern_clock *c)
{
	if (c->is_virtual)
		return c->virt_ns;
	uint64_t cyc = rte_rdtsc() - c->tsc_base;
	/* split to avoid overflowing cyc * 1e9 */
	return (cyc / c->tsc_hz) * 1000000000ull +
	       ((cyc % c->tsc_hz) * 1000000000ull) / c->tsc_hz;
}

#define TERN_NS_PER_MS 1000000ull
#define TERN_NS_PER_S 1000000000ull

#ifdef __cplusplus
}
#endif
#endif
