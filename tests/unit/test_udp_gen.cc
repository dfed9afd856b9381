// traffic_gen/ udp: client against an echoing server over the wire, on the
// virtual clock; count and duration limits; conf_check reasons.
#include "harness.h"

#include <rte_arp.h>
#include <rte_errno.h>

#include <tern/udp_gen.h>

using namespace tt;

namespace {

// A valid client conf: A to B:9000, 64-byte frames, 1000 pps.
tern_udp_gen_conf client_conf()
{
	tern_udp_gen_conf c;
	memset(&c, 0, sizeof(c));
	c.role = TERN_GEN_CLIENT;
	c.local = v4(kIpA);
	c.remote = v4(kIpB);
	c.remote_port = 9000;
	c.size = 64;
	c.rate_pps = 1000;
	return c;
}

class UdpGen : public TwoStacks {
protected:
	void TearDown() override
	{
		if (client)
			tern_udp_gen_destroy(client);
		if (server)
			tern_udp_gen_destroy(server);
		TwoStacks::TearDown();
	}
	void start_server()
	{
		tern_udp_gen_conf s;
		memset(&s, 0, sizeof(s));
		s.role = TERN_GEN_SERVER;
		s.local = v4(kIpB);
		s.local_port = 9000;
		s.echo = true;
		server = tern_udp_gen_create(B, &s);
		ASSERT_NE(server, nullptr) << rte_strerror(rte_errno);
		ASSERT_EQ(tern_udp_gen_start(server), 0);
	}
	// The client under test, created from c on A and started.
	void start_client(const tern_udp_gen_conf &c)
	{
		client = tern_udp_gen_create(A, &c);
		ASSERT_NE(client, nullptr) << rte_strerror(rte_errno);
		ASSERT_EQ(tern_udp_gen_start(client), 0);
	}
	// Half a tick between the client's send and the wire's delivery, so
	// every round trip takes tick/2 of virtual time.
	void run(uint64_t total_ns, uint64_t tick_ns = TERN_NS_PER_MS)
	{
		for (uint64_t t = 0; t < total_ns; t += tick_ns) {
			tern_clock_advance(&clk, tick_ns / 2);
			tern_stack_run_timers(A);
			tern_stack_run_timers(B);
			if (client)
				tern_udp_gen_poll(client);
			if (server)
				tern_udp_gen_poll(server);
			tern_clock_advance(&clk, tick_ns / 2);
			pump();
		}
	}
	tern_udp_gen_stats st(tern_udp_gen *g)
	{
		tern_udp_gen_stats s;
		memset(&s, 0, sizeof(s));
		tern_udp_gen_stats_get(g, &s);
		return s;
	}
	tern_udp_gen *client = nullptr, *server = nullptr;
};

}  // namespace

TEST_F(UdpGen, ThousandPpsForOneSecondAllEchoed)
{
	start_server();
	tern_udp_gen_conf c = client_conf();
	client = tern_udp_gen_create(A, &c);
	ASSERT_NE(client, nullptr) << rte_strerror(rte_errno);
	EXPECT_EQ(st(client).state, TERN_GEN_CREATED);
	EXPECT_EQ(st(client).start_ns, 0u);
	ASSERT_EQ(tern_udp_gen_start(client), 0);
	uint64_t t0 = tern_stack_now(A);
	EXPECT_EQ(st(client).state, TERN_GEN_RUNNING);
	EXPECT_EQ(st(client).start_ns, t0);

	run(TERN_NS_PER_S);
	auto cs = st(client);
	auto ss = st(server);
	EXPECT_GE(cs.tx_pkts, 990u);
	EXPECT_LE(cs.tx_pkts, 1010u);
	EXPECT_EQ(cs.tx_fail, 0u);
	EXPECT_EQ(cs.tx_bytes, cs.tx_pkts * 64);
	EXPECT_EQ(ss.rx_pkts, cs.tx_pkts) << "the server got every one";
	EXPECT_EQ(ss.rx_bytes, cs.tx_bytes);
	EXPECT_EQ(ss.tx_pkts, ss.rx_pkts) << "and echoed every one";
	EXPECT_EQ(cs.rx_echoes, cs.tx_pkts);
	EXPECT_EQ(cs.rx_pkts, cs.tx_pkts);
	EXPECT_EQ(cs.rx_out_of_order, 0u);
	EXPECT_EQ(cs.rtt_count, cs.rx_echoes);
	// Each round trip took half a tick of virtual time (send in the
	// middle of the tick, delivery and echo at its end).
	EXPECT_GE(cs.rtt_min_ns, TERN_NS_PER_MS / 2);
	EXPECT_LE(cs.rtt_max_ns, TERN_NS_PER_MS + TERN_NS_PER_MS / 2);
	EXPECT_LE(cs.rtt_min_ns, cs.rtt_max_ns);
	ASSERT_GT(cs.rtt_count, 0u);
	uint64_t mean = cs.rtt_sum_ns / cs.rtt_count;
	EXPECT_GE(mean, cs.rtt_min_ns);
	EXPECT_LE(mean, cs.rtt_max_ns);
	EXPECT_EQ(cs.state, TERN_GEN_RUNNING) << "no count or duration: keeps going";

	// The frames are the configured size: 64 with FCS = 60 on the wire.
	bool seen = false;
	for (const Frame &f : frames_from(0))
		if (f.is_ip4(17)) {
			EXPECT_EQ(f.b.size(), 60u);
			EXPECT_EQ(get16(f.l4() + 2), 9000);
			seen = true;
		}
	EXPECT_TRUE(seen);

	ASSERT_EQ(tern_udp_gen_stop(client), 0);
	EXPECT_EQ(st(client).state, TERN_GEN_STOPPED);
	uint64_t tx = st(client).tx_pkts;
	run(100 * TERN_NS_PER_MS);
	EXPECT_EQ(st(client).tx_pkts, tx) << "stopped means no more sends";
	EXPECT_GT(st(client).end_ns, 0u);
}

