// GRO (offload/gro.c): what merges (in-order data of one flow, byte-exact,
// the last segment's ACK, window and timestamps, the segment count) and
// what does not (a gap, other flags, another flow, a bad checksum, IP
// options or fragments, an ACK going back, a longer segment); then TCP
// over the wire with GRO: the merged segments reach the application
// byte-exact, counted as wire segments, and ACKed as often as the rules
// say (every second full segment: a merged one is ACKed at once).
#include "tcp_fixture.h"

#include <set>

#include <rte_ip.h>
#include <rte_tcp.h>

#include <tern/hooks.h>
#include <tern/offload.h>

using namespace tt;

namespace {

constexpr uint16_t kMss = 1448;
constexpr uint32_t kSeq0 = 0xfffffa00;	// wraps inside the burst

class Gro : public PoolTest<1000> {
protected:
	void clear()
	{
		for (rte_mbuf *m : out)
			rte_pktmbuf_free(m);
		out.clear();
	}
	void TearDown() override
	{
		clear();
		PoolTest::TearDown();
	}
	struct Seg {
		uint32_t seq = kSeq0;
		uint32_t ack = 1000;
		uint8_t flags = RTE_TCP_ACK_FLAG;
		uint16_t win = 500;
		uint16_t sport = 1234, dport = 80;
		uint32_t tsval = 7, tsecr = 9;
		bool ts = true;
		Bytes data;
		Ip4Opts ip;
	};
	static Bytes frame(const Seg &s)
	{
		Bytes opts;
		if (s.ts)
			opts = Tcp_ts(s.tsval, s.tsecr);
		Bytes tcp(20, 0);
		put16(&tcp[0], s.sport);
		put16(&tcp[2], s.dport);
		put32(&tcp[4], s.seq);
		put32(&tcp[8], s.ack);
		tcp[12] = (uint8_t)(((20 + opts.size()) / 4) << 4);
		tcp[13] = s.flags;
		put16(&tcp[14], s.win);
		tcp.insert(tcp.end(), opts.begin(), opts.end());
		tcp.insert(tcp.end(), s.data.begin(), s.data.end());
		uint32_t sum = pseudo_sum(kIpA, kIpB, IPPROTO_TCP, (uint16_t)tcp.size());
		put16(&tcp[16], inet_cksum(tcp.data(), tcp.size(), sum));
		return eth(kMacB, kMacA, kEthIp4, ip4(kIpA, kIpB, IPPROTO_TCP, tcp, s.ip));
	}
	static Bytes Tcp_ts(uint32_t val, uint32_t ecr)
	{
		Bytes o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
		put32(&o[4], val);
		put32(&o[8], ecr);
		return o;
	}
	// n segments of len bytes from seq kSeq0 on, data from one pattern.
	std::vector<Seg> run(unsigned n, size_t len = kMss)
	{
		Bytes p = pattern(n * len, 3);
		std::vector<Seg> v(n);
		for (unsigned i = 0; i < n; i++) {
			v[i].seq = kSeq0 + (uint32_t)(i * len);
			v[i].data.assign(p.begin() + i * len, p.begin() + (i + 1) * len);
		}
		return v;
	}
	// As a NIC hands them over: headers and payload in one mbuf, or a
	// header mbuf and the payload behind it (a cut TSO packet's shape);
	// checksum flags as given (0: unknown, software verifies).
	uint16_t gro(const std::vector<Seg> &segs, uint64_t ol = 0, bool split = false)
	{
		std::vector<rte_mbuf *> in;
		for (const Seg &s : segs) {
			Bytes f = frame(s);
			size_t hdr = 14 + ((f[14] & 0xf) * 4u) + (f[14 + (f[14] & 0xf) * 4 + 12] >> 4) * 4u;
			rte_mbuf *m = mbuf_from(pool, f, split ? hdr : 0, 2000);
			EXPECT_NE(m, nullptr);
			m->ol_flags = ol;
			in.push_back(m);
		}
		uint32_t merged = 0;
		uint16_t k = tern_ol_gro_tcp4(in.data(), (uint16_t)in.size(), &merged);
		EXPECT_EQ(merged, in.size() - k);
		out.assign(in.begin(), in.begin() + k);
		return k;
	}
	static Bytes payload(const rte_mbuf *m)
	{
		Bytes b = mbuf_bytes(m);
		size_t ih = (b[14] & 0xf) * 4u;
		size_t th = (b[14 + ih + 12] >> 4) * 4u;
		return Bytes(b.begin() + 14 + ih + th, b.end());
	}
	static Bytes cat(const std::vector<Seg> &v, size_t from, size_t to)
	{
		Bytes b;
		for (size_t i = from; i < to; i++)
			b.insert(b.end(), v[i].data.begin(), v[i].data.end());
		return b;
	}
	static uint32_t segs_of(const rte_mbuf *m)
	{
		Bytes b = mbuf_bytes(m);
		size_t ih = (b[14] & 0xf) * 4u;
		size_t th = (b[14 + ih + 12] >> 4) * 4u;
		return tern_ol_rx_segs(m, (uint32_t)(b.size() - 14 - ih - th));
	}
	std::vector<rte_mbuf *> out;
};

}  // namespace

