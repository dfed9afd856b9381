// ARP (RFC 826) between A and B over the wire: resolution, queueing while
// unresolved, retries and give-up, queue limit, gratuitous ARP (RFC 5227
// announcement), the learn callback, static neighbours. The neighbour
// state machine itself (RFC 4861 7.3) is in test_neigh.cc.
#include "harness.h"

using namespace tt;

namespace {

struct Learned {
	uint16_t ifindex;
	tern_addr ip;
	Mac mac;
	unsigned flags;
};

void learn_cb(void *arg, uint16_t ifindex, const tern_addr *ip,
	      const rte_ether_addr *mac, unsigned flags)
{
	auto *v = static_cast<std::vector<Learned> *>(arg);
	v->push_back({ifindex, *ip, mac_of(*mac), flags});
}

class Arp : public UdpPair {
protected:
	Arp() { resolve = false; }	// ARP is what is under test
	bool lookup(tern_stack *s, uint16_t ifindex, uint32_t ip, Mac *out = nullptr)
	{
		tern_addr a = v4(ip);
		rte_ether_addr m;
		if (tern_neigh_lookup(s, ifindex, &a, &m) != 0)
			return false;
		if (out)
			*out = mac_of(m);
		return true;
	}
	void drop_all() { drop = [](int, const Frame &) { return true; }; }
};

}  // namespace

TEST_F(Arp, RequestReplyResolves)
{
	EXPECT_FALSE(lookup(A, kIfA, kIpB));
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(32)), 0);
	pump();

	auto req = arp_from(0, 1);
	ASSERT_EQ(req.size(), 1u);
	EXPECT_EQ(req[0].dst(), kBcast);
	EXPECT_EQ(req[0].src(), kMacA);
	EXPECT_EQ(req[0].arp_sha(), kMacA);
	EXPECT_EQ(req[0].arp_spa(), kIpA);
	EXPECT_EQ(req[0].arp_tpa(), kIpB);
	EXPECT_EQ(get16(&req[0].b[14]), 1);	// htype Ethernet
	EXPECT_EQ(get16(&req[0].b[16]), 0x0800);
	EXPECT_EQ(req[0].b[18], 6);
	EXPECT_EQ(req[0].b[19], 4);

	auto rep = arp_from(1, 2);
	ASSERT_EQ(rep.size(), 1u);
	EXPECT_EQ(rep[0].dst(), kMacA);
	EXPECT_EQ(rep[0].arp_sha(), kMacB);
	EXPECT_EQ(rep[0].arp_spa(), kIpB);
	EXPECT_EQ(rep[0].arp_tpa(), kIpA);
	EXPECT_EQ(Mac({rep[0].b[32], rep[0].b[33], rep[0].b[34], rep[0].b[35],
		       rep[0].b[36], rep[0].b[37]}), kMacA);	// tha

	Mac m;
	ASSERT_TRUE(lookup(A, kIfA, kIpB, &m));
	EXPECT_EQ(m, kMacB);
	// RFC 826: the target of a request merges the sender's mapping.
	ASSERT_TRUE(lookup(B, kIfB, kIpA, &m));
	EXPECT_EQ(m, kMacA);

	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_EQ(rxb.got[0].data, pattern(32));
	auto sa = stats(A), sb = stats(B);
	EXPECT_EQ(sa.arp_tx_requests, 1u);
	EXPECT_EQ(sa.arp_rx_replies, 1u);
	EXPECT_EQ(sb.arp_rx_requests, 1u);
	EXPECT_EQ(sb.arp_tx_replies, 1u);
	EXPECT_EQ(sa.neigh_learned, 1u);
	EXPECT_EQ(sb.neigh_learned, 1u);
	EXPECT_EQ(drops_total(sa), 0u);
	EXPECT_EQ(drops_total(sb), 0u);

	// Resolved: the next packet goes without ARP.
	frames.clear();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(8)), 0);
	pump();
	EXPECT_TRUE(arp_from(0).empty());
	EXPECT_EQ(rxb.got.size(), 2u);
}

