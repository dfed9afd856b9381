// IPv4 fragments (RFC 791 3.2): reassembly in any order, overlaps,
// duplicates, too many fragments, timeouts, a flood of unfinished
// datagrams; fragmentation of large echo replies; path MTU learned from
// "fragmentation needed" (RFC 1191) after the RFC 5927 checks; ICMP
// errors delivered to the UDP pcb that sent the datagram.
#include "harness.h"

#include <algorithm>

using namespace tt;

namespace {

struct Fr {
	size_t off;	// payload offset, bytes
	size_t len;
	bool mf;
};

// Fragments of the IP payload l4 (e.g. a whole UDP datagram) from src to
// dst: each an Ethernet frame to dmac.
std::vector<Bytes> fragments(const Mac &dmac, uint32_t src, uint32_t dst,
			     uint8_t proto, const Bytes &l4, uint16_t id,
			     const std::vector<Fr> &parts)
{
	std::vector<Bytes> out;
	for (const Fr &p : parts) {
		Bytes piece(l4.begin() + (long)p.off,
			    l4.begin() + (long)std::min(l4.size(), p.off + p.len));
		Ip4Opts o;
		o.id = id;
		o.frag = (uint16_t)((p.mf ? 0x2000 : 0) | (p.off / 8));
		out.push_back(eth(dmac, kMacX, kEthIp4, ip4(src, dst, proto, piece, o)));
	}
	return out;
}

// Even cuts of n bytes (multiples of 8), the last one what is left.
std::vector<Fr> cuts(size_t total, size_t n)
{
	std::vector<Fr> v;
	for (size_t off = 0; off < total; off += n)
		v.push_back({off, std::min(n, total - off), off + n < total});
	return v;
}

class Frag : public UdpPair {
protected:
	void SetUp() override
	{
		UdpPair::SetUp();
		// B knows X (the peer the fragments come from)
		tern_addr x = v4(kIpX);
		rte_ether_addr mx = ether(kMacX);
		ASSERT_EQ(tern_neigh_add(B, kIfB, &x, &mx), 0);
	}
	Bytes dgram(size_t payload) { return udp(kIpX, kIpB, 5555, 7000, pattern(payload)); }
	void inject_all(const std::vector<Bytes> &v)
	{
		for (const Bytes &b : v)
			inject(B, b);
		pump();
	}
};

}  // namespace

TEST_F(Frag, ReassemblesInOrderAndOutOfOrder)
{
	Bytes d = dgram(4000);
	inject_all(fragments(kMacB, kIpX, kIpB, 17, d, 1, cuts(d.size(), 1480)));
	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_EQ(rxb.got[0].data, pattern(4000));
	auto f = fragments(kMacB, kIpX, kIpB, 17, d, 2, cuts(d.size(), 1000));
	std::reverse(f.begin(), f.end());
	std::swap(f[1], f[2]);
	inject_all(f);
	ASSERT_EQ(rxb.got.size(), 2u);
	EXPECT_EQ(rxb.got[1].data, pattern(4000));
	auto st = stats(B);
	EXPECT_EQ(st.ip4_rx_fragments, 3u + 5u);
	EXPECT_EQ(st.ip4_reassembled, 2u);
	EXPECT_EQ(st.udp_rx_pkts, 2u);
	EXPECT_EQ(drops_total(st), 0u);
}

TEST_F(Frag, InterleavedDatagramsKeptApart)
{
	Bytes d1 = dgram(2000), d2 = udp(kIpX, kIpB, 5555, 7000, pattern(2000, 7));
	auto a = fragments(kMacB, kIpX, kIpB, 17, d1, 10, cuts(d1.size(), 1024));
	auto b = fragments(kMacB, kIpX, kIpB, 17, d2, 11, cuts(d2.size(), 1024));
	inject_all({a[0], b[1], b[0], a[1]});
	ASSERT_EQ(rxb.got.size(), 2u);
	EXPECT_EQ(rxb.got[0].data, pattern(2000, 7));
	EXPECT_EQ(rxb.got[1].data, pattern(2000));
}

