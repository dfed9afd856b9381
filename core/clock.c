/* Clocks: TSC for production, virtual for tests (DESIGN rule 2). */
#include <string.h>

#include <rte_cycles.h>

#include <tern/clock.h>

void tern_clock_init_tsc(struct tern_clock *c)
{
	memset(c, 0, sizeof(*c));
	c->tsc_hz = rte_get_tsc_hz();
	if (c->tsc_hz == 0)
		c->tsc_hz = 1000000000ull; /* never divide by zero */
	c->tsc_base = rte_rdtsc();
}

void tern_clock_init_virtual(struct tern_clock *c, uint64_t start_ns)
{
	memset(c, 0, sizeof(*c));
	c->is_virtual = true;
	c->virt_ns = start_ns;
}

void tern_clock_advance(struct tern_clock *c, uint64_t ns)
{
	if (c->is_virtual)
		c->virt_ns += ns;
}
