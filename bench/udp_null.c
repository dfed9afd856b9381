/* tern_bench_udp_null: the cost of the UDP send path.
 *
 *   tern_bench_udp_null [EAL args] [-- -t SECONDS -s FRAME_SIZE -n BURST]
 *
 * Without EAL args it runs with --no-huge --no-shconf --no-pci -m 256 -l 0
 * --vdev net_null0. Port 0 gets one queue; one stack with a TSC clock and
 * one interface sends 64-byte frames (FCS included) with tern_udp_sendto to
 * a static neighbour for SECONDS, through a buffered rte_eth_tx_burst.
 * It prints packets/s, cycles per packet (rte_rdtsc around the loop) and
 * the command line, twice: checksums in software, then with the port's
 * own offload capabilities. Then the same loop between two stacks over the
 * in-memory wire (loopback): the receive path is in that figure too. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <tern/offload.h>
#include <tern/stack.h>
#include <tern/wire.h>

#define BURST_MAX 256
#define TX_BUF 64
#define FCS 4
#define HDRS (14 + 20 + 8)

struct opts {
	double seconds;
	unsigned frame;	/* bytes incl. FCS */
	unsigned burst;
	unsigned hosts;	/* emulated hosts for the many-addresses figure */
};

struct port_tx {
	uint16_t port;
	struct rte_eth_dev_tx_buffer *buf;
	uint64_t unsent;	/* freed by the buffer's error callback */
};

struct result {
	uint64_t pkts;
	uint64_t cycles;
	uint64_t failed;	/* sendto errors */
	double secs;
};

static void count_unsent(struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct port_tx *p = arg;
	p->unsent += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

static uint16_t port_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct port_tx *p = ctx;
	for (uint16_t i = 0; i < n; i++)
		rte_eth_tx_buffer(p->port, 0, p->buf, pkts[i]);
	return n;
}

static void die(const char *what)
{
	fprintf(stderr, "tern_bench_udp_null: %s: %s\n", what,
		rte_strerror(rte_errno));
	exit(1);
}

static struct tern_stack *make_stack(const char *name, struct rte_mempool *mp,
				     struct tern_clock *clk)
{
	struct tern_stack_conf sc = {.name = name, .pool = mp, .clock = clk,
				     .lcore = rte_lcore_id(),
				     .udp_max_pcbs = 65536,
				     .socket = (int)rte_socket_id()};
	struct tern_stack *s = tern_stack_create(&sc);
	if (!s)
		die("tern_stack_create");
	return s;
}

static void add_iface(struct tern_stack *s, uint16_t ifindex, uint16_t link,
		      uint8_t last, uint32_t ip, const struct tern_ol_caps *caps,
		      tern_iface_tx_fn tx, void *ctx)
{
	struct tern_iface_conf ic = {.ifindex = ifindex, .link = link, .mtu = 1500,
				     .tx = tx, .tx_ctx = ctx};
	snprintf(ic.name, sizeof(ic.name), "bench%u", ifindex);
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, last}};
	ic.mac = mac;
	if (caps)
		ic.caps = *caps;
	struct tern_addr a = tern_addr_v4h(ip);
	if (tern_iface_add(s, &ic) != 0 || tern_iface_addr_add(s, ifindex, &a, 24) != 0) {
		fprintf(stderr, "tern_bench_udp_null: interface setup failed\n");
		exit(1);
	}
}

/* Sends bursts of UDP frames until the time is up, each from the next of
 * the n pcbs in turn (n emulated hosts, one bound socket each; n = 1: one
 * flow); pump, when given, runs after each burst (the loopback variant). */