TEST_F(UdpGen, CountLimit)
{
	start_server();
	tern_udp_gen_conf c = client_conf();
	c.count = 100;
	ASSERT_NO_FATAL_FAILURE(start_client(c));
	run(TERN_NS_PER_S);
	auto cs = st(client);
	EXPECT_EQ(cs.tx_pkts, 100u);
	EXPECT_EQ(cs.rx_echoes, 100u);
	EXPECT_EQ(cs.state, TERN_GEN_DONE);
	EXPECT_GE(cs.end_ns, cs.start_ns + 99 * TERN_NS_PER_MS);
	EXPECT_LE(cs.end_ns, cs.start_ns + 102 * TERN_NS_PER_MS);
}

// A run waits for its next hop: the first datagram starts ARP, the rest
// wait for the answer instead of overflowing the neighbour's queue (8)
// while it comes. Here B's first reply is lost, so the answer takes the
// one-second retry.
TEST_F(UdpGen, FirstDatagramResolvesTheRestWait)
{
	start_server();
	int replies = 0;
	drop = [&](int side, const Frame &f) {
		return side == 1 && f.is_arp(RTE_ARP_OP_REPLY) && replies++ == 0;
	};
	tern_udp_gen_conf c = client_conf();
	c.count = 50;
	ASSERT_NO_FATAL_FAILURE(start_client(c));
	run(900 * TERN_NS_PER_MS);
	EXPECT_EQ(st(client).tx_pkts, 1u) << "only the datagram that asks";
	EXPECT_EQ(st(server).rx_pkts, 0u);

	run(TERN_NS_PER_S);
	EXPECT_EQ(replies, 2) << "the retry was answered";
	auto cs = st(client);
	EXPECT_EQ(cs.tx_pkts, 50u);
	EXPECT_EQ(cs.tx_fail, 0u);
	EXPECT_EQ(cs.rx_echoes, 50u) << "none lost at the start";
	EXPECT_EQ(cs.state, TERN_GEN_DONE);
	EXPECT_EQ(stats(A).neigh_drop_queue_full, 0u);
}

// A next hop that never answers holds a run three seconds at most; then
// it goes at rate and the losses are counted where they happen.
TEST_F(UdpGen, UnansweredNextHopStopsHoldingAfterThreeSeconds)
{
	drop = [](int side, const Frame &f) {
		return side == 1 && f.is_arp(RTE_ARP_OP_REPLY);
	};
	tern_udp_gen_conf c = client_conf();
	ASSERT_NO_FATAL_FAILURE(start_client(c));
	run(2900 * TERN_NS_PER_MS);
	EXPECT_EQ(st(client).tx_pkts, 1u);
	run(500 * TERN_NS_PER_MS);
	EXPECT_GE(st(client).tx_pkts, 300u) << "at rate after the wait";
	auto a = stats(A);
	EXPECT_GT(a.neigh_drop_queue_full + a.neigh_drop_unresolved, 0u)
		<< "and what the neighbour could not hold is counted";
}

TEST_F(UdpGen, DurationLimit)
{
	start_server();
	tern_udp_gen_conf c = client_conf();
	c.duration_ns = 200 * TERN_NS_PER_MS;
	ASSERT_NO_FATAL_FAILURE(start_client(c));
	run(TERN_NS_PER_S);
	auto cs = st(client);
	EXPECT_EQ(cs.state, TERN_GEN_DONE);
	EXPECT_GE(cs.tx_pkts, 195u);
	EXPECT_LE(cs.tx_pkts, 202u);
	EXPECT_GE(cs.end_ns - cs.start_ns, 200 * TERN_NS_PER_MS);
	EXPECT_LE(cs.end_ns - cs.start_ns, 202 * TERN_NS_PER_MS);
}

