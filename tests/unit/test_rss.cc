// RSS steering (DESIGN rule 8): the Toeplitz hash against the Microsoft
// RSS verification suite, the symmetry of tern's key, source-port choice
// checked by a reference Toeplitz written here from Microsoft's
// pseudocode, the ephemeral split, the frame classifier, per-stack ranges
// and two stacks configured as two workers of one host.
#include "harness.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include <rte_errno.h>
#include <rte_thash.h>

#include <tern/rss.h>
#include <tern/udp_gen.h>

using namespace tt;

namespace {

// Microsoft's sample key ("Verifying the RSS Hash Calculation"; also the
// 82599 datasheet, 7.1.2.8.3 "RSS Verification Suite").
const uint8_t kMsKey[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

// The reference: Microsoft's ComputeHash, bit by bit, over the input as it
// sits in the packet (src addr, dst addr, src port, dst port).
uint32_t ref_toeplitz(const uint8_t *key, size_t klen, const Bytes &in)
{
	uint32_t result = 0;
	for (size_t i = 0; i < in.size() * 8; i++) {
		if (!(in[i / 8] >> (7 - i % 8) & 1))
			continue;
		uint32_t w = 0;	// the 32 key bits starting at bit i
		for (size_t j = 0; j < 32; j++) {
			size_t kb = i + j;
			unsigned bit = kb / 8 < klen ? key[kb / 8] >> (7 - kb % 8) & 1 : 0;
			w = w << 1 | bit;
		}
		result ^= w;
	}
	return result;
}

Bytes tuple(uint32_t src, uint32_t dst, int sport = -1, int dport = -1)
{
	Bytes b(sport < 0 ? 8 : 12);
	put32(&b[0], src);
	put32(&b[4], dst);
	if (sport >= 0) {
		put16(&b[8], (uint16_t)sport);
		put16(&b[10], (uint16_t)dport);
	}
	return b;
}

uint32_t ip(int a, int b, int c, int d)
{
	return (uint32_t)a << 24 | b << 16 | c << 8 | d;
}

struct MsVector {
	uint32_t dst;
	uint16_t dport;
	uint32_t src;
	uint16_t sport;
	uint32_t l3, l4;
};

const MsVector kMsV4[] = {
	{ip(161, 142, 100, 80), 1766, ip(66, 9, 149, 187), 2794, 0x323e8fc2, 0x51ccc178},
	{ip(65, 69, 140, 83), 4739, ip(199, 92, 111, 2), 14230, 0xd718262a, 0xc626b0ea},
	{ip(12, 22, 207, 184), 38024, ip(24, 19, 198, 95), 12898, 0xd2d0a5de, 0x5c2b394a},
	{ip(209, 142, 163, 6), 2217, ip(38, 27, 205, 30), 48228, 0x82989176, 0xafc7327f},
	{ip(202, 188, 127, 2), 1303, ip(153, 39, 163, 191), 44251, 0x5d1809c5, 0x10e828a2},
};

std::vector<uint8_t> sym_key(unsigned len = 40)
{
	std::vector<uint8_t> k(len);
	tern_rss_key_symmetric(k.data(), len);
	return k;
}

// The queue the reference computes for the tuple, like the NIC would.
uint16_t ref_queue(const std::vector<uint8_t> &key,
		   const std::vector<uint16_t> &reta, uint32_t src,
		   uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint32_t h = ref_toeplitz(key.data(), key.size(),
				  tuple(src, dst, sport, dport));
	return reta[h & (reta.size() - 1)];
}

struct Steer {
	std::vector<uint8_t> key;
	std::vector<uint16_t> reta;
	tern_rss_steer *st = nullptr;
	Steer(std::vector<uint8_t> k, std::vector<uint16_t> r, uint16_t q,
	      bool udp = true)
		: key(std::move(k)), reta(std::move(r))
	{
		tern_rss_conf c;
		memset(&c, 0, sizeof(c));
		c.key = key.data();
		c.key_len = (unsigned)key.size();
		c.reta = reta.data();
		c.reta_size = (unsigned)reta.size();
		c.queue = q;
		c.hash_udp = udp;
		c.hash_tcp = true;
		st = tern_rss_steer_create(&c);
	}
	~Steer() { tern_rss_steer_free(st); }
};

std::vector<uint16_t> round_robin(unsigned size, unsigned nq)
{
	std::vector<uint16_t> r(size);
	for (unsigned i = 0; i < size; i++)
		r[i] = (uint16_t)(i % nq);
	return r;
}

bool set_busy(void *arg, uint16_t port)
{
	return static_cast<std::set<uint16_t> *>(arg)->count(port) != 0;
}

}  // namespace

// ---- Toeplitz ------------------------------------------------------------

TEST(Rss, MicrosoftVerificationSuiteIpv4)
{
	tern_rss_key k;
	ASSERT_EQ(tern_rss_key_init(&k, kMsKey, sizeof(kMsKey)), 0);
	for (const MsVector &v : kMsV4) {
		// the reference itself first: it is what checks the steering
		EXPECT_EQ(ref_toeplitz(kMsKey, 40, tuple(v.src, v.dst)), v.l3);
		EXPECT_EQ(ref_toeplitz(kMsKey, 40,
				       tuple(v.src, v.dst, v.sport, v.dport)), v.l4);
		EXPECT_EQ(tern_rss_hash_v4_l3(&k, rte_cpu_to_be_32(v.src),
					      rte_cpu_to_be_32(v.dst)), v.l3);
		EXPECT_EQ(tern_rss_hash_v4(&k, rte_cpu_to_be_32(v.src),
					   rte_cpu_to_be_32(v.dst), v.sport,
					   v.dport), v.l4);
	}
}

TEST(Rss, KeyLengths)
{
	tern_rss_key k;
	EXPECT_EQ(tern_rss_key_init(&k, kMsKey, 12), -EINVAL);
	EXPECT_EQ(tern_rss_key_init(&k, kMsKey, 39), -EINVAL);
	auto big = sym_key(68);
	EXPECT_EQ(tern_rss_key_init(&k, big.data(), 68), -EINVAL);
	auto k52 = sym_key(52);	// i40e's length
	EXPECT_EQ(tern_rss_key_init(&k, k52.data(), 52), 0);
	EXPECT_EQ(tern_rss_hash_v4(&k, RTE_BE32(0x0a000001), RTE_BE32(0x0a000002),
				   1234, 80),
		  ref_toeplitz(k52.data(), 52, tuple(0x0a000001, 0x0a000002, 1234, 80)));
}

TEST(Rss, SymmetricKeyHashesBothDirectionsAlike)
{
	auto key = sym_key();
	tern_rss_key sym, ms;
	ASSERT_EQ(tern_rss_key_init(&sym, key.data(), 40), 0);
	ASSERT_EQ(tern_rss_key_init(&ms, kMsKey, 40), 0);
	std::mt19937 rng(1);
	unsigned ms_same = 0;
	for (int i = 0; i < 2000; i++) {
		rte_be32_t a = rng(), b = rng();
		uint16_t pa = (uint16_t)rng(), pb = (uint16_t)rng();
		EXPECT_EQ(tern_rss_hash_v4(&sym, a, b, pa, pb),
			  tern_rss_hash_v4(&sym, b, a, pb, pa));
		EXPECT_EQ(tern_rss_hash_v4_l3(&sym, a, b),
			  tern_rss_hash_v4_l3(&sym, b, a));
		ms_same += tern_rss_hash_v4(&ms, a, b, pa, pb) ==
			   tern_rss_hash_v4(&ms, b, a, pb, pa);
	}
	// the property is the key's: Microsoft's key splits directions
	EXPECT_LT(ms_same, 10u);
}

// Why steering does not use rte_thash's predictable-RSS helpers: adding a
// helper rewrites the key bits under the subtuple (an m-sequence), which
// is a different key than the one the NIC has, and no longer symmetric.
TEST(Rss, ThashHelperRewritesTheSymmetricKey)
{
	auto key = sym_key();
	rte_thash_ctx *ctx = rte_thash_init_ctx("tern_test_thash", 40, 7,
						key.data(), 0);
	ASSERT_NE(ctx, nullptr) << rte_strerror(rte_errno);
	// the helper over the destination port (bits 80..95 of the tuple)
	ASSERT_EQ(rte_thash_add_helper(ctx, "dport", 16, 80), 0);
	const uint8_t *k2 = rte_thash_get_key(ctx);
	EXPECT_NE(memcmp(k2, key.data(), 40), 0);
	std::vector<uint8_t> changed(k2, k2 + 40);
	rte_thash_free_ctx(ctx);

	tern_rss_key k;
	ASSERT_EQ(tern_rss_key_init(&k, changed.data(), 40), 0);
	unsigned asym = 0;
	std::mt19937 rng(2);
	for (int i = 0; i < 200; i++) {
		rte_be32_t a = rng(), b = rng();
		uint16_t pa = (uint16_t)rng(), pb = (uint16_t)rng();
		asym += tern_rss_hash_v4(&k, a, b, pa, pb) !=
			tern_rss_hash_v4(&k, b, a, pb, pa);
	}
	EXPECT_GT(asym, 100u);
}

// ---- steering --------------------------------------------------------------

TEST(RssSteer, PortsLandOnTheWantedQueueManyTuplesAndRetas)
{
	std::mt19937 rng(3);
	const unsigned sizes[] = {1, 4, 64, 128, 512, 2048};
	unsigned checked = 0;
	for (unsigned size : sizes) {
		for (unsigned nq : {1u, 2u, 3u, 4u, 8u}) {
			// a round-robin RETA (what tern programs) and a random one
			for (int kind = 0; kind < 2; kind++) {
				std::vector<uint16_t> reta = round_robin(size, nq);
				if (kind == 1)
					for (auto &e : reta)
						e = (uint16_t)(rng() % nq);
				for (uint16_t q = 0; q < nq; q++) {
					Steer s(sym_key(), reta, q);
					ASSERT_NE(s.st, nullptr);
					bool has = std::count(reta.begin(), reta.end(), q) > 0;
					uint32_t cursor = rng();
					for (int t = 0; t < 40; t++) {
						uint32_t loc = rng(), rem = rng();
						uint16_t rport = (uint16_t)rng();
						// aligned halves and odd ranges alike
						uint16_t lo = (uint16_t)(1024 + rng() % 60000);
						uint16_t hi = (uint16_t)std::min<uint32_t>(
							65535, lo + 200 + rng() % 5000);
						uint16_t port = 0;
						int rc = tern_rss_steer_port(
							s.st, IPPROTO_UDP, rte_cpu_to_be_32(loc),
							rte_cpu_to_be_32(rem), rport, lo, hi,
							&cursor, nullptr, nullptr, &port);
						if (!has) {
							ASSERT_EQ(rc, -ENOENT);
							continue;
						}
						ASSERT_EQ(rc, 0) << size << " " << nq;
						ASSERT_GE(port, lo);
						ASSERT_LE(port, hi);
						// the return traffic: remote -> local
						ASSERT_EQ(ref_queue(s.key, reta, rem, loc, rport, port), q)
							<< "size " << size << " nq " << nq << " port " << port;
						ASSERT_EQ(tern_rss_steer_queue(s.st, IPPROTO_UDP,
							rte_cpu_to_be_32(rem), rte_cpu_to_be_32(loc),
							rport, port), q);
						checked++;
					}
				}
			}
		}
	}
	EXPECT_GT(checked, 5000u);
}

// Every port of the range that lands on the queue comes out once, then
// -EADDRINUSE; the count matches a brute-force scan by the reference.
TEST(RssSteer, EnumeratesEverySteeredPortOnce)
{
	for (unsigned size : {128u, 512u}) {
		auto reta = round_robin(size, 3);
		Steer s(sym_key(), reta, 2);
		ASSERT_NE(s.st, nullptr);
		uint32_t loc = 0x0a320001, rem = 0x0a320002;
		uint16_t rport = 7, lo = 50001, hi = 52999;	// unaligned
		std::set<uint16_t> want;
		for (unsigned p = lo; p <= hi; p++)
			if (ref_queue(s.key, reta, rem, loc, rport, (uint16_t)p) == 2)
				want.insert((uint16_t)p);
		std::set<uint16_t> busy;
		uint32_t cursor = 12345;
		uint16_t port;
		int rc;
		while ((rc = tern_rss_steer_port(s.st, IPPROTO_TCP,
				rte_cpu_to_be_32(loc), rte_cpu_to_be_32(rem), rport,
				lo, hi, &cursor, set_busy, &busy, &port)) == 0) {
			ASSERT_TRUE(busy.insert(port).second) << port;
			ASSERT_LE(busy.size(), want.size());
		}
		EXPECT_EQ(rc, -EADDRINUSE);
		EXPECT_EQ(busy, want);
		// about a third of the range, as the RETA says
		EXPECT_NEAR((double)want.size(), (hi - lo + 1) / 3.0, 150);
	}
}

TEST(RssSteer, SuccessivePicksDifferWithoutBusyTable)
{
	Steer s(sym_key(), round_robin(128, 2), 1);
	ASSERT_NE(s.st, nullptr);
	uint32_t cursor = 0;
	std::set<uint16_t> seen;
	for (int i = 0; i < 500; i++) {
		uint16_t port;
		ASSERT_EQ(tern_rss_steer_port(s.st, IPPROTO_UDP, RTE_BE32(0x0a000001),
					      RTE_BE32(0x0a000002), 7, 49152, 57343,
					      &cursor, nullptr, nullptr, &port), 0);
		seen.insert(port);
	}
	EXPECT_EQ(seen.size(), 500u);
}

TEST(RssSteer, WhenPortsCannotSteer)
{
	// the port hashes UDP on the addresses only: any port is as good
	Steer noudp(sym_key(), round_robin(128, 2), 1, false);
	uint32_t cursor = 0;
	uint16_t port;
	EXPECT_EQ(tern_rss_steer_port(noudp.st, IPPROTO_UDP, 1, 2, 7, 49152,
				      65535, &cursor, nullptr, nullptr, &port),
		  -EOPNOTSUPP);
	EXPECT_EQ(tern_rss_steer_port(noudp.st, IPPROTO_TCP, 1, 2, 7, 49152,
				      65535, &cursor, nullptr, nullptr, &port), 0);
	// a queue no RETA entry points at
	Steer none(sym_key(), round_robin(128, 2), 5);
	EXPECT_EQ(tern_rss_steer_port(none.st, IPPROTO_UDP, 1, 2, 7, 49152,
				      65535, &cursor, nullptr, nullptr, &port),
		  -ENOENT);
	// an all-zero key hashes everything to 0: only entry 0's queue
	Steer zero0(std::vector<uint8_t>(40, 0), round_robin(128, 2), 0);
	Steer zero1(std::vector<uint8_t>(40, 0), round_robin(128, 2), 1);
	EXPECT_EQ(tern_rss_steer_port(zero0.st, IPPROTO_UDP, 1, 2, 7, 49152,
				      65535, &cursor, nullptr, nullptr, &port), 0);
	EXPECT_EQ(tern_rss_steer_port(zero1.st, IPPROTO_UDP, 1, 2, 7, 49152,
				      65535, &cursor, nullptr, nullptr, &port),
		  -ENOENT);
	// bad arguments
	EXPECT_EQ(tern_rss_steer_port(zero0.st, IPPROTO_UDP, 1, 2, 7, 0, 10,
				      &cursor, nullptr, nullptr, &port), -EINVAL);
	EXPECT_EQ(tern_rss_steer_port(zero0.st, IPPROTO_UDP, 1, 2, 7, 10, 9,
				      &cursor, nullptr, nullptr, &port), -EINVAL);
	tern_rss_conf c;
	memset(&c, 0, sizeof(c));
	auto key = sym_key();
	std::vector<uint16_t> reta(100, 0);	// not a power of two
	c.key = key.data();
	c.key_len = 40;
	c.reta = reta.data();
	c.reta_size = 100;
	EXPECT_EQ(tern_rss_steer_create(&c), nullptr);
	EXPECT_EQ(rte_errno, EINVAL);
}

// ---- the ephemeral split ---------------------------------------------------

TEST(EphSplit, WorkersGetContiguousDisjointParts)
{
	for (unsigned n : {1u, 2u, 3u, 7u, 64u}) {
		tern_eph_split sp;
		ASSERT_EQ(tern_eph_split_init(&sp, 0, 0, n), 0);
		EXPECT_EQ(sp.lo, 49152);
		EXPECT_EQ(sp.hi, 65535);
		unsigned next = 49152;
		for (unsigned i = 0; i < n; i++) {
			uint16_t lo, hi;
			tern_eph_split_range(&sp, i, &lo, &hi);
			EXPECT_EQ(lo, next) << n << " " << i;
			EXPECT_GE(hi, lo);
			EXPECT_LE(hi - lo, 16384 / n);
			EXPECT_EQ(tern_eph_split_owner(&sp, lo), (int)i);
			EXPECT_EQ(tern_eph_split_owner(&sp, hi), (int)i);
			next = hi + 1u;
		}
		EXPECT_EQ(next, 65536u);
		EXPECT_EQ(tern_eph_split_owner(&sp, 49151), -1);
		EXPECT_EQ(tern_eph_split_owner(&sp, 80), -1);
	}
	tern_eph_split sp;
	ASSERT_EQ(tern_eph_split_init(&sp, 10000, 10009, 3), 0);
	std::vector<int> owners;
	for (unsigned p = 10000; p <= 10009; p++)
		owners.push_back(tern_eph_split_owner(&sp, (uint16_t)p));
	EXPECT_EQ(owners, (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}));
	// two workers: halves aligned to 8192, so steering stays inside
	ASSERT_EQ(tern_eph_split_init(&sp, 0, 0, 2), 0);
	uint16_t lo, hi;
	tern_eph_split_range(&sp, 1, &lo, &hi);
	EXPECT_EQ(lo, 57344);
	EXPECT_EQ(hi, 65535);

