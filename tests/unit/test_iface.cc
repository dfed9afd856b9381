// Interfaces (DESIGN rules 3 and 6): configuration errors, several
// addresses per interface, several interfaces (MACs) on one link, removal,
// a port that refuses frames, an empty pool.
#include "harness.h"

#include <rte_errno.h>
#include <rte_malloc.h>

using namespace tt;

namespace {

constexpr Mac kMacB2 = {0x02, 0, 0, 0, 0, 0x03};
constexpr uint32_t kIpB2 = 0x0a000004;	// 10.0.0.4 on B's second interface
constexpr uint32_t kIpB3 = 0x0a000003;	// 10.0.0.3, B's first interface too
constexpr uint16_t kIfB2 = 3;

class Iface : public TwoStacks {
protected:
	tern_iface_conf conf(uint16_t ifindex, const Mac &mac, int side)
	{
		tern_iface_conf ic;
		memset(&ic, 0, sizeof(ic));
		ic.ifindex = ifindex;
		ic.link = 0;
		snprintf(ic.name, sizeof(ic.name), "if%u", ifindex);
		ic.mac = ether(mac);
		ic.tx = tern_wire_tx;
		ic.tx_ctx = tern_wire_end(w, side);
		return ic;
	}
};

uint16_t refuse_tx(void *, rte_mbuf **, uint16_t) { return 0; }

}  // namespace

TEST(Stack, CreateBadConf)
{
	tern_clock clk;
	tern_clock_init_virtual(&clk, 0);
	tern_stack_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.clock = &clk;
	rte_errno = 0;
	EXPECT_EQ(tern_stack_create(&sc), nullptr) << "no pool";
	EXPECT_EQ(rte_errno, EINVAL);
}

TEST(Clock, Virtual)
{
	tern_clock c;
	tern_clock_init_virtual(&c, 5);
	EXPECT_EQ(tern_clock_now(&c), 5u);
	tern_clock_advance(&c, 10);
	EXPECT_EQ(tern_clock_now(&c), 15u);
	tern_clock t;
	tern_clock_init_tsc(&t);
	uint64_t a = tern_clock_now(&t);
	tern_clock_advance(&t, TERN_NS_PER_S);	// ignored by a TSC clock
	uint64_t b = tern_clock_now(&t);
	EXPECT_GE(b, a);
	EXPECT_LT(b - a, TERN_NS_PER_S);
}

TEST_F(Iface, ConfErrors)
{
	tern_iface_conf ic = conf(kIfA, kMacX, 0);
	EXPECT_EQ(tern_iface_add(A, &ic), -EEXIST) << "ifindex in use";
	ic = conf(9, kMacX, 0);
	ic.tx = nullptr;
	EXPECT_EQ(tern_iface_add(A, &ic), -EINVAL) << "no tx function";
	tern_addr a = v4(0x0a000005);
	EXPECT_EQ(tern_iface_addr_add(A, 99, &a, 24), -ENOENT);
	EXPECT_EQ(tern_iface_addr_add(A, kIfA, &a, 33), -EINVAL);
	tern_addr own = v4(kIpA);
	EXPECT_EQ(tern_iface_addr_add(A, kIfA, &own, 24), -EEXIST);
	tern_addr none;
	memset(&none, 0, sizeof(none));
	EXPECT_EQ(tern_iface_addr_add(A, kIfA, &none, 24), -EINVAL);
	EXPECT_EQ(tern_iface_del(A, 99), -ENOENT);
	tern_addr x = v4(kIpX);
	EXPECT_EQ(tern_iface_addr_del(A, kIfA, &x), -ENOENT);
	tern_iface_stats st;
	EXPECT_EQ(tern_iface_stats_get(A, 99, &st), -ENOENT);
}

TEST_F(Iface, ByAddr)
{
	tern_addr a = v4(kIpA), x = v4(kIpX);
	EXPECT_EQ(tern_iface_by_addr(A, &a), kIfA);
	EXPECT_EQ(tern_iface_by_addr(A, &x), -ENOENT);
	EXPECT_EQ(tern_iface_by_addr(B, &a), -ENOENT);
}

TEST_F(Iface, AddressTableFull)
{
	int added = 0, rc = 0;
	for (uint32_t i = 0; i < TERN_IFACE_MAX_ADDRS + 2; i++) {
		tern_addr a = v4(0x0a000101 + i);
		rc = tern_iface_addr_add(A, kIfA, &a, 24);
		if (rc != 0)
			break;
		added++;
	}
	EXPECT_EQ(rc, -ENOSPC);
	EXPECT_EQ(added + 1, TERN_IFACE_MAX_ADDRS) << "one slot holds 10.0.0.1";
}

