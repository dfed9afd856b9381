// Hook chains, and the verdicts at ETH_INPUT / ETH_OUTPUT steering the stack.
#include "harness.h"

#include <set>

#include <tern/hooks.h>

using namespace tt;

namespace {

struct HookState {
	enum tern_verdict verdict = TERN_HOOK_CONTINUE;
	int calls = 0;
	std::vector<int> *order = nullptr;
	int id = 0;
	std::vector<tern_hook_ctx> ctxs;
	std::vector<Bytes> seen;
};

enum tern_verdict hook_fn(void *arg, rte_mbuf *m, const tern_hook_ctx *ctx)
{
	HookState *h = static_cast<HookState *>(arg);
	h->calls++;
	h->ctxs.push_back(*ctx);
	if (m)	// the bare chain tests run without packets
		h->seen.push_back(mbuf_bytes(m));
	if (h->order)
		h->order->push_back(h->id);
	if (h->verdict == TERN_HOOK_CONSUMED)
		rte_pktmbuf_free(m);	// it owns the mbuf now
	return h->verdict;
}

}  // namespace

TEST(Hooks, AddDelNames)
{
	tern_hooks h;
	tern_hooks_init(&h);
	for (int p = 0; p < TERN_HOOK_POINT_MAX; p++)
		EXPECT_TRUE(tern_hooks_empty(&h, (tern_hook_point)p));
	HookState st;
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_INPUT, "a", hook_fn, &st), 0);
	EXPECT_FALSE(tern_hooks_empty(&h, TERN_HOOK_ETH_INPUT));
	EXPECT_TRUE(tern_hooks_empty(&h, TERN_HOOK_ETH_OUTPUT));
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_INPUT, "a", hook_fn, &st), -EEXIST);
	// Same name at another point is another entry.
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_OUTPUT, "a", hook_fn, &st), 0);
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_INPUT, "nofn", nullptr, &st), -EINVAL);
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_POINT_MAX, "bad", hook_fn, &st), -EINVAL);
	EXPECT_EQ(tern_hook_del(&h, TERN_HOOK_ETH_INPUT, "zz"), -ENOENT);
	EXPECT_EQ(tern_hook_del(&h, TERN_HOOK_ETH_INPUT, "a"), 0);
	EXPECT_TRUE(tern_hooks_empty(&h, TERN_HOOK_ETH_INPUT));
	EXPECT_EQ(tern_hook_del(&h, TERN_HOOK_ETH_INPUT, "a"), -ENOENT);
	EXPECT_FALSE(tern_hooks_empty(&h, TERN_HOOK_ETH_OUTPUT));

	std::set<std::string> names;
	for (int p = 0; p < TERN_HOOK_POINT_MAX; p++) {
		const char *n = tern_hook_point_name((tern_hook_point)p);
		ASSERT_NE(n, nullptr);
		EXPECT_GT(strlen(n), 0u);
		names.insert(n);
	}
	EXPECT_EQ(names.size(), (size_t)TERN_HOOK_POINT_MAX);
	EXPECT_STREQ(tern_hook_point_name(TERN_HOOK_ETH_INPUT), "ETH_INPUT");
	EXPECT_STREQ(tern_hook_point_name(TERN_HOOK_ETH_OUTPUT), "ETH_OUTPUT");
}

TEST(Hooks, ChainFullAndOrder)
{
	tern_hooks h;
	tern_hooks_init(&h);
	std::vector<int> order;
	HookState st[TERN_HOOK_CHAIN_MAX];
	for (int i = 0; i < TERN_HOOK_CHAIN_MAX; i++) {
		st[i].order = &order;
		st[i].id = i;
		std::string n = "h" + std::to_string(i);
		ASSERT_EQ(tern_hook_add(&h, TERN_HOOK_IP_INPUT, n.c_str(), hook_fn, &st[i]), 0);
	}
	HookState extra;
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_IP_INPUT, "extra", hook_fn, &extra), -ENOSPC);

	// Delete from the middle: the others keep their order.
	ASSERT_EQ(tern_hook_del(&h, TERN_HOOK_IP_INPUT, "h3"), 0);
	EXPECT_EQ(tern_hook_add(&h, TERN_HOOK_IP_INPUT, "extra", hook_fn, &extra), 0);
	extra.order = &order;
	extra.id = 99;

	tern_hook_ctx ctx = {TERN_HOOK_IP_INPUT, 0, UINT16_MAX, 0};
	EXPECT_EQ(tern_hooks_run(&h, nullptr, &ctx), TERN_HOOK_CONTINUE);
	EXPECT_EQ(order, std::vector<int>({0, 1, 2, 4, 5, 6, 7, 99}));

	// The first non-CONTINUE verdict stops the chain.
	order.clear();
	st[2].verdict = TERN_HOOK_DROP;
	EXPECT_EQ(tern_hooks_run(&h, nullptr, &ctx), TERN_HOOK_DROP);
	EXPECT_EQ(order, std::vector<int>({0, 1, 2}));
}

