// UDP (RFC 768): delivery, ports, close, checksum in software or offloaded,
// and the receive-side use of the port's checksum verdict.
#include "harness.h"

#include <set>

#include <rte_errno.h>
#include <rte_ip.h>

using namespace tt;

namespace {

class Udp : public UdpPair {};

// The UDP checksum a receiver computes over the frame's datagram.
bool udp_cksum_ok(const Frame &f)
{
	const uint8_t *u = f.l4();
	uint16_t len = get16(u + 4);
	return inet_cksum(u, len, pseudo_sum(f.ip_src(), f.ip_dst(), 17, len)) == 0;
}

}  // namespace

TEST_F(Udp, DeliversPayloadAndSource)
{
	Bytes data = pattern(100);
	auto sa0 = stats(A), sb0 = stats(B);
	ASSERT_EQ(send(A, pa, kIpB, 7000, data), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 1u);
	const Got &g = rxb.got[0];
	EXPECT_EQ(g.data, data);
	EXPECT_EQ(g.src.family, TERN_AF_INET);
	EXPECT_EQ(g.src.v4, rte_cpu_to_be_32(kIpA));
	EXPECT_EQ(g.sport, tern_udp_local_port(pa));
	EXPECT_EQ(g.dst.v4, rte_cpu_to_be_32(kIpB));
	EXPECT_EQ(stats(A).udp_tx_pkts, sa0.udp_tx_pkts + 1);
	EXPECT_EQ(stats(B).udp_rx_pkts, sb0.udp_rx_pkts + 1);
	tern_iface_stats is;
	ASSERT_EQ(tern_iface_stats_get(B, kIfB, &is), 0);
	EXPECT_GE(is.rx_pkts, 1u);
	EXPECT_GE(is.rx_bytes, 14u + 20 + 8 + 100);

	// And back: B answers to the reported source.
	ASSERT_EQ(send(B, pb, kIpA, g.sport, pattern(3)), 0);
	pump();
	ASSERT_EQ(rxa.got.size(), 1u);
	EXPECT_EQ(rxa.got[0].sport, 7000);
	EXPECT_EQ(rxa.got[0].data, pattern(3));
}

TEST_F(Udp, EmptyPayload)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, Bytes()), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_TRUE(rxb.got[0].data.empty());
}

TEST_F(Udp, ChainedPayload)
{
	rte_mbuf *m = tern_stack_alloc(A);
	ASSERT_NE(m, nullptr);
	Bytes data = pattern(1001, 3);
	memcpy(rte_pktmbuf_append(m, 301), data.data(), 301);
	rte_mbuf *t = rte_pktmbuf_alloc(pool);
	ASSERT_NE(t, nullptr);
	memcpy(rte_pktmbuf_append(t, 700), data.data() + 301, 700);
	ASSERT_EQ(rte_pktmbuf_chain(m, t), 0);
	tern_addr b = v4(kIpB);
	ASSERT_EQ(tern_udp_sendto(A, pa, &b, 7000, m), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 1u) << "B verified the software checksum of a chain";
	EXPECT_EQ(rxb.got[0].data, data);
	auto fa = frames_from(0);
	ASSERT_EQ(fa.size(), 1u);
	EXPECT_TRUE(udp_cksum_ok(fa[0]));
}

TEST_F(Udp, EphemeralPortsDistinct)
{
	std::set<uint16_t> ports;
	std::vector<Rx> rx(20);
	ports.insert(tern_udp_local_port(pa));
	for (auto &r : rx) {
		tern_udp_pcb *p = open(A, 0, &r);
		ASSERT_NE(p, nullptr);
		uint16_t port = tern_udp_local_port(p);
		EXPECT_GE(port, 1024) << "ephemeral ports are not well-known ports";
		ports.insert(port);
	}
	EXPECT_EQ(ports.size(), 21u);
	EXPECT_EQ(tern_udp_local_port(pb), 7000);
}