TEST_F(Iface, SecondAddressAnswersArpAndUdp)
{
	tern_addr b3 = v4(kIpB3);
	ASSERT_EQ(tern_iface_addr_add(B, kIfB, &b3, 24), 0);
	EXPECT_EQ(tern_iface_by_addr(B, &b3), kIfB);
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	ASSERT_EQ(send(A, pa, kIpB3, 7000, pattern(5)), 0);
	pump();
	auto rep = arp_from(1, 2);
	ASSERT_EQ(rep.size(), 1u);
	EXPECT_EQ(rep[0].arp_spa(), kIpB3);
	EXPECT_EQ(rep[0].arp_sha(), kMacB);
	ASSERT_EQ(rb.got.size(), 1u);
	EXPECT_EQ(rb.got[0].dst.v4, rte_cpu_to_be_32(kIpB3));

	// Removing the address: it stops answering.
	ASSERT_EQ(tern_iface_addr_del(B, kIfB, &b3), 0);
	EXPECT_EQ(tern_iface_by_addr(B, &b3), -ENOENT);
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB3, 7000, pattern(5)), 0);
	pump();
	EXPECT_EQ(rb.got.size(), 1u);
	EXPECT_EQ(drops_changed(before, stats(B)),
		  std::vector<std::string>({"ip4.drop_not_for_us +1"}));
}

TEST_F(Iface, TwoInterfacesOneLinkDemuxByMac)
{
	tern_iface_conf ic = conf(kIfB2, kMacB2, 1);
	ASSERT_EQ(tern_iface_add(B, &ic), 0);
	tern_addr b2 = v4(kIpB2);
	ASSERT_EQ(tern_iface_addr_add(B, kIfB2, &b2, 24), 0);
	pump();
	frames.clear();

	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	ASSERT_EQ(send(A, pa, kIpB2, 7000, pattern(5)), 0);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(6)), 0);
	pump();
	// Each address is answered with its own interface's MAC, once.
	auto rep = arp_from(1, 2);
	ASSERT_EQ(rep.size(), 2u);
	for (const Frame &f : rep) {
		if (f.arp_spa() == kIpB2)
			EXPECT_EQ(f.arp_sha(), kMacB2);
		else
			EXPECT_EQ(f.arp_sha(), kMacB);
	}
	ASSERT_EQ(rb.got.size(), 2u);
	Mac m;
	rte_ether_addr e;
	ASSERT_EQ(tern_neigh_lookup(A, kIfA, &b2, &e), 0);
	m = mac_of(e);
	EXPECT_EQ(m, kMacB2);
	tern_iface_stats s2, s1;
	ASSERT_EQ(tern_iface_stats_get(B, kIfB2, &s2), 0);
	ASSERT_EQ(tern_iface_stats_get(B, kIfB, &s1), 0);
	EXPECT_GE(s2.rx_pkts, 1u);
	EXPECT_GE(s1.rx_pkts, 1u);
	EXPECT_GE(s2.tx_pkts, 1u) << "its ARP reply";
}

TEST_F(Iface, TwoInterfacesOneLinkSameMac)
{
	// ternd gives every interface the port's MAC unless told otherwise,
	// so several interfaces on one port share it: IPv4 must then go to
	// the interface that owns the destination address, not to the first
	// one with the MAC.
	tern_iface_conf ic = conf(kIfB2, kMacB, 1);
	ASSERT_EQ(tern_iface_add(B, &ic), 0);
	tern_addr b2 = v4(kIpB2);
	ASSERT_EQ(tern_iface_addr_add(B, kIfB2, &b2, 24), 0);
	pump();
	frames.clear();
	rte_ether_addr mb = ether(kMacB);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &b2, &mb), 0);

	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	tern_iface_stats s1a, s2a, s1b, s2b;
	ASSERT_EQ(tern_iface_stats_get(B, kIfB, &s1a), 0);
	ASSERT_EQ(tern_iface_stats_get(B, kIfB2, &s2a), 0);
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB2, 7000, pattern(5)), 0);
	pump();
	EXPECT_EQ(drops_changed(before, stats(B)), std::vector<std::string>());
	ASSERT_EQ(rb.got.size(), 1u);
	EXPECT_EQ(rb.got[0].dst.v4, rte_cpu_to_be_32(kIpB2));
	ASSERT_EQ(tern_iface_stats_get(B, kIfB, &s1b), 0);
	ASSERT_EQ(tern_iface_stats_get(B, kIfB2, &s2b), 0);
	// Counted on B2 only.
	EXPECT_EQ(s2b.rx_pkts, s2a.rx_pkts + 1);
	EXPECT_EQ(s2b.rx_bytes, s2a.rx_bytes + 14 + 20 + 8 + 5);
	EXPECT_EQ(s1b.rx_pkts, s1a.rx_pkts);
}

