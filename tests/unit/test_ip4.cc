// IPv4 and ICMP: echo, port unreachable (RFC 792 / RFC 1122 3.2.2),
// no errors about broadcasts, TTL, routing through the gateway, no route.
#include "harness.h"

using namespace tt;

namespace {

class Ip4 : public TwoStacks {
protected:
	void SetUp() override
	{
		TwoStacks::SetUp();
		if (HasFatalFailure())
			return;
		// X (10.0.0.99) is a host without a stack: A knows its MAC.
		tern_addr x = v4(kIpX);
		rte_ether_addr mx = ether(kMacX);
		ASSERT_EQ(tern_neigh_add(A, kIfA, &x, &mx), 0);
		// B must not process what A sends to X.
		drop = [](int side, const Frame &f) { return side == 0 && f.dst() == kMacX; };
	}
	static void expect_ip_ok(const Frame &f)
	{
		ASSERT_TRUE(f.is_ip4());
		EXPECT_EQ(f.l3()[0], 0x45);
		EXPECT_EQ(inet_cksum(f.l3(), 20), 0) << "IPv4 header checksum";
		size_t frame = 14u + get16(f.l3() + 2);
		// Exact, or padded to the Ethernet minimum of 60 bytes.
		EXPECT_TRUE(f.b.size() == frame || (frame < 60 && f.b.size() == 60))
			<< f.b.size() << " bytes for IP total length " << frame - 14;
		EXPECT_EQ(f.ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0u)
			<< "no offload caps: everything in software";
	}
};

}  // namespace

TEST_F(Ip4, EchoRequestGetsReply)
{
	Bytes data = pattern(56);
	Ip4Opts o;
	o.ttl = 3;
	Bytes req = eth(kMacA, kMacX, kEthIp4,
			ip4(kIpX, kIpA, 1, icmp(8, 0, 0x1234, 7, data), o));
	auto before = stats(A);
	inject(A, req);
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 1u);
	const Frame &f = out[0];
	EXPECT_EQ(f.dst(), kMacX);
	EXPECT_EQ(f.src(), kMacA);
	expect_ip_ok(f);
	EXPECT_EQ(f.l3()[9], 1);
	EXPECT_EQ(f.ip_src(), kIpA);
	EXPECT_EQ(f.ip_dst(), kIpX);
	EXPECT_EQ(f.l3()[8], 64) << "a reply starts with a fresh TTL";
	ASSERT_EQ(f.l4_len(), 8 + data.size());
	const uint8_t *ic = f.l4();
	EXPECT_EQ(ic[0], 0);	// echo reply
	EXPECT_EQ(ic[1], 0);
	EXPECT_EQ(get16(ic + 4), 0x1234);
	EXPECT_EQ(get16(ic + 6), 7);
	EXPECT_EQ(Bytes(ic + 8, ic + 8 + data.size()), data);
	EXPECT_EQ(inet_cksum(ic, f.l4_len()), 0) << "ICMP checksum";
	auto after = stats(A);
	EXPECT_EQ(after.icmp4_rx_echo_requests, before.icmp4_rx_echo_requests + 1);
	EXPECT_EQ(after.icmp4_tx_echo_replies, before.icmp4_tx_echo_replies + 1);
	EXPECT_EQ(after.ip4_rx_pkts, before.ip4_rx_pkts + 1);
	EXPECT_TRUE(drops_changed(before, after).empty());
}

TEST_F(Ip4, EchoOddLengthAndChained)
{
	// Odd payload, and the request arrives as a three-segment chain.
	Bytes data = pattern(301, 9);
	Bytes req = eth(kMacA, kMacX, kEthIp4,
			ip4(kIpX, kIpA, 1, icmp(8, 0, 1, 2, data)));
	inject(A, req, 0, 60, 120);
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 1u);
	ASSERT_EQ(out[0].l4_len(), 8 + data.size());
	EXPECT_EQ(out[0].l4()[0], 0);
	EXPECT_EQ(Bytes(out[0].l4() + 8, out[0].l4() + 8 + data.size()), data);
	EXPECT_EQ(inet_cksum(out[0].l4(), out[0].l4_len()), 0);
}

