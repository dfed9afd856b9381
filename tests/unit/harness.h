// Test harness: packet builders, mbuf helpers, and the two-stack fixture
// (A 10.0.0.1/24 and B 10.0.0.2/24 joined by the in-memory wire, a
// virtual clock, one pool per test that must be full again at teardown —
// lwIP's leak check after every test).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <tern/addr.h>
#include <tern/clock.h>
#include <tern/stack.h>
#include <tern/stats.h>
#include <tern/tcp.h>
#include <tern/wire.h>

namespace tt {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

constexpr Mac kMacA = {0x02, 0, 0, 0, 0, 0x01};
constexpr Mac kMacB = {0x02, 0, 0, 0, 0, 0x02};
constexpr Mac kMacX = {0x02, 0, 0, 0, 0, 0x99};	// a host that is not a stack
constexpr Mac kMacGw = {0x02, 0, 0, 0, 0, 0xfe};
constexpr Mac kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kZero = {0, 0, 0, 0, 0, 0};

constexpr uint32_t kIpA = 0x0a000001;	// 10.0.0.1
constexpr uint32_t kIpB = 0x0a000002;	// 10.0.0.2
constexpr uint32_t kIpX = 0x0a000063;	// 10.0.0.99
constexpr uint32_t kIpGw = 0x0a0000fe;	// 10.0.0.254
constexpr uint16_t kIfA = 1;
constexpr uint16_t kIfB = 2;

constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kEthIp4 = 0x0800;

rte_ether_addr ether(const Mac &m);
Mac mac_of(const rte_ether_addr &e);
inline tern_addr v4(uint32_t host) { return tern_addr_v4h(host); }

// ---- checksums and builders (all multi-byte fields big endian) -------
uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum = 0);
uint16_t fold(uint32_t sum);	// ~folded sum
uint16_t inet_cksum(const uint8_t *p, size_t n, uint32_t seed = 0);
uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
uint16_t get16(const uint8_t *p);
uint32_t get32(const uint8_t *p);

Bytes eth(const Mac &dst, const Mac &src, uint16_t type, const Bytes &payload);

struct Ip4Opts {
	uint8_t ttl = 64;
	uint16_t id = 1;
	uint16_t frag = 0;	  // flags and offset, host order (0x2000 = MF)
	uint8_t ihl = 5;
	uint8_t version = 4;
	int total_len = -1;	  // -1: header + payload
	bool bad_cksum = false;
};
Bytes ip4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes &l4,
	  const Ip4Opts &o = Ip4Opts());

struct UdpOpts {
	int len = -1;		// -1: 8 + payload
	bool bad_cksum = false;
	bool zero_cksum = false;
};
Bytes udp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	  const Bytes &payload, const UdpOpts &o = UdpOpts());
Bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
	   const Bytes &payload, bool bad_cksum = false);

struct ArpOpts {
	uint16_t htype = 1;
	uint16_t ptype = 0x0800;
	uint8_t hlen = 6;
	uint8_t plen = 4;
};
Bytes arp(uint16_t op, const Mac &sha, uint32_t spa, const Mac &tha,
	  uint32_t tpa, const ArpOpts &o = ArpOpts());

// A whole UDP/IPv4/Ethernet frame from X (10.0.0.99) to dst.
Bytes udp_frame(const Mac &dmac, uint32_t dst, uint16_t dport,
		const Bytes &payload, uint32_t src = kIpX, uint16_t sport = 5555);
Bytes pattern(size_t n, uint8_t seed = 0);

// ---- mbufs --------------------------------------------------------------
// Not a power of two minus one: the pool's ring then has room for more
// than n, so a double free shows up as a count above n (see pool_check).
rte_mempool *make_pool(unsigned n = 1000);
// The leak check: every mbuf back, none twice (no per-lcore cache, so the
// ring count is exact; rte_mempool_avail_count would clamp to the size).
::testing::AssertionResult pool_full(const rte_mempool *mp);

// A test with a pool of N mbufs of its own, which must be full again at
// the end (every mbuf the code under test took, given back).
template <unsigned N> class PoolTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		pool = make_pool(N);
		ASSERT_NE(pool, nullptr);
	}
	void TearDown() override
	{
		EXPECT_TRUE(pool_full(pool));
		rte_mempool_free(pool);
	}
	rte_mempool *pool = nullptr;
};
// One segment, or a chain when split > 0: the first segment holds split
// bytes, the rest follow in segments of at most seg bytes.
rte_mbuf *mbuf_from(rte_mempool *mp, const Bytes &b, size_t split = 0,
		    size_t seg = 0);
Bytes mbuf_bytes(const rte_mbuf *m);
// One mbuf from mp whose data lives in an external buffer (as some PMDs
// deliver it, rte_pktmbuf_attach_extbuf); *freed counts the calls of the
// buffer's free callback, which must come exactly once.
rte_mbuf *mbuf_ext_from(rte_mempool *mp, const Bytes &b, int *freed);

// ---- stats ------------------------------------------------------------
tern_stack_stats stats(const tern_stack *s);
// "ip4.drop_bad_len" -> value
uint64_t counter(const tern_stack_stats &st, const std::string &name);
// Every drop_* counter whose value differs between a and b, "proto.name".
std::vector<std::string> drops_changed(const tern_stack_stats &a,
				       const tern_stack_stats &b);