TEST_F(Iface, DeleteDropsItsTraffic)
{
	resolve_statically();
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	ASSERT_EQ(tern_iface_del(B, kIfB), 0);
	tern_addr a = v4(kIpA), b = v4(kIpB);
	rte_ether_addr e;
	EXPECT_EQ(tern_neigh_lookup(B, kIfB, &a, &e), -ENOENT) << "neighbours go too";
	EXPECT_EQ(tern_iface_by_addr(B, &b), -ENOENT);
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(5)), 0);
	pump();
	EXPECT_TRUE(rb.got.empty());
	auto d = drops_changed(before, stats(B));
	ASSERT_EQ(d.size(), 1u);
	EXPECT_TRUE(d[0] == "eth.drop_not_for_us +1" || d[0] == "eth.drop_no_iface +1") << d[0];
	// And B can no longer send: no route.
	Rx r;
	tern_udp_pcb *p = open(B, 0, &r);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(send(B, p, kIpA, 1, pattern(1)), -EHOSTUNREACH);
}

TEST_F(Iface, DeleteFreesQueuedPackets)
{
	drop = [](int, const Frame &) { return true; };
	Rx ra;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(5)), 0);
	ASSERT_EQ(tern_iface_del(A, kIfA), 0);
	// The pool check at teardown proves the queue was freed; timers of
	// the entry must not fire into freed memory (ASan) either.
	step_ms(10000);
	EXPECT_EQ(stats(A).arp_tx_requests, 1u);
}

class IfaceRefuse : public TwoStacks {
protected:
	void conf_iface(tern_iface_conf &c, int side) override
	{
		if (side == 0)
			c.tx = refuse_tx;
	}
};

TEST_F(IfaceRefuse, TxFullCounted)
{
	resolve_statically();
	Rx ra;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	auto before = stats(A);
	send(A, pa, kIpB, 7000, pattern(5));
	auto after = stats(A);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"eth.drop_tx_full +1"}));
	EXPECT_EQ(after.eth_tx_pkts, before.eth_tx_pkts);
}

TEST_F(Iface, PoolEmpty)
{
	// Take every mbuf: the stack cannot allocate, counts it, and survives.
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	std::vector<rte_mbuf *> all;
	while (rte_mbuf *m = rte_pktmbuf_alloc(pool))
		all.push_back(m);
	auto before = stats(A);
	EXPECT_EQ(tern_stack_alloc(A), nullptr);
	EXPECT_EQ(stats(A).mbuf_drop_alloc_fail, before.mbuf_drop_alloc_fail + 1);

	// A datagram to an unresolved neighbour: the ARP request cannot be
	// built; the datagram waits for the retry.
	rte_mbuf *m = all.back();
	all.pop_back();
	memcpy(rte_pktmbuf_append(m, 5), pattern(5).data(), 5);
	tern_addr b = v4(kIpB);
	ASSERT_EQ(tern_udp_sendto(A, pa, &b, 7000, m), 0);
	pump();
	EXPECT_TRUE(frames_from(0).empty());
	EXPECT_EQ(stats(A).mbuf_drop_alloc_fail, before.mbuf_drop_alloc_fail + 2);

	for (rte_mbuf *x : all)
		rte_pktmbuf_free(x);
	// Back to normal: the retry goes out and the datagram follows.
	step_ms(1000);
	EXPECT_EQ(arp_from(0, 1).size(), 1u);
	ASSERT_EQ(rb.got.size(), 1u);
	EXPECT_EQ(rb.got[0].data, pattern(5));
}