class HookStack : public UdpPair {};

TEST_F(HookStack, InputContinueSeesFramesAndDelivers)
{
	HookState st;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(B), TERN_HOOK_ETH_INPUT, "t", hook_fn, &st), 0);
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(20)), 0);
	pump();
	EXPECT_EQ(st.calls, 1);
	ASSERT_EQ(rxb.got.size(), 1u);
	EXPECT_EQ(rxb.got[0].data, pattern(20));
	ASSERT_EQ(st.ctxs.size(), 1u);
	EXPECT_EQ(st.ctxs[0].point, TERN_HOOK_ETH_INPUT);
	EXPECT_EQ(st.ctxs[0].link, 0);
	// ETH_INPUT runs before demux: the hook sees the Ethernet header.
	ASSERT_GE(st.seen[0].size(), 14u);
	EXPECT_EQ(get16(&st.seen[0][12]), kEthIp4);
	EXPECT_TRUE(drops_changed(before, stats(B)).empty());
}

TEST_F(HookStack, InputDropCountsAndStopsDelivery)
{
	HookState st;
	st.verdict = TERN_HOOK_DROP;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(B), TERN_HOOK_ETH_INPUT, "d", hook_fn, &st), 0);
	auto before = stats(B);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(st.calls, 3);
	EXPECT_TRUE(rxb.got.empty());
	auto after = stats(B);
	EXPECT_EQ(after.eth_drop_hook_input - before.eth_drop_hook_input, 3u);
	EXPECT_EQ(after.udp_rx_pkts, before.udp_rx_pkts);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"eth.drop_hook_input +3"}));

	// Removing the hook restores delivery.
	ASSERT_EQ(tern_hook_del(tern_stack_hooks(B), TERN_HOOK_ETH_INPUT, "d"), 0);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(rxb.got.size(), 1u);
}

TEST_F(HookStack, InputConsumedTakesOwnership)
{
	HookState st;
	st.verdict = TERN_HOOK_CONSUMED;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(B), TERN_HOOK_ETH_INPUT, "c", hook_fn, &st), 0);
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(st.calls, 1);
	EXPECT_TRUE(rxb.got.empty());
	auto after = stats(B);
	// Not a drop: the hook kept it (and freed it; the pool check agrees).
	EXPECT_TRUE(drops_changed(before, after).empty());
	EXPECT_EQ(after.udp_rx_pkts, before.udp_rx_pkts);
}

TEST_F(HookStack, OutputDropCountsAndNothingOnWire)
{
	HookState st;
	st.verdict = TERN_HOOK_DROP;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(A), TERN_HOOK_ETH_OUTPUT, "d", hook_fn, &st), 0);
	auto before = stats(A);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(st.calls, 1);
	ASSERT_EQ(st.ctxs.size(), 1u);
	EXPECT_EQ(st.ctxs[0].point, TERN_HOOK_ETH_OUTPUT);
	EXPECT_EQ(st.ctxs[0].ifindex, kIfA);
	// ETH_OUTPUT sees the finished frame.
	ASSERT_GE(st.seen[0].size(), 42u);
	EXPECT_EQ(Mac({st.seen[0][0], st.seen[0][1], st.seen[0][2], st.seen[0][3],
		       st.seen[0][4], st.seen[0][5]}), kMacB);
	EXPECT_TRUE(frames_from(0).empty());
	EXPECT_TRUE(rxb.got.empty());
	auto after = stats(A);
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"eth.drop_hook_output +1"}));
	EXPECT_EQ(after.eth_tx_pkts, before.eth_tx_pkts);
}