TEST_F(Arp, QueuedPacketsSentAfterReplyInOrder)
{
	for (uint8_t i = 0; i < 5; i++)
		ASSERT_EQ(send(A, pa, kIpB, 7000, Bytes{i}), 0);
	EXPECT_EQ(stats(A).arp_tx_requests, 1u) << "one request for the entry, not per packet";
	pump();
	EXPECT_EQ(arp_from(0, 1).size(), 1u);
	ASSERT_EQ(rxb.got.size(), 5u);
	for (uint8_t i = 0; i < 5; i++)
		EXPECT_EQ(rxb.got[i].data, Bytes{i});
	EXPECT_EQ(drops_total(stats(A)), 0u);
}

TEST_F(Arp, RetryThenDropUnresolved)
{
	drop_all();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(4)), 0);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(5)), 0);
	pump();
	auto before = stats(A);
	EXPECT_EQ(before.arp_tx_requests, 1u);

	// neigh_retrans_ms = 1000: one more request per second.
	step_ms(999);
	EXPECT_EQ(stats(A).arp_tx_requests, 1u);
	step_ms(1);
	EXPECT_EQ(stats(A).arp_tx_requests, 2u);
	step_ms(1000);
	EXPECT_EQ(stats(A).arp_tx_requests, 3u);
	step_ms(999);	// 2999 ms: still waiting for an answer
	EXPECT_EQ(stats(A).neigh_drop_unresolved, 0u);

	// MAX_MULTICAST_SOLICIT = 3 requests, then RetransTimer more: at 3 s
	// the queue goes (RFC 4861 7.2.2).
	step_ms(1);
	auto after = stats(A);
	EXPECT_EQ(after.neigh_drop_unresolved, 2u);
	EXPECT_EQ(after.neigh_failed, 1u);
	EXPECT_EQ(after.arp_tx_requests, 3u);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"neigh.drop_unresolved +2"}));
	for (const Frame &f : arp_from(0, 1)) {
		EXPECT_EQ(f.arp_tpa(), kIpB);
		EXPECT_EQ(f.dst(), kBcast);
	}

	// Given up: no more requests without new traffic.
	uint64_t req = after.arp_tx_requests;
	step_ms(10000);
	EXPECT_EQ(stats(A).arp_tx_requests, req);
	EXPECT_FALSE(lookup(A, kIfA, kIpB));

	// New traffic starts over, and this time the wire works.
	drop = nullptr;
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(6)), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_EQ(rxb.got[0].data, pattern(6));
}

class ArpSmallQueue : public Arp {
protected:
	void conf_stack(tern_stack_conf &c, int) override { c.neigh_queue_len = 4; }
};

TEST_F(ArpSmallQueue, QueueOverflowDropsTheOldest)
{
	drop_all();
	auto before = stats(A);
	for (uint8_t i = 0; i < 6; i++)
		EXPECT_EQ(send(A, pa, kIpB, 7000, Bytes{i}), 0)
			<< "queued; an older packet made room";
	pump();
	auto mid = stats(A);
	EXPECT_EQ(drops_changed(before, mid),
		  std::vector<std::string>({"neigh.drop_queue_full +2"}));

	drop = nullptr;
	step_ms(1000);	// retry goes through this time
	// RFC 4861 7.2.2: the new arrival replaces the oldest.
	ASSERT_EQ(rxb.got.size(), 4u);
	for (uint8_t i = 0; i < 4; i++)
		EXPECT_EQ(rxb.got[i].data, Bytes{(uint8_t)(i + 2)});
	EXPECT_EQ(stats(A).neigh_drop_unresolved, 0u);
}