TEST_F(UdpGen, NoServerCountsNothingBack)
{
	tern_udp_gen_conf c = client_conf();
	c.count = 10;
	ASSERT_NO_FATAL_FAILURE(start_client(c));
	run(100 * TERN_NS_PER_MS);
	auto cs = st(client);
	EXPECT_EQ(cs.tx_pkts, 10u);
	EXPECT_EQ(cs.rx_echoes, 0u);
	EXPECT_EQ(cs.rtt_count, 0u);
	EXPECT_EQ(cs.rtt_min_ns, UINT64_MAX);
	EXPECT_GE(stats(B).udp_drop_no_port, 10u);
}

TEST_F(UdpGen, ServerPortInUse)
{
	start_server();
	tern_udp_gen_conf s;
	memset(&s, 0, sizeof(s));
	s.role = TERN_GEN_SERVER;
	s.local = v4(kIpB);
	s.local_port = 9000;
	rte_errno = 0;
	EXPECT_EQ(tern_udp_gen_create(B, &s), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
}

TEST(UdpGenConf, CheckReasons)
{
	tern_udp_gen_conf good = client_conf();
	const char *why = "untouched";
	EXPECT_EQ(tern_udp_gen_conf_check(&good, &why), 0);

	struct Bad {
		const char *what;
		std::function<void(tern_udp_gen_conf &)> edit;
	};
	const Bad bad[] = {
		{"rate 0", [](tern_udp_gen_conf &c) { c.rate_pps = 0; }},
		{"size below 64", [](tern_udp_gen_conf &c) { c.size = 63; }},
		{"size too large", [](tern_udp_gen_conf &c) { c.size = 100000; }},
		{"no remote", [](tern_udp_gen_conf &c) { memset(&c.remote, 0, sizeof(c.remote)); }},
		{"remote port 0", [](tern_udp_gen_conf &c) { c.remote_port = 0; }},
		{"bad role", [](tern_udp_gen_conf &c) { c.role = (tern_gen_role)7; }},
	};
	for (const Bad &b : bad) {
		tern_udp_gen_conf c = good;
		b.edit(c);
		why = nullptr;
		EXPECT_EQ(tern_udp_gen_conf_check(&c, &why), -EINVAL) << b.what;
		ASSERT_NE(why, nullptr) << b.what;
		EXPECT_GT(strlen(why), 0u) << b.what;
	}

	tern_udp_gen_conf srv;
	memset(&srv, 0, sizeof(srv));
	srv.role = TERN_GEN_SERVER;
	srv.local = tern_addr_v4h(kIpB);
	srv.local_port = 9000;
	EXPECT_EQ(tern_udp_gen_conf_check(&srv, &why), 0) << "servers need no rate or remote";
	srv.local_port = 0;
	EXPECT_EQ(tern_udp_gen_conf_check(&srv, &why), -EINVAL) << "a server needs its port";
}

// A restart keeps the counters and adds its running time to the first
// run's; the pause in between does not count.
TEST_F(UdpGen, RestartAddsRunningTimeNotPauses)
{
	start_server();
	tern_udp_gen_conf c = client_conf();
	c.duration_ns = TERN_NS_PER_S;
	ASSERT_NO_FATAL_FAILURE(start_client(c));
	run(TERN_NS_PER_S + 10 * TERN_NS_PER_MS);
	auto s1 = st(client);
	ASSERT_EQ(s1.state, TERN_GEN_DONE);
	EXPECT_NEAR((double)s1.active_ns, 1e9, 2e6);
	run(5 * TERN_NS_PER_S);				// paused: does not age
	EXPECT_EQ(st(client).active_ns, s1.active_ns);
	ASSERT_EQ(tern_udp_gen_start(client), 0);
	run(TERN_NS_PER_S / 2);
	auto s2 = st(client);
	EXPECT_EQ(s2.state, TERN_GEN_RUNNING);
	EXPECT_NEAR((double)s2.active_ns, 1.5e9, 2e6);	// live while running
	run(TERN_NS_PER_S);
	auto s3 = st(client);
	ASSERT_EQ(s3.state, TERN_GEN_DONE);
	EXPECT_NEAR((double)s3.active_ns, 2e9, 3e6);
	EXPECT_NEAR((double)s3.tx_pkts, 2000, 4);		// counters kept
	EXPECT_NEAR((double)s3.tx_pkts / ((double)s3.active_ns / 1e9), 1000, 5);
}