uint64_t drops_total(const tern_stack_stats &st);

// ---- the captured frames -------------------------------------------------
struct Frame {
	int side;		// 0: sent by A, 1: sent by B
	Bytes b;
	uint64_t ol_flags;
	uint16_t l2_len, l3_len;
	uint16_t type() const { return b.size() >= 14 ? get16(&b[12]) : 0; }
	Mac dst() const;
	Mac src() const;
	const uint8_t *l3() const { return b.data() + 14; }
	bool is_arp(uint16_t op = 0) const;
	bool is_ip4(uint8_t proto = 0) const;
	uint16_t arp_op() const { return get16(&b[14 + 6]); }
	uint32_t arp_tpa() const { return get32(&b[14 + 24]); }
	uint32_t arp_spa() const { return get32(&b[14 + 14]); }
	Mac arp_sha() const;
	uint32_t ip_src() const { return get32(&b[14 + 12]); }
	uint32_t ip_dst() const { return get32(&b[14 + 16]); }
	size_t ip_hlen() const { return (b[14] & 0xf) * 4u; }
	const uint8_t *l4() const { return l3() + ip_hlen(); }
	size_t l4_len() const { return get16(&b[14 + 2]) - ip_hlen(); }
};

// A tx function that keeps a copy of each frame as the stack handed it to
// the port (before any NIC work, unlike the wire's tap) and frees it.
// ctx: a std::vector<Frame>.
uint16_t capture_tx(void *ctx, rte_mbuf **pkts, uint16_t n);

// Received UDP datagrams of one pcb.
struct Got {
	Bytes data;
	tern_addr src, dst;
	uint16_t sport;
	uint16_t nb_segs;
};
struct Rx {
	std::vector<Got> got;
};
void rx_collect(void *arg, tern_udp_pcb *pcb, rte_mbuf *m,
		const tern_addr *src, uint16_t sport, const tern_addr *dst);

// ---- TCP ----------------------------------------------------------------
// A connection from s to dst:port whose callbacks are ops with arg; lport
// 0: an ephemeral port. Null (rte_errno says why) when it cannot be made.
tern_tcp_conn *tcp_connect(tern_stack *s, uint32_t dst, uint16_t port,
			   const tern_tcp_ops *ops, void *arg,
			   const tern_tcp_opts &o = tern_tcp_opts(),
			   uint16_t lport = 0);
// Writes d from off on to c, at most chunk bytes a write, until all is
// written or the send queue takes no more; moves off. True when all is.
bool tcp_write_from(tern_stack *s, tern_tcp_conn *c, const Bytes &d,
		    size_t &off, size_t chunk = SIZE_MAX);

int wire_tap(void *arg, int from_side, rte_mbuf *m);

class TwoStacks : public ::testing::Test {
	friend int wire_tap(void *arg, int from_side, rte_mbuf *m);

protected:
	void SetUp() override;
	void TearDown() override;
	// Change the confs before the stacks are made.
	virtual void conf_stack(tern_stack_conf &, int /*side*/) {}
	virtual void conf_iface(tern_iface_conf &, int /*side*/) {}
	// Where the virtual clock starts (ns).
	virtual uint64_t clock_start_ns() const { return 1000 * TERN_NS_PER_S; }

	tern_stack *S(int side) { return side ? B : A; }
	// Advances the shared clock, runs both stacks' timers, pumps the wire.
	void step(uint64_t ns);
	void step_ms(uint64_t ms) { step(ms * TERN_NS_PER_MS); }
	unsigned pump() { return tern_wire_pump(w, 64); }
	void inject(tern_stack *s, const Bytes &b, uint64_t ol_flags = 0,
		    size_t split = 0, size_t seg = 0);
	// Sends payload from pcb with tern_udp_sendto; returns its result.
	int send(tern_stack *s, tern_udp_pcb *pcb, uint32_t dst, uint16_t dport,
		 const Bytes &payload);
	tern_udp_pcb *open(tern_stack *s, uint16_t port, Rx *rx,
			   uint32_t local = 0);
	// Both neighbour tables filled by hand: no ARP on the wire.
	void resolve_statically();
	std::vector<Frame> frames_from(int side) const;
	std::vector<Frame> arp_from(int side, uint16_t op = 0) const;

	tern_clock clk;
	rte_mempool *pool = nullptr;
	tern_stack *A = nullptr, *B = nullptr;
	tern_wire *w = nullptr;
	std::vector<Frame> frames;	// everything the tap saw, in order
	// Return true to drop a frame on the wire (fault injection).
	std::function<bool(int side, const Frame &)> drop;
};

// Two stacks with a UDP pcb each: A on an ephemeral port, B on port 7000,
// receiving into rxa/rxb. resolve_statically() first unless a subclass
// clears `resolve` in its constructor (to see ARP on the wire).
class UdpPair : public TwoStacks {
protected:
	void SetUp() override
	{
		TwoStacks::SetUp();
		if (HasFatalFailure())
			return;
		if (resolve)
			resolve_statically();
		pa = open(A, 0, &rxa);
		pb = open(B, 7000, &rxb);
		ASSERT_NE(pa, nullptr);
		ASSERT_NE(pb, nullptr);
	}
	bool resolve = true;
	Rx rxa, rxb;
	tern_udp_pcb *pa = nullptr, *pb = nullptr;
};

}  // namespace tt
