// offload/tso.c: software segmentation of a TSO packet (headers per
// segment, sequence numbers, IP ids and lengths, FIN/PSH/CWR, checksums
// after tern_ol_tx_finish, data byte-exact and never written, every mbuf
// back) and tern_ol_tso_port's decision for a port's limits and quirks.
#include "harness.h"

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <tern/offload.h>

using namespace tt;

namespace {

constexpr uint32_t kSeq = 0xfffff000;	// wraps inside the packet

class Tso : public PoolTest<1000> {
protected:
	// Ethernet + IPv4 + TCP with the timestamps option (32 bytes, as
	// tern sends) + payload; flags as given.
	static Bytes frame(const Bytes &payload, uint8_t flags)
	{
		Bytes l4(32, 0);
		put16(&l4[0], 1234);
		put16(&l4[2], 80);
		put32(&l4[4], kSeq);
		put32(&l4[8], 77);
		l4[12] = 8 << 4;
		l4[13] = flags;
		put16(&l4[14], 1000);
		l4[20] = 1;
		l4[21] = 1;
		l4[22] = 8;
		l4[23] = 10;
		put32(&l4[24], 0x11223344);
		put32(&l4[28], 0x55667788);
		l4.insert(l4.end(), payload.begin(), payload.end());
		Ip4Opts o;
		o.id = 0xfffe;	// wraps too
		o.frag = 0x4000;	// DF
		Bytes f = eth(kMacB, kMacA, kEthIp4, ip4(kIpA, kIpB, 6, l4, o));
		put16(&f[14 + 10], 0);
		put16(&f[14 + 20 + 16], 0);
		return f;
	}
	// The packet as TCP hands it over: headers in the first mbuf (66
	// bytes), payload in a chain of `seg`-byte mbufs.
	rte_mbuf *tso_mbuf(const Bytes &payload, uint16_t mss, size_t seg,
			   uint8_t flags = 0x18)
	{
		rte_mbuf *m = mbuf_from(pool, frame(payload, flags), seg ? 66 : 0, seg);
		EXPECT_NE(m, nullptr);
		if (m == nullptr)
			return nullptr;
		m->l2_len = 14;
		m->l3_len = 20;
		m->l4_len = 32;
		m->tso_segsz = mss;
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			      RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
		return m;
	}
	static void verify_cksums(const Bytes &f)
	{
		alignas(8) uint8_t buf[4096];
		ASSERT_LE(f.size(), sizeof(buf));
		memcpy(buf, f.data(), f.size());
		auto *ip = (rte_ipv4_hdr *)(buf + 14);
		EXPECT_EQ(rte_raw_cksum(ip, 20), 0xffff) << "IPv4 header checksum";
		EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, buf + 34), 0) << "TCP checksum";
	}
	// Segments m in software and finishes each segment's checksums
	// there too; checks every segment against the original frame and
	// returns the payload put back together.
	Bytes cut_and_check(rte_mbuf *m, const Bytes &orig, uint16_t mss,
			    size_t expect_n)
	{
		rte_mbuf *out[TERN_OL_TSO_SEGS_MAX];
		int n = tern_ol_tso_segment(m, pool, out, TERN_OL_TSO_SEGS_MAX);
		EXPECT_EQ(n, (int)expect_n);
		Bytes data;
		const tern_ol_caps none = {};
		uint8_t fl0 = orig[14 + 20 + 13];
		for (int i = 0; i < n; i++) {
			rte_mbuf *s = out[i];
			EXPECT_FALSE(s->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
			EXPECT_TRUE(s->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
			EXPECT_EQ(s->l2_len, 14);
			EXPECT_EQ(s->l3_len, 20);
			EXPECT_EQ(s->l4_len, 32);
			tern_ol_tx_finish(s, &none);
			Bytes f = mbuf_bytes(s);
			verify_cksums(f);
			size_t pl = f.size() - 66;
			if (i + 1 < n)
				EXPECT_EQ(pl, mss) << "segment " << i;
			else
				EXPECT_LE(pl, mss);
			EXPECT_EQ(get16(&f[14 + 2]), f.size() - 14) << "IP total length";
			EXPECT_EQ(get16(&f[14 + 4]), (uint16_t)(0xfffe + i)) << "IP id";
			EXPECT_EQ(get32(&f[34 + 4]), kSeq + (uint32_t)i * mss) << "seq";
			uint8_t fl = f[34 + 13];
			uint8_t want = fl0;
			if (i + 1 < n)
				want &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
			if (i > 0)
				want &= (uint8_t)~RTE_TCP_CWR_FLAG;
			EXPECT_EQ(fl, want) << "flags of segment " << i;
			// everything else in the headers as it was (timestamps
			// in every segment)
			EXPECT_TRUE(std::equal(f.begin(), f.begin() + 16, orig.begin()));
			EXPECT_TRUE(std::equal(f.begin() + 20, f.begin() + 24, orig.begin() + 20));
			EXPECT_TRUE(std::equal(f.begin() + 26, f.begin() + 38, orig.begin() + 26));
			EXPECT_TRUE(std::equal(f.begin() + 42, f.begin() + 47, orig.begin() + 42));
			EXPECT_TRUE(std::equal(f.begin() + 48, f.begin() + 50, orig.begin() + 48));
			EXPECT_TRUE(std::equal(f.begin() + 52, f.begin() + 66, orig.begin() + 52));
			data.insert(data.end(), f.begin() + 66, f.end());
			rte_pktmbuf_free(s);
		}
		return data;
	}
};

}  // namespace