	EXPECT_EQ(tern_eph_split_init(&sp, 0, 0, 0), -EINVAL);
	EXPECT_EQ(tern_eph_split_init(&sp, 100, 99, 1), -EINVAL);
	EXPECT_EQ(tern_eph_split_init(&sp, 0, 99, 1), -EINVAL);
	EXPECT_EQ(tern_eph_split_init(&sp, 100, 101, 3), -EINVAL);
}

// ---- the classifier ----------------------------------------------------------

namespace {

Bytes tcp_seg(uint16_t sport, uint16_t dport)
{
	Bytes t(20);
	put16(&t[0], sport);
	put16(&t[2], dport);
	t[12] = 5 << 4;
	return t;
}

// An ICMP error from X quoting a datagram A sent from sport.
Bytes icmp_error(uint8_t type, uint8_t proto, uint16_t sport,
		 const Ip4Opts &quoted = Ip4Opts())
{
	Bytes l4 = proto == 17 ? udp(kIpA, kIpX, sport, 53, pattern(20))
			       : tcp_seg(sport, 80);
	Bytes q = ip4(kIpA, kIpX, proto, l4, quoted);
	q.resize(28);	// header + 8 bytes (RFC 792)
	return eth(kMacA, kMacX, kEthIp4,
		   ip4(kIpX, kIpA, 1, icmp(type, 3, 0, 0, q)));
}

class Classifier : public PoolTest<256> {
protected:
	void SetUp() override
	{
		ASSERT_NO_FATAL_FAILURE(PoolTest::SetUp());
		ASSERT_EQ(tern_eph_split_init(&sp, 0, 0, 2), 0);
	}
	int owner(const Bytes &b, size_t split = 0, size_t seg = 0)
	{
		rte_mbuf *m = mbuf_from(pool, b, split, seg);
		EXPECT_NE(m, nullptr);
		if (m == nullptr)
			return -2;
		int o = tern_steer_owner(&sp, m);
		rte_pktmbuf_free(m);
		return o;
	}
	tern_eph_split sp;
};

}  // namespace