TEST_F(HookStack, OutputConsumedAndContinue)
{
	HookState c;
	c.verdict = TERN_HOOK_CONSUMED;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(A), TERN_HOOK_ETH_OUTPUT, "c", hook_fn, &c), 0);
	auto before = stats(A);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(c.calls, 1);
	EXPECT_TRUE(frames_from(0).empty());
	EXPECT_TRUE(drops_changed(before, stats(A)).empty());

	ASSERT_EQ(tern_hook_del(tern_stack_hooks(A), TERN_HOOK_ETH_OUTPUT, "c"), 0);
	HookState k;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(A), TERN_HOOK_ETH_OUTPUT, "k", hook_fn, &k), 0);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(k.calls, 1);
	EXPECT_EQ(frames_from(0).size(), 1u);
	EXPECT_EQ(rxb.got.size(), 1u);
}

TEST_F(HookStack, OutputHookSeesArpToo)
{
	// Every frame passes ETH_OUTPUT, also those the stack makes itself.
	HookState st;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(A), TERN_HOOK_ETH_OUTPUT, "k", hook_fn, &st), 0);
	ASSERT_EQ(send(A, pa, kIpX, 9, pattern(4)), 0);	// unresolved: ARP
	pump();
	ASSERT_GE(st.calls, 1);
	EXPECT_EQ(get16(&st.seen[0][12]), kEthArp);
}

TEST_F(HookStack, IpInputSeesIpHeaderAndCanDrop)
{
	HookState st;
	st.verdict = TERN_HOOK_DROP;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(B), TERN_HOOK_IP_INPUT, "ipd", hook_fn, &st), 0);
	auto before = stats(B);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	ASSERT_EQ(st.calls, 1);
	EXPECT_EQ(st.ctxs[0].point, TERN_HOOK_IP_INPUT);
	EXPECT_EQ(st.ctxs[0].ifindex, kIfB);
	// The packet as IP sees it: it starts at the IPv4 header.
	ASSERT_GE(st.seen[0].size(), 20u);
	EXPECT_EQ(st.seen[0][0], 0x45);
	EXPECT_TRUE(rxb.got.empty());
	auto d = drops_changed(before, stats(B));
	EXPECT_EQ(d.size(), 1u) << "dropped once, with a reason";
}

TEST_F(HookStack, IpInputNotCalledForOthers)
{
	// Only valid IPv4 packets addressed to us reach IP_INPUT.
	HookState st;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(B), TERN_HOOK_IP_INPUT, "ip", hook_fn, &st), 0);
	Ip4Opts o;
	o.bad_cksum = true;
	inject(B, eth(kMacB, kMacX, kEthIp4, ip4(kIpX, kIpB, 17, udp(kIpX, kIpB, 1, 7000, pattern(4)), o)));
	inject(B, udp_frame(kMacB, 0x0a000032, 7000, pattern(4)));
	inject(B, eth(kBcast, kMacX, kEthArp, arp(1, kMacX, kIpX, kZero, kIpB)));
	EXPECT_EQ(st.calls, 0);
	inject(B, udp_frame(kMacB, kIpB, 7000, pattern(4)));
	EXPECT_EQ(st.calls, 1);
	EXPECT_EQ(rxb.got.size(), 1u);
}

TEST_F(HookStack, IpOutputSeesIpHeaderAndCanDrop)
{
	HookState st;
	st.verdict = TERN_HOOK_DROP;
	ASSERT_EQ(tern_hook_add(tern_stack_hooks(A), TERN_HOOK_IP_OUTPUT, "ipo", hook_fn, &st), 0);
	auto before = stats(A);
	int rc = send(A, pa, kIpB, 7000, pattern(10));
	EXPECT_LT(rc, 0) << "the datagram did not go out";
	pump();
	ASSERT_EQ(st.calls, 1);
	EXPECT_EQ(st.ctxs[0].point, TERN_HOOK_IP_OUTPUT);
	ASSERT_GE(st.seen[0].size(), 20u);
	EXPECT_EQ(st.seen[0][0], 0x45);
	EXPECT_EQ(get32(&st.seen[0][16]), kIpB);
	EXPECT_TRUE(frames_from(0).empty());
	EXPECT_EQ(drops_changed(before, stats(A)).size(), 1u);
}