TEST_F(Tso, CutsIntoMssSegmentsWithHeadersChecksumsAndData)
{
	// 10 full segments and a tail; the payload's mbufs have odd
	// lengths, so segments start and end inside them
	Bytes p = pattern(10 * 1448 + 333, 3);
	Bytes orig = frame(p, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_FIN_FLAG |
				      RTE_TCP_CWR_FLAG);
	rte_mbuf *m = tso_mbuf(p, 1448, 1001, orig[34 + 13]);
	ASSERT_NE(m, nullptr);
	// the payload is shared with its owner (as TCP's send queue is):
	// segmentation must only clone it
	for (rte_mbuf *s = m->next; s != nullptr; s = s->next)
		rte_mbuf_refcnt_update(s, 1);
	rte_mbuf *keep = m->next;
	EXPECT_EQ(cut_and_check(m, orig, 1448, 11), p);
	// the owner's bytes are unchanged and it still holds them
	Bytes left;
	for (rte_mbuf *s = keep; s != nullptr; s = s->next) {
		EXPECT_EQ(rte_mbuf_refcnt_read(s), 1);
		left.insert(left.end(), rte_pktmbuf_mtod(s, uint8_t *),
			    rte_pktmbuf_mtod(s, uint8_t *) + s->data_len);
	}
	EXPECT_EQ(left, p);
	rte_pktmbuf_free(keep);	// the owner lets go
}