TEST_F(Frag, OverlapDropsTheDatagram)
{
	Bytes d = dgram(2000);
	// The middle fragment overlaps both neighbours.
	inject_all(fragments(kMacB, kIpX, kIpB, 17, d, 3,
			     {{0, 1024, true}, {512, 1024, true}, {1024, 984, false}}));
	EXPECT_TRUE(rxb.got.empty());
	auto st = stats(B);
	EXPECT_EQ(st.ip4_reassembled, 0u);
	EXPECT_EQ(st.ip4_drop_frag_reasm, 3u) << "every fragment, counted once";
}

TEST_F(Frag, DuplicateFirstFragmentDropsTheDatagram)
{
	Bytes d = dgram(2000);
	auto f = fragments(kMacB, kIpX, kIpB, 17, d, 4, cuts(d.size(), 1024));
	inject_all({f[0], f[0], f[1]});
	EXPECT_TRUE(rxb.got.empty());
	EXPECT_EQ(stats(B).ip4_drop_frag_reasm, 2u) << "both first fragments";
	EXPECT_EQ(stats(B).ip4_reassembled, 0u);
	// The last fragment began a datagram of its own, which times out.
	for (int i = 0; i < 31; i++)
		step_ms(1000);
	EXPECT_EQ(stats(B).ip4_drop_frag_timeout, 1u);
}

TEST_F(Frag, TooManyFragmentsDropped)
{
	// rte_ip_frag keeps at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8).
	Bytes d = dgram(10 * 64 - 8);
	inject_all(fragments(kMacB, kIpX, kIpB, 17, d, 5, cuts(d.size(), 64)));
	EXPECT_TRUE(rxb.got.empty());
	auto st = stats(B);
	EXPECT_EQ(st.ip4_rx_fragments, 10u);
	// The first and six middle ones fill the 8 slots with the last
	// one's; the seventh middle one kills the datagram (8 dropped); the
	// two after it start another, which times out.
	EXPECT_EQ(st.ip4_drop_frag_reasm, 8u);
	for (int i = 0; i < 31; i++)
		step_ms(1000);
	EXPECT_EQ(stats(B).ip4_drop_frag_timeout, 2u);
}

TEST_F(Frag, GapTimesOut)
{
	Bytes d = dgram(3000);
	auto f = fragments(kMacB, kIpX, kIpB, 17, d, 6, cuts(d.size(), 1024));
	inject_all({f[0], f[2]});	// the middle never comes
	for (int i = 0; i < 29; i++)
		step_ms(1000);
	EXPECT_EQ(stats(B).ip4_drop_frag_timeout, 0u);
	for (int i = 0; i < 2; i++)
		step_ms(1000);
	EXPECT_EQ(stats(B).ip4_drop_frag_timeout, 2u) << "both, after 30 s";
	// The late fragment starts a datagram of its own, which times out.
	inject_all({f[1]});
	for (int i = 0; i < 31; i++)
		step_ms(1000);
	EXPECT_EQ(stats(B).ip4_drop_frag_timeout, 3u);
	EXPECT_TRUE(rxb.got.empty());
}

TEST_F(Frag, OddLengthAndOversizeFragments)
{
	Bytes d = dgram(100);
	inject_all(fragments(kMacB, kIpX, kIpB, 17, d, 7, {{0, 20, true}}));
	EXPECT_EQ(stats(B).ip4_drop_frag_bad_len, 1u) << "MF with 20 bytes";
	Ip4Opts o;
	o.frag = 8189;	// 65512 + 20 + 108 > 65535
	inject(B, eth(kMacB, kMacX, kEthIp4, ip4(kIpX, kIpB, 17, d, o)));
	EXPECT_EQ(stats(B).ip4_drop_frag_oversize, 1u);
}

class FragSmall : public Frag {
protected:
	void conf_stack(tern_stack_conf &c, int) override { c.ip4_frag_max = 128; }
};