TEST_F(Udp, AddrInUse)
{
	Rx r;
	rte_errno = 0;
	EXPECT_EQ(open(B, 7000, &r), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
	// Also when the new one names the address the wildcard already covers.
	rte_errno = 0;
	EXPECT_EQ(open(B, 7000, &r, kIpB), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
	// The same port on another stack is another namespace.
	EXPECT_NE(open(A, 7000, &r), nullptr);
}

TEST_F(Udp, BindToForeignAddressRefused)
{
	Rx r;
	rte_errno = 0;
	EXPECT_EQ(open(B, 7100, &r, kIpX), nullptr);
	EXPECT_EQ(rte_errno, EADDRNOTAVAIL) << "not one of our addresses";
	tern_udp_pcb *p = open(B, 7100, &r, kIpB);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(send(A, pa, kIpB, 7100, pattern(5)), 0);
	pump();
	EXPECT_EQ(r.got.size(), 1u);
}

TEST_F(Udp, CloseStopsDeliveryAndFreesPort)
{
	tern_udp_close(B, pb);
	pb = nullptr;
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(5)), 0);
	pump();
	EXPECT_TRUE(rxb.got.empty());
	auto after = stats(B);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"udp.drop_no_port +1"}));
	EXPECT_EQ(after.icmp4_tx_unreachable, before.icmp4_tx_unreachable + 1);
	EXPECT_EQ(stats(A).icmp4_rx_errors, 1u) << "A got the port unreachable";
	EXPECT_EQ(stats(A).udp_rx_errors, 1u) << "for its pcb";

	Rx r2;
	tern_udp_pcb *p = open(B, 7000, &r2);
	ASSERT_NE(p, nullptr) << "the port is free again";
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(6)), 0);
	pump();
	ASSERT_EQ(r2.got.size(), 1u);
	EXPECT_EQ(r2.got[0].data, pattern(6));
}

TEST_F(Udp, SoftwareChecksumWithoutCaps)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(33)), 0);
	pump();
	auto fa = frames_from(0);
	ASSERT_EQ(fa.size(), 1u);
	EXPECT_TRUE(udp_cksum_ok(fa[0]));
	EXPECT_NE(get16(fa[0].l4() + 6), 0) << "IPv4 UDP sends a checksum";
	EXPECT_EQ(inet_cksum(fa[0].l3(), 20), 0);
	EXPECT_EQ(fa[0].ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0u);
}

// A's port offloads checksums; its frames are captured as the stack hands
// them to the port (the wire would finish them like a NIC does).
class UdpOffload : public Udp {
protected:
	void conf_iface(tern_iface_conf &c, int side) override
	{
		if (side == 0) {
			c.caps.tx_ip4_cksum = ip;
			c.caps.tx_udp_cksum = l4;
			c.tx = capture_tx;
			c.tx_ctx = &port;
		}
	}
	std::vector<Frame> frames_from(int) const { return port; }
	bool ip = true, l4 = true;
	std::vector<Frame> port;
};