TEST_F(Gro, MergesInOrderSegmentsByteExactWithTheLastHeaderFields)
{
	for (bool split : {false, true}) {
		std::vector<Seg> v = run(5);
		// the ACK, window and timestamps advance; the last has PSH
		for (unsigned i = 0; i < 5; i++) {
			v[i].ack = 1000 + i * 10;
			v[i].win = (uint16_t)(500 + i);
			v[i].tsval = 7 + i;
			v[i].tsecr = 9 + i;
		}
		v[4].flags |= RTE_TCP_PSH_FLAG;
		v[4].data.resize(700);	// a short last segment
		ASSERT_EQ(gro(v, 0, split), 1u) << "split " << split;
		rte_mbuf *m = out[0];
		EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_RX_LRO);
		EXPECT_EQ(m->tso_segsz, kMss);
		EXPECT_EQ(segs_of(m), 5u);
		EXPECT_EQ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK),
			  RTE_MBUF_F_RX_IP_CKSUM_GOOD);
		EXPECT_EQ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK),
			  RTE_MBUF_F_RX_L4_CKSUM_GOOD);
		EXPECT_EQ(payload(m), cat(v, 0, 5));
		Bytes b = mbuf_bytes(m);
		EXPECT_EQ(get16(&b[14 + 2]), b.size() - 14) << "IP total length";
		EXPECT_EQ(inet_cksum(&b[14], 20), 0) << "IP header checksum";
		const uint8_t *th = &b[34];
		EXPECT_EQ(get32(th + 4), kSeq0) << "the first segment's seq";
		EXPECT_EQ(get32(th + 8), 1040u) << "the last ACK";
		EXPECT_EQ(get16(th + 14), 504) << "the last window";
		EXPECT_EQ(th[13], RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
		EXPECT_EQ(get32(th + 24), 11u) << "the last TSval";
		EXPECT_EQ(get32(th + 28), 13u) << "the last TSecr";
		if (split) {	// the header mbufs merged away went at once
			EXPECT_LE(m->nb_segs, 6);
		}
		clear();
	}
}

