// The worker's TX buffer (dpdk_port/txbuf.c) in front of a real ethdev: a
// net_ring port whose TX ring holds kPortSlots packets and is drained only
// when the test says so, which is how a NIC with a full descriptor ring
// looks to rte_eth_tx_burst. Checked: nothing is lost up to the bound,
// order is kept across refusals, every packet past the bound is refused
// (and, through a stack, counted as eth_drop_tx_full), what is left at
// teardown is counted as tx_dropped, and the pool is full at the end.
#include "harness.h"

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <tern/dp.h>

#include "../../dpdk_port/txbuf.h"

using namespace tt;

namespace {

constexpr unsigned kPortSlots = 32;	// the "NIC ring"

int port_seq;

// Owns a net_ring port with one queue each way and the rings under it.
struct RingPort {
	rte_ring *rx = nullptr, *tx = nullptr;
	int port = -1;

	bool open(rte_mempool *mp)
	{
		std::string n = "tu_txb" + std::to_string(port_seq++);
		unsigned flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
		rx = rte_ring_create((n + "r").c_str(), kPortSlots, SOCKET_ID_ANY,
				     flags);
		tx = rte_ring_create((n + "t").c_str(), kPortSlots, SOCKET_ID_ANY,
				     flags);
		if (rx == nullptr || tx == nullptr)
			return false;
		port = rte_eth_from_rings(n.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
		if (port < 0)
			return false;
		rte_eth_conf conf;
		memset(&conf, 0, sizeof(conf));
		uint16_t p = (uint16_t)port;
		return rte_eth_dev_configure(p, 1, 1, &conf) == 0 &&
		       rte_eth_rx_queue_setup(p, 0, kPortSlots, SOCKET_ID_ANY,
					      nullptr, mp) == 0 &&
		       rte_eth_tx_queue_setup(p, 0, kPortSlots, SOCKET_ID_ANY,
					      nullptr) == 0 &&
		       rte_eth_dev_start(p) == 0;
	}
	// What the "NIC" sent: up to max packets off the port's TX ring.
	std::vector<rte_mbuf *> drain(unsigned max = ~0u)
	{
		std::vector<rte_mbuf *> out;
		void *m;
		while (out.size() < max && rte_ring_dequeue(tx, &m) == 0)
			out.push_back(static_cast<rte_mbuf *>(m));
		return out;
	}
	void close()
	{
		if (port >= 0) {
			rte_eth_dev_stop((uint16_t)port);
			rte_eth_dev_close((uint16_t)port);	// leaves the rings
		}
		for (rte_mbuf *m : drain())
			rte_pktmbuf_free(m);
		rte_ring_free(rx);
		rte_ring_free(tx);
		port = -1;
		rx = tx = nullptr;
	}
};

rte_mbuf *numbered(rte_mempool *mp, uint32_t seq)
{
	rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m != nullptr)
		memcpy(rte_pktmbuf_append(m, sizeof(seq)), &seq, sizeof(seq));
	return m;
}

uint32_t seq_of(const rte_mbuf *m)
{
	uint32_t v;
	memcpy(&v, rte_pktmbuf_mtod(m, const void *), sizeof(v));
	return v;
}

class TxBuf : public ::testing::Test {
protected:
	void SetUp() override
	{
		pool = make_pool(1000);
		ASSERT_NE(pool, nullptr);
		ASSERT_TRUE(port.open(pool)) << rte_strerror(rte_errno);
		memset(&st, 0, sizeof(st));
		dp_txbuf_init(&b, &st, (uint16_t)port.port, 0, true);
	}
	void TearDown() override
	{
		dp_txbuf_drop(&b);
		port.close();
		EXPECT_TRUE(pool_full(pool));
		rte_mempool_free(pool);
	}
	// Offers packets one at a time, as the stack does; returns how many
	// the buffer took and frees the others (the stack's job).
	unsigned offer(uint32_t first, unsigned count)
	{
		unsigned took = 0;
		for (unsigned i = 0; i < count; i++) {
			rte_mbuf *m = numbered(pool, first + i);
			if (dp_txbuf_tx(&b, &m, 1) == 1)
				took++;
			else
				rte_pktmbuf_free(m);
		}
		return took;
	}

	rte_mempool *pool = nullptr;
	RingPort port;
	tern_worker_stats st;
	dp_txbuf b;
};

}  // namespace