TEST_F(Tso, PayloadInTheHeaderMbufAndExactMultiples)
{
	// all payload in the first mbuf with the headers
	Bytes p = pattern(3 * 500, 4);
	Bytes orig = frame(p, 0x18);
	rte_mbuf *m = tso_mbuf(p, 500, 0);
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(m->nb_segs, 1);
	EXPECT_EQ(cut_and_check(m, orig, 500, 3), p);

	// indirect and external payload mbufs, as TCP and the services
	// send them: i1 points 200 bytes into d, i2 at all of x
	p = pattern(2600, 5);
	orig = frame(p, 0x10);
	Bytes dbytes = pattern(200, 99);
	dbytes.insert(dbytes.end(), p.begin(), p.begin() + 1100);
	rte_mbuf *d = mbuf_from(pool, dbytes);
	ASSERT_NE(d, nullptr);
	int freed = 0;
	rte_mbuf *x = mbuf_ext_from(pool, Bytes(p.begin() + 1100, p.end()), &freed);
	ASSERT_NE(x, nullptr);
	rte_mbuf *h = mbuf_from(pool, Bytes(orig.begin(), orig.begin() + 66));
	rte_mbuf *i1 = rte_pktmbuf_alloc(pool);
	rte_mbuf *i2 = rte_pktmbuf_alloc(pool);
	ASSERT_TRUE(h && i1 && i2);
	rte_pktmbuf_attach(i1, d);
	i1->data_off = (uint16_t)(i1->data_off + 200);
	i1->data_len = 1100;
	i1->pkt_len = 1100;
	rte_pktmbuf_attach(i2, x);
	rte_pktmbuf_free(d);
	rte_pktmbuf_free(x);
	ASSERT_EQ(rte_pktmbuf_chain(h, i1), 0);
	ASSERT_EQ(rte_pktmbuf_chain(h, i2), 0);
	h->l2_len = 14;
	h->l3_len = 20;
	h->l4_len = 32;
	h->tso_segsz = 1000;
	h->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
		      RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
	EXPECT_EQ(cut_and_check(h, orig, 1000, 3), p);
	EXPECT_EQ(freed, 1) << "the external buffer went back once";
}

TEST_F(Tso, SmallEnoughIsItselfAndBadPacketsAreRefused)
{
	Bytes p = pattern(1000, 6);
	rte_mbuf *m = tso_mbuf(p, 1448, 400);
	ASSERT_NE(m, nullptr);
	rte_mbuf *out[TERN_OL_TSO_SEGS_MAX];
	ASSERT_EQ(tern_ol_tso_segment(m, pool, out, TERN_OL_TSO_SEGS_MAX), 1);
	EXPECT_EQ(out[0], m);
	EXPECT_FALSE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	rte_pktmbuf_free(m);

	p = pattern(5000, 6);
	m = tso_mbuf(p, 1000, 700);
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(tern_ol_tso_segment(m, pool, out, 4), -EINVAL) << "5 segments, room for 4";
	m->tso_segsz = 0;
	EXPECT_EQ(tern_ol_tso_segment(m, pool, out, 64), -EINVAL);
	m->tso_segsz = 1000;
	m->l4_len = 100;	// headers past the first mbuf
	EXPECT_EQ(tern_ol_tso_segment(m, pool, out, 64), -EINVAL);
	m->l4_len = 32;
	m->ol_flags &= ~RTE_MBUF_F_TX_IPV4;
	EXPECT_EQ(tern_ol_tso_segment(m, pool, out, 64), -EINVAL);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	// untouched by all that: it still cuts
	Bytes orig = frame(p, 0x18);
	EXPECT_EQ(cut_and_check(m, orig, 1000, 5), p);
}

TEST_F(Tso, EmptyPoolLeavesThePacketWhole)
{
	Bytes p = pattern(20000, 8);
	rte_mbuf *m = tso_mbuf(p, 1448, 1800);
	ASSERT_NE(m, nullptr);
	// take all but 10 mbufs: 14 segments need 14 headers and more
	std::vector<rte_mbuf *> held;
	while (rte_mempool_avail_count(pool) > 10) {
		rte_mbuf *x = rte_pktmbuf_alloc(pool);
		ASSERT_NE(x, nullptr);
		held.push_back(x);
	}
	rte_mbuf *out[TERN_OL_TSO_SEGS_MAX];
	EXPECT_EQ(tern_ol_tso_segment(m, pool, out, TERN_OL_TSO_SEGS_MAX), -ENOBUFS);
	EXPECT_EQ(rte_mempool_avail_count(pool), 10u) << "what it took went back";
	for (rte_mbuf *x : held)
		rte_pktmbuf_free(x);
	EXPECT_EQ(mbuf_bytes(m), frame(p, 0x18)) << "m untouched";
	EXPECT_EQ(cut_and_check(m, frame(p, 0x18), 1448, 14), p);
}