// ---- hold and resume --------------------------------------------------------

namespace {

struct Cont {
	std::vector<std::pair<rte_mbuf *, tern_verdict>> got;
};

void cont_fn(void *owner, rte_mbuf *m, const tern_hook_ctx *, tern_verdict v)
{
	static_cast<Cont *>(owner)->got.push_back({m, v});
	rte_pktmbuf_free(m);
}

struct Holder {
	std::vector<rte_mbuf *> held;
};

enum tern_verdict hold_fn(void *arg, rte_mbuf *m, const tern_hook_ctx *)
{
	static_cast<Holder *>(arg)->held.push_back(m);
	return TERN_HOOK_CONSUMED;
}

}  // namespace

TEST(HookResume, RunsTheHooksAfterTheHolderThenTheContinuation)
{
	rte_mempool *mp = make_pool(63);
	ASSERT_NE(mp, nullptr);
	tern_hooks h;
	tern_hooks_init(&h);
	Cont cont;
	Holder holder;
	std::vector<int> order;
	HookState before, after;
	before.order = after.order = &order;
	before.id = 1;
	after.id = 3;
	ASSERT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_OUTPUT, "before", hook_fn, &before), 0);
	ASSERT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_OUTPUT, "hold", hold_fn, &holder), 0);
	ASSERT_EQ(tern_hook_add(&h, TERN_HOOK_ETH_OUTPUT, "after", hook_fn, &after), 0);
	tern_hook_ctx ctx = {TERN_HOOK_ETH_OUTPUT, 3, 9, 0};

	rte_mbuf *m = mbuf_from(mp, pattern(60));
	// no continuation registered: cannot resume, m stays the caller's
	EXPECT_FALSE(tern_hooks_can_hold(&h, TERN_HOOK_ETH_OUTPUT));
	EXPECT_EQ(tern_hook_resume(&h, hold_fn, &holder, m, &ctx), -ENOTSUP);
	ASSERT_EQ(tern_hooks_set_cont(&h, TERN_HOOK_ETH_OUTPUT, cont_fn, &cont), 0);
	EXPECT_TRUE(tern_hooks_can_hold(&h, TERN_HOOK_ETH_OUTPUT));

	EXPECT_EQ(tern_hooks_run(&h, m, &ctx), TERN_HOOK_CONSUMED);
	ASSERT_EQ(holder.held.size(), 1u);
	EXPECT_EQ(order, std::vector<int>({1}));
	EXPECT_TRUE(cont.got.empty());

	EXPECT_EQ(tern_hook_resume(&h, hold_fn, &holder, m, &ctx), 0);
	EXPECT_EQ(order, std::vector<int>({1, 3})) << "only the hooks after it";
	ASSERT_EQ(after.ctxs.size(), 1u);
	EXPECT_EQ(after.ctxs[0].ifindex, 9u);
	ASSERT_EQ(cont.got.size(), 1u);
	EXPECT_EQ(cont.got[0].first, m);
	EXPECT_EQ(cont.got[0].second, TERN_HOOK_CONTINUE);

	// a hook before the holder goes away: it is found by identity
	ASSERT_EQ(tern_hook_del(&h, TERN_HOOK_ETH_OUTPUT, "before"), 0);
	after.verdict = TERN_HOOK_DROP;
	m = mbuf_from(mp, pattern(60));
	EXPECT_EQ(tern_hook_resume(&h, hold_fn, &holder, m, &ctx), -EPERM);
	ASSERT_EQ(cont.got.size(), 2u);
	EXPECT_EQ(cont.got[1].second, TERN_HOOK_DROP) << "dropped and counted by the stack";

	// the holder itself went: the packet is dropped, counted
	ASSERT_EQ(tern_hook_del(&h, TERN_HOOK_ETH_OUTPUT, "hold"), 0);
	m = mbuf_from(mp, pattern(60));
	EXPECT_EQ(tern_hook_resume(&h, hold_fn, &holder, m, &ctx), -ENOENT);
	ASSERT_EQ(cont.got.size(), 3u);
	EXPECT_EQ(cont.got[2].second, TERN_HOOK_DROP);

	EXPECT_TRUE(pool_full(mp));
	rte_mempool_free(mp);
}
