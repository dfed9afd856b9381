// Emulated hosts as address ranges, the local address table, routes in
// the fib (connected, gateway, static; longest prefix), and the route a
// flow keeps (tern_route / tern_ip_send).
#include "harness.h"

#include <rte_errno.h>

using namespace tt;

namespace {

tern_addr_range range(uint32_t base, uint32_t count, uint8_t plen,
		      bool host_macs = false)
{
	tern_addr_range r;
	memset(&r, 0, sizeof(r));
	r.base = v4(base);
	r.count = count;
	r.plen = plen;
	r.host_macs = host_macs;
	return r;
}

uint64_t mac_num(const Mac &m)
{
	uint64_t v = 0;
	for (uint8_t b : m)
		v = v << 8 | b;
	return v;
}

class Range : public UdpPair {};

class RangeArp : public UdpPair {
protected:
	RangeArp() { resolve = false; }	// ARP on the wire is under test
};

}  // namespace

TEST(RangeCheck, Rules)
{
	const char *why = nullptr;
	auto ok = [&](tern_addr_range r) { return tern_addr_range_check(&r, &why) == 0; };
	EXPECT_TRUE(ok(range(0x0a010001, 10000, 16)));
	EXPECT_FALSE(ok(range(0x0a010000, 10, 16))) << "the network address";
	EXPECT_FALSE(ok(range(0x0a01fff0, 16, 16))) << "ends at the broadcast";
	EXPECT_STREQ(why, "address: the network or broadcast address of the subnet is in the range");
	EXPECT_FALSE(ok(range(0x0a0100fe, 4, 24))) << "leaves the /24";
	EXPECT_STREQ(why, "count: the addresses leave the subnet of the prefix");
	EXPECT_TRUE(ok(range(0x0a010000, 2, 31))) << "RFC 3021: /31 has no network address";
	EXPECT_FALSE(ok(range(0x00000001, 1, 8))) << "0/8";
	EXPECT_FALSE(ok(range(0x7f000001, 1, 8))) << "127/8";
	EXPECT_FALSE(ok(range(0xe0000001, 1, 8))) << "multicast";
	EXPECT_FALSE(ok(range(0x0a010001, 1, 0)));
	EXPECT_FALSE(ok(range(0x0a000001, TERN_RANGE_MAX_HOSTS + 1, 8)));
	tern_addr_range r = range(0x0a010001, 300, 16, true);
	r.mac_base = ether(Mac({0x02, 0xff, 0xff, 0xff, 0xff, 0x00}));
	EXPECT_FALSE(ok(r)) << "host MACs would carry into the first octet";
	r.mac_base = ether(Mac({0x03, 0, 0, 0, 0, 1}));
	EXPECT_FALSE(ok(r)) << "a multicast MAC base";
}

TEST_F(Range, AddOverlapAndLimits)
{
	tern_addr_range r = range(0x0a000064, 100, 24);	// 10.0.0.100 .. .199
	ASSERT_EQ(tern_iface_range_add(A, kIfA, &r), 0);
	tern_addr_range o = range(0x0a000001, 1, 24);
	EXPECT_EQ(tern_iface_range_add(A, kIfA, &o), -EEXIST) << "10.0.0.1 is ours";
	o = range(0x0a0000c7, 2, 24);
	EXPECT_EQ(tern_iface_range_add(A, kIfA, &o), -EEXIST) << "overlaps .199";
	EXPECT_EQ(tern_iface_range_add(A, 99, &o), -ENOENT);
	tern_addr_range list[TERN_IFACE_MAX_ADDRS];
	ASSERT_EQ(tern_iface_range_list(A, kIfA, list, TERN_IFACE_MAX_ADDRS), 2u);
	EXPECT_EQ(list[1].count, 100u);
	tern_addr a = v4(0x0a000064), b = v4(0x0a0000c7), c = v4(0x0a0000c8);
	EXPECT_EQ(tern_iface_by_addr(A, &a), kIfA);
	EXPECT_EQ(tern_iface_by_addr(A, &b), kIfA);
	EXPECT_EQ(tern_iface_by_addr(A, &c), -ENOENT);
	ASSERT_EQ(tern_iface_range_del(A, kIfA, &a), 0);
	EXPECT_EQ(tern_iface_by_addr(A, &b), -ENOENT);
	EXPECT_EQ(tern_iface_range_del(A, kIfA, &a), -ENOENT);
	// The first address still works after the second range went.
	tern_addr own = v4(kIpA);
	EXPECT_EQ(tern_iface_by_addr(A, &own), kIfA);
}

