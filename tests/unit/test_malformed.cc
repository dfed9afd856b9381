// The malformed-packet suite (an acceptance criterion): each bad frame is
// dropped with exactly its own counter, one increment, nothing else; the
// fixture's teardown then checks that every mbuf came back.
#include "harness.h"

using namespace tt;

namespace {

struct Case {
	const char *name;
	std::function<Bytes()> frame;
	const char *counter;	// "proto.drop_reason"
	uint64_t ol_flags = 0;
	size_t split = 0;	// > 0: chained mbufs, first segment this long
};

Bytes ip_to_a(uint8_t proto, const Bytes &l4, const Ip4Opts &o = Ip4Opts())
{
	return eth(kMacA, kMacX, kEthIp4, ip4(kIpX, kIpA, proto, l4, o));
}

Bytes udp_to_a(const Bytes &payload, const UdpOpts &o = UdpOpts())
{
	return ip_to_a(17, udp(kIpX, kIpA, 5555, 7000, payload, o));
}

// An otherwise good datagram to A:7000 with IP header options o.
Bytes udp_to_a_opts(const Ip4Opts &o)
{
	return eth(kMacA, kMacX, kEthIp4,
		   ip4(kIpX, kIpA, 17, udp(kIpX, kIpA, 5555, 7000, pattern(10)), o));
}

Bytes truncate(Bytes b, size_t n)
{
	b.resize(n);
	return b;
}

std::vector<Case> cases()
{
	std::vector<Case> v;
	v.push_back({"zero-length frame", [] { return Bytes(); }, "eth.drop_short"});
	v.push_back({"truncated Ethernet header",
		     [] { return truncate(udp_to_a(pattern(10)), 13); }, "eth.drop_short"});
	v.push_back({"unknown ethertype",
		     [] { return eth(kMacA, kMacX, 0x88b5, pattern(46)); },
		     "eth.drop_unknown_type"});
	v.push_back({"frame for another MAC",
		     [] { return eth(kMacB, kMacX, kEthIp4,
				     ip4(kIpX, kIpA, 17, udp(kIpX, kIpA, 1, 7000, pattern(8)))); },
		     "eth.drop_not_for_us"});
	v.push_back({"truncated ARP",
		     [] { return truncate(eth(kBcast, kMacX, kEthArp,
					      arp(1, kMacX, kIpX, kZero, kIpA)), 14 + 20); },
		     "arp.drop_malformed"});
	v.push_back({"ARP bad htype",
		     [] { ArpOpts o; o.htype = 6;
			  return eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA, o)); },
		     "arp.drop_unsupported"});
	v.push_back({"ARP bad ptype",
		     [] { ArpOpts o; o.ptype = 0x86dd;
			  return eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA, o)); },
		     "arp.drop_unsupported"});
	v.push_back({"ARP bad hlen",
		     [] { ArpOpts o; o.hlen = 8;
			  return eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA, o)); },
		     "arp.drop_unsupported"});
	v.push_back({"ARP bad plen",
		     [] { ArpOpts o; o.plen = 16;
			  return eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA, o)); },
		     "arp.drop_unsupported"});
	v.push_back({"truncated IPv4 header",
		     [] { return truncate(udp_to_a(pattern(10)), 14 + 12); }, "ip4.drop_short"});
	v.push_back({"IHL < 5",
		     [] { Ip4Opts o; o.ihl = 4; return udp_to_a_opts(o); }, "ip4.drop_bad_hlen"});
	v.push_back({"version 6 in IPv4 ethertype",
		     [] { Ip4Opts o; o.version = 6; return udp_to_a_opts(o); },
		     "ip4.drop_bad_version"});
	v.push_back({"total length > frame",
		     [] { Ip4Opts o; o.total_len = 20 + 8 + 10 + 100; return udp_to_a_opts(o); },
		     "ip4.drop_bad_len"});
	v.push_back({"total length < header",
		     [] { Ip4Opts o; o.total_len = 19; return udp_to_a_opts(o); },
		     "ip4.drop_bad_len"});
	v.push_back({"bad IP checksum",
		     [] { Ip4Opts o; o.bad_cksum = true; return udp_to_a_opts(o); },
		     "ip4.drop_bad_cksum"});
	// 18 bytes of payload: not a multiple of 8 though more follow
	v.push_back({"fragment (MF) of odd length",
		     [] { Ip4Opts o; o.frag = 0x2000; return udp_to_a_opts(o); },
		     "ip4.drop_frag_bad_len"});
	// offset 8189 * 8 + 18 bytes: past 65535 (the "ping of death")
	v.push_back({"fragment past 65535 bytes",
		     [] { Ip4Opts o; o.frag = 8189; return udp_to_a_opts(o); },
		     "ip4.drop_frag_oversize"});
	v.push_back({"multicast source",
		     [] { return eth(kMacA, kMacX, kEthIp4,
				     ip4(0xe0010203, kIpA, 17,
					 udp(0xe0010203, kIpA, 1, 7000, pattern(8)))); },
		     "ip4.drop_bad_src"});
	v.push_back({"loopback source (RFC 1122 3.2.1.3 (g))",
		     [] { return eth(kMacA, kMacX, kEthIp4,
				     ip4(0x7f000001, kIpA, 17,
					 udp(0x7f000001, kIpA, 1, 7000, pattern(8)))); },
		     "ip4.drop_bad_src"});
	v.push_back({"IP for another host",
		     [] { return eth(kMacA, kMacX, kEthIp4,
				     ip4(kIpX, 0x0a000032, 17,
					 udp(kIpX, 0x0a000032, 1, 7000, pattern(8)))); },
		     "ip4.drop_not_for_us"});
	v.push_back({"truncated ICMP",
		     [] { return ip_to_a(1, Bytes{8, 0, 0xf7, 0xff}); }, "icmp4.drop_short"});
	v.push_back({"bad ICMP checksum",
		     [] { return ip_to_a(1, icmp(8, 0, 1, 1, pattern(16), true)); },
		     "icmp4.drop_bad_cksum"});
	v.push_back({"truncated UDP",
		     [] { return ip_to_a(17, Bytes{0x15, 0xb3, 0x1b, 0x58}); }, "udp.drop_short"});
	v.push_back({"UDP length > IP payload",
		     [] { UdpOpts o; o.len = 8 + 10 + 1; return udp_to_a(pattern(10), o); },
		     "udp.drop_bad_len"});
	v.push_back({"UDP length < 8",
		     [] { UdpOpts o; o.len = 7; return udp_to_a(pattern(10), o); },
		     "udp.drop_bad_len"});
	v.push_back({"bad UDP checksum",
		     [] { UdpOpts o; o.bad_cksum = true; return udp_to_a(pattern(10), o); },
		     "udp.drop_bad_cksum"});
	v.push_back({"chained, truncated IPv4 header split across segments",
		     [] { return truncate(udp_to_a(pattern(10)), 14 + 16); },
		     "ip4.drop_short", 0, 10});
	v.push_back({"chained, bad UDP checksum split across segments",
		     [] { UdpOpts o; o.bad_cksum = true; return udp_to_a(pattern(300), o); },
		     "udp.drop_bad_cksum", 0, 40});
	v.push_back({"chained, UDP length > IP payload, header split",
		     [] { UdpOpts o; o.len = 8 + 100 + 1; return udp_to_a(pattern(100), o); },
		     "udp.drop_bad_len", 0, 14 + 20 + 3});
	return v;
}

