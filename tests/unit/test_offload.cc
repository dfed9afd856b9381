// offload/: tern_ol_tx_finish in software and with port offloads (the
// result, after what a NIC would do, passes DPDK's verifiers), multi-segment
// packets, and tern_ol_rx_* for every ol_flags state.
#include "harness.h"

#include <rte_ethdev.h>
#include <rte_ip.h>

#include <tern/offload.h>

using namespace tt;

namespace {

class Offload : public PoolTest<255> {
protected:
	// Ethernet + IPv4 + UDP (or TCP) with both checksum fields zero.
	static Bytes frame(uint8_t proto, size_t payload)
	{
		Bytes l4;
		if (proto == 17) {
			l4 = udp(kIpA, kIpB, 1234, 80, pattern(payload));
		} else {
			l4 = Bytes(20, 0);
			put16(&l4[0], 1234);
			put16(&l4[2], 80);
			put32(&l4[4], 1000);
			l4[12] = 5 << 4;
			l4[13] = 0x18;
			put16(&l4[14], 65535);
			Bytes p = pattern(payload);
			l4.insert(l4.end(), p.begin(), p.end());
		}
		Bytes f = eth(kMacB, kMacA, kEthIp4, ip4(kIpA, kIpB, proto, l4));
		put16(&f[14 + 10], 0);
		put16(&f[14 + 20 + (proto == 17 ? 6 : 16)], 0);
		return f;
	}
	rte_mbuf *tx_mbuf(uint8_t proto, size_t payload, size_t split = 0, size_t seg = 0)
	{
		rte_mbuf *m = mbuf_from(pool, frame(proto, payload), split, seg);
		EXPECT_NE(m, nullptr);
		m->l2_len = 14;
		m->l3_len = 20;
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			      (proto == 17 ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
		return m;
	}
	// Checks the frame's IP and L4 checksums with DPDK's own verifiers.
	static void verify(const Bytes &f)
	{
		alignas(8) uint8_t buf[4096];
		ASSERT_LE(f.size(), sizeof(buf));
		memcpy(buf, f.data(), f.size());
		auto *ip = (rte_ipv4_hdr *)(buf + 14);
		EXPECT_EQ(rte_raw_cksum(ip, 20), 0xffff) << "IPv4 header checksum";
		EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, buf + 34), 0) << "L4 checksum";
	}
	// Does what a NIC with these offloads does on transmit.
	static void nic(Bytes &f, uint64_t ol)
	{
		alignas(8) uint8_t buf[4096];
		memcpy(buf, f.data(), f.size());
		auto *ip = (rte_ipv4_hdr *)(buf + 14);
		if (ol & RTE_MBUF_F_TX_IP_CKSUM) {
			EXPECT_EQ(ip->hdr_checksum, 0) << "DPDK: zero for IP cksum offload";
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		if (ol & RTE_MBUF_F_TX_L4_MASK) {
			size_t l4len = rte_be_to_cpu_16(ip->total_length) - 20;
			size_t off = (ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM ? 6 : 16;
			uint16_t seed;
			memcpy(&seed, buf + 34 + off, 2);
			EXPECT_EQ(seed, rte_ipv4_phdr_cksum(ip, ol))
				<< "the L4 field holds the pseudo-header sum";
			uint16_t ck = ~rte_raw_cksum(buf + 34, l4len);
			if (ck == 0 && off == 6)
				ck = 0xffff;
			memcpy(buf + 34 + off, &ck, 2);
		}
		memcpy(f.data(), buf, f.size());
	}
};

}  // namespace

// The fast sum gives rte_raw_cksum()'s result at every length and
// alignment, on patterns and on the bytes that carry the most.
TEST(OffloadSum, MatchesDpdkAtEveryLengthAndAlignment)
{
	std::vector<uint8_t> buf(1600 + 8);
	uint32_t x = 12345;
	for (int pass = 0; pass < 3; pass++) {
		for (auto &b : buf) {
			x = x * 1103515245u + 12345u;
			b = pass == 0 ? (uint8_t)(x >> 16) : pass == 1 ? 0xff : 0;
		}
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; len <= 1600; len += (len < 80 ? 1 : 37))
				ASSERT_EQ(tern_ol_raw_sum(buf.data() + off, len),
					  rte_raw_cksum(buf.data() + off, len))
					<< "pass " << pass << " off " << off << " len " << len;
	}
}