TEST_F(Ip4, EchoBetweenStacksIsCountedAsOther)
{
	// B answers A's echo request built by hand; A counts the reply.
	resolve_statically();
	Bytes req = eth(kMacB, kMacA, kEthIp4,
			ip4(kIpA, kIpB, 1, icmp(8, 0, 5, 6, pattern(8))));
	inject(B, req);
	pump();
	auto fb = frames_from(1);
	ASSERT_EQ(fb.size(), 1u);
	EXPECT_EQ(fb[0].dst(), kMacA);
	EXPECT_EQ(stats(A).icmp4_rx_other, 1u);
	EXPECT_EQ(drops_total(stats(A)), 0u);
}

TEST_F(Ip4, PortUnreachableQuotesOriginal)
{
	Bytes dgram = ip4(kIpX, kIpA, 17, udp(kIpX, kIpA, 4444, 9999, pattern(20)));
	auto before = stats(A);
	inject(A, eth(kMacA, kMacX, kEthIp4, dgram));
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 1u);
	const Frame &f = out[0];
	expect_ip_ok(f);
	EXPECT_EQ(f.l3()[9], 1);
	EXPECT_EQ(f.ip_src(), kIpA);
	EXPECT_EQ(f.ip_dst(), kIpX);
	const uint8_t *ic = f.l4();
	EXPECT_EQ(ic[0], 3);
	EXPECT_EQ(ic[1], 3);
	EXPECT_EQ(get32(ic + 4), 0u) << "unused field is zero";
	EXPECT_EQ(inet_cksum(ic, f.l4_len()), 0);
	// RFC 792: the internet header plus the first 64 bits of data.
	ASSERT_GE(f.l4_len(), 8u + 28u);
	size_t q = std::min(f.l4_len() - 8, dgram.size());
	EXPECT_EQ(Bytes(ic + 8, ic + 8 + q), Bytes(dgram.begin(), dgram.begin() + q));
	auto after = stats(A);
	EXPECT_EQ(after.icmp4_tx_unreachable, before.icmp4_tx_unreachable + 1);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"udp.drop_no_port +1"}));
}

TEST_F(Ip4, NoUnreachableForBroadcast)
{
	// RFC 1122 3.2.2: no ICMP error about a datagram sent to a broadcast.
	const uint32_t dsts[] = {0x0a0000ff /* subnet */, 0xffffffff /* limited */};
	for (uint32_t d : dsts) {
		auto before = stats(A);
		inject(A, eth(kBcast, kMacX, kEthIp4,
			      ip4(kIpX, d, 17, udp(kIpX, d, 4444, 9999, pattern(8)))));
		pump();
		auto after = stats(A);
		EXPECT_TRUE(frames_from(0).empty()) << std::hex << d;
		EXPECT_EQ(after.icmp4_tx_unreachable, before.icmp4_tx_unreachable);
		EXPECT_EQ(drops_total(after), drops_total(before) + 1)
			<< "dropped once, with a reason";
	}
}

TEST_F(Ip4, BroadcastUdpDeliveredToBoundPort)
{
	Rx rx;
	ASSERT_NE(open(A, 6000, &rx), nullptr);
	inject(A, eth(kBcast, kMacX, kEthIp4,
		      ip4(kIpX, 0x0a0000ff, 17, udp(kIpX, 0x0a0000ff, 4444, 6000, pattern(8)))));
	ASSERT_EQ(rx.got.size(), 1u);
	EXPECT_EQ(rx.got[0].dst.v4, rte_cpu_to_be_32(0x0a0000ff));
}

TEST_F(Ip4, UnknownProtocolCounted)
{
	// An unknown protocol is dropped with its own reason; a protocol
	// unreachable (RFC 1122 3.2.2.1, SHOULD) may go back.
	auto before = stats(A);
	inject(A, eth(kMacA, kMacX, kEthIp4, ip4(kIpX, kIpA, 253, pattern(12))));
	pump();
	auto after = stats(A);
	EXPECT_EQ(after.icmp4_tx_unreachable - before.icmp4_tx_unreachable,
		  (uint64_t)frames_from(0).size())
		<< "anything sent is a protocol unreachable";
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"ip4.drop_unknown_proto +1"}));
}