class Malformed : public TwoStacks {
protected:
	void SetUp() override
	{
		TwoStacks::SetUp();
		if (HasFatalFailure())
			return;
		pa = open(A, 7000, &rx);
		ASSERT_NE(pa, nullptr);
		tern_addr x = v4(kIpX);
		rte_ether_addr mx = ether(kMacX);
		ASSERT_EQ(tern_neigh_add(A, kIfA, &x, &mx), 0);
	}
	Rx rx;
	tern_udp_pcb *pa = nullptr;
};

}  // namespace

TEST_F(Malformed, EachDroppedWithItsCounter)
{
	for (const Case &c : cases()) {
		SCOPED_TRACE(c.name);
		auto before = stats(A);
		inject(A, c.frame(), c.ol_flags, c.split, c.split ? 16 : 0);
		pump();
		auto after = stats(A);
		EXPECT_EQ(drops_changed(before, after),
			  std::vector<std::string>({std::string(c.counter) + " +1"}));
		EXPECT_EQ(counter(after, c.counter), counter(before, c.counter) + 1);
		EXPECT_TRUE(rx.got.empty()) << "nothing delivered";
		// No answer of any kind goes back about a bad packet.
		EXPECT_EQ(after.icmp4_tx_unreachable, before.icmp4_tx_unreachable);
		EXPECT_EQ(after.icmp4_tx_echo_replies, before.icmp4_tx_echo_replies);
		EXPECT_EQ(after.arp_tx_replies, before.arp_tx_replies);
	}
	EXPECT_TRUE(pool_full(pool)) << "every dropped frame was freed at once";
}