TEST_F(Classifier, DestinationPortNamesTheOwner)
{
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 49152, pattern(10))), 0);
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 57343, pattern(10))), 0);
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 57344, pattern(10))), 1);
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 65535, pattern(10))), 1);
	EXPECT_EQ(owner(eth(kMacA, kMacX, kEthIp4,
			    ip4(kIpX, kIpA, 6, tcp_seg(80, 60000)))), 1);
	// the header split over segments changes nothing
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 60000, pattern(100)), 20, 7), 1);
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 60000, pattern(100)), 35, 1), 1);
}

TEST_F(Classifier, IcmpErrorsGoToTheSenderOfTheQuotedPacket)
{
	EXPECT_EQ(owner(icmp_error(3, 17, 60000)), 1);	// port unreachable
	EXPECT_EQ(owner(icmp_error(3, 17, 50000)), 0);
	EXPECT_EQ(owner(icmp_error(11, 6, 60000)), 1);	// time exceeded
	EXPECT_EQ(owner(icmp_error(12, 17, 60000)), 1);	// parameter problem
	EXPECT_EQ(owner(icmp_error(3, 17, 80)), -1);	// not an ephemeral port
	Ip4Opts frag;
	frag.frag = 10;	// a quoted later fragment carries no ports
	EXPECT_EQ(owner(icmp_error(3, 17, 60000, frag)), -1);
	Bytes cut = icmp_error(3, 17, 60000);
	cut.resize(14 + 20 + 8 + 20 + 2);	// quoted ports cut off
	EXPECT_EQ(owner(cut), -1);
}

