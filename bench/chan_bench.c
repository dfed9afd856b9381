/* Channel enqueue modes under CPU overcommit: the default multi-producer
 * rte_ring (MP) against relaxed tail sync (RTS, what lockfree/chan.c
 * uses), in one run. P producer threads, more than the CPUs they run on,
 * post 64-byte messages to one ring that a consumer thread drains; the
 * figure that matters is the tail of a single successful enqueue call's
 * duration: in MP a producer descheduled between reserving and publishing
 * makes every later producer spin in its call until it runs again; in RTS
 * nobody waits for it. Threads yield when the ring is full or empty.
 *
 *   tern_bench_chan <EAL args> -- [-p producers] [-n msgs per producer]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#define MSG_SIZE 64
#define RING_SLOTS 1024
#define BUCKETS 48	/* log2 of the duration in TSC cycles */

struct msg {
	uint8_t b[MSG_SIZE];
};

struct run {
	struct rte_ring *r;
	unsigned producers;
	unsigned long per;
	atomic_bool go;
	atomic_ulong consumed;
	uint64_t hist[BUCKETS];		/* merged after the producers end */
	uint64_t max;
	pthread_mutex_t lock;
};

static unsigned log2_u64(uint64_t v)
{
	return v == 0 ? 0 : 63u - (unsigned)__builtin_clzll(v);
}

static void *producer(void *arg)
{
	struct run *run = arg;
	uint64_t hist[BUCKETS] = {0}, max = 0;
	struct msg m;

	memset(&m, 0, sizeof(m));
	while (!atomic_load(&run->go))
		;
	for (unsigned long i = 0; i < run->per; i++) {
		uint64_t t0, d;
		/* The duration of the enqueue call that succeeded: a full
		 * ring returns at once and is not what is measured. */
		for (;;) {
			t0 = rte_rdtsc();
			int rc = rte_ring_enqueue_elem(run->r, &m, sizeof(m));
			d = rte_rdtsc() - t0;
			if (rc == 0)
				break;
			sched_yield();	/* full: let the consumer run */
		}
		unsigned b = log2_u64(d);
		hist[b < BUCKETS ? b : BUCKETS - 1]++;
		if (d > max)
			max = d;
	}
	pthread_mutex_lock(&run->lock);
	for (unsigned b = 0; b < BUCKETS; b++)
		run->hist[b] += hist[b];
	if (max > run->max)
		run->max = max;
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static void *consumer(void *arg)
{
	struct run *run = arg;
	struct msg burst[32];
	unsigned long want = run->per * run->producers;

	while (atomic_load(&run->consumed) < want) {
		unsigned n = rte_ring_dequeue_burst_elem(run->r, burst,
							 sizeof(burst[0]), 32,
							 NULL);
		atomic_fetch_add(&run->consumed, n);
		if (n == 0)
			sched_yield();
	}
	return NULL;
}

/* Upper bound (ns) of the bucket holding quantile q. */
static double quantile_ns(const struct run *run, double q, double ns_per_cyc)
{
	uint64_t total = 0, seen = 0;
	for (unsigned b = 0; b < BUCKETS; b++)
		total += run->hist[b];
	for (unsigned b = 0; b < BUCKETS; b++) {
		seen += run->hist[b];
		if ((double)seen >= q * (double)total)
			return (double)(2ull << b) * ns_per_cyc;
	}
	return 0;
}

static int one(const char *name, unsigned flags, unsigned producers,
	       unsigned long per)
{
	struct run run;
	pthread_t th[64], cons;
	double ns_per_cyc = 1e9 / (double)rte_get_tsc_hz();

	memset(&run, 0, sizeof(run));
	pthread_mutex_init(&run.lock, NULL);
	run.producers = producers;
	run.per = per;
	char rname[RTE_RING_NAMESIZE];
	snprintf(rname, sizeof(rname), "bench_%s", name);
	run.r = rte_ring_create_elem(rname, MSG_SIZE, RING_SLOTS,
				     SOCKET_ID_ANY, flags | RING_F_SC_DEQ);
	if (run.r == NULL) {
		fprintf(stderr, "ring %s: %s\n", name, rte_strerror(rte_errno));
		return -1;
	}
	pthread_create(&cons, NULL, consumer, &run);
	for (unsigned i = 0; i < producers; i++)
		pthread_create(&th[i], NULL, producer, &run);
	uint64_t t0 = rte_rdtsc();
	atomic_store(&run.go, true);
	for (unsigned i = 0; i < producers; i++)
		pthread_join(th[i], NULL);
	pthread_join(cons, NULL);
	double secs = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	double total = (double)per * producers;
	printf("%-4s %u producers  %8.2f Mmsg/s  enqueue ns: p50 <%.0f  "
	       "p99 <%.0f  p99.9 <%.0f  p99.99 <%.0f  max %.0f\n",
	       name, producers, total / secs / 1e6,
	       quantile_ns(&run, 0.50, ns_per_cyc),
	       quantile_ns(&run, 0.99, ns_per_cyc),
	       quantile_ns(&run, 0.999, ns_per_cyc),
	       quantile_ns(&run, 0.9999, ns_per_cyc),
	       (double)run.max * ns_per_cyc);
	rte_ring_free(run.r);
	return 0;
}

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	unsigned producers = 4;
	unsigned long per = 500000;
	int c;
	while ((c = getopt(argc, argv, "p:n:")) != -1) {
		if (c == 'p')
			producers = (unsigned)atoi(optarg);
		else if (c == 'n')
			per = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (producers == 0 || producers > 64)
		return 2;
	printf("%u producer threads + 1 consumer on %ld CPUs, %lu x %d-byte "
	       "messages each, %d-slot ring (bucket bounds are powers of 2)\n",
	       producers, sysconf(_SC_NPROCESSORS_ONLN), per, MSG_SIZE,
	       RING_SLOTS);
	/* Both modes twice, interleaved, so a change in machine load shows. */
	for (int round = 0; round < 2; round++) {
		if (one("MP", 0, producers, per) < 0 ||
		    one("RTS", RING_F_MP_RTS_ENQ, producers, per) < 0)
			return 1;
	}
	rte_eal_cleanup();
	return 0;
}