TEST_F(Malformed, EveryCaseAloneToo)
{
	// Run each case into a fresh B as well (its own state, no X entry).
	for (const Case &c : cases()) {
		SCOPED_TRACE(c.name);
		Bytes f = c.frame();
		// Retarget A's MAC to B's for the frames addressed to A.
		if (f.size() >= 6 && Mac({f[0], f[1], f[2], f[3], f[4], f[5]}) == kMacA)
			memcpy(f.data(), kMacB.data(), 6);
		auto before = stats(B);
		inject(B, f, c.ol_flags, c.split, c.split ? 16 : 0);
		auto after = stats(B);
		EXPECT_EQ(drops_total(after), drops_total(before) + 1);
	}
}

TEST_F(Malformed, ChainedSplitHeaderValidDatagram)
{
	// A valid datagram whose Ethernet, IP and UDP headers are split over
	// many small segments is parsed (never read past a segment).
	Bytes f = udp_to_a(pattern(200));
	auto before = stats(A);
	inject(A, f, 0, 7, 9);
	auto after = stats(A);
	EXPECT_TRUE(drops_changed(before, after).empty());
	ASSERT_EQ(rx.got.size(), 1u);
	EXPECT_EQ(rx.got[0].data, pattern(200));
}

TEST_F(Malformed, BurstOfMixedFrames)
{
	// A burst mixing good and bad frames: each good one delivered, each
	// bad one counted, and tern_stack_input always takes all n.
	std::vector<Case> cs = cases();
	std::vector<rte_mbuf *> burst;
	size_t good = 0;
	for (size_t i = 0; i < cs.size(); i++) {
		burst.push_back(mbuf_from(pool, cs[i].frame(), cs[i].split, 16));
		ASSERT_NE(burst.back(), nullptr);
		if (i % 3 == 0) {
			burst.push_back(mbuf_from(pool, udp_to_a(pattern(8, (uint8_t)i))));
			good++;
		}
	}
	auto before = stats(A);
	EXPECT_EQ(tern_stack_input(A, 0, burst.data(), (uint16_t)burst.size()), burst.size());
	auto after = stats(A);
	EXPECT_EQ(drops_total(after) - drops_total(before), cs.size());
	EXPECT_EQ(rx.got.size(), good);
}

TEST(Counters, DescTableMatchesStruct)
{
	unsigned n = 0;
	const tern_counter_desc *d = tern_stack_counter_descs(&n);
	ASSERT_NE(d, nullptr);
	EXPECT_EQ(n * sizeof(uint64_t), sizeof(tern_stack_stats));
	EXPECT_STREQ(d[0].proto, "eth");
	EXPECT_STREQ(d[0].name, "rx_pkts");
	EXPECT_EQ(d[0].offset, offsetof(tern_stack_stats, eth_rx_pkts));
	EXPECT_EQ(d[n - 1].offset, offsetof(tern_stack_stats, mbuf_drop_alloc_fail));
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(d[i].offset, i * sizeof(uint64_t)) << d[i].name;
}