TEST_F(Range, ArpAnswersForEveryHostWithItsOwnMac)
{
	// 10,000 hosts 10.1.0.1 .. 10.1.39.16 on B, each with its own MAC.
	tern_addr_range r = range(0x0a010001, 10000, 16, true);
	r.mac_base = ether(Mac({0x02, 0x10, 0, 0, 0, 0}));
	ASSERT_EQ(tern_iface_range_add(B, kIfB, &r), 0);
	for (uint32_t i = 0; i < 10000; i++) {
		inject(B, eth(kBcast, kMacX, kEthArp,
			      arp(1, kMacX, 0x0a01ffee, kZero, 0x0a010001 + i)));
		if (i % 100 == 99)
			pump();	// the replies go, their mbufs come back
	}
	pump();
	auto rep = arp_from(1, 2);
	ASSERT_EQ(rep.size(), 10000u);
	for (uint32_t i = 0; i < 10000; i += 997) {
		EXPECT_EQ(rep[i].arp_spa(), 0x0a010001 + i);
		EXPECT_EQ(mac_num(rep[i].arp_sha()), 0x021000000000ull + i) << i;
		EXPECT_EQ(mac_num(rep[i].src()), 0x021000000000ull + i) << i;
	}
	EXPECT_EQ(drops_total(stats(B)), 0u);
	// Outside the range: not ours.
	inject(B, eth(kBcast, kMacX, kEthArp,
		      arp(1, kMacX, 0x0a01ffee, kZero, 0x0a010001 + 10000)));
	EXPECT_EQ(arp_from(1, 2).size(), 10000u);
	EXPECT_EQ(stats(B).arp_drop_not_for_us, 1u);
}