TEST_F(Classifier, WhatNobodyOwnsStaysWhereItLanded)
{
	// a flow the peer opened (to a listening port)
	EXPECT_EQ(owner(udp_frame(kMacA, kIpA, 7, pattern(10), kIpX, 60000)), -1);
	// ARP, echo requests, other protocols
	EXPECT_EQ(owner(eth(kBcast, kMacX, kEthArp,
			    arp(1, kMacX, kIpX, kZero, kIpA))), -1);
	EXPECT_EQ(owner(eth(kMacA, kMacX, kEthIp4,
			    ip4(kIpX, kIpA, 1, icmp(8, 0, 1, 1, pattern(8))))), -1);
	EXPECT_EQ(owner(eth(kMacA, kMacX, kEthIp4,
			    ip4(kIpX, kIpA, 47, pattern(20)))), -1);
	// fragments: NICs hash them on addresses only
	Ip4Opts mf;
	mf.frag = 0x2000;
	EXPECT_EQ(owner(eth(kMacA, kMacX, kEthIp4,
			    ip4(kIpX, kIpA, 17, udp(kIpX, kIpA, 5, 60000, pattern(8)), mf))),
		  -1);
	// truncated and malformed headers
	Bytes b = udp_frame(kMacA, kIpA, 60000, pattern(10));
	b.resize(14 + 20 + 2);
	EXPECT_EQ(owner(b), -1);
	b = udp_frame(kMacA, kIpA, 60000, pattern(10));
	b[14] = 0x65;	// version 6
	EXPECT_EQ(owner(b), -1);
	b[14] = 0x44;	// IHL 4
	EXPECT_EQ(owner(b), -1);
	EXPECT_EQ(owner(Bytes(10, 0)), -1);
}

