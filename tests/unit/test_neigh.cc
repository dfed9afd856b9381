// The neighbour table: every RFC 4861 7.3 state transition (through ARP),
// entries that traffic keeps alive without hard expiry, LRU eviction,
// flush/delete, and the multi-lcore sharing of confirmations.
#include "harness.h"

#include <map>

using namespace tt;

namespace {

struct Entry {
	bool found = false;
	tern_neigh_info info{};
};

void find_cb(void *arg, const tern_neigh_info *info)
{
	auto *e = static_cast<std::pair<uint32_t, Entry> *>(arg);
	if (info->ip.v4 == rte_cpu_to_be_32(e->first)) {
		e->second.found = true;
		e->second.info = *info;
	}
}

class Neigh : public UdpPair {
protected:
	Neigh() { resolve = false; }
	Entry entry(tern_stack *s, uint32_t ip)
	{
		std::pair<uint32_t, Entry> e{ip, Entry()};
		tern_neigh_walk(s, 0, find_cb, &e);
		return e.second;
	}
	int state(tern_stack *s, uint32_t ip)
	{
		Entry e = entry(s, ip);
		return e.found ? e.info.state : 0;
	}
	// A resolves B through the wire and delivers one datagram.
	void resolve_b()
	{
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
		pump();
		ASSERT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
		frames.clear();
	}
	// B's ARP replies are lost.
	void mute_b()
	{
		drop = [](int side, const Frame &f) { return side == 1 && f.is_arp(); };
	}
	// Advances ms in 1 ms steps, as a loop running its timers does.
	void run_ms(uint64_t ms)
	{
		for (uint64_t i = 0; i < ms; i++)
			step_ms(1);
	}
	// Steps ms in 1 ms steps until pred() or the budget runs out.
	template <class P> uint64_t step_until(uint64_t max_ms, P pred)
	{
		for (uint64_t i = 0; i < max_ms; i++) {
			if (pred())
				return i;
			step_ms(1);
		}
		return max_ms;
	}
	size_t requests_from_a(bool unicast)
	{
		size_t n = 0;
		for (const Frame &f : arp_from(0, 1))
			if ((f.dst() != kBcast) == unicast)
				n++;
		return n;
	}
};

}  // namespace

TEST_F(Neigh, IncompleteToReachableOnReply)
{
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	Entry e = entry(A, kIpB);
	ASSERT_TRUE(e.found);
	EXPECT_EQ(e.info.state, TERN_NEIGH_INCOMPLETE);
	EXPECT_EQ(e.info.queued, 1u);
	EXPECT_EQ(e.info.probes, 1u);
	EXPECT_EQ(e.info.ifindex, kIfA);
	pump();
	e = entry(A, kIpB);
	EXPECT_EQ(e.info.state, TERN_NEIGH_REACHABLE);
	EXPECT_EQ(mac_of(e.info.mac), kMacB);
	EXPECT_EQ(e.info.queued, 0u);
	EXPECT_EQ(e.info.confirmed_ago_ns, 0u);
	EXPECT_EQ(rxb.got.size(), 1u);
	// B learned A from the request: an address, not a confirmation.
	EXPECT_EQ(state(B, kIpA), TERN_NEIGH_STALE);
}

TEST_F(Neigh, IncompleteToStaleOnRequestFromTheNeighbour)
{
	mute_b();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(2)), 0);
	pump();
	ASSERT_EQ(state(A, kIpB), TERN_NEIGH_INCOMPLETE);
	// B asks for A: A learns B's address (RFC 4861 7.2.3: STALE) and
	// sends what waited; using a STALE entry moves it to DELAY.
	inject(A, eth(kBcast, kMacB, kEthArp, arp(1, kMacB, kIpB, kZero, kIpA)));
	pump();
	EXPECT_EQ(rxb.got.size(), 2u);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_DELAY);
	EXPECT_EQ(drops_total(stats(A)), 0u);
}

TEST_F(Neigh, IncompleteFailsAfterMulticastSolicits)
{
	mute_b();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	pump();
	run_ms(2999);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_INCOMPLETE);
	run_ms(1);
	EXPECT_EQ(state(A, kIpB), 0) << "deleted after MAX_MULTICAST_SOLICIT";
	EXPECT_EQ(stats(A).neigh_failed, 1u);
	EXPECT_EQ(stats(A).neigh_drop_unresolved, 1u);
	EXPECT_EQ(requests_from_a(false), 3u);
}