static struct result send_loop(struct tern_stack *s, struct tern_udp_pcb **pcbs,
			       unsigned n, const struct opts *o,
			       struct tern_wire *pump, struct port_tx *ptx)
{
	struct result r = {0};
	struct tern_addr dst = tern_addr_v4h(0x0a000002);
	unsigned payload = o->frame - FCS - HDRS, k = 0;
	uint64_t hz = rte_get_tsc_hz();
	uint64_t start = rte_rdtsc();
	uint64_t deadline = start + (uint64_t)(o->seconds * (double)hz);
	uint64_t now = start;
	while (now < deadline) {
		/* as the data plane does: one clock read per iteration */
		tern_clock_update(tern_stack_clock(s));
		for (unsigned i = 0; i < o->burst; i++) {
			struct rte_mbuf *m = tern_stack_alloc(s);
			if (!m) {
				r.failed++;
				break;
			}
			char *d = rte_pktmbuf_append(m, payload);
			if (d)
				memset(d, 0x5a, payload);
			if (tern_udp_sendto(s, pcbs[k], &dst, 9, m) == 0)
				r.pkts++;
			else
				r.failed++;
			if (++k == n)
				k = 0;
		}
		if (pump)
			tern_wire_pump(pump, 4);
		if (ptx)
			rte_eth_tx_buffer_flush(ptx->port, 0, ptx->buf);
		tern_stack_run_timers(s);
		now = rte_rdtsc();
	}
	r.cycles = now - start;
	r.secs = (double)r.cycles / (double)hz;
	return r;
}

static void report(const char *what, const struct result *r, const struct opts *o)
{
	printf("%-46s %8.3f Mpps  %8.1f cycles/pkt  (%" PRIu64 " pkts, %" PRIu64
	       " failed, %.2f s, %u-byte frames, lcore %u)\n",
	       what, r->pkts / r->secs / 1e6,
	       r->pkts ? (double)r->cycles / r->pkts : 0.0, r->pkts, r->failed,
	       r->secs, o->frame, rte_lcore_id());
}

static void caps_str(const struct tern_ol_caps *c, char *buf, size_t n)
{
	snprintf(buf, n, "tx ip4=%d udp=%d tcp=%d", c->tx_ip4_cksum,
		 c->tx_udp_cksum, c->tx_tcp_cksum);
}

struct sink {
	uint64_t rx;
};

static void sink_rx(void *arg, struct tern_udp_pcb *pcb, struct rte_mbuf *m,
		    const struct tern_addr *src, uint16_t sport,
		    const struct tern_addr *dst)
{
	(void)pcb, (void)src, (void)sport, (void)dst;
	((struct sink *)arg)->rx++;
	rte_pktmbuf_free(m);
}

/* Port 0's TX buffer, counting what the port did not take. */
static void port_tx_init(struct port_tx *ptx)
{
	memset(ptx, 0, sizeof(*ptx));
	ptx->buf = rte_zmalloc_socket("bench_txbuf", RTE_ETH_TX_BUFFER_SIZE(TX_BUF),
				      0, rte_socket_id());
	if (!ptx->buf)
		die("tx buffer");
	rte_eth_tx_buffer_init(ptx->buf, TX_BUF);
	rte_eth_tx_buffer_set_err_callback(ptx->buf, count_unsent, ptx);
}

static struct result run_port(struct rte_mempool *mp, const struct tern_ol_caps *caps,
			      const struct opts *o)
{
	struct port_tx ptx;
	port_tx_init(&ptx);

	struct tern_clock clk;
	tern_clock_init_tsc(&clk);
	struct tern_stack *s = make_stack("bench", mp, &clk);
	add_iface(s, 1, 0, 1, 0x0a000001, caps, port_tx, &ptx);
	struct tern_addr peer = tern_addr_v4h(0x0a000002);
	struct rte_ether_addr pmac = {{0x02, 0, 0, 0, 0, 2}};
	if (tern_neigh_add(s, 1, &peer, &pmac) != 0)
		die("tern_neigh_add");
	struct tern_addr any = {0};
	struct sink unused = {0};
	struct tern_udp_pcb *pcb = tern_udp_open(s, &any, 0, sink_rx, &unused);
	if (!pcb)
		die("tern_udp_open");

	struct result r = send_loop(s, &pcb, 1, o, NULL, &ptx);
	rte_eth_tx_buffer_flush(0, 0, ptx.buf);
	tern_udp_close(s, pcb);
	tern_stack_destroy(s);
	rte_free(ptx.buf);
	if (ptx.unsent)
		printf("  (%" PRIu64 " packets not taken by the port)\n", ptx.unsent);
	return r;
}