// ---- stacks: ranges and the port choice ----------------------------------------

namespace {

// Stack A with its own part of the range.
class EphRange : public UdpPair {
protected:
	void conf_stack(tern_stack_conf &c, int side) override
	{
		if (side == 0) {
			c.ephemeral_lo = 50000;
			c.ephemeral_hi = 50009;
		}
	}
};

}  // namespace

TEST_F(EphRange, Port0BindsInTheStacksRange)
{
	uint16_t lo, hi;
	tern_stack_ephemeral_range(A, &lo, &hi);
	EXPECT_EQ(lo, 50000);
	EXPECT_EQ(hi, 50009);
	tern_stack_ephemeral_range(B, &lo, &hi);
	EXPECT_EQ(lo, 49152);
	EXPECT_EQ(hi, 65535);
	// UdpPair opened pa on port 0
	EXPECT_EQ(tern_udp_local_port(pa), 50000);
	std::vector<tern_udp_pcb *> more;
	Rx rx;
	for (int i = 0; i < 9; i++) {
		tern_udp_pcb *p = open(A, 0, &rx);
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(tern_udp_local_port(p), 50001 + i);
		more.push_back(p);
	}
	EXPECT_EQ(open(A, 0, &rx), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
	uint16_t port;
	tern_addr dst = v4(kIpB);
	EXPECT_EQ(tern_stack_pick_port(A, IPPROTO_UDP, nullptr, &dst, 7, &port),
		  -EADDRINUSE);
	tern_udp_close(A, more[3]);
	EXPECT_EQ(tern_stack_pick_port(A, IPPROTO_UDP, nullptr, &dst, 7, &port), 0);
	EXPECT_EQ(port, 50004);
	for (auto *p : more)
		if (p != more[3])
			tern_udp_close(A, p);
}

TEST(EphConf, BadRangeRefused)
{
	rte_mempool *pool = make_pool(16);
	tern_clock clk;
	tern_clock_init_virtual(&clk, 0);
	tern_stack_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.pool = pool;
	sc.clock = &clk;
	sc.ephemeral_lo = 6000;
	sc.ephemeral_hi = 5000;
	EXPECT_EQ(tern_stack_create(&sc), nullptr);
	EXPECT_EQ(rte_errno, EINVAL);
	sc.ephemeral_lo = 0;
	sc.ephemeral_hi = 5000;
	EXPECT_EQ(tern_stack_create(&sc), nullptr);
	EXPECT_TRUE(pool_full(pool));
	rte_mempool_free(pool);
}

TEST_F(UdpPair, PickPortSteersWhenTheLinkHasRss)
{
	auto key = sym_key();
	auto reta = round_robin(128, 4);
	tern_rss_conf c;
	memset(&c, 0, sizeof(c));
	c.key = key.data();
	c.key_len = 40;
	c.reta = reta.data();
	c.reta_size = 128;
	c.queue = 3;
	c.hash_udp = c.hash_tcp = true;
	ASSERT_EQ(tern_stack_set_link_rss(A, 0, &c), 0);
	std::vector<tern_udp_pcb *> pcbs;
	Rx rx;
	std::set<uint16_t> ports;
	for (int i = 0; i < 50; i++) {
		uint16_t rport = (uint16_t)(7000 + i % 3);
		tern_addr dst = v4(kIpB);
		uint16_t port;
		ASSERT_EQ(tern_stack_pick_port(A, IPPROTO_UDP, nullptr, &dst, rport,
					       &port), 0);
		EXPECT_GE(port, 49152);
		// what B's replies would hash to on A's link
		EXPECT_EQ(ref_queue(key, reta, kIpB, kIpA, rport, port), 3);
		tern_udp_pcb *p = open(A, port, &rx);
		ASSERT_NE(p, nullptr);
		pcbs.push_back(p);
		ports.insert(port);
	}
	EXPECT_EQ(ports.size(), 50u);
	// a local address given explicitly: the same rule
	tern_addr la = v4(kIpA), dst = v4(kIpB);
	uint16_t port;
	ASSERT_EQ(tern_stack_pick_port(A, IPPROTO_UDP, &la, &dst, 9, &port), 0);
	EXPECT_EQ(ref_queue(key, reta, kIpB, kIpA, 9, port), 3);
	// another link's RSS does not apply; forgetting it goes back to plain
	ASSERT_EQ(tern_stack_set_link_rss(A, 0, nullptr), 0);
	ASSERT_EQ(tern_stack_pick_port(A, IPPROTO_UDP, nullptr, &dst, 9, &port), 0);
	EXPECT_EQ(tern_stack_pick_port(A, IPPROTO_ICMP, nullptr, &dst, 9, &port),
		  -EPROTONOSUPPORT);
	tern_addr v6;
	memset(&v6, 0, sizeof(v6));
	EXPECT_EQ(tern_stack_pick_port(A, IPPROTO_UDP, nullptr, &v6, 9, &port),
		  -EINVAL);
	for (auto *p : pcbs)
		tern_udp_close(A, p);
}

// ---- the bug: every worker's UDP client sent from the same 5-tuple ---------

namespace {

// Two stacks configured as the data plane configures two workers of one
// host: the same interface (MAC, address) on one link, each its part of
// the ephemeral range and, when rss, the link's RSS with its own queue.
class TwoWorkers : public ::testing::Test {
protected:
	void make(bool rss)
	{
		tern_clock_init_virtual(&clk, TERN_NS_PER_S);
		pool = make_pool();
		ASSERT_NE(pool, nullptr);
		tern_eph_split sp;
		ASSERT_EQ(tern_eph_split_init(&sp, 0, 0, 2), 0);
		key = sym_key();
		reta = round_robin(128, 2);
		for (unsigned w = 0; w < 2; w++) {
			tern_stack_conf sc;
			memset(&sc, 0, sizeof(sc));
			sc.name = w ? "w1" : "w0";
			sc.lcore = w + 1;
			sc.pool = pool;
			sc.clock = &clk;
			tern_eph_split_range(&sp, w, &sc.ephemeral_lo,
					     &sc.ephemeral_hi);
			s[w] = tern_stack_create(&sc);
			ASSERT_NE(s[w], nullptr);
			tern_iface_conf ic;
			memset(&ic, 0, sizeof(ic));
			ic.ifindex = kIfA;
			ic.link = 0;
			ic.mac = ether(kMacA);
			ic.tx = capture_tx;
			ic.tx_ctx = &out[w];
			ASSERT_EQ(tern_iface_add(s[w], &ic), 0);
			tern_addr a = v4(kIpA), b = v4(kIpB);
			ASSERT_EQ(tern_iface_addr_add(s[w], kIfA, &a, 24), 0);
			rte_ether_addr mb = ether(kMacB);
			ASSERT_EQ(tern_neigh_add(s[w], kIfA, &b, &mb), 0);
			if (rss) {
				tern_rss_conf c;
				memset(&c, 0, sizeof(c));
				c.key = key.data();
				c.key_len = 40;
				c.reta = reta.data();
				c.reta_size = 128;
				c.queue = (uint16_t)w;
				c.hash_udp = c.hash_tcp = true;
				ASSERT_EQ(tern_stack_set_link_rss(s[w], 0, &c), 0);
			}
		}
	}
	void TearDown() override
	{
		for (auto *g : gens)
			tern_udp_gen_destroy(g);
		for (auto *st : s)
			if (st)
				tern_stack_destroy(st);
		if (pool) {
			EXPECT_TRUE(pool_full(pool));
			rte_mempool_free(pool);
		}
	}
	// One client per worker to B:7; the source port of what each sent.
	std::array<uint16_t, 2> run_clients()
	{
		std::array<uint16_t, 2> sport = {0, 0};
		for (unsigned w = 0; w < 2; w++) {
			tern_udp_gen_conf c;
			memset(&c, 0, sizeof(c));
			c.role = TERN_GEN_CLIENT;
			c.remote = v4(kIpB);
			c.remote_port = 7;
			c.size = 64;
			c.rate_pps = 1000;
			c.count = 1;
			tern_udp_gen *g = tern_udp_gen_create(s[w], &c);
			EXPECT_NE(g, nullptr) << rte_strerror(rte_errno);
			if (!g)
				return sport;
			gens.push_back(g);
			EXPECT_EQ(tern_udp_gen_start(g), 0);
			EXPECT_EQ(tern_udp_gen_poll(g), 1u);
			EXPECT_EQ(out[w].size(), 1u);
			if (out[w].size() != 1 || !out[w][0].is_ip4(17))
				return sport;
			sport[w] = get16(out[w][0].l4());
			EXPECT_EQ(out[w][0].ip_src(), kIpA);
			tern_udp_gen_stats st;
			tern_udp_gen_stats_get(g, &st);
			EXPECT_EQ(st.local_port, sport[w]);
		}
		return sport;
	}
	tern_clock clk;
	rte_mempool *pool = nullptr;
	tern_stack *s[2] = {nullptr, nullptr};
	std::vector<Frame> out[2];
	std::vector<tern_udp_gen *> gens;
	std::vector<uint8_t> key;
	std::vector<uint16_t> reta;
};

}  // namespace

TEST_F(TwoWorkers, ClientsSendFromDistinctTuples)
{
	make(false);
	auto sport = run_clients();
	EXPECT_NE(sport[0], sport[1]);
	// each from its own worker's part of the range
	EXPECT_GE(sport[0], 49152);
	EXPECT_LE(sport[0], 57343);
	EXPECT_GE(sport[1], 57344);
}

TEST_F(TwoWorkers, WithRssEachClientsEchoesHashToItsOwnQueue)
{
	make(true);
	auto sport = run_clients();
	EXPECT_NE(sport[0], sport[1]);
	for (unsigned w = 0; w < 2; w++) {
		EXPECT_EQ(ref_queue(key, reta, kIpB, kIpA, 7, sport[w]), w)
			<< "worker " << w << " port " << sport[w];
		// and its own range still: the classifier's rule holds too
		tern_eph_split sp;
		ASSERT_EQ(tern_eph_split_init(&sp, 0, 0, 2), 0);
		EXPECT_EQ(tern_eph_split_owner(&sp, sport[w]), (int)w);
	}
}