// A port that keeps draining: a burst of DP_TXBUF_BURST does not fit its
// kPortSlots at once, so part of each burst waits for the next flush, and
// still every packet leaves, once, in order.
TEST_F(TxBuf, DrainingPortGetsEverythingInOrder)
{
	std::vector<uint32_t> seen;
	auto nic = [&] {
		for (rte_mbuf *m : port.drain()) {
			seen.push_back(seq_of(m));
			rte_pktmbuf_free(m);
		}
	};
	for (uint32_t i = 0; i < 1000; i++) {
		ASSERT_EQ(offer(i, 1), 1u) << "never refused: the port drains";
		nic();
	}
	for (int round = 0; round < 100 && b.n > 0; round++) {
		dp_txbuf_flush(&b);
		nic();
	}
	ASSERT_EQ(seen.size(), 1000u);
	for (uint32_t i = 0; i < 1000; i++)
		ASSERT_EQ(seen[i], i);
	EXPECT_EQ(st.tx_pkts, 1000u);
	EXPECT_GT(st.tx_deferred, 0u) << "bursts were bigger than the port ring";
	EXPECT_EQ(st.tx_dropped, 0u);
}

// A port with room: a flush sends everything and defers nothing.
TEST_F(TxBuf, PortWithRoomDefersNothing)
{
	for (uint32_t round = 0; round < 10; round++) {
		ASSERT_EQ(offer(round * kPortSlots, kPortSlots), kPortSlots);
		EXPECT_EQ(dp_txbuf_flush(&b), kPortSlots);
		auto sent = port.drain();
		ASSERT_EQ(sent.size(), kPortSlots);
		EXPECT_EQ(seq_of(sent.front()), round * kPortSlots);
		rte_pktmbuf_free_bulk(sent.data(), (unsigned)sent.size());
	}
	EXPECT_EQ(st.tx_pkts, 10u * kPortSlots);
	EXPECT_EQ(st.tx_deferred, 0u);
	EXPECT_EQ(st.tx_dropped, 0u);
}

// The port stops taking packets: the buffer keeps what it refused and
// takes new ones until it holds DP_TXBUF_CAP, refuses every one after
// that, and loses nothing it took: once the port drains, all of them
// leave, in the order they were given.
TEST_F(TxBuf, KeepsWhatThePortRefusesUpToTheBound)
{
	const unsigned offered = DP_TXBUF_CAP + kPortSlots + 40;
	unsigned took = offer(0, offered);

	// The port took kPortSlots, the buffer holds the bound, the rest
	// was refused one by one.
	EXPECT_EQ(took, kPortSlots + DP_TXBUF_CAP);
	EXPECT_EQ(st.tx_pkts, kPortSlots);
	EXPECT_EQ(b.n, DP_TXBUF_CAP);
	EXPECT_EQ(st.tx_deferred, (uint64_t)DP_TXBUF_CAP)
		<< "each held packet counted once, however often it was retried";
	EXPECT_EQ(st.tx_dropped, 0u);
	EXPECT_EQ(took + (offered - took), offered);

	// A refused burst call takes a prefix and leaves the rest to the
	// caller.
	rte_mbuf *more[4];
	for (auto &m : more)
		m = numbered(pool, 9999);
	EXPECT_EQ(dp_txbuf_tx(&b, more, 4), 0u);
	rte_pktmbuf_free_bulk(more, 4);

	// The NIC drains; each flush moves what fits, oldest first.
	std::vector<uint32_t> seen;
	for (int round = 0; round < 100 && seen.size() < took; round++) {
		for (rte_mbuf *m : port.drain()) {
			seen.push_back(seq_of(m));
			rte_pktmbuf_free(m);
		}
		dp_txbuf_flush(&b);
	}
	ASSERT_EQ(seen.size(), (size_t)took);
	for (uint32_t i = 0; i < took; i++)
		ASSERT_EQ(seen[i], i) << "order kept across refusals";
	EXPECT_EQ(b.n, 0u);
	EXPECT_EQ(st.tx_pkts, (uint64_t)took);
	EXPECT_EQ(st.tx_deferred, (uint64_t)DP_TXBUF_CAP)
		<< "retries of held packets are not new deferrals";
	EXPECT_EQ(st.tx_dropped, 0u);

	// And it takes new packets again.
	EXPECT_EQ(offer(took, 10), 10u);
}