/* n hosts 10.1.0.1.. (a range, /16) on one interface of a port, each
 * with a pcb bound to it; they all send to one neighbour. */
static struct result run_hosts(struct rte_mempool *mp, unsigned n,
			       const struct opts *o)
{
	struct port_tx ptx;
	port_tx_init(&ptx);
	struct tern_clock clk;
	tern_clock_init_tsc(&clk);
	struct tern_stack *s = make_stack("hosts", mp, &clk);
	struct tern_ol_caps none;
	memset(&none, 0, sizeof(none));
	add_iface(s, 1, 0, 1, 0x0a000001, &none, port_tx, &ptx);
	struct tern_addr_range r = {.base = tern_addr_v4h(0x0a010001),
				    .count = n, .plen = 16};
	if (tern_iface_range_add(s, 1, &r) != 0)
		die("tern_iface_range_add");
	struct tern_addr peer = tern_addr_v4h(0x0a000002);
	struct rte_ether_addr pmac = {{0x02, 0, 0, 0, 0, 2}};
	if (tern_neigh_add(s, 1, &peer, &pmac) != 0)
		die("tern_neigh_add");
	/* 10.0.0.2 is on the interface's 10.0.0.1/24: every host reaches it
	 * directly (route.c: the interface of the source). */
	struct tern_udp_pcb **pcbs = calloc(n, sizeof(*pcbs));
	struct sink unused = {0};
	for (unsigned i = 0; i < n; i++) {
		struct tern_addr a = tern_addr_v4h(0x0a010001 + i);
		pcbs[i] = tern_udp_open(s, &a, 9000, sink_rx, &unused);
		if (pcbs[i] == NULL)
			die("tern_udp_open");
	}
	struct result res = send_loop(s, pcbs, n, o, NULL, &ptx);
	rte_eth_tx_buffer_flush(0, 0, ptx.buf);
	for (unsigned i = 0; i < n; i++)
		tern_udp_close(s, pcbs[i]);
	free(pcbs);
	tern_stack_destroy(s);
	rte_free(ptx.buf);
	return res;
}

static struct result run_loopback(struct rte_mempool *mp, const struct opts *o,
				  uint64_t *received)
{
	struct tern_clock clk;
	tern_clock_init_tsc(&clk);
	struct tern_stack *a = make_stack("loopA", mp, &clk);
	struct tern_stack *b = make_stack("loopB", mp, &clk);
	struct tern_wire *w = tern_wire_create(a, 0, b, 0);
	if (!w)
		die("tern_wire_create");
	add_iface(a, 1, 0, 1, 0x0a000001, NULL, tern_wire_tx, tern_wire_end(w, 0));
	add_iface(b, 1, 0, 2, 0x0a000002, NULL, tern_wire_tx, tern_wire_end(w, 1));
	struct tern_addr ipa = tern_addr_v4h(0x0a000001), ipb = tern_addr_v4h(0x0a000002);
	struct rte_ether_addr ma = {{0x02, 0, 0, 0, 0, 1}}, mb = {{0x02, 0, 0, 0, 0, 2}};
	tern_neigh_add(a, 1, &ipb, &mb);
	tern_neigh_add(b, 1, &ipa, &ma);
	struct tern_addr any = {0};
	struct sink sink = {0};
	struct sink unused = {0};
	struct tern_udp_pcb *pa = tern_udp_open(a, &any, 0, sink_rx, &unused);
	struct tern_udp_pcb *pb = tern_udp_open(b, &any, 9, sink_rx, &sink);
	if (!pa || !pb)
		die("tern_udp_open");
	struct result r = send_loop(a, &pa, 1, o, w, NULL);
	tern_wire_pump(w, 16);
	*received = sink.rx;
	tern_wire_destroy(w);
	tern_stack_destroy(a);
	tern_stack_destroy(b);
	return r;
}