TEST_F(Ip4, OutgoingUdpHeader)
{
	Rx rx;
	tern_udp_pcb *p = open(A, 0, &rx);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(send(A, p, kIpX, 53, pattern(10)), 0);
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 1u);
	const Frame &f = out[0];
	expect_ip_ok(f);
	EXPECT_EQ(f.l3()[8], 64) << "default TTL (RFC 1700)";
	EXPECT_EQ(f.l3()[9], 17);
	EXPECT_EQ(get16(f.l3() + 6) & 0x3fff, 0) << "not a fragment";
	EXPECT_EQ(get16(f.l3() + 2), 20 + 8 + 10);
	EXPECT_EQ(f.ip_src(), kIpA);
	EXPECT_EQ(f.ip_dst(), kIpX);
}

TEST_F(Ip4, IdsDiffer)
{
	Rx rx;
	tern_udp_pcb *p = open(A, 0, &rx);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(send(A, p, kIpX, 53, pattern(10)), 0);
	ASSERT_EQ(send(A, p, kIpX, 53, pattern(10)), 0);
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 2u);
	EXPECT_NE(get16(out[0].l3() + 4), get16(out[1].l3() + 4))
		<< "RFC 791: identification distinguishes datagrams";
}

TEST_F(Ip4, DfWhenItFitsFragmentedWhenNot)
{
	Rx rx, rb;
	tern_udp_pcb *p = open(A, 0, &rx);
	ASSERT_NE(p, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	resolve_statically();
	// 1472 bytes fill a 1500-byte MTU exactly: one packet, DF set.
	ASSERT_EQ(send(A, p, kIpB, 7000, pattern(1472)), 0);
	pump();
	auto fa = frames_from(0);
	ASSERT_EQ(fa.size(), 1u);
	EXPECT_EQ(get16(fa[0].l3() + 6), 0x4000) << "DF, offset 0";
	ASSERT_EQ(rb.got.size(), 1u);
	EXPECT_EQ(rb.got[0].data.size(), 1472u);
	// One byte more: two fragments without DF, whole at B.
	frames.clear();
	auto before = stats(A);
	ASSERT_EQ(send(A, p, kIpB, 7000, pattern(1473)), 0);
	pump();
	fa = frames_from(0);
	ASSERT_EQ(fa.size(), 2u);
	EXPECT_EQ(get16(fa[0].l3() + 6), 0x2000) << "MF, offset 0, no DF";
	EXPECT_EQ(get16(fa[1].l3() + 6), 1480 / 8) << "last, offset 1480";
	for (const Frame &f : fa) {
		EXPECT_EQ(inet_cksum(f.l3(), 20), 0);
		EXPECT_LE(f.b.size(), 1514u);
	}
	ASSERT_EQ(rb.got.size(), 2u);
	EXPECT_EQ(rb.got[1].data, pattern(1473));
	auto after = stats(A);
	EXPECT_EQ(after.ip4_tx_fragmented - before.ip4_tx_fragmented, 1u);
	EXPECT_EQ(after.ip4_tx_fragments - before.ip4_tx_fragments, 2u);
	EXPECT_EQ(stats(B).ip4_reassembled, 1u);
	EXPECT_EQ(drops_total(after), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
}

TEST_F(Ip4, NoRoute)
{
	Rx rx;
	tern_udp_pcb *p = open(B, 0, &rx);
	ASSERT_NE(p, nullptr);
	auto before = stats(B);
	EXPECT_EQ(send(B, p, 0xc0a80105 /* 192.168.1.5 */, 53, pattern(4)), -EHOSTUNREACH);
	auto after = stats(B);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"ip4.drop_no_route +1"}));
	pump();
	EXPECT_TRUE(frames_from(1).empty());
}

class Ip4Gateway : public Ip4 {
protected:
	void conf_iface(tern_iface_conf &c, int side) override
	{
		if (side == 0)
			c.gateway = v4(kIpGw);
	}
};