TEST_F(RangeArp, HostsSendAndReceiveAsThemselves)
{
	tern_addr_range r = range(0x0a000010, 16, 24, true);	// .16 .. .31
	r.mac_base = ether(Mac({0x02, 0x20, 0, 0, 0, 0}));
	ASSERT_EQ(tern_iface_range_add(A, kIfA, &r), 0);
	tern_addr ha = v4(0x0a000015);	// host 5
	rte_ether_addr hm;
	ASSERT_EQ(tern_iface_mac_for(A, &ha, &hm), 0);
	EXPECT_EQ(mac_num(mac_of(hm)), 0x022000000005ull);
	Rx rh;
	tern_udp_pcb *p = open(A, 5005, &rh, 0x0a000015);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(send(A, p, kIpB, 7000, pattern(20)), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_EQ(rxb.got[0].src.v4, rte_cpu_to_be_32(0x0a000015));
	// The ARP request for B came from host 5, with its MAC.
	auto req = arp_from(0, 1);
	ASSERT_EQ(req.size(), 1u);
	EXPECT_EQ(req[0].arp_spa(), 0x0a000015u);
	EXPECT_EQ(mac_num(req[0].arp_sha()), 0x022000000005ull);
	// The datagram left with host 5's MAC; B answers to it.
	auto f = frames_from(0);
	EXPECT_EQ(mac_num(f.back().src()), 0x022000000005ull);
	ASSERT_EQ(send(B, pb, 0x0a000015, 5005, pattern(7)), 0);
	pump();
	ASSERT_EQ(rh.got.size(), 1u);
	EXPECT_EQ(mac_num(frames_from(1).back().dst()), 0x022000000005ull);
	// A frame to host 5's address but another host's MAC is not for us.
	auto before = stats(A);
	Bytes d = udp_frame(Mac({0x02, 0x20, 0, 0, 0, 6}), 0x0a000015, 5005, pattern(3));
	inject(A, d);
	EXPECT_EQ(drops_changed(before, stats(A)),
		  std::vector<std::string>({"eth.drop_not_for_us +1"}));
	tern_udp_close(A, p);
}

TEST_F(Range, RoutesLongestPrefixStaticAndGateway)
{
	resolve_statically();
	tern_fib *fib = tern_stack_fib(A);
	tern_addr gw = v4(kIpGw);
	rte_ether_addr mgw = ether(kMacGw);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &gw, &mgw), 0);
	// 192.168.0.0/16 via the gateway, 192.168.7.0/24 via B.
	tern_route_info r16 = {};
	r16.prefix = v4(0xc0a80000);
	r16.plen = 16;
	r16.kind = TERN_ROUTE_STATIC;
	r16.ifindex = kIfA;
	r16.gateway = gw;
	ASSERT_EQ(tern_fib_add(fib, &r16), 0);
	tern_route_info r24 = r16;
	r24.prefix = v4(0xc0a80700);
	r24.plen = 24;
	r24.gateway = v4(kIpB);
	ASSERT_EQ(tern_fib_add(fib, &r24), 0);
	EXPECT_EQ(tern_fib_add(fib, &r24), -EEXIST);
	tern_route_info bad = r24;
	bad.prefix = v4(0xc0a80701);
	EXPECT_EQ(tern_fib_add(fib, &bad), -EINVAL) << "host bits set";

	tern_addr d1 = v4(0xc0a80101), d2 = v4(0xc0a80705), d3 = v4(0x08080808);
	tern_route rt;
	ASSERT_EQ(tern_route_get(A, &d1, nullptr, &rt), 0);
	EXPECT_EQ(rt.nexthop.v4, rte_cpu_to_be_32(kIpGw));
	ASSERT_EQ(tern_route_get(A, &d2, nullptr, &rt), 0);
	EXPECT_EQ(rt.nexthop.v4, rte_cpu_to_be_32(kIpB)) << "longest prefix";
	EXPECT_EQ(tern_route_get(A, &d3, nullptr, &rt), -EHOSTUNREACH) << "no default";
	// Frames follow: to 192.168.7.5 at B's MAC.
	ASSERT_EQ(send(A, pa, 0xc0a80705, 53, pattern(4)), 0);
	pump();
	EXPECT_EQ(frames_from(0).back().dst(), kMacB);
	// Deleting the /24 falls back to the /16.
	ASSERT_EQ(tern_fib_del(fib, &r24.prefix, 24, TERN_ROUTE_STATIC, 0), 0);
	ASSERT_EQ(tern_route_get(A, &d2, nullptr, &rt), 0);
	EXPECT_EQ(rt.nexthop.v4, rte_cpu_to_be_32(kIpGw));
	// A default route (kind gateway) takes the rest.
	tern_route_info def = {};
	def.prefix = v4(0);
	def.kind = TERN_ROUTE_GATEWAY;
	def.ifindex = kIfA;
	def.gateway = gw;
	ASSERT_EQ(tern_fib_add(fib, &def), 0);
	ASSERT_EQ(tern_route_get(A, &d3, nullptr, &rt), 0);
	EXPECT_EQ(rt.nexthop.v4, rte_cpu_to_be_32(kIpGw));
	tern_route_info list[8];
	unsigned n = tern_fib_list(fib, list, 8);
	ASSERT_EQ(n, 3u) << "connected /24, static /16, default";
	EXPECT_EQ(list[0].plen, 24);
	EXPECT_EQ(list[0].kind, TERN_ROUTE_CONNECTED);
	EXPECT_EQ(list[2].plen, 0);
}