// A burst of n in one call: the buffer takes a prefix up to the bound.
TEST_F(TxBuf, BurstCallTakesAPrefix)
{
	const unsigned n = 200;
	std::vector<rte_mbuf *> pkts;
	for (uint32_t i = 0; i < n; i++)
		pkts.push_back(numbered(pool, i));
	uint16_t took = dp_txbuf_tx(&b, pkts.data(), (uint16_t)n);
	EXPECT_EQ(took, kPortSlots + DP_TXBUF_CAP);
	rte_pktmbuf_free_bulk(pkts.data() + took, n - took);
	auto sent = port.drain();
	ASSERT_EQ(sent.size(), kPortSlots);
	for (uint32_t i = 0; i < kPortSlots; i++)
		EXPECT_EQ(seq_of(sent[i]), i);
	rte_pktmbuf_free_bulk(sent.data(), (unsigned)sent.size());
}

// At teardown whatever the port never took is freed and counted.
TEST_F(TxBuf, DropCountsWhatIsLeft)
{
	unsigned took = offer(0, 100);
	ASSERT_EQ(took, 100u);
	dp_txbuf_flush(&b);
	EXPECT_EQ(st.tx_pkts, kPortSlots);
	EXPECT_EQ(dp_txbuf_drop(&b), 100 - kPortSlots);
	EXPECT_EQ(st.tx_dropped, 100u - kPortSlots);
	EXPECT_EQ(st.tx_pkts + st.tx_dropped, 100u)
		<< "every packet taken is either sent or counted as dropped";
	EXPECT_EQ(dp_txbuf_drop(&b), 0u);
}

TEST_F(TxBuf, NoQueueTakesNothing)
{
	dp_txbuf_init(&b, &st, (uint16_t)port.port, 0, false);
	EXPECT_EQ(offer(0, 5), 0u);
	EXPECT_EQ(b.n, 0u);
	EXPECT_EQ(st.tx_pkts + st.tx_deferred + st.tx_dropped, 0u);
}

// Through a stack: the interface's transmit function is the buffer, so
// datagrams past the bound are the stack's eth_drop_tx_full, exactly, and
// every datagram is accounted for: sent by the port, held, or refused.
class TxBufStack : public TwoStacks {
protected:
	void SetUp() override
	{
		ASSERT_TRUE(port.open(make_port_pool()));
		memset(&st, 0, sizeof(st));
		dp_txbuf_init(&b, &st, (uint16_t)port.port, 0, true);
		TwoStacks::SetUp();
	}
	void TearDown() override
	{
		dp_txbuf_drop(&b);
		port.close();
		TwoStacks::TearDown();
		EXPECT_TRUE(pool_full(port_pool));
		rte_mempool_free(port_pool);
	}
	void conf_iface(tern_iface_conf &ic, int side) override
	{
		if (side == 0) {
			ic.tx = dp_txbuf_tx;
			ic.tx_ctx = &b;
		}
	}
	// net_ring wants a pool for its RX queue; it never allocates.
	rte_mempool *make_port_pool()
	{
		port_pool = make_pool(100);
		return port_pool;
	}

	rte_mempool *port_pool = nullptr;
	RingPort port;
	tern_worker_stats st;
	dp_txbuf b;
};

TEST_F(TxBufStack, RefusalsPastTheBoundAreTheStacksTxFull)
{
	resolve_statically();
	Rx rx;
	tern_udp_pcb *pcb = open(A, 7000, &rx);
	ASSERT_NE(pcb, nullptr);
	// Whatever the interfaces sent while coming up is not this test's.
	dp_txbuf_flush(&b);
	for (rte_mbuf *m : port.drain())
		rte_pktmbuf_free(m);
	tern_stack_stats before = stats(A);
	uint64_t pkts0 = st.tx_pkts;

	const unsigned n = DP_TXBUF_CAP + kPortSlots + 25;
	for (unsigned i = 0; i < n; i++)
		send(A, pcb, kIpB, 9, pattern(20, (uint8_t)i));
	tern_stack_stats after = stats(A);
	uint64_t full = after.eth_drop_tx_full - before.eth_drop_tx_full;
	EXPECT_EQ(full, 25u) << "exactly the datagrams past the bound";
	EXPECT_EQ(drops_changed(before, after),
		  std::vector<std::string>({"eth.drop_tx_full +25"}));
	EXPECT_EQ(st.tx_pkts - pkts0, kPortSlots);
	EXPECT_EQ(b.n, DP_TXBUF_CAP);
	EXPECT_EQ(st.tx_pkts - pkts0 + b.n + full, (uint64_t)n);
	EXPECT_EQ(after.eth_tx_pkts - before.eth_tx_pkts,
		  (uint64_t)(kPortSlots + DP_TXBUF_CAP))
		<< "the stack counts as sent exactly what the buffer took";
	tern_udp_close(A, pcb);
}