TEST_F(Neigh, ReachableGoesStaleAfterReachableTime)
{
	resolve_b();
	// RFC 4861 6.3.2: ReachableTime in [0.5, 1.5) x 30 s.
	step(15 * TERN_NS_PER_S - TERN_NS_PER_MS);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
	uint64_t waited = step_until(30001, [&] {
		return state(A, kIpB) == TERN_NEIGH_STALE;
	});
	EXPECT_LT(waited, 30001u) << "stale by 45 s";
	EXPECT_TRUE(frames.empty()) << "going stale sends nothing";
	// Still usable without asking: lookup answers.
	rte_ether_addr m;
	tern_addr b = v4(kIpB);
	EXPECT_EQ(tern_neigh_lookup(A, kIfA, &b, &m), 0);
	EXPECT_EQ(mac_of(m), kMacB);
}

TEST_F(Neigh, StaleToDelayOnUseThenReachableByUpperLayerConfirmation)
{
	resolve_b();
	step(46 * TERN_NS_PER_S);
	ASSERT_EQ(state(A, kIpB), TERN_NEIGH_STALE);
	frames.clear();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(2)), 0);
	pump();
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_DELAY);
	EXPECT_EQ(rxb.got.size(), 2u) << "sent at once with the known address";
	EXPECT_EQ(arp_from(0).size(), 0u);
	// TCP would confirm on new data acknowledged (RFC 4861 7.3.1).
	step_ms(1000);
	tern_addr b = v4(kIpB);
	ASSERT_EQ(tern_neigh_confirm(A, kIfA, &b), 0);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
	step_ms(6000);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
	EXPECT_EQ(arp_from(0).size(), 0u) << "no probe was needed";
}

TEST_F(Neigh, DelayToProbeToReachable)
{
	resolve_b();
	step(46 * TERN_NS_PER_S);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(2)), 0);
	pump();
	ASSERT_EQ(state(A, kIpB), TERN_NEIGH_DELAY);
	frames.clear();
	mute_b();
	run_ms(4999);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_DELAY);
	run_ms(1);	// DELAY_FIRST_PROBE_TIME
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_PROBE);
	auto req = arp_from(0, 1);
	ASSERT_EQ(req.size(), 1u);
	EXPECT_EQ(req[0].dst(), kMacB) << "a PROBE solicitation is unicast";
	EXPECT_EQ(req[0].arp_tpa(), kIpB);
	// Packets still flow while probing.
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(3)), 0);
	pump();
	EXPECT_EQ(rxb.got.size(), 3u);
	// The next probe is answered.
	drop = nullptr;
	step_ms(1000);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
	EXPECT_EQ(requests_from_a(false), 0u) << "no broadcast at any point";
	EXPECT_EQ(drops_total(stats(A)), 0u);
}

TEST_F(Neigh, ProbeFailsAfterUnicastSolicitsAndTrafficResolvesAgain)
{
	resolve_b();
	step(46 * TERN_NS_PER_S);
	mute_b();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(2)), 0);
	pump();
	run_ms(5000);
	ASSERT_EQ(state(A, kIpB), TERN_NEIGH_PROBE);
	run_ms(2999);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_PROBE);
	run_ms(1);
	EXPECT_EQ(state(A, kIpB), 0) << "MAX_UNICAST_SOLICIT unanswered";
	EXPECT_EQ(requests_from_a(true), 3u);
	EXPECT_EQ(stats(A).neigh_failed, 1u);
	EXPECT_EQ(stats(A).neigh_drop_unresolved, 0u) << "nothing was queued";
	// The next packet resolves afresh, by broadcast.
	drop = nullptr;
	frames.clear();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(4)), 0);
	pump();
	EXPECT_EQ(requests_from_a(false), 1u);
	EXPECT_EQ(rxb.got.size(), 3u);
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
}