TEST_F(Ip4Gateway, OffSubnetUsesGatewayMac)
{
	Rx rx;
	tern_udp_pcb *p = open(A, 0, &rx);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(send(A, p, 0xc0a80105, 53, pattern(4)), 0);
	pump();
	auto req = arp_from(0, 1);
	ASSERT_EQ(req.size(), 1u);
	EXPECT_EQ(req[0].arp_tpa(), kIpGw) << "resolve the gateway, not the destination";

	frames.clear();
	tern_addr gw = v4(kIpGw);
	rte_ether_addr mgw = ether(kMacGw);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &gw, &mgw), 0);
	ASSERT_EQ(send(A, p, 0xc0a80106, 53, pattern(4)), 0);
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 2u) << "the queued one and the new one";
	for (const Frame &f : out) {
		EXPECT_EQ(f.dst(), kMacGw);
		EXPECT_TRUE(f.is_ip4(17));
		EXPECT_EQ(inet_cksum(f.l3(), 20), 0);
	}
	EXPECT_EQ(out[0].ip_dst(), 0xc0a80105u);
	EXPECT_EQ(out[1].ip_dst(), 0xc0a80106u);
}

TEST_F(Ip4Gateway, OnSubnetStillDirect)
{
	Rx rx, rb;
	tern_udp_pcb *p = open(A, 0, &rx);
	ASSERT_NE(p, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	ASSERT_EQ(send(A, p, kIpB, 7000, pattern(4)), 0);
	pump();
	auto req = arp_from(0, 1);
	ASSERT_EQ(req.size(), 1u);
	EXPECT_EQ(req[0].arp_tpa(), kIpB);
	EXPECT_EQ(rb.got.size(), 1u);
}

TEST_F(Ip4, EchoRequestWithOptions)
{
	Ip4Opts o;
	o.ihl = 6;
	Bytes data = pattern(24);
	Bytes ip = ip4(kIpX, kIpA, 1, icmp(8, 0, 0x99, 1, data), o);
	ip[20] = ip[21] = ip[22] = ip[23] = 1;	// NOP options
	put16(&ip[10], 0);
	put16(&ip[10], inet_cksum(ip.data(), 24));
	inject(A, eth(kMacA, kMacX, kEthIp4, ip));
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 1u);
	const Frame &f = out[0];
	ASSERT_TRUE(f.is_ip4(1));
	EXPECT_EQ(inet_cksum(f.l3(), f.ip_hlen()), 0);
	ASSERT_EQ(f.l4_len(), 8 + data.size());
	EXPECT_EQ(f.l4()[0], 0);
	EXPECT_EQ(get16(f.l4() + 4), 0x99);
	EXPECT_EQ(Bytes(f.l4() + 8, f.l4() + 8 + data.size()), data);
	EXPECT_EQ(inet_cksum(f.l4(), f.l4_len()), 0);
}

TEST_F(Ip4, LowTtlAccepted)
{
	// RFC 1122 3.2.1.7: a host must not discard a datagram for a TTL < 2.
	Rx rx;
	ASSERT_NE(open(A, 6000, &rx), nullptr);
	Ip4Opts o;
	o.ttl = 1;
	inject(A, eth(kMacA, kMacX, kEthIp4,
		      ip4(kIpX, kIpA, 17, udp(kIpX, kIpA, 1, 6000, pattern(3)), o)));
	EXPECT_EQ(rx.got.size(), 1u);
}

TEST_F(Ip4, EchoReplyInExternalBufferFreedOnce)
{
	// The request mbuf becomes the reply. Some PMDs hand out mbufs with
	// external buffers: resetting ol_flags for TX must keep EXTERNAL, or
	// the free returns the mbuf as if direct (buf_addr still pointing at
	// the external buffer) and never calls the buffer's free callback.
	int freed = 0;
	Bytes req = eth(kMacA, kMacX, kEthIp4,
			ip4(kIpX, kIpA, 1, icmp(8, 0, 0x4242, 1, pattern(32))));
	rte_mbuf *m = mbuf_ext_from(pool, req, &freed);
	ASSERT_NE(m, nullptr);
	ASSERT_TRUE(RTE_MBUF_HAS_EXTBUF(m));
	ASSERT_EQ(tern_stack_input(A, 0, &m, 1), 1);
	pump();
	auto out = frames_from(0);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0].l4()[0], 0) << "echo reply";
	EXPECT_EQ(freed, 1) << "the external buffer went back to its owner";
}

TEST_F(Ip4, ArpReplyInExternalBufferFreedOnce)
{
	int freed = 0;
	rte_mbuf *m = mbuf_ext_from(
		pool, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA)),
		&freed);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(tern_stack_input(A, 0, &m, 1), 1);
	pump();
	ASSERT_EQ(arp_from(0, 2).size(), 1u);
	EXPECT_EQ(freed, 1);
}
