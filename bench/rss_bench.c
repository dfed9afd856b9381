/* tern_bench_rss: the cost of RSS steering (tern/rss.h).
 *
 *   tern_bench_rss [EAL args] [-- -n PICKS]
 *
 * Without EAL args it runs with --no-huge --no-shconf --no-pci -m 128 -l 0.
 * Prints cycles per operation, side by side in one run:
 *   - the Toeplitz hash of one IPv4 L4 tuple (rte_softrss_be);
 *   - a steered source-port pick (tern_rss_steer_port: linearity, no hash
 *     per candidate) for a random tuple, 128-entry RETA, 2 and 8 queues;
 *   - the obvious alternative it replaces: walk the range from a cursor,
 *     hashing each candidate's return tuple until one lands on the queue;
 *   - the hand-over classifier (tern_steer_owner) on a UDP frame. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_udp.h>

#include <tern/rss.h>

#define LO 49152
#define HI 57343	/* worker 0 of 2 */

static volatile uint64_t sink;

static void die(const char *what)
{
	fprintf(stderr, "tern_bench_rss: %s: %s\n", what,
		rte_strerror(rte_errno));
	exit(1);
}

struct tuple {
	rte_be32_t local, remote;
	uint16_t rport;
};

static void report(const char *what, uint64_t cycles, uint64_t n)
{
	double c = (double)cycles / (double)n;
	printf("%-52s %9.1f cycles/op %8.1f ns/op\n", what, c,
	       c * 1e9 / (double)rte_get_tsc_hz());
}

static void bench_hash(const struct tern_rss_key *k, const struct tuple *t,
		       unsigned n)
{
	uint64_t acc = 0, t0 = rte_rdtsc_precise();
	for (unsigned i = 0; i < n; i++)
		acc ^= tern_rss_hash_v4(k, t[i].remote, t[i].local,
					t[i].rport, (uint16_t)(LO + i));
	report("toeplitz hash, IPv4 L4 tuple", rte_rdtsc_precise() - t0, n);
	sink = acc;
}

static void bench_pick(unsigned nq, const struct tuple *t, unsigned n)
{
	uint8_t key[40];
	uint16_t reta[128];
	tern_rss_key_symmetric(key, sizeof(key));
	for (unsigned i = 0; i < 128; i++)
		reta[i] = (uint16_t)(i % nq);
	struct tern_rss_conf c = {.key = key, .key_len = 40, .reta = reta,
				  .reta_size = 128, .queue = 1,
				  .hash_udp = true, .hash_tcp = true};
	struct tern_rss_steer *st = tern_rss_steer_create(&c);
	if (st == NULL)
		die("tern_rss_steer_create");
	struct tern_rss_key k;
	tern_rss_key_init(&k, key, sizeof(key));
	char what[96];

	uint32_t cursor = 0;
	uint64_t acc = 0, t0 = rte_rdtsc_precise();
	for (unsigned i = 0; i < n; i++) {
		uint16_t p = 0;
		if (tern_rss_steer_port(st, IPPROTO_UDP, t[i].local,
					t[i].remote, t[i].rport, LO, HI,
					&cursor, NULL, NULL, &p) < 0)
			die("tern_rss_steer_port");
		acc += p;
	}
	snprintf(what, sizeof(what), "steered pick (linearity), %u queues", nq);
	report(what, rte_rdtsc_precise() - t0, n);

	/* The naive way: hash candidates until one lands on the queue. */
	unsigned next = LO;
	uint64_t hashes = 0;
	t0 = rte_rdtsc_precise();
	for (unsigned i = 0; i < n; i++) {
		for (;;) {
			uint16_t p = (uint16_t)next;
			next = next == HI ? LO : next + 1;
			hashes++;
			uint32_t h = tern_rss_hash_v4(&k, t[i].remote, t[i].local,
						      t[i].rport, p);
			if (reta[h & 127] == 1) {
				acc += p;
				break;
			}
		}
	}
	snprintf(what, sizeof(what), "scan pick (hash each candidate), %u queues",
		 nq);
	report(what, rte_rdtsc_precise() - t0, n);
	printf("%-52s %9.2f hashes/pick\n", "  scan pick", (double)hashes / n);
	sink = acc;
	tern_rss_steer_free(st);
}

static void bench_classify(unsigned n)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_rss", 63, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		die("pool");
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 18);
	memset(p, 0, 60);
	p[12] = 0x08;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	ip->version_ihl = 0x45;
	ip->next_proto_id = IPPROTO_UDP;
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	u->dst_port = rte_cpu_to_be_16(60000);
	struct tern_eph_split sp;
	tern_eph_split_init(&sp, 0, 0, 2);
	int acc = 0;
	uint64_t t0 = rte_rdtsc_precise();
	for (unsigned i = 0; i < n; i++) {
		u->dst_port = rte_cpu_to_be_16((uint16_t)(LO + (i & 0x3fff)));
		acc += tern_steer_owner(&sp, m);
	}
	report("hand-over classifier, UDP frame", rte_rdtsc_precise() - t0, n);
	sink = (uint64_t)acc;
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

int main(int argc, char **argv)
{
	char *defaults[] = {argv[0], "--no-huge", "--no-shconf", "--no-pci",
			    "-m", "128", "-l", "0", "--no-telemetry",
			    "--log-level=lib.eal:error"};
	int dd = 1;	/* EAL args end at "--" */
	while (dd < argc && strcmp(argv[dd], "--") != 0)
		dd++;
	int rc = dd > 1 ? rte_eal_init(dd, argv) :
			  rte_eal_init((int)RTE_DIM(defaults), defaults);
	if (rc < 0)
		die("rte_eal_init");
	argc -= dd;	/* argv[0] is now "--" or the end */
	argv += dd;
	unsigned n = 1000000;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n')
			n = (unsigned)strtoul(optarg, NULL, 10);
	if (n == 0)
		n = 1;

	struct tuple *t = calloc(n, sizeof(*t));
	if (t == NULL)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		t[i].local = rte_cpu_to_be_32(0x0a000001);
		t[i].remote = (rte_be32_t)rte_rand();
		t[i].rport = (uint16_t)rte_rand();
	}
	uint8_t key[40];
	struct tern_rss_key k;
	tern_rss_key_symmetric(key, sizeof(key));
	tern_rss_key_init(&k, key, sizeof(key));

	printf("tern_bench_rss: %u operations each, TSC %.2f GHz\n", n,
	       (double)rte_get_tsc_hz() / 1e9);
	bench_hash(&k, t, n);
	bench_pick(2, t, n);
	bench_pick(8, t, n);
	bench_classify(n);
	free(t);
	rte_eal_cleanup();
	return 0;
}