TEST_F(Range, CachedRouteGoesStaleWhenWhatItUsedChanges)
{
	resolve_statically();
	tern_addr b = v4(kIpB);
	tern_route rt;
	ASSERT_EQ(tern_route_get(A, &b, nullptr, &rt), 0);
	EXPECT_TRUE(tern_route_valid(A, &rt));
	EXPECT_EQ(rt.ifindex, kIfA);
	EXPECT_EQ(rt.src.v4, rte_cpu_to_be_32(kIpA));
	EXPECT_EQ(rt.mtu, 1500);
	EXPECT_NE(rt.neigh, UINT32_MAX) << "the neighbour entry is known";
	for (int i = 0; i < 3; i++) {
		rte_mbuf *m = tern_stack_alloc(A);
		rte_pktmbuf_append(m, 8 + 10);
		memset(rte_pktmbuf_mtod(m, void *), 0, 8);	// a UDP header
		ASSERT_EQ(tern_ip_send(A, &rt, m, 17, 0), 0);
	}
	pump();
	EXPECT_EQ(frames_from(0).size(), 3u);
	// A new address on the stack: the epoch moves.
	tern_addr x = v4(0x0a000030);
	ASSERT_EQ(tern_iface_addr_add(A, kIfA, &x, 24), 0);
	EXPECT_FALSE(tern_route_valid(A, &rt));
	ASSERT_EQ(tern_route_get(A, &b, nullptr, &rt), 0);
	// A route added anywhere: the fib's version moves.
	tern_route_info ri = {};
	ri.prefix = v4(0xac100000);
	ri.plen = 12;
	ri.kind = TERN_ROUTE_STATIC;
	ri.ifindex = kIfA;
	ri.gateway = b;
	ASSERT_EQ(tern_fib_add(tern_stack_fib(A), &ri), 0);
	EXPECT_FALSE(tern_route_valid(A, &rt));
	// tern_ip_send refreshes a stale route by itself.
	rte_mbuf *m = tern_stack_alloc(A);
	rte_pktmbuf_append(m, 18);
	memset(rte_pktmbuf_mtod(m, void *), 0, 8);
	frames.clear();
	ASSERT_EQ(tern_ip_send(A, &rt, m, 17, 0), 0);
	EXPECT_TRUE(tern_route_valid(A, &rt));
	pump();
	EXPECT_EQ(frames_from(0).size(), 1u);
	// B moves to another MAC: the cached neighbour slot's generation
	// changes and the next packet goes to the new MAC.
	const Mac kNew = {0x02, 0, 0, 0, 0, 0x42};
	rte_ether_addr mn = ether(kNew);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &b, &mn), 0);
	m = tern_stack_alloc(A);
	rte_pktmbuf_append(m, 18);
	memset(rte_pktmbuf_mtod(m, void *), 0, 8);
	frames.clear();
	ASSERT_EQ(tern_ip_send(A, &rt, m, 17, 0), 0);
	pump();
	auto f = frames_from(0);
	ASSERT_EQ(f.size(), 1u);
	EXPECT_EQ(f[0].dst(), kNew);
}

