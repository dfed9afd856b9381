/* tern_bench_neigh: neighbour lookups per second.
 *
 *   tern_bench_neigh [EAL args] [-- -n LOOKUPS]
 *
 * The neighbour table (core/neigh.c: rte_hash keyed by interface, family
 * and address; RFC 4861 states) against the ARP cache it replaced (a copy
 * of that open-addressing table is kept below: 1024 slots, at most 768
 * entries), same lookups, same run. The old table could not hold more than
 * 768 neighbours; the new one is measured at that size and at 100,000.
 * Lookups are of random present entries, in a pre-drawn order, so the
 * figure is the table's and not the random generator's. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <tern/stack.h>

/* ---- the ARP cache tern had before (baseline, our own code) ---------- */

#define OLD_SIZE 1024
enum { OLD_FREE = 0, OLD_DELETED, OLD_INCOMPLETE, OLD_REACHABLE };

struct old_entry {
	uint8_t state;
	uint8_t retries;
	uint8_t qn;
	uint16_t ifindex;
	rte_be32_t ip;
	struct rte_ether_addr mac;
	uint64_t deadline_ns;
	struct rte_mbuf *q[16];
};

struct old_table {
	struct old_entry e[OLD_SIZE];
	unsigned used;
};

static inline uint32_t old_slot(uint16_t ifindex, rte_be32_t ip)
{
	return rte_hash_crc_4byte(ip, ifindex) & (OLD_SIZE - 1);
}

static struct old_entry *old_find(struct old_table *t, uint16_t ifindex,
				  rte_be32_t ip)
{
	uint32_t i = old_slot(ifindex, ip);
	for (unsigned n = 0; n < OLD_SIZE; n++, i = (i + 1) & (OLD_SIZE - 1)) {
		struct old_entry *e = &t->e[i];
		if (e->state == OLD_FREE)
			return NULL;
		if (e->state != OLD_DELETED && e->ip == ip && e->ifindex == ifindex)
			return e;
	}
	return NULL;
}

static struct old_entry *old_insert(struct old_table *t, uint16_t ifindex,
				    rte_be32_t ip)
{
	if (t->used >= OLD_SIZE * 3 / 4)
		return NULL;
	uint32_t i = old_slot(ifindex, ip);
	for (;; i = (i + 1) & (OLD_SIZE - 1)) {
		struct old_entry *e = &t->e[i];
		if (e->state == OLD_FREE || e->state == OLD_DELETED) {
			memset(e, 0, sizeof(*e));
			e->ifindex = ifindex;
			e->ip = ip;
			t->used++;
			return e;
		}
	}
}

/* ---- the run ------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "tern_bench_neigh: %s: %s\n", what, rte_strerror(rte_errno));
	exit(1);
}

static uint32_t ip_of(unsigned i)
{
	return 0x0a000000u + i * 7u + 1u;	/* spread over 10/8 */
}

static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void report(const char *what, unsigned entries, uint64_t n,
		   uint64_t cycles, uint64_t found)
{
	double secs = (double)cycles / (double)rte_get_tsc_hz();
	printf("%-40s %7u entries %8.1f M lookups/s %7.1f cycles/lookup (%" PRIu64
	       " of %" PRIu64 " found)\n", what, entries, n / secs / 1e6,
	       (double)cycles / (double)n, found, n);
}

static void run_new(struct rte_mempool *mp, unsigned entries,
		    const uint32_t *order, uint64_t n)
{
	struct tern_clock clk;
	tern_clock_init_virtual(&clk, 1);
	struct tern_stack_conf sc = {.name = "neigh", .pool = mp, .clock = &clk,
				     .neigh_max = entries < 8 ? 8 : entries,
				     .socket = (int)rte_socket_id()};
	struct tern_stack *s = tern_stack_create(&sc);
	if (s == NULL)
		die("tern_stack_create");
	struct tern_iface_conf ic = {.ifindex = 1, .mtu = 1500};
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 1}};
	ic.mac = mac;
	ic.tx = (tern_iface_tx_fn)(uintptr_t)1;	/* never called */
	if (tern_iface_add(s, &ic) != 0)
		die("tern_iface_add");
	for (unsigned i = 0; i < entries; i++) {
		struct tern_addr a = tern_addr_v4h(ip_of(i));
		struct rte_ether_addr m = {{0x02, 0, 0, (uint8_t)(i >> 16),
					    (uint8_t)(i >> 8), (uint8_t)i}};
		if (tern_neigh_add(s, 1, &a, &m) != 0)
			die("tern_neigh_add");
	}
	/* the addresses as callers hold them (built once, like the old
	 * table's keys below) */
	struct tern_addr *addr = malloc(entries * sizeof(*addr));
	if (addr == NULL)
		die("malloc");
	for (unsigned i = 0; i < entries; i++)
		addr[i] = tern_addr_v4h(ip_of(i));
	uint64_t found = 0;
	struct rte_ether_addr out;
	uint64_t t0 = rte_rdtsc();
	for (uint64_t k = 0; k < n; k++)
		found += tern_neigh_lookup(s, 1, &addr[order[k] % entries],
					   &out) == 0;
	uint64_t t1 = rte_rdtsc();
	free(addr);
	report("tern neighbour table (hmap, RFC 4861)", entries, n, t1 - t0,
	       found);
	tern_stack_destroy(s);
}

static void run_old(unsigned entries, const uint32_t *order, uint64_t n)
{
	struct old_table *t = rte_zmalloc("old_arp", sizeof(*t), 64);
	if (t == NULL)
		die("rte_zmalloc");
	for (unsigned i = 0; i < entries; i++) {
		struct old_entry *e = old_insert(t, 1, rte_cpu_to_be_32(ip_of(i)));
		if (e == NULL)
			die("old_insert");
		e->state = OLD_REACHABLE;
	}
	rte_be32_t *addr = malloc(entries * sizeof(*addr));
	if (addr == NULL)
		die("malloc");
	for (unsigned i = 0; i < entries; i++)
		addr[i] = rte_cpu_to_be_32(ip_of(i));
	uint64_t found = 0;
	volatile uint8_t sink = 0;
	uint64_t t0 = rte_rdtsc();
	for (uint64_t k = 0; k < n; k++) {
		struct old_entry *e = old_find(t, 1, addr[order[k] % entries]);
		if (e != NULL && e->state == OLD_REACHABLE) {
			found++;
			sink ^= e->mac.addr_bytes[5];
		}
	}
	uint64_t t1 = rte_rdtsc();
	(void)sink;
	free(addr);
	report("old ARP cache (open addressing, 1024)", entries, n, t1 - t0, found);
	rte_free(t);
}

int main(int argc, char **argv)
{
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	int eal = rte_eal_init(argc, argv);
	if (eal < 0)
		die("rte_eal_init");
	argc -= eal;
	argv += eal;
	uint64_t n = 10000000;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: tern_bench_neigh [EAL] -- [-n LOOKUPS]\n");
			return 2;
		}
	}
	struct rte_mempool *mp = rte_pktmbuf_pool_create("neigh_pool", 1023, 0, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 rte_socket_id());
	uint32_t *order = malloc(n * sizeof(*order));
	if (mp == NULL || order == NULL)
		die("memory");
	uint64_t x = 88172645463325252ull;
	for (uint64_t k = 0; k < n; k++)
		order[k] = (uint32_t)xs(&x);

	run_old(700, order, n);
	run_new(mp, 700, order, n);
	run_new(mp, 100000, order, n);
	free(order);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