TEST_F(Arp, GratuitousUpdatesPeerEntry)
{
	std::vector<Learned> lb;
	tern_stack_set_neigh_cb(B, learn_cb, &lb);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	pump();
	Mac m;
	ASSERT_TRUE(lookup(B, kIfB, kIpA, &m));
	ASSERT_EQ(m, kMacA);

	// A's interface comes back with a new MAC and announces itself.
	const Mac kNew = {0x02, 0, 0, 0, 0, 0x11};
	ASSERT_EQ(tern_iface_del(A, kIfA), 0);
	tern_iface_conf ic;
	memset(&ic, 0, sizeof(ic));
	ic.ifindex = kIfA;
	ic.link = 0;
	snprintf(ic.name, sizeof(ic.name), "ifA");
	ic.mac = ether(kNew);
	ic.tx = tern_wire_tx;
	ic.tx_ctx = tern_wire_end(w, 0);
	ASSERT_EQ(tern_iface_add(A, &ic), 0);
	tern_addr a = v4(kIpA);
	ASSERT_EQ(tern_iface_addr_add(A, kIfA, &a, 24), 0);
	frames.clear();
	lb.clear();
	uint64_t g0 = stats(A).arp_tx_gratuitous;
	ASSERT_EQ(tern_iface_announce(A, kIfA, &a), 0);
	EXPECT_EQ(stats(A).arp_tx_gratuitous, g0 + 1);
	pump();

	auto g = arp_from(0);
	ASSERT_GE(g.size(), 1u);
	const Frame &f = g.back();
	EXPECT_EQ(f.dst(), kBcast);
	EXPECT_EQ(f.src(), kNew);
	EXPECT_EQ(f.arp_sha(), kNew);
	EXPECT_EQ(f.arp_spa(), kIpA);
	EXPECT_EQ(f.arp_tpa(), kIpA) << "RFC 5227 announcement: spa == tpa";

	ASSERT_TRUE(lookup(B, kIfB, kIpA, &m));
	EXPECT_EQ(m, kNew);
	ASSERT_FALSE(lb.empty()) << "a changed entry is reported to the owner";
	EXPECT_EQ(lb.back().flags, 0u) << "an announcement confirms nothing";
	EXPECT_EQ(lb.back().ifindex, kIfB);
	EXPECT_EQ(lb.back().ip.v4, rte_cpu_to_be_32(kIpA));
	EXPECT_EQ(lb.back().mac, kNew);

	// B's traffic now reaches A at its new MAC.
	frames.clear();
	ASSERT_EQ(send(B, pb, kIpA, tern_udp_local_port(pa), pattern(9)), 0);
	pump();
	auto fb = frames_from(1);
	ASSERT_EQ(fb.size(), 1u);
	EXPECT_EQ(fb[0].dst(), kNew);
	ASSERT_EQ(rxa.got.size(), 1u);
}

TEST_F(Arp, GratuitousFromUnknownHostDoesNotFailAndAnnounceNeedsOwnAddress)
{
	tern_addr other = v4(kIpX);
	EXPECT_NE(tern_iface_announce(A, kIfA, &other), 0)
		<< "announcing an address the interface does not own";
	tern_addr a = v4(kIpA);
	EXPECT_EQ(tern_iface_announce(A, 77, &a), -ENOENT);
}

TEST_F(Arp, LearnCallbackFires)
{
	std::vector<Learned> la, lb;
	tern_stack_set_neigh_cb(A, learn_cb, &la);
	tern_stack_set_neigh_cb(B, learn_cb, &lb);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	pump();
	ASSERT_EQ(la.size(), 1u);
	EXPECT_EQ(la[0].flags, (unsigned)(TERN_NEIGH_F_CONFIRMED | TERN_NEIGH_F_CREATE))
		<< "a reply to us confirms";
	EXPECT_EQ(la[0].ifindex, kIfA);
	EXPECT_EQ(la[0].ip.family, TERN_AF_INET);
	EXPECT_EQ(la[0].ip.v4, rte_cpu_to_be_32(kIpB));
	EXPECT_EQ(la[0].mac, kMacB);
	ASSERT_EQ(lb.size(), 1u);
	EXPECT_EQ(lb[0].flags, (unsigned)TERN_NEIGH_F_CREATE)
		<< "a request gives the address, not reachability";
	EXPECT_EQ(lb[0].ifindex, kIfB);
	EXPECT_EQ(lb[0].ip.v4, rte_cpu_to_be_32(kIpA));
	EXPECT_EQ(lb[0].mac, kMacA);

	// tern_neigh_add does not call it (the owner already knows).
	tern_addr x = v4(kIpX);
	rte_ether_addr mx = ether(kMacX);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &x, &mx), 0);
	EXPECT_EQ(la.size(), 1u);
}