TEST_F(Tso, PortTakesWhatFitsItsLimitsAndQuirks)
{
	tern_ol_caps hw = {};
	hw.tx_ip4_cksum = hw.tx_tcp_cksum = true;
	hw.tso_max = TERN_OL_TSO_MAX;
	Bytes p = pattern(20 * 1448, 9);
	rte_mbuf *m = tso_mbuf(p, 1448, 2048);
	ASSERT_NE(m, nullptr);
	EXPECT_TRUE(tern_ol_tso_port(m, &hw));

	tern_ol_caps c = hw;
	c.tso_max = 0;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "no TSO";
	c = hw;
	c.tx_tcp_cksum = false;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "TSO needs the checksums";
	c = hw;
	c.tso_max = 10000;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "larger than the port takes";
	c = hw;
	c.tso_mbufs_max = 8;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "more mbufs than the port takes";
	EXPECT_EQ(m->tso_segsz, 1448) << "unchanged when the port takes it";
	// net_tap: segment plus headers within its MTU, even pieces
	c = hw;
	c.tso_frame_max = 1500;
	c.tx_l4_cksum_even_segs = true;
	EXPECT_TRUE(tern_ol_tso_port(m, &c));
	EXPECT_EQ(m->tso_segsz, 1434) << "1448 + 66 > 1500: shorter segments";
	EXPECT_TRUE(tern_ol_tso_port(m, &c));
	EXPECT_EQ(m->tso_segsz, 1434);
	c.tso_frame_max = 1499;
	m->tso_segsz = 1448;
	EXPECT_TRUE(tern_ol_tso_port(m, &c));
	EXPECT_EQ(m->tso_segsz, 1432) << "even";
	c.tso_frame_max = 1500;
	m->tso_segsz = 1433;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "odd segments";
	EXPECT_EQ(m->tso_segsz, 1433) << "unchanged when the answer is no";
	m->tso_segsz = 100;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "more than 64 segments";
	EXPECT_FALSE(tern_ol_tso_port(m, &hw));
	c.tso_frame_max = 66;
	m->tso_segsz = 1448;
	EXPECT_FALSE(tern_ol_tso_port(m, &c)) << "no room for data";
	rte_pktmbuf_free(m);

	m = tso_mbuf(p, 1448, 2047);	// odd pieces in the chain
	ASSERT_NE(m, nullptr);
	c.tso_frame_max = 1500;
	EXPECT_TRUE(tern_ol_tso_port(m, &hw));
	EXPECT_FALSE(tern_ol_tso_port(m, &c));
	EXPECT_EQ(m->tso_segsz, 1448);
	rte_pktmbuf_free(m);
}

TEST(TsoCaps, FromDevInfo)
{
	rte_eth_dev_info di;
	memset(&di, 0, sizeof(di));
	di.tx_offload_capa = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			     RTE_ETH_TX_OFFLOAD_TCP_TSO;
	di.tx_desc_lim.nb_seg_max = 40;
	tern_ol_caps c;
	tern_ol_caps_from_dev_info(&di, &c);
	EXPECT_EQ(c.tso_max, (uint32_t)TERN_OL_TSO_MAX);
	EXPECT_EQ(c.tso_mbufs_max, 40);
	EXPECT_EQ(c.tso_frame_max, 0);
	EXPECT_TRUE(tern_ol_port_tx_offloads(&c) & RTE_ETH_TX_OFFLOAD_TCP_TSO);

	di.driver_name = "net_tap";
	tern_ol_caps_from_dev_info(&di, &c);
	EXPECT_EQ(c.tso_frame_max, RTE_ETHER_MTU);

	// TSO without the TCP checksum offload is not used
	di.tx_offload_capa = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO;
	tern_ol_caps_from_dev_info(&di, &c);
	EXPECT_EQ(c.tso_max, 0u);
	EXPECT_FALSE(tern_ol_port_tx_offloads(&c) & RTE_ETH_TX_OFFLOAD_TCP_TSO);
}