TEST_F(UdpOffload, PseudoHeaderAndFlags)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(33)), 0);
	pump();
	auto fa = frames_from(0);
	ASSERT_EQ(fa.size(), 1u);
	const Frame &f = fa[0];
	EXPECT_TRUE(f.ol_flags & RTE_MBUF_F_TX_IPV4);
	EXPECT_TRUE(f.ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_EQ(f.ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
	EXPECT_EQ(f.l2_len, 14);
	EXPECT_EQ(f.l3_len, 20);
	// DPDK: the IP checksum field is 0 and the L4 field holds the
	// pseudo-header sum when the port computes them.
	EXPECT_EQ(get16(f.l3() + 10), 0);
	alignas(8) uint8_t iph[20];
	memcpy(iph, f.l3(), 20);
	uint16_t phdr = rte_ipv4_phdr_cksum((const rte_ipv4_hdr *)iph, f.ol_flags);
	uint16_t field;
	memcpy(&field, f.l4() + 6, 2);
	EXPECT_EQ(field, phdr);

	// What the NIC would do turns it into a valid datagram.
	Frame done = f;
	uint8_t *u = done.b.data() + 14 + 20;
	uint16_t len = get16(u + 4);
	put16(u + 6, 0);
	uint16_t ck = inet_cksum(u, len, pseudo_sum(f.ip_src(), f.ip_dst(), 17, len));
	uint16_t nic = fold(sum16(f.l4(), len));	// sum with the seed in place
	EXPECT_EQ(nic, ck);
}

class UdpOffloadIpOnly : public UdpOffload {
protected:
	void SetUp() override
	{
		l4 = false;
		UdpOffload::SetUp();
	}
};

TEST_F(UdpOffloadIpOnly, UdpInSoftwareIpFlagged)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(33)), 0);
	pump();
	auto fa = frames_from(0);
	ASSERT_EQ(fa.size(), 1u);
	EXPECT_TRUE(fa[0].ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_EQ(fa[0].ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
	EXPECT_TRUE(udp_cksum_ok(fa[0]));
}

// ---- receive side: the port's checksum verdict -------------------------

class UdpRx : public Udp {
protected:
	void conf_iface(tern_iface_conf &c, int side) override
	{
		if (side == 1)
			c.caps.rx_ip4_cksum = c.caps.rx_l4_cksum = true;
	}
	// Returns how many datagrams B delivered, and the drops it counted.
	size_t deliver(const Bytes &frame, uint64_t ol, std::vector<std::string> *drops)
	{
		size_t n0 = rxb.got.size();
		auto before = stats(B);
		inject(B, frame, ol);
		*drops = drops_changed(before, stats(B));
		return rxb.got.size() - n0;
	}
	Bytes good() { return udp_frame(kMacB, kIpB, 7000, pattern(40)); }
	Bytes bad_l4()
	{
		UdpOpts o;
		o.bad_cksum = true;
		return eth(kMacB, kMacX, kEthIp4,
			   ip4(kIpX, kIpB, 17, udp(kIpX, kIpB, 5555, 7000, pattern(40), o)));
	}
	Bytes bad_ip()
	{
		Ip4Opts o;
		o.bad_cksum = true;
		return eth(kMacB, kMacX, kEthIp4,
			   ip4(kIpX, kIpB, 17, udp(kIpX, kIpB, 5555, 7000, pattern(40)), o));
	}
};

TEST_F(UdpRx, L4BadFlagDrops)
{
	std::vector<std::string> d;
	EXPECT_EQ(deliver(good(), RTE_MBUF_F_RX_L4_CKSUM_BAD, &d), 0u);
	EXPECT_EQ(d, std::vector<std::string>({"udp.drop_bad_cksum +1"}));
}

TEST_F(UdpRx, L4GoodFlagSkipsSoftware)
{
	std::vector<std::string> d;
	EXPECT_EQ(deliver(bad_l4(), RTE_MBUF_F_RX_L4_CKSUM_GOOD, &d), 1u);
	EXPECT_TRUE(d.empty());
}

TEST_F(UdpRx, L4UnknownVerifiedInSoftware)
{
	std::vector<std::string> d;
	EXPECT_EQ(deliver(good(), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, &d), 1u);
	EXPECT_TRUE(d.empty());
	EXPECT_EQ(deliver(bad_l4(), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, &d), 0u);
	EXPECT_EQ(d, std::vector<std::string>({"udp.drop_bad_cksum +1"}));
}

TEST_F(UdpRx, L4NoneMeansDataVerified)
{
	// RTE_MBUF_F_RX_L4_CKSUM_NONE: the field is wrong but the data is
	// intact (the port checked it).
	std::vector<std::string> d;
	EXPECT_EQ(deliver(bad_l4(), RTE_MBUF_F_RX_L4_CKSUM_NONE, &d), 1u);
	EXPECT_TRUE(d.empty());
}

TEST_F(UdpRx, ZeroChecksumMeansNone)
{
	UdpOpts o;
	o.zero_cksum = true;
	Bytes f = eth(kMacB, kMacX, kEthIp4,
		      ip4(kIpX, kIpB, 17, udp(kIpX, kIpB, 5555, 7000, pattern(40), o)));
	std::vector<std::string> d;
	EXPECT_EQ(deliver(f, 0, &d), 1u) << "RFC 768: zero means no checksum";
	EXPECT_TRUE(d.empty());
}

TEST_F(UdpRx, IpFlags)
{
	std::vector<std::string> d;
	EXPECT_EQ(deliver(good(), RTE_MBUF_F_RX_IP_CKSUM_BAD, &d), 0u);
	EXPECT_EQ(d, std::vector<std::string>({"ip4.drop_bad_cksum +1"}));
	EXPECT_EQ(deliver(bad_ip(), RTE_MBUF_F_RX_IP_CKSUM_GOOD, &d), 1u);
	EXPECT_TRUE(d.empty());
	EXPECT_EQ(deliver(bad_ip(), RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, &d), 0u);
	EXPECT_EQ(d, std::vector<std::string>({"ip4.drop_bad_cksum +1"}));
}

// ---- received shapes that are valid but unusual ---------------------------

TEST_F(UdpRx, EthernetPaddingIgnored)
{
	// 4 bytes of payload: the frame is padded to the 60-byte minimum.
	Bytes f = udp_frame(kMacB, kIpB, 7000, pattern(4));
	f.resize(60, 0);
	std::vector<std::string> d;
	EXPECT_EQ(deliver(f, 0, &d), 1u);
	EXPECT_TRUE(d.empty());
	ASSERT_FALSE(rxb.got.empty());
	EXPECT_EQ(rxb.got.back().data, pattern(4)) << "the padding is not payload";
}

TEST_F(UdpRx, EthernetPaddingInItsOwnSegment)
{
	// The same padded frame as a chain whose last segment is shorter than
	// the padding (the trim must span segments).
	Bytes f = udp_frame(kMacB, kIpB, 7000, pattern(4));
	f.resize(60, 0);
	size_t n0 = rxb.got.size();
	auto before = stats(B);
	inject(B, f, 0, 50, 5);
	EXPECT_EQ(drops_changed(before, stats(B)), std::vector<std::string>());
	ASSERT_EQ(rxb.got.size(), n0 + 1);
	EXPECT_EQ(rxb.got.back().data, pattern(4));
}

TEST_F(UdpRx, IpOptionsSkipped)
{
	// IHL 6: four bytes of options (NOPs) before the UDP header.
	Ip4Opts o;
	o.ihl = 6;
	Bytes ip = ip4(kIpX, kIpB, 17, udp(kIpX, kIpB, 5555, 7000, pattern(12)), o);
	ip[20] = ip[21] = ip[22] = ip[23] = 1;	// NOP options
	put16(&ip[10], 0);
	put16(&ip[10], inet_cksum(ip.data(), 24));
	std::vector<std::string> d;
	EXPECT_EQ(deliver(eth(kMacB, kMacX, kEthIp4, ip), 0, &d), 1u);
	EXPECT_TRUE(d.empty());
	ASSERT_FALSE(rxb.got.empty());
	EXPECT_EQ(rxb.got.back().data, pattern(12));
	EXPECT_EQ(rxb.got.back().sport, 5555);
}

TEST_F(UdpRx, UdpLengthShorterThanIpPayload)
{
	// RFC 768: the checksum and the pseudo-header's length are the UDP
	// length's; bytes past it in the IP payload are not part of the
	// datagram (Linux trims them before checking, udp_rcv()).
	Bytes u = udp(kIpX, kIpB, 5555, 7000, pattern(20));
	Bytes ipp = u;
	ipp.insert(ipp.end(), {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02});
	std::vector<std::string> d;
	EXPECT_EQ(deliver(eth(kMacB, kMacX, kEthIp4, ip4(kIpX, kIpB, 17, ipp)),
			  0, &d), 1u);
	EXPECT_TRUE(d.empty()) << d.size() << " drops, first "
			       << (d.empty() ? "" : d[0]);
	ASSERT_FALSE(rxb.got.empty());
	EXPECT_EQ(rxb.got.back().data, pattern(20));
}

TEST_F(Udp, SendtoExternalBufferFreedOnce)
{
	// tern_udp_sendto starts the TX flags afresh; it must keep the flags
	// that say whose buffer the data is in (EXTERNAL), or the buffer is
	// never given back and the mbuf returns to its pool with a foreign
	// buf_addr.
	int freed = 0;
	rte_mbuf *m = mbuf_ext_from(pool, pattern(64), &freed);
	ASSERT_NE(m, nullptr);
	tern_addr b = v4(kIpB);
	ASSERT_EQ(tern_udp_sendto(A, pa, &b, 7000, m), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_EQ(rxb.got[0].data, pattern(64));
	EXPECT_EQ(freed, 1);
}