// One stack holding both ends of two links (ternd's ring pair): each
// interface's ARP and traffic stay on their own link.
TEST(OneStackTwoLinks, TalksToItself)
{
	tern_clock clk;
	tern_clock_init_virtual(&clk, 1000 * TERN_NS_PER_S);
	rte_mempool *pool = make_pool(512);
	ASSERT_NE(pool, nullptr);
	tern_stack_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.pool = pool;
	sc.clock = &clk;
	tern_stack *s = tern_stack_create(&sc);
	ASSERT_NE(s, nullptr);
	tern_wire *w = tern_wire_create(s, 0, s, 1);
	ASSERT_NE(w, nullptr);
	for (int i = 0; i < 2; i++) {
		tern_iface_conf ic;
		memset(&ic, 0, sizeof(ic));
		ic.ifindex = (uint16_t)(i + 1);
		ic.link = (uint16_t)i;
		ic.mac = ether(i ? kMacB : kMacA);
		ic.tx = tern_wire_tx;
		ic.tx_ctx = tern_wire_end(w, i);
		ASSERT_EQ(tern_iface_add(s, &ic), 0);
		tern_addr a = v4(i ? kIpB : kIpA);
		ASSERT_EQ(tern_iface_addr_add(s, ic.ifindex, &a, 24), 0);
	}
	tern_wire_pump(w, 16);
	Rx rx;
	tern_addr la = v4(kIpA), lb = v4(kIpB);
	tern_udp_pcb *pa = tern_udp_open(s, &la, 4000, rx_collect, &rx);
	tern_udp_pcb *pb = tern_udp_open(s, &lb, 4001, rx_collect, &rx);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(pb, nullptr);
	rte_mbuf *m = tern_stack_alloc(s);
	memcpy(rte_pktmbuf_append(m, 5), "hello", 5);
	ASSERT_EQ(tern_udp_sendto(s, pa, &lb, 4001, m), 0);
	tern_wire_pump(w, 16);
	ASSERT_EQ(rx.got.size(), 1u);
	EXPECT_EQ(rx.got[0].src.v4, la.v4);
	EXPECT_EQ(drops_total(stats(s)), 0u);
	tern_udp_close(s, pa);
	tern_udp_close(s, pb);
	tern_wire_destroy(w);
	tern_stack_destroy(s);
	EXPECT_TRUE(pool_full(pool));
	rte_mempool_free(pool);
}

// Ten thousand emulated hosts each with a pcb on one port: demux is a hash
// of (address, port), not a walk of the port's pcbs.
namespace {

class ManyPcbs : public UdpPair {
protected:
	void conf_stack(tern_stack_conf &c, int) override { c.udp_max_pcbs = 16384; }
};

}  // namespace

TEST_F(ManyPcbs, EachHostItsOwnPcbOnOnePort)
{
	tern_addr_range r = range(0x0a010001, 10000, 16);
	ASSERT_EQ(tern_iface_range_add(B, kIfB, &r), 0);
	// A reaches 10.1/16 through B (a route by hand: A has a /24 only).
	tern_route_info ri = {};
	ri.prefix = v4(0x0a010000);
	ri.plen = 16;
	ri.kind = TERN_ROUTE_STATIC;
	ri.ifindex = kIfA;
	ri.gateway = v4(kIpB);
	ASSERT_EQ(tern_fib_add(tern_stack_fib(A), &ri), 0);
	std::vector<Rx> rx(10000);
	std::vector<tern_udp_pcb *> p(10000);
	for (uint32_t i = 0; i < 10000; i++) {
		p[i] = open(B, 9000, &rx[i], 0x0a010001 + i);
		ASSERT_NE(p[i], nullptr) << i;
	}
	Rx any;
	tern_addr none{};
	EXPECT_EQ(tern_udp_open(B, &none, 9000, rx_collect, &any), nullptr)
		<< "a wildcard would take the exact ones' traffic";
	EXPECT_EQ(rte_errno, EADDRINUSE);
	EXPECT_EQ(open(B, 9000, &any, 0x0a010005), nullptr) << "taken";
	for (uint32_t i : {0u, 4999u, 9999u}) {
		ASSERT_EQ(send(A, pa, 0x0a010001 + i, 9000, pattern(9, (uint8_t)i)), 0);
		pump();
		ASSERT_EQ(rx[i].got.size(), 1u) << i;
		EXPECT_EQ(rx[i].got[0].data, pattern(9, (uint8_t)i));
	}
	for (uint32_t i = 0; i < 10000; i++)
		tern_udp_close(B, p[i]);
	tern_udp_pcb *w = tern_udp_open(B, &none, 9000, rx_collect, &any);
	ASSERT_NE(w, nullptr) << "free again";
	ASSERT_EQ(send(A, pa, 0x0a010001, 9000, pattern(3)), 0);
	pump();
	EXPECT_EQ(any.got.size(), 1u);
	tern_udp_close(B, w);
}