TEST_F(Gro, PortVerdictsAreTakenAndBadChecksumsAreNotMerged)
{
	// the port said good: merged without summing (a checksum made
	// wrong does not matter, the port's word stands)
	std::vector<Seg> v = run(3);
	uint64_t good = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	{
		std::vector<rte_mbuf *> in;
		for (unsigned i = 0; i < 3; i++) {
			Bytes f = frame(v[i]);
			f[34 + 16] ^= 0x01;
			in.push_back(mbuf_from(pool, f));
			in.back()->ol_flags = good;
		}
		uint32_t merged = 0;
		ASSERT_EQ(tern_ol_gro_tcp4(in.data(), 3, &merged), 1u);
		out.assign(in.begin(), in.begin() + 1);
	}
	EXPECT_EQ(payload(out[0]), cat(v, 0, 3));

	// software finds the second segment's checksum bad: it stays alone,
	// unmarked (TCP drops and counts it), and nothing merges across it
	clear();
	std::vector<rte_mbuf *> in;
	for (unsigned i = 0; i < 3; i++) {
		Bytes f = frame(v[i]);
		if (i == 1)
			f.back() ^= 0x40;
		in.push_back(mbuf_from(pool, f));
	}
	uint32_t merged = 0;
	ASSERT_EQ(tern_ol_gro_tcp4(in.data(), 3, &merged), 3u);
	EXPECT_EQ(merged, 0u);
	EXPECT_EQ(in[1]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
		  RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	EXPECT_EQ(in[1]->ol_flags & RTE_MBUF_F_RX_LRO, 0u);
	out.assign(in.begin(), in.end());

	// the port said bad
	clear();
	EXPECT_EQ(gro(v, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD), 3u);
}

TEST_F(Gro, GapsFlagsAndLongerSegmentsEndAPacket)
{
	// a gap: two packets
	std::vector<Seg> v = run(4);
	v[2].seq += 1;
	v[3].seq += 1;
	ASSERT_EQ(gro(v), 2u);
	EXPECT_EQ(payload(out[0]), cat(v, 0, 2));
	EXPECT_EQ(payload(out[1]), cat(v, 2, 4));

	// FIN, SYN, RST, URG, ECE/CWR: not merged, and the flow's order kept
	for (uint8_t fl : {RTE_TCP_FIN_FLAG, RTE_TCP_RST_FLAG, RTE_TCP_URG_FLAG,
			   RTE_TCP_ECE_FLAG, RTE_TCP_CWR_FLAG}) {
		clear();
		v = run(4);
		v[2].flags |= fl;
		ASSERT_EQ(gro(v), 3u) << "flag " << (int)fl;
		EXPECT_EQ(payload(out[0]), cat(v, 0, 2));
		EXPECT_EQ(payload(out[1]), cat(v, 2, 3));
		EXPECT_EQ(payload(out[2]), cat(v, 3, 4));
	}

	// PSH ends the packet it is in; a shorter segment too; a longer
	// one than the first starts a new packet
	clear();
	v = run(6);
	v[1].flags |= RTE_TCP_PSH_FLAG;
	ASSERT_EQ(gro(v), 2u);
	EXPECT_EQ(payload(out[0]), cat(v, 0, 2));
	EXPECT_EQ(segs_of(out[0]), 2u);
	EXPECT_EQ(payload(out[1]), cat(v, 2, 6));
	EXPECT_EQ(segs_of(out[1]), 4u);

	clear();
	v = run(4, 1000);
	v[3].data.resize(1200);
	v[2].data.resize(1000);
	ASSERT_EQ(gro(v), 2u);

	// an ACK going back, a timestamp going back: not merged
	clear();
	v = run(3);
	v[1].ack = 999;
	ASSERT_EQ(gro(v), 2u);
	EXPECT_EQ(payload(out[0]), cat(v, 0, 1));
	clear();
	v = run(3);
	v[0].tsval = 100;
	v[1].tsval = 99;
	v[2].tsval = 99;
	EXPECT_EQ(gro(v), 2u);
	// other options than the timestamps must be the same
	clear();
	v = run(2);
	v[1].ts = false;
	EXPECT_EQ(gro(v), 2u);

	// pure ACKs are not merged
	clear();
	v = run(3, 0);
	EXPECT_EQ(gro(v), 3u);
}

TEST_F(Gro, FlowsMergeApartInTheirOwnOrder)
{
	// a1 b1 a2 b2 a3: two packets, a's first (where a1 was)
	std::vector<Seg> a = run(3), b = run(2);
	for (Seg &s : b) {
		s.sport = 4321;
		s.seq += 5000000;
	}
	std::vector<Seg> mix = {a[0], b[0], a[1], b[1], a[2]};
	ASSERT_EQ(gro(mix), 2u);
	EXPECT_EQ(payload(out[0]), cat(a, 0, 3));
	EXPECT_EQ(payload(out[1]), cat(b, 0, 2));
	EXPECT_EQ(segs_of(out[0]), 3u);
	EXPECT_EQ(segs_of(out[1]), 2u);
}

TEST_F(Gro, IpOptionsFragmentsAndOtherHeadersAreLeftAlone)
{
	std::vector<Seg> v = run(3);
	for (Seg &s : v)
		s.ip.ihl = 6;	// 4 bytes of options
	EXPECT_EQ(gro(v), 3u);
	clear();
	v = run(3);
	v[1].ip.frag = 0x2000;	// MF
	EXPECT_EQ(gro(v), 3u);
	clear();
	v = run(3);
	v[1].ip.ttl = 3;	// another path
	EXPECT_EQ(gro(v), 3u);
	clear();
	// a UDP datagram between two segments changes nothing
	v = run(2);
	std::vector<rte_mbuf *> in = {mbuf_from(pool, frame(v[0])),
				      mbuf_from(pool, udp_frame(kMacB, kIpB, 53, pattern(100))),
				      mbuf_from(pool, frame(v[1]))};
	uint32_t merged = 0;
	ASSERT_EQ(tern_ol_gro_tcp4(in.data(), 3, &merged), 2u);
	EXPECT_EQ(merged, 1u);
	out.assign(in.begin(), in.begin() + 2);
	EXPECT_EQ(payload(out[0]), cat(v, 0, 2));
}

// ---- TCP over the wire with GRO -----------------------------------------

namespace {

class TcpGro : public Tcp {
protected:
	uint64_t data_frames(int side)
	{
		uint64_t n = 0;
		for (const Frame &f : tcp_from(side))
			n += payload_len(f) > 0;
		return n;
	}
};

class TcpNoGro : public TcpGro {
protected:
	void conf_stack(tern_stack_conf &sc, int) override { sc.no_gro = true; }
};

}  // namespace

TEST_F(TcpGro, BulkArrivesByteExactMergedAndCountedAsWireSegments)
{
	establish();
	tern_stack_stats b0 = stats(B);
	size_t f0 = frames.size();
	Bytes data = send_bulk(client, 300000, 16000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }))
		<< describe();
	EXPECT_EQ(server.got, data);
	tern_stack_stats b1 = stats(B);
	uint64_t merged = counter(b1, "eth.rx_gro_merged") -
			  counter(b0, "eth.rx_gro_merged");
	EXPECT_GT(merged, 100u) << describe();
	// tcp.rx_segs and eth.rx_pkts still count what the wire carried
	uint64_t wire = 0;
	for (size_t i = f0; i < frames.size(); i++)
		wire += frames[i].side == 0;
	EXPECT_EQ(b1.tcp_rx_segs - b0.tcp_rx_segs, wire);
	EXPECT_EQ(b1.eth_rx_pkts - b0.eth_rx_pkts, wire);
	EXPECT_EQ(drops_total(b1), drops_total(b0)) << describe();
	// a merged packet of several full segments is ACKed at once: no
	// more ACKs than one per merged packet plus the quick ACKs, and
	// fewer than one for every second wire segment
	uint64_t acks = 0;
	for (const Frame &f : tcp_from(1))
		acks += pure_ack(f);
	EXPECT_LT(acks, data_frames(0) / 2);
}

