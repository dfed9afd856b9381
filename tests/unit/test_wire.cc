// The in-memory wire itself, and ARP through a lossy wire (a tap that
// drops every other frame each side sends): retries get through.
#include "harness.h"

using namespace tt;

namespace {

class Wire : public TwoStacks {
protected:
	void conf_stack(tern_stack_conf &c, int) override { c.neigh_mcast_probes = 10; }
};

}  // namespace

TEST_F(Wire, CountsAndPumpRounds)
{
	resolve_statically();
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	ASSERT_NE(pa, nullptr);
	uint64_t s0 = tern_wire_sent(w, 0), s1 = tern_wire_sent(w, 1);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(4)), 0);
	EXPECT_EQ(tern_wire_sent(w, 0), s0 + 5);
	EXPECT_TRUE(rb.got.empty()) << "nothing delivered before the pump";
	EXPECT_EQ(pump(), 5u);
	EXPECT_EQ(rb.got.size(), 5u);
	EXPECT_EQ(tern_wire_sent(w, 1), s1);
	EXPECT_EQ(pump(), 0u) << "quiet";
}

TEST_F(Wire, DestroyWithQueuedFrames)
{
	resolve_statically();
	Rx r;
	tern_udp_pcb *pa = open(A, 0, &r);
	ASSERT_NE(pa, nullptr);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(4)), 0);
	// Not pumped: the fixture's teardown frees them with the wire and the
	// pool check proves it.
	EXPECT_EQ(tern_wire_sent(w, 0), 10u);
}

TEST_F(Wire, ArpResolvesThroughEveryOtherFrameLost)
{
	unsigned n[2] = {0, 0};
	drop = [&n](int side, const Frame &) { return (n[side]++ % 2) == 0; };
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);

	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	pump();
	tern_addr b = v4(kIpB);
	rte_ether_addr m;
	int secs = 0;
	while (tern_neigh_lookup(A, kIfA, &b, &m) != 0 && secs < 10) {
		step_ms(1000);
		secs++;
	}
	ASSERT_EQ(tern_neigh_lookup(A, kIfA, &b, &m), 0) << "resolved through retries";
	EXPECT_EQ(mac_of(m), kMacB);
	EXPECT_GE(stats(A).arp_tx_requests, 2u);
	EXPECT_EQ(stats(A).neigh_drop_unresolved, 0u);
	// The losses are the wire's; the stacks dropped nothing.
	EXPECT_EQ(drops_total(stats(A)), 0u);

	// Of the datagrams sent from now on, every other one arrives.
	size_t before = rb.got.size();
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(2)), 0);
	pump();
	EXPECT_EQ(rb.got.size() - before, 5u);
}

TEST(Harness, PoolCheckSeesLeakAndDoubleFree)
{
	// The fixture's leak check must itself work: a held mbuf is a leak,
	// an mbuf freed twice is caught too (the pool is then thrown away).
	rte_mempool *mp = make_pool(100);
	ASSERT_NE(mp, nullptr);
	EXPECT_TRUE(pool_full(mp));
	rte_mbuf *m = rte_pktmbuf_alloc(mp);
	ASSERT_NE(m, nullptr);
	EXPECT_FALSE(pool_full(mp));
	rte_pktmbuf_free(m);
	EXPECT_TRUE(pool_full(mp));
	m = rte_pktmbuf_alloc(mp);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(m);
	::testing::AssertionResult r = pool_full(mp);
	EXPECT_FALSE(r);
	EXPECT_NE(std::string(r.message()).find("twice"), std::string::npos) << r.message();
	rte_mempool_free(mp);
}