TEST_F(Neigh, UnsolicitedNewAddressMakesStaleSameAddressChangesNothing)
{
	resolve_b();
	uint64_t learned = stats(A).neigh_learned;
	// A request from B with the same MAC: nothing changes.
	inject(A, eth(kBcast, kMacB, kEthArp, arp(1, kMacB, kIpB, kZero, kIpA)));
	pump();
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
	EXPECT_EQ(stats(A).neigh_learned, learned);
	// A gratuitous ARP moving B to another MAC: STALE with it.
	const Mac kNew = {0x02, 0, 0, 0, 0, 0x22};
	inject(A, eth(kBcast, kNew, kEthArp, arp(1, kNew, kIpB, kZero, kIpB)));
	Entry e = entry(A, kIpB);
	EXPECT_EQ(e.info.state, TERN_NEIGH_STALE);
	EXPECT_EQ(mac_of(e.info.mac), kNew);
	EXPECT_EQ(stats(A).neigh_learned, learned + 1);
	// A reply to us (solicited) confirms it again.
	inject(A, eth(kMacA, kNew, kEthArp, arp(2, kNew, kIpB, kMacA, kIpA)));
	EXPECT_EQ(state(A, kIpB), TERN_NEIGH_REACHABLE);
}

TEST_F(Neigh, GratuitousForUnknownHostCreatesNothing)
{
	inject(A, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpX)));
	EXPECT_EQ(state(A, kIpX), 0);
	EXPECT_EQ(tern_neigh_count(A, nullptr), 0u);
}

TEST_F(Neigh, BadSendersAreNotLearned)
{
	// Our own address, broadcast, multicast, a multicast MAC.
	inject(A, eth(kMacA, kMacX, kEthArp, arp(2, kMacX, kIpA, kMacA, kIpA)));
	inject(A, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, 0xffffffff, kZero, kIpA)));
	inject(A, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, 0xe0000001, kZero, kIpA)));
	const Mac mc = {0x01, 0, 0x5e, 0, 0, 1};
	inject(A, eth(kBcast, kMacX, kEthArp, arp(1, mc, kIpX, kZero, kIpA)));
	EXPECT_EQ(tern_neigh_count(A, nullptr), 0u);
	EXPECT_EQ(stats(A).arp_drop_bad_sender, 3u);
	EXPECT_TRUE(arp_from(0, 2).empty()) << "no reply to a bad sender";
}

// The point of the state machine: a neighbour in use is never hard-expired.
// A sends for ten minutes; B answers probes; nothing queues, nothing drops,
// no broadcast after the first resolution.
TEST_F(Neigh, TrafficKeepsEntryUsableForever)
{
	resolve_b();
	size_t sent = 1;
	for (int i = 0; i < 600; i++) {
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(4)), 0);
		sent++;
		step_ms(1000);
		ASSERT_NE(state(A, kIpB), TERN_NEIGH_INCOMPLETE) << i;
		ASSERT_EQ(entry(A, kIpB).info.queued, 0u);
	}
	EXPECT_EQ(rxb.got.size(), sent);
	EXPECT_EQ(requests_from_a(false), 0u);
	// Re-confirmed by unicast probes: at most one per ReachableTime (15 s)
	// + DELAY (5 s), and at least one per 45 s + 5 s.
	size_t probes = requests_from_a(true);
	EXPECT_GE(probes, 600u / 50);
	EXPECT_LE(probes, 600u / 20 + 1);
	EXPECT_EQ(drops_total(stats(A)), 0u);
	EXPECT_EQ(stats(A).neigh_failed, 0u);
}

TEST_F(Neigh, FlushAndDelete)
{
	drop = [](int, const Frame &) { return true; };
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	tern_addr x = v4(kIpX);
	rte_ether_addr mx = ether(kMacX);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &x, &mx), 0);
	EXPECT_EQ(tern_neigh_count(A, nullptr), 2u);
	EXPECT_EQ(tern_neigh_del(A, kIfA, &x), 0);
	EXPECT_EQ(tern_neigh_del(A, kIfA, &x), -ENOENT);
	EXPECT_EQ(tern_neigh_flush(A, 77), 0u) << "another interface";
	EXPECT_EQ(tern_neigh_flush(A, 0), 1u);
	EXPECT_EQ(tern_neigh_count(A, nullptr), 0u);
	EXPECT_EQ(stats(A).neigh_drop_flushed, 1u) << "the queued datagram";
	step_ms(5000);
	EXPECT_EQ(stats(A).arp_tx_requests, 1u) << "its timer went with it";
}

class NeighSmall : public Neigh {
protected:
	void conf_stack(tern_stack_conf &c, int) override { c.neigh_max = 8; }
};