TEST_F(Arp, NeighAddReleasesQueue)
{
	drop_all();
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(1)), 0);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(2)), 0);
	pump();	// the request is lost
	EXPECT_TRUE(rxb.got.empty());
	drop = nullptr;
	frames.clear();
	tern_addr b = v4(kIpB);
	rte_ether_addr mb = ether(kMacB);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &b, &mb), 0);
	pump();
	ASSERT_EQ(rxb.got.size(), 2u);
	EXPECT_EQ(rxb.got[0].data, pattern(1));
	EXPECT_EQ(rxb.got[1].data, pattern(2));
	auto fa = frames_from(0);
	ASSERT_EQ(fa.size(), 2u) << "only the queued datagrams, no ARP";
	EXPECT_EQ(fa[0].dst(), kMacB);
	// The retry timer is gone with the queue: no late request or drop.
	step_ms(10000);
	EXPECT_EQ(stats(A).neigh_drop_unresolved, 0u);
	Mac m;
	ASSERT_TRUE(lookup(A, kIfA, kIpB, &m));
	EXPECT_EQ(m, kMacB);
}

TEST_F(Arp, NeighAddBadArgs)
{
	tern_addr b = v4(kIpB);
	rte_ether_addr mb = ether(kMacB);
	EXPECT_EQ(tern_neigh_add(A, 99, &b, &mb), -ENOENT);
	rte_ether_addr m;
	EXPECT_EQ(tern_neigh_lookup(A, kIfA, &b, &m), -ENOENT);
}

TEST_F(Arp, RequestForOurAddressIsAnswered)
{
	auto before = stats(A);
	inject(A, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpA)));
	pump();
	auto r = arp_from(0, 2);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].dst(), kMacX);
	EXPECT_EQ(r[0].src(), kMacA);
	EXPECT_EQ(r[0].arp_sha(), kMacA);
	EXPECT_EQ(r[0].arp_spa(), kIpA);
	EXPECT_EQ(r[0].arp_tpa(), kIpX);
	EXPECT_EQ(stats(A).arp_tx_replies, before.arp_tx_replies + 1);
	EXPECT_TRUE(drops_changed(before, stats(A)).empty());
}

TEST_F(Arp, RequestForOtherAddressNotAnswered)
{
	auto before = stats(A);
	inject(A, eth(kBcast, kMacX, kEthArp,
		      arp(1, kMacX, kIpX, kZero, 0x0a00004d /* 10.0.0.77 */)));
	pump();
	EXPECT_TRUE(frames_from(0).empty());
	auto after = stats(A);
	EXPECT_EQ(after.arp_tx_replies, before.arp_tx_replies);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"arp.drop_not_for_us +1"}));
}

TEST_F(Arp, ProbeIsAnsweredWithoutLearningZero)
{
	// RFC 5227 probe: sender IP 0.0.0.0 asks for our address. We defend
	// it with a reply, and learn nothing about 0.0.0.0.
	std::vector<Learned> la;
	tern_stack_set_neigh_cb(A, learn_cb, &la);
	inject(A, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, 0, kZero, kIpA)));
	pump();
	auto r = arp_from(0, 2);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].arp_spa(), kIpA);
	EXPECT_EQ(r[0].arp_sha(), kMacA);
	EXPECT_TRUE(la.empty());
	EXPECT_FALSE(lookup(A, kIfA, 0));
}