TEST_F(FragSmall, FloodOfUnfinishedDatagramsIsBounded)
{
	// 600 first fragments of datagrams that never finish: the table
	// holds its limit (128), the rest is counted, nothing leaks.
	for (uint16_t id = 0; id < 600; id++) {
		Bytes d = dgram(1000);
		inject(B, fragments(kMacB, kIpX, kIpB, 17, d, id, {{0, 512, true}})[0]);
	}
	auto st = stats(B);
	EXPECT_EQ(st.ip4_rx_fragments, 600u);
	EXPECT_GE(st.ip4_drop_frag_reasm, 600u - 128u) << "past the table's 128";
	EXPECT_GE(rte_mempool_avail_count(pool), 1000u - 128u - 2u)
		<< "at most the table's worth of mbufs held";
	for (int i = 0; i < 31; i++)
		step_ms(1000);
	st = stats(B);
	EXPECT_EQ(st.ip4_drop_frag_reasm + st.ip4_drop_frag_timeout, 600u)
		<< "every fragment dropped exactly once";
}

TEST_F(Frag, LargeEchoAnsweredInFragments)
{
	// ping -s 4000 from X to B: fragmented request, fragmented reply.
	Bytes req = icmp(8, 0, 0x1234, 1, pattern(4000));
	inject_all(fragments(kMacB, kIpX, kIpB, 1, req, 8, cuts(req.size(), 1480)));
	auto out = frames_from(1);
	ASSERT_EQ(out.size(), 3u);
	Bytes whole;
	for (size_t i = 0; i < out.size(); i++) {
		const Frame &f = out[i];
		ASSERT_TRUE(f.is_ip4(1));
		EXPECT_EQ(f.dst(), kMacX);
		EXPECT_EQ(inet_cksum(f.l3(), 20), 0);
		uint16_t fo = get16(f.l3() + 6);
		EXPECT_EQ((fo & 0x1fff) * 8u, whole.size());
		EXPECT_EQ((fo & 0x2000) != 0, i + 1 < out.size());
		whole.insert(whole.end(), f.l3() + 20, f.l3() + get16(f.l3() + 2));
	}
	ASSERT_EQ(whole.size(), req.size());
	EXPECT_EQ(whole[0], 0) << "echo reply";
	EXPECT_EQ(inet_cksum(whole.data(), whole.size()), 0);
	EXPECT_EQ(Bytes(whole.begin() + 8, whole.end()), pattern(4000));
}

// ---- path MTU and ICMP errors -------------------------------------

namespace {

struct Err {
	int err;
	tern_addr dst;
	uint16_t dport;
	uint32_t info;
};

// The pcb's arg: datagrams (rx_collect reads it as an Rx) and errors.
struct RxErr {
	Rx rx;
	std::vector<Err> errs;
};

void err_cb(void *arg, tern_udp_pcb *, int err, const tern_addr *dst,
	    uint16_t dport, uint32_t info)
{
	static_cast<RxErr *>(arg)->errs.push_back({err, *dst, dport, info});
}

// An ICMP error from X to A quoting the first bytes of frame f (what A
// sent).
Bytes icmp_err(uint8_t type, uint8_t code, uint16_t mtu, const Frame &f)
{
	Bytes quote(f.l3(), f.l3() + 28);
	Bytes e = icmp(type, code, 0, mtu, quote);
	return eth(kMacA, kMacX, kEthIp4, ip4(kIpX, kIpA, 1, e));
}

class Pmtu : public TwoStacks {
protected:
	void SetUp() override
	{
		TwoStacks::SetUp();
		resolve_statically();
		pa = tern_udp_open(A, nullptr, 0, rx_collect, &ra);
		ASSERT_NE(pa, nullptr);
		tern_udp_set_err_fn(pa, err_cb);
		ASSERT_NE(open(B, 7000, &rb), nullptr);
		tern_addr x = v4(kIpX);
		rte_ether_addr mx = ether(kMacX);
		ASSERT_EQ(tern_neigh_add(A, kIfA, &x, &mx), 0);
	}
	RxErr ra;
	Rx rb;
	tern_udp_pcb *pa = nullptr;
};

}  // namespace