TEST(Stack, CreateDestroyLeavesNoHeap)
{
	// The mbuf pool check does not see the DPDK heap: stacks are made and
	// destroyed many times here (as the fuzzer does), and the heap must
	// be where it was.
	rte_mempool *mp = make_pool(255);
	ASSERT_NE(mp, nullptr);
	tern_clock clk;
	tern_clock_init_virtual(&clk, TERN_NS_PER_S);
	auto cycle = [&] {
		tern_stack_conf sc;
		memset(&sc, 0, sizeof(sc));
		sc.name = "heap";
		sc.pool = mp;
		sc.clock = &clk;
		tern_stack *s = tern_stack_create(&sc);
		ASSERT_NE(s, nullptr);
		std::vector<Frame> out;
		tern_iface_conf ic;
		memset(&ic, 0, sizeof(ic));
		ic.ifindex = 1;
		ic.mac = ether(kMacA);
		ic.tx = capture_tx;
		ic.tx_ctx = &out;
		ASSERT_EQ(tern_iface_add(s, &ic), 0);
		tern_addr a = v4(kIpA), x = v4(kIpX), b = v4(kIpB);
		ASSERT_EQ(tern_iface_addr_add(s, 1, &a, 24), 0);
		rte_ether_addr mx = ether(kMacX);
		ASSERT_EQ(tern_neigh_add(s, 1, &x, &mx), 0);
		Rx rx;
		tern_addr any;
		memset(&any, 0, sizeof(any));
		tern_udp_pcb *p = tern_udp_open(s, &any, 0, rx_collect, &rx);
		ASSERT_NE(p, nullptr);
		rte_mbuf *m = tern_stack_alloc(s);
		ASSERT_NE(m, nullptr);
		ASSERT_EQ(tern_udp_sendto(s, p, &b, 9, m), 0);	// waits for ARP
		tern_stack_destroy(s);
	};
	cycle();	// first-use allocations (log types, names) out of the way
	rte_malloc_socket_stats before, after;
	ASSERT_EQ(rte_malloc_get_socket_stats(0, &before), 0);
	for (int i = 0; i < 200; i++)
		cycle();
	ASSERT_EQ(rte_malloc_get_socket_stats(0, &after), 0);
	EXPECT_EQ(after.heap_allocsz_bytes, before.heap_allocsz_bytes)
		<< "DPDK heap bytes leaked per stack: "
		<< ((int64_t)after.heap_allocsz_bytes - (int64_t)before.heap_allocsz_bytes) / 200;
	EXPECT_EQ(after.alloc_count, before.alloc_count);
	EXPECT_TRUE(pool_full(mp));
	rte_mempool_free(mp);
}

TEST_F(Iface, BoundPcbSendsFromItsAddress)
{
	tern_addr b3 = v4(kIpB3);
	ASSERT_EQ(tern_iface_addr_add(B, kIfB, &b3, 24), 0);
	Rx ra, r3, rany;
	ASSERT_NE(open(A, 7000, &ra), nullptr);
	tern_udp_pcb *p3 = open(B, 0, &r3, kIpB3);
	tern_udp_pcb *pany = open(B, 0, &rany);
	ASSERT_NE(p3, nullptr);
	ASSERT_NE(pany, nullptr);
	ASSERT_EQ(send(B, p3, kIpA, 7000, pattern(1)), 0);
	ASSERT_EQ(send(B, pany, kIpA, 7000, pattern(2)), 0);
	pump();
	ASSERT_EQ(ra.got.size(), 2u);
	EXPECT_EQ(ra.got[0].src.v4, rte_cpu_to_be_32(kIpB3)) << "bound address is the source";
	EXPECT_EQ(ra.got[0].sport, tern_udp_local_port(p3));
	EXPECT_EQ(ra.got[1].src.v4, rte_cpu_to_be_32(kIpB)) << "unbound: the first address";
	// A answers the bound pcb at its own address.
	Rx rr;
	tern_udp_pcb *pa = open(A, 0, &rr);
	ASSERT_NE(pa, nullptr);
	ASSERT_EQ(send(A, pa, kIpB3, tern_udp_local_port(p3), pattern(3)), 0);
	pump();
	ASSERT_EQ(r3.got.size(), 1u);
	EXPECT_EQ(r3.got[0].dst.v4, rte_cpu_to_be_32(kIpB3));
}

TEST_F(Iface, ArpRxBytesCountTheFrame)
{
	// Interface rx_bytes are frame bytes, as for IPv4 (Ethernet header
	// included), so the two kinds add up.
	tern_iface_stats a, b;
	ASSERT_EQ(tern_iface_stats_get(A, kIfA, &a), 0);
	Bytes f = eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA));
	inject(A, f);
	ASSERT_EQ(tern_iface_stats_get(A, kIfA, &b), 0);
	EXPECT_EQ(b.rx_pkts, a.rx_pkts + 1);
	EXPECT_EQ(b.rx_bytes, a.rx_bytes + f.size());
	pump();
}