TEST_F(TcpGro, MergedSegmentsAreAckedAtOnceAndALoneOneIsDelayed)
{
	establish();
	// past the quick ACKs of the start (one per segment taken)
	for (int i = 0; i < 20; i++) {
		Bytes b = pattern(100, (uint8_t)i);
		ASSERT_EQ(tern_tcp_write(A, client.c, b.data(), 100), 100);
		pump();
		step_ms(100);
	}
	ASSERT_EQ(server.got.size(), 2000u);
	size_t before = frames.size();
	// three segments in one burst: one packet, one ACK for all of it,
	// sent at once (every second full segment, RFC 5681 4.2)
	Bytes three = pattern(3 * kMss, 9);
	ASSERT_EQ(tern_tcp_write(A, client.c, three.data(), (uint32_t)three.size()),
		  (int)three.size());
	pump();
	std::vector<Frame> acks;
	for (size_t i = before; i < frames.size(); i++)
		if (frames[i].side == 1 && pure_ack(frames[i]))
			acks.push_back(frames[i]);
	ASSERT_EQ(acks.size(), 1u) << describe();
	tern_tcp_info ci = info(0, client.c);
	EXPECT_EQ(ack_of(acks[0]), ci.snd_nxt);
	EXPECT_EQ(ci.snd_una, ci.snd_nxt) << "everything acknowledged without waiting";

	// one segment alone: the ACK waits (delayed ACK), then comes
	before = frames.size();
	Bytes one = pattern(100, 4);
	ASSERT_EQ(tern_tcp_write(A, client.c, one.data(), 100), 100);
	pump();
	for (size_t i = before; i < frames.size(); i++)
		EXPECT_FALSE(frames[i].side == 1 && pure_ack(frames[i]))
			<< "a lone segment is ACKed after the delay";
	step_ms(50);
	bool acked = false;
	for (size_t i = before; i < frames.size(); i++)
		acked |= frames[i].side == 1 && pure_ack(frames[i]);
	EXPECT_TRUE(acked);
}