TEST_F(Pmtu, FragNeededLowersPathMtuAndTellsThePcb)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1400)), 0);
	pump();
	auto f = frames_from(0);
	ASSERT_EQ(f.size(), 1u);
	EXPECT_EQ(get16(f[0].l3() + 6) & 0x4000, 0x4000) << "DF";
	// A router on the way says 1000 (RFC 1191 4).
	inject(A, icmp_err(3, 4, 1000, f[0]));
	auto st = stats(A);
	EXPECT_EQ(st.icmp4_rx_errors, 1u);
	EXPECT_EQ(st.ip4_pmtu_learned, 1u);
	ASSERT_EQ(ra.errs.size(), 1u);
	EXPECT_EQ(ra.errs[0].err, EMSGSIZE);
	EXPECT_EQ(ra.errs[0].info, 1000u);
	EXPECT_EQ(ra.errs[0].dport, 7000);
	EXPECT_EQ(ra.errs[0].dst.v4, rte_cpu_to_be_32(kIpB));
	// The next datagram of that size leaves in pieces of at most 1000.
	frames.clear();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1400)), 0);
	pump();
	f = frames_from(0);
	ASSERT_EQ(f.size(), 2u);
	for (const Frame &x : f)
		EXPECT_LE(get16(x.l3() + 2), 1000);
	ASSERT_EQ(rb.got.size(), 2u);
	EXPECT_EQ(rb.got[1].data, pattern(1400));
	// A larger report later does not raise it (RFC 1191 6.3).
	inject(A, icmp_err(3, 4, 1400, f[0]));
	EXPECT_EQ(stats(A).ip4_pmtu_learned, 1u);
}

TEST_F(Pmtu, ForgedAndUnmatchedErrorsAreCounted)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1400)), 0);
	pump();
	Frame f = frames_from(0).at(0);
	// An MTU no smaller than the packet it refused says nothing.
	inject(A, icmp_err(3, 4, 1500, f));
	EXPECT_EQ(stats(A).icmp4_drop_err_invalid, 1u);
	// Quoting a packet from an address that is not ours.
	Frame g = f;
	put32(&g.b[14 + 12], 0x0a000077);
	inject(A, icmp_err(3, 3, 0, g));
	EXPECT_EQ(stats(A).icmp4_drop_err_invalid, 2u);
	// Quoting a port nobody has open.
	Frame h = f;
	put16(&h.b[14 + 20], 1);
	inject(A, icmp_err(3, 3, 0, h));
	EXPECT_EQ(stats(A).icmp4_drop_err_unmatched, 1u);
	// Too short to quote the header and 8 bytes.
	Bytes e = icmp(3, 3, 0, 0, Bytes(f.l3(), f.l3() + 20));
	inject(A, eth(kMacA, kMacX, kEthIp4, ip4(kIpX, kIpA, 1, e)));
	EXPECT_EQ(stats(A).icmp4_drop_err_short, 1u);
	EXPECT_TRUE(ra.errs.empty());
	EXPECT_EQ(stats(A).ip4_pmtu_learned, 0u);
	// A real port unreachable reaches the pcb as ECONNREFUSED.
	inject(A, icmp_err(3, 3, 0, f));
	ASSERT_EQ(ra.errs.size(), 1u);
	EXPECT_EQ(ra.errs[0].err, ECONNREFUSED);
}

TEST_F(Pmtu, DontFragRefusesWhatDoesNotFit)
{
	tern_addr b = v4(kIpB);
	tern_route rt;
	ASSERT_EQ(tern_route_get(A, &b, nullptr, &rt), 0);
	EXPECT_EQ(rt.mtu, 1500);
	rte_mbuf *m = tern_stack_alloc(A);
	ASSERT_NE(rte_pktmbuf_append(m, 1481), nullptr);
	auto before = stats(A);
	EXPECT_EQ(tern_ip_send(A, &rt, m, 17, TERN_IP_F_DONTFRAG), -EMSGSIZE);
	EXPECT_EQ(drops_changed(before, stats(A)),
		  std::vector<std::string>({"ip4.drop_too_big +1"}));
}