TEST_F(NeighSmall, EvictsLeastRecentlyUsed)
{
	unsigned cap = 0;
	tern_neigh_count(A, &cap);
	ASSERT_EQ(cap, 8u);
	auto ip = [](unsigned i) { return 0x0a000010u + i; };
	for (unsigned i = 0; i < 8; i++) {
		tern_addr a = v4(ip(i));
		rte_ether_addr m = ether(Mac({2, 0, 0, 0, 1, (uint8_t)i}));
		ASSERT_EQ(tern_neigh_add(A, kIfA, &a, &m), 0);
		step_ms(200);
	}
	// Use every entry but #3, oldest first, so #3 is the least recent.
	drop = [](int, const Frame &) { return true; };
	for (unsigned i = 0; i < 8; i++) {
		if (i == 3)
			continue;
		ASSERT_EQ(send(A, pa, ip(i), 7000, pattern(1)), 0);
		step_ms(200);
	}
	tern_addr a = v4(ip(8));
	rte_ether_addr m = ether(Mac({2, 0, 0, 0, 1, 8}));
	ASSERT_EQ(tern_neigh_add(A, kIfA, &a, &m), 0);
	EXPECT_EQ(state(A, ip(3)), 0) << "the least recently used went";
	for (unsigned i = 0; i <= 8; i++) {
		if (i != 3) {
			EXPECT_NE(state(A, ip(i)), 0) << i;
		}
	}
	EXPECT_EQ(stats(A).neigh_evicted, 1u);
	EXPECT_EQ(stats(A).neigh_drop_table_full, 0u);
}

TEST_F(NeighSmall, ChurnThroughSmallTable)
{
	// Thousands of neighbours through an 8-entry table: the table keeps
	// the 8 most recent; every other one was evicted, none refused.
	drop = [](int, const Frame &) { return true; };
	const unsigned n = 2000;
	auto ip = [](unsigned i) { return 0x0a010000u + i * 7u + 1; };
	for (unsigned i = 0; i < n; i++) {
		tern_addr a = v4(ip(i));
		rte_ether_addr m = ether(Mac({2, 0, 0, (uint8_t)(i >> 8), (uint8_t)i, 1}));
		ASSERT_EQ(tern_neigh_add(A, kIfA, &a, &m), 0) << i;
		step_ms(150);
	}
	EXPECT_EQ(tern_neigh_count(A, nullptr), 8u);
	for (unsigned i = n - 8; i < n; i++)
		EXPECT_NE(state(A, ip(i)), 0) << i;
	EXPECT_EQ(stats(A).neigh_evicted, n - 8);
	EXPECT_EQ(stats(A).neigh_drop_table_full, 0u);
	// An unresolved entry evicted takes its queue with it, counted.
	ASSERT_EQ(send(A, pa, 0x0a0000aa, 7000, pattern(1)), 0);
	for (unsigned i = 0; i < 8; i++) {
		tern_addr a = v4(0x0a020000u + i);
		rte_ether_addr m = ether(Mac({2, 0, 0, 9, 9, (uint8_t)i}));
		step_ms(150);
		ASSERT_EQ(tern_neigh_add(A, kIfA, &a, &m), 0);
	}
	EXPECT_EQ(stats(A).neigh_drop_evicted, 1u);
}