int main(int argc, char **argv)
{
	static char *defaults[] = {
		NULL, "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
		"-l", "0", "--no-telemetry", "--vdev", "net_null0",
		"--log-level=lib.eal:error",
	};
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");

	/* EAL args are what comes before "--"; none given: the defaults. */
	int sep = argc;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	int app_argc = sep < argc ? argc - sep : 1;
	char **app_argv = sep < argc ? argv + sep : argv;
	if (sep == 1 || argc == 1) {
		defaults[0] = argv[0];
		int n = sizeof(defaults) / sizeof(defaults[0]);
		printf("EAL:");
		for (int i = 1; i < n; i++)
			printf(" %s", defaults[i]);
		printf("\n");
		if (rte_eal_init(n, defaults) < 0)
			die("rte_eal_init");
	} else if (rte_eal_init(sep, argv) < 0) {
		die("rte_eal_init");
	}

	struct opts o = {.seconds = 5, .frame = 64, .burst = 32, .hosts = 10000};
	int c;
	optind = 1;
	while ((c = getopt(app_argc, app_argv, "t:s:n:a:")) != -1) {
		switch (c) {
		case 't': o.seconds = atof(optarg); break;
		case 's': o.frame = (unsigned)atoi(optarg); break;
		case 'n': o.burst = (unsigned)atoi(optarg); break;
		case 'a': o.hosts = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [EAL args] [-- -t SECONDS -s FRAME_SIZE -n BURST -a HOSTS]\n",
				argv[0]);
			return 2;
		}
	}
	if (o.hosts < 1 || o.hosts > 65000) {
		fprintf(stderr, "tern_bench_udp_null: need 1 <= -a <= 65000\n");
		return 2;
	}
	if (o.frame < 64 || o.frame > 1518 || o.burst == 0 || o.burst > BURST_MAX ||
	    o.seconds <= 0) {
		fprintf(stderr, "tern_bench_udp_null: need 64 <= -s <= 1518, 0 < -n <= %d, -t > 0\n",
			BURST_MAX);
		return 2;
	}

	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "tern_bench_udp_null: no port 0 (give --vdev net_null0)\n");
		return 1;
	}
	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_pool", 16383, 256, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 rte_socket_id());
	if (!mp)
		die("mempool");

	struct rte_eth_dev_info di;
	if (rte_eth_dev_info_get(0, &di) != 0)
		die("rte_eth_dev_info_get");
	struct tern_ol_caps port_caps, sw_caps;
	memset(&sw_caps, 0, sizeof(sw_caps));
	tern_ol_caps_from_dev_info(&di, &port_caps);
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	conf.txmode.offloads = tern_ol_port_tx_offloads(&port_caps);
	if (rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, 512, rte_socket_id(), NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 512, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start(0) != 0)
		die("port 0 setup");
	printf("port 0: %s, tsc %" PRIu64 " Hz\n", di.driver_name, rte_get_tsc_hz());

	char cs[64], label[96];
	struct result r = run_port(mp, &sw_caps, &o);
	caps_str(&sw_caps, cs, sizeof(cs));
	snprintf(label, sizeof(label), "port, software cksum (%s)", cs);
	report(label, &r, &o);

	r = run_port(mp, &port_caps, &o);
	caps_str(&port_caps, cs, sizeof(cs));
	snprintf(label, sizeof(label), "port, %s caps (%s)", di.driver_name, cs);
	report(label, &r, &o);

	/* Flat per-packet cost whatever the number of emulated hosts: the
	 * same send path from 1 host, then from each of o.hosts in turn. */
	struct result one = run_hosts(mp, 1, &o);
	report("port, 1 host (bound pcb), software cksum", &one, &o);
	struct result many = run_hosts(mp, o.hosts, &o);
	snprintf(label, sizeof(label), "port, %u hosts round robin, software cksum",
		 o.hosts);
	report(label, &many, &o);
	double a = one.pkts / one.secs, b = many.pkts / many.secs;
	printf("  (%u hosts: %+.1f%% packets/s against 1 host)\n", o.hosts,
	       (b - a) / a * 100.0);

	uint64_t received = 0;
	r = run_loopback(mp, &o, &received);
	report("loopback wire A->B, software cksum", &r, &o);
	printf("  (B received %" PRIu64 " of %" PRIu64 ")\n", received, r.pkts);

	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	unsigned avail = rte_mempool_avail_count(mp);
	if (avail != mp->size)
		printf("warning: %u mbufs not back in the pool\n", mp->size - avail);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