TEST_F(TcpGro, LossAndReorderStillRecover)
{
	establish();
	// every 7th data frame of the client lost once: the out-of-order
	// and SACK paths take merged packets as they took segments
	std::set<uint32_t> lost;
	unsigned n = 0;
	drop = [&](int side, const Frame &f) {
		if (side != 0 || !is_tcp(f) || payload_len(f) == 0)
			return false;
		uint32_t s = seq_of(f);
		if (++n % 7 == 0 && lost.insert(s).second)
			return true;
		return false;
	};
	Bytes data = send_bulk(client, 200000, 16000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000))
		<< describe();
	EXPECT_EQ(server.got, data);
	EXPECT_GT(stats(B).eth_rx_gro_merged, 0u);
	EXPECT_GT(stats(B).tcp_ooo_queued, 0u);
}

TEST_F(TcpNoGro, SwitchedOffNothingMerges)
{
	establish();
	Bytes data = send_bulk(client, 100000, 16000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(stats(B).eth_rx_gro_merged, 0u);
}

namespace {
enum tern_verdict count_frames(void *arg, struct rte_mbuf *,
			       const struct tern_hook_ctx *)
{
	++*static_cast<unsigned *>(arg);
	return TERN_HOOK_CONTINUE;
}
}  // namespace

TEST_F(TcpGro, InputHooksSeeWireFrames)
{
	// as TSO packets are cut before ETH_OUTPUT hooks: while a hook
	// listens on ETH_INPUT (a capture), nothing is merged
	establish();
	unsigned seen = 0;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(B), TERN_HOOK_ETH_INPUT, "count",
				count_frames, &seen), 0);
	size_t f0 = frames.size();
	Bytes data = send_bulk(client, 100000, 16000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(stats(B).eth_rx_gro_merged, 0u);
	unsigned wire = 0;
	for (size_t i = f0; i < frames.size(); i++)
		wire += frames[i].side == 0;
	EXPECT_EQ(seen, wire);
	tern_hook_del(tern_stack_hooks(B), TERN_HOOK_ETH_INPUT, "count");
}