// Two lcores of one host (A0, A1, one interface each, same address and
// MAC) send to B. As on an RSS port, every frame B sends reaches A0 only,
// so the replies to A1's probes land on A0. A0's learn callback carries
// what it learns or confirms to A1 (the data plane does it with a
// message). Before every confirmation was shared, A1's entry failed its
// probes after ReachableTime and its traffic queued and dropped.
namespace {

struct Port {
	std::vector<rte_mbuf *> q;
};

uint16_t to_port(void *ctx, rte_mbuf **pkts, uint16_t n)
{
	auto *p = static_cast<Port *>(ctx);
	for (uint16_t i = 0; i < n; i++)
		p->q.push_back(pkts[i]);
	return n;
}

struct Share {
	tern_stack *to;
	unsigned calls = 0;
};

void share_cb(void *arg, uint16_t ifindex, const tern_addr *ip,
	      const rte_ether_addr *mac, unsigned flags)
{
	auto *sh = static_cast<Share *>(arg);
	sh->calls++;
	tern_neigh_update(sh->to, ifindex, ip, mac, flags);
}

class TwoLcores : public ::testing::Test {
protected:
	void SetUp() override
	{
		tern_clock_init_virtual(&clk, 1000 * TERN_NS_PER_S);
		pool = make_pool(4000);
		ASSERT_NE(pool, nullptr);
		const char *names[3] = {"A0", "A1", "B"};
		for (int i = 0; i < 3; i++) {
			tern_stack_conf sc;
			memset(&sc, 0, sizeof(sc));
			sc.name = names[i];
			sc.lcore = (unsigned)i;
			sc.pool = pool;
			sc.clock = &clk;
			sc.seed = 7 + (uint64_t)i;
			st[i] = tern_stack_create(&sc);
			ASSERT_NE(st[i], nullptr);
			tern_iface_conf ic;
			memset(&ic, 0, sizeof(ic));
			ic.ifindex = i < 2 ? kIfA : kIfB;
			ic.mac = ether(i < 2 ? kMacA : kMacB);
			ic.tx = to_port;
			ic.tx_ctx = &out[i];
			ASSERT_EQ(tern_iface_add(st[i], &ic), 0);
			tern_addr a = v4(i < 2 ? kIpA : kIpB);
			ASSERT_EQ(tern_iface_addr_add(st[i], ic.ifindex, &a, 24), 0);
		}
		sh.to = st[1];
		tern_stack_set_neigh_cb(st[0], share_cb, &sh);
		for (int i = 0; i < 3; i++) {
			rx[i].got.clear();
			pcb[i] = tern_udp_open(st[i], nullptr, (uint16_t)(7000 + i),
					       rx_collect, &rx[i]);
			ASSERT_NE(pcb[i], nullptr);
		}
		pump();
	}
	void TearDown() override
	{
		for (int i = 0; i < 3; i++)
			for (rte_mbuf *m : out[i].q)
				rte_pktmbuf_free(m);
		for (int i = 0; i < 3; i++)
			tern_stack_destroy(st[i]);
		EXPECT_TRUE(pool_full(pool));
		rte_mempool_free(pool);
	}
	// A0 and A1 transmit to B; B transmits to A0 only (RSS queue 0).
	void pump()
	{
		for (int round = 0; round < 16; round++) {
			bool any = false;
			for (int i = 0; i < 3; i++) {
				std::vector<rte_mbuf *> q;
				q.swap(out[i].q);
				any |= !q.empty();
				tern_stack *to = i < 2 ? st[2] : st[0];
				for (rte_mbuf *m : q) {
					tern_ol_tx_finish(m, &none);
					tern_ol_reset(m, 0);
					tern_stack_input(to, 0, &m, 1);
				}
			}
			if (!any)
				break;
		}
	}
	int sendto(int i, uint32_t dst, uint16_t port)
	{
		rte_mbuf *m = tern_stack_alloc(st[i]);
		rte_pktmbuf_append(m, 8);
		tern_addr d = v4(dst);
		return tern_udp_sendto(st[i], pcb[i], &d, port, m);
	}
	void step_ms(uint64_t ms)
	{
		tern_clock_advance(&clk, ms * TERN_NS_PER_MS);
		for (int i = 0; i < 3; i++)
			tern_stack_run_timers(st[i]);
		pump();
	}
	tern_clock clk;
	rte_mempool *pool = nullptr;
	tern_stack *st[3] = {};
	Port out[3];
	Rx rx[3];
	tern_udp_pcb *pcb[3] = {};
	Share sh;
	const tern_ol_caps none{};
};

}  // namespace

TEST_F(TwoLcores, ConfirmationsReachTheLcoreThatProbed)
{
	// Both lcores talk to B for five minutes, one datagram each per
	// 100 ms; every ARP answer lands on A0.
	unsigned sent[2] = {0, 0};
	for (int t = 0; t < 3000; t++) {
		for (int i = 0; i < 2; i++) {
			ASSERT_EQ(sendto(i, kIpB, 7002), 0) << t;
			sent[i]++;
		}
		step_ms(100);
	}
	tern_stack_stats a1 = stats(st[1]);
	EXPECT_EQ(a1.neigh_failed, 0u) << "A1's probes were answered via A0";
	EXPECT_EQ(a1.neigh_drop_unresolved, 0u);
	EXPECT_EQ(a1.neigh_drop_queue_full, 0u);
	EXPECT_GE(a1.arp_tx_requests, 5u) << "A1 did re-probe by unicast";
	EXPECT_EQ(a1.arp_rx_replies, 0u) << "and never saw a reply itself";
	EXPECT_GE(sh.calls, a1.arp_tx_requests) << "each answer was shared";
	EXPECT_EQ(rx[2].got.size(), (size_t)(sent[0] + sent[1]))
		<< "B received everything both lcores sent";
}