TEST_F(Offload, SoftwareUdpAndTcp)
{
	tern_ol_caps none = {};
	for (uint8_t proto : {17, 6}) {
		SCOPED_TRACE((int)proto);
		rte_mbuf *m = tx_mbuf(proto, 101);
		tern_ol_tx_finish(m, &none);
		EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0u)
			<< "done in software: flags cleared";
		verify(mbuf_bytes(m));
		rte_pktmbuf_free(m);
	}
}

TEST_F(Offload, PortDoesEverything)
{
	tern_ol_caps all = {};
	all.tx_ip4_cksum = all.tx_udp_cksum = all.tx_tcp_cksum = true;
	for (uint8_t proto : {17, 6}) {
		SCOPED_TRACE((int)proto);
		rte_mbuf *m = tx_mbuf(proto, 64);
		uint64_t want = m->ol_flags;
		tern_ol_tx_finish(m, &all);
		EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK |
					 RTE_MBUF_F_TX_IPV4),
			  want) << "flags left for the port";
		Bytes f = mbuf_bytes(m);
		nic(f, m->ol_flags);
		verify(f);
		rte_pktmbuf_free(m);
	}
}

TEST_F(Offload, MixedCaps)
{
	// The port does IP only: L4 in software; and the other way round.
	tern_ol_caps ip_only = {}, l4_only = {};
	ip_only.tx_ip4_cksum = true;
	l4_only.tx_udp_cksum = true;

	rte_mbuf *m = tx_mbuf(17, 50);
	tern_ol_tx_finish(m, &ip_only);
	EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
	Bytes f = mbuf_bytes(m);
	nic(f, m->ol_flags);
	verify(f);
	rte_pktmbuf_free(m);

	m = tx_mbuf(17, 50);
	tern_ol_tx_finish(m, &l4_only);
	EXPECT_FALSE(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
	f = mbuf_bytes(m);
	nic(f, m->ol_flags);
	verify(f);
	rte_pktmbuf_free(m);

	// A TCP packet on a port with UDP offload only: TCP in software.
	m = tx_mbuf(6, 50);
	tern_ol_tx_finish(m, &l4_only);
	EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
	verify(mbuf_bytes(m));
	rte_pktmbuf_free(m);
}

TEST_F(Offload, MultiSegmentSoftware)
{
	tern_ol_caps none = {};
	for (uint8_t proto : {17, 6}) {
		SCOPED_TRACE((int)proto);
		// Headers and 101 bytes in the first segment, odd-sized rest.
		size_t hdr = 14 + 20 + (proto == 17 ? 8 : 20);
		rte_mbuf *m = tx_mbuf(proto, 1001, hdr + 101, 333);
		ASSERT_GE(m->nb_segs, 3);
		tern_ol_tx_finish(m, &none);
		EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
		verify(mbuf_bytes(m));
		rte_pktmbuf_free(m);
	}
}

TEST_F(Offload, MultiSegmentOffload)
{
	tern_ol_caps all = {};
	all.tx_ip4_cksum = all.tx_udp_cksum = true;
	rte_mbuf *m = tx_mbuf(17, 700, 14 + 20 + 8 + 5, 100);
	tern_ol_tx_finish(m, &all);
	Bytes f = mbuf_bytes(m);
	nic(f, m->ol_flags);
	verify(f);
	rte_pktmbuf_free(m);
}

// net_tap (DPDK 22.11) sums each segment on its own: a chain with an
// odd-length segment before the last gets its L4 checksum in software,
// one with even segments (and a single segment) still goes to the port.
TEST_F(Offload, PortSummingSegmentsAloneGetsOddChainsInSoftware)
{
	tern_ol_caps tap = {};
	tap.tx_ip4_cksum = tap.tx_udp_cksum = tap.tx_tcp_cksum = true;
	tap.tx_l4_cksum_even_segs = true;
	for (uint8_t proto : {17, 6}) {
		SCOPED_TRACE((int)proto);
		size_t hdr = 14 + 20 + (proto == 17 ? 8 : 20);
		rte_mbuf *m = tx_mbuf(proto, 1001, hdr + 101, 333);
		ASSERT_GE(m->nb_segs, 3);
		tern_ol_tx_finish(m, &tap);
		EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
		EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		Bytes f = mbuf_bytes(m);
		nic(f, m->ol_flags);
		verify(f);
		rte_pktmbuf_free(m);

		m = tx_mbuf(proto, 1000, hdr + 100, 200);	/* even segments */
		ASSERT_GE(m->nb_segs, 3);
		tern_ol_tx_finish(m, &tap);
		EXPECT_NE(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
		f = mbuf_bytes(m);
		nic(f, m->ol_flags);
		verify(f);
		rte_pktmbuf_free(m);
	}
}

// ---- receive -------------------------------------------------------------

namespace {

struct RxCase {
	uint64_t flags;
	bool corrupt;
	tern_ol_verdict want;
};

}  // namespace

TEST_F(Offload, RxIp4EveryFlag)
{
	const RxCase cases[] = {
		{RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, false, TERN_OL_CKSUM_GOOD},
		{RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, true, TERN_OL_CKSUM_BAD},
		{RTE_MBUF_F_RX_IP_CKSUM_GOOD, true, TERN_OL_CKSUM_GOOD},
		{RTE_MBUF_F_RX_IP_CKSUM_BAD, false, TERN_OL_CKSUM_BAD},
		{RTE_MBUF_F_RX_IP_CKSUM_NONE, true, TERN_OL_CKSUM_GOOD},
	};
	for (const RxCase &c : cases) {
		SCOPED_TRACE(testing::Message() << std::hex << c.flags << " corrupt " << c.corrupt);
		Ip4Opts o;
		o.bad_cksum = c.corrupt;
		Bytes f = eth(kMacB, kMacA, kEthIp4,
			      ip4(kIpA, kIpB, 17, udp(kIpA, kIpB, 1, 2, pattern(10)), o));
		rte_mbuf *m = mbuf_from(pool, f);
		m->ol_flags = c.flags;
		EXPECT_EQ(tern_ol_rx_ip4(m, rte_pktmbuf_mtod_offset(m, void *, 14), 20), c.want);
		rte_pktmbuf_free(m);
	}
}

TEST_F(Offload, RxL4EveryFlag)
{
	const RxCase cases[] = {
		{RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, false, TERN_OL_CKSUM_GOOD},
		{RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, true, TERN_OL_CKSUM_BAD},
		{RTE_MBUF_F_RX_L4_CKSUM_GOOD, true, TERN_OL_CKSUM_GOOD},
		{RTE_MBUF_F_RX_L4_CKSUM_BAD, false, TERN_OL_CKSUM_BAD},
		{RTE_MBUF_F_RX_L4_CKSUM_NONE, true, TERN_OL_CKSUM_GOOD},
	};
	for (const RxCase &c : cases) {
		for (size_t split : {(size_t)0, (size_t)(14 + 20 + 8 + 3)}) {
			SCOPED_TRACE(testing::Message() << std::hex << c.flags << " corrupt "
							<< c.corrupt << " split " << std::dec << split);
			UdpOpts o;
			o.bad_cksum = c.corrupt;
			Bytes f = eth(kMacB, kMacA, kEthIp4,
				      ip4(kIpA, kIpB, 17, udp(kIpA, kIpB, 1, 2, pattern(301), o)));
			rte_mbuf *m = mbuf_from(pool, f, split, 97);
			m->ol_flags = c.flags;
			uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
			EXPECT_EQ(tern_ol_rx_l4_ip4(m, ip, ip + 20, 8 + 301, 17), c.want);
			rte_pktmbuf_free(m);
		}
	}
}

TEST_F(Offload, RxUdpZeroIsGoodTcpZeroIsNot)
{
	UdpOpts o;
	o.zero_cksum = true;
	Bytes f = eth(kMacB, kMacA, kEthIp4,
		      ip4(kIpA, kIpB, 17, udp(kIpA, kIpB, 1, 2, pattern(30), o)));
	rte_mbuf *m = mbuf_from(pool, f);
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
	EXPECT_EQ(tern_ol_rx_l4_ip4(m, ip, ip + 20, 38, 17), TERN_OL_CKSUM_GOOD);
	rte_pktmbuf_free(m);

	// TCP has no "no checksum": a zero field over nonzero data is bad.
	Bytes t = frame(6, 30);
	put16(&t[14 + 10], inet_cksum(&t[14], 20));
	m = mbuf_from(pool, t);
	ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
	EXPECT_EQ(tern_ol_rx_l4_ip4(m, ip, ip + 20, 50, 6), TERN_OL_CKSUM_BAD);
	rte_pktmbuf_free(m);
}

TEST_F(Offload, RxTcpSoftware)
{
	tern_ol_caps none = {};
	rte_mbuf *m = tx_mbuf(6, 77);
	tern_ol_tx_finish(m, &none);
	m->ol_flags = 0;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
	EXPECT_EQ(tern_ol_rx_l4_ip4(m, ip, ip + 20, 20 + 77, 6), TERN_OL_CKSUM_GOOD);
	ip[20 + 25] ^= 1;	// flip a payload bit
	EXPECT_EQ(tern_ol_rx_l4_ip4(m, ip, ip + 20, 20 + 77, 6), TERN_OL_CKSUM_BAD);
	rte_pktmbuf_free(m);
}

TEST(OffloadCaps, FromDevInfoAndBack)
{
	rte_eth_dev_info di;
	memset(&di, 0, sizeof(di));
	di.tx_offload_capa = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	di.rx_offload_capa = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
			     RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	tern_ol_caps c;
	memset(&c, 0xff, sizeof(c));
	tern_ol_caps_from_dev_info(&di, &c);
	EXPECT_TRUE(c.tx_ip4_cksum);
	EXPECT_TRUE(c.tx_udp_cksum);
	EXPECT_FALSE(c.tx_tcp_cksum);
	EXPECT_TRUE(c.rx_ip4_cksum);
	EXPECT_TRUE(c.rx_l4_cksum);
	EXPECT_EQ(c.tso_max, 0u);
	EXPECT_FALSE(c.tx_l4_cksum_even_segs);
	uint64_t tx = tern_ol_port_tx_offloads(&c);
	EXPECT_EQ(tx & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM),
		  RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	EXPECT_EQ(tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM, 0u);
	EXPECT_EQ(tx & ~di.tx_offload_capa, 0u) << "never asks for what the port lacks";
	uint64_t rx = tern_ol_port_rx_offloads(&c);
	EXPECT_EQ(rx & ~di.rx_offload_capa, 0u);
	EXPECT_TRUE(rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM);

	di.driver_name = "net_tap";
	tern_ol_caps_from_dev_info(&di, &c);
	EXPECT_TRUE(c.tx_l4_cksum_even_segs);

	memset(&di, 0, sizeof(di));
	tern_ol_caps_from_dev_info(&di, &c);
	EXPECT_FALSE(c.tx_ip4_cksum || c.tx_udp_cksum || c.tx_tcp_cksum ||
		     c.rx_ip4_cksum || c.rx_l4_cksum);
	EXPECT_EQ(tern_ol_port_tx_offloads(&c), 0u);
	EXPECT_EQ(tern_ol_port_rx_offloads(&c), 0u);
}
