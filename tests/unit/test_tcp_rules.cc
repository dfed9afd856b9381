// TCP's rules on the virtual clock and the in-memory wire, beyond
// test_tcp.cc: the loss of each kind of segment (the handshake's ACK, the
// FINs both ways, the last ACK of a close, ACKs of data), overlapping
// segments in mbuf chains, SACK blocks on data, a bulk transfer
// through the impairment engine's reordering, duplication and loss, the
// receiver's zero window, sequence numbers across 2^32, TIME_WAIT reuse
// (RFC 6191), a RST in every state (RFC 9293 3.10.7, RFC 5961 3) and a
// SYN flood beside an established transfer. Every test ends with the
// leak check of tcp_fixture.h.
#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <string>

#include <rte_ring.h>

#include <tern/impair.h>

#include "tcp_fixture.h"

using namespace tt;

namespace {

constexpr uint32_t kMss = 1448;	// 1500 - 40 - 12 (timestamps)
constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG, kAck = RTE_TCP_ACK_FLAG,
		  kFin = RTE_TCP_FIN_FLAG, kRst = RTE_TCP_RST_FLAG;

std::vector<tern_tcp_conn *> conns_of(tern_stack *s)
{
	std::vector<tern_tcp_conn *> v;
	tern_tcp_foreach(s, [](void *arg, tern_tcp_conn *c) {
		static_cast<std::vector<tern_tcp_conn *> *>(arg)->push_back(c);
		return 0;
	}, &v);
	return v;
}

bool has_counter(const std::string &name)
{
	unsigned n = 0;
	const tern_counter_desc *d = tern_stack_counter_descs(&n);
	for (unsigned i = 0; i < n; i++)
		if (name == std::string(d[i].proto) + "." + d[i].name)
			return true;
	return false;
}

// Mbufs out of the pool now.
unsigned in_use(const rte_mempool *mp)
{
	return mp->size - rte_ring_count(static_cast<const rte_ring *>(mp->pool_data));
}

class TcpRules : public Tcp {
protected:
	// Buffers for a two-way transfer through the paced echo (the
	// server's side opens its window as its echo is acknowledged).
	static tern_tcp_opts echo_opts(bool server_side)
	{
		tern_tcp_opts o;
		memset(&o, 0, sizeof(o));
		o.sndbuf = o.rcvbuf = 64 * 1024;
		o.manual_window = server_side;
		return o;
	}
	uint64_t now_ms() { return tern_stack_now(A) / TERN_NS_PER_MS; }
	Bytes text(const char *s) { return Bytes(s, s + strlen(s)); }
};

// ---- loss of each kind of segment ------------------------------------------
// (SYN, SYN-ACK and data: test_tcp.cc, LostSyn..., LostSynAck...,
// LostDataSegment..., LostTail...)

using TcpLoss = TcpRules;

TEST_F(TcpLoss, LostHandshakeAckIsMadeUpByTheFirstData)
{
	listen();
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 0 && pure_ack(f) && dropped++ == 0;
	};
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected; }));
	EXPECT_EQ(dropped, 1);
	EXPECT_EQ(accepted, 0);
	auto bc = conns_of(B);
	ASSERT_EQ(bc.size(), 1u);
	EXPECT_EQ(tern_tcp_state(bc[0]), TERN_TCP_SYN_RECEIVED);
	// the first data carries the ACK: the server accepts and reads it
	ASSERT_EQ(tern_tcp_write(A, client.c, "hello", 5), 5);
	pump();
	EXPECT_EQ(accepted, 1);
	EXPECT_EQ(server.got, text("hello"));
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_ESTABLISHED);
	EXPECT_EQ(counter(stats(B), "tcp.syn_retrans"), 0u) << "no timer needed";
}

TEST_F(TcpLoss, LostHandshakeAckIsSentAgainForTheRepeatedSynAck)
{
	listen();
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 0 && pure_ack(f) && dropped++ == 0;
	};
	ASSERT_NE(connect(), nullptr);
	uint64_t t0 = now_ms();
	ASSERT_TRUE(run_until([&] { return accepted == 1; }, 3000));
	// the server's SYN-ACK went again at its initial RTO (1 s), the
	// client acknowledged it again
	EXPECT_GE(now_ms() - t0, 1000u);
	EXPECT_LT(now_ms() - t0, 1100u);
	EXPECT_EQ(counter(stats(B), "tcp.syn_retrans"), 1u);
	EXPECT_EQ(dropped, 2);	// the lost ACK and the one that arrived
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_ESTABLISHED);
	EXPECT_EQ(tern_tcp_state(client.c), TERN_TCP_ESTABLISHED);
}

// Two SYN-ACKs lost: the client's SYN, sent again at its RTO, finds the
// server in SYN-RECEIVED, which answers it with its SYN-ACK (RFC 9293
// 3.10.7.4 / Linux's tcp_check_req) rather than a bare ACK the client
// in SYN-SENT cannot use.
TEST_F(TcpLoss, RepeatedSynInSynReceivedGetsTheSynAckAgain)
{
	listen();
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 1 && is_tcp(f) && (tflags(f) & kSyn) && dropped++ < 2;
	};
	ASSERT_NE(connect(), nullptr);
	uint64_t t0 = now_ms();
	ASSERT_TRUE(run_until([&] { return client.connected && accepted; }, 5000));
	EXPECT_EQ(dropped, 3);
	EXPECT_LT(now_ms() - t0, 1100u) << "connected only at the second RTO";
	EXPECT_EQ(counter(stats(A), "tcp.syn_retrans"), 1u);
	EXPECT_EQ(counter(stats(A), "tcp.drop_bad_flags"), 0u);
	// what B sent: SYN-ACKs only until the handshake completed
	for (const Frame &f : tcp_from(1))
		EXPECT_EQ(tflags(f), kSyn | kAck);
}

TEST_F(TcpLoss, LostFinOfTheActiveCloserIsSentAgain)
{
	establish();
	server.close_on_fin = true;
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 0 && is_tcp(f) && (tflags(f) & kFin) && dropped++ == 0;
	};
	ASSERT_EQ(tern_tcp_write(A, client.c, "bye", 3), 3);
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	ASSERT_TRUE(run_until([&] { return client.closed && server.closed; }));
	EXPECT_EQ(dropped, 2);
	EXPECT_EQ(server.got, text("bye"));
	EXPECT_TRUE(server.fin);
	EXPECT_EQ(client.err, 0);
	EXPECT_EQ(server.err, 0);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 1u);
	EXPECT_EQ(tern_tcp_count(A), 1u) << "TIME_WAIT";
	EXPECT_EQ(tern_tcp_count(B), 0u);
}

TEST_F(TcpLoss, LostFinOfThePassiveCloserIsSentAgain)
{
	establish();
	server.close_on_fin = true;
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 1 && is_tcp(f) && (tflags(f) & kFin) && dropped++ == 0;
	};
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	pump();
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_LAST_ACK);
	ASSERT_TRUE(run_until([&] { return client.closed && server.closed; }));
	EXPECT_EQ(dropped, 2);
	EXPECT_TRUE(client.closed);
	EXPECT_EQ(client.err, 0);
	EXPECT_EQ(server.err, 0);
	EXPECT_EQ(counter(stats(B), "tcp.rto_expired"), 1u);
	EXPECT_EQ(counter(stats(A), "tcp.time_wait"), 1u);
	EXPECT_EQ(tern_tcp_count(B), 0u);
}

// The last ACK of the close is lost: the passive closer, in LAST-ACK,
// sends its FIN again; the active closer answers from TIME-WAIT and
// restarts its 2 MSL (RFC 9293 3.10.7.4, TIME-WAIT STATE).
TEST_F(TcpLoss, LostLastAckIsAnsweredFromTimeWait)
{
	establish();
	server.close_on_fin = true;
	tern_tcp_conn *cc = client.c;
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 0 && pure_ack(f) && dropped++ == 0;
	};
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	pump();
	EXPECT_EQ(dropped, 1);
	EXPECT_EQ(tern_tcp_state(cc), TERN_TCP_TIME_WAIT);
	EXPECT_TRUE(client.closed);
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_LAST_ACK);
	uint64_t t_first = now_ms();
	ASSERT_TRUE(run_until([&] { return server.closed; }));
	EXPECT_EQ(server.err, 0);
	EXPECT_EQ(dropped, 2) << "the ACK from TIME_WAIT";
	EXPECT_EQ(counter(stats(B), "tcp.rto_expired"), 1u);
	EXPECT_EQ(tern_tcp_count(B), 0u);
	uint64_t t_again = now_ms();
	ASSERT_GE(t_again - t_first, 200u) << "at B's RTO";
	// 2 MSL counts from the repeated FIN
	step_ms(60000 - (t_again - t_first) + 50);
	EXPECT_EQ(tern_tcp_count(A), 1u) << "TIME_WAIT ended 2 MSL after the first FIN";
	step_ms(60000);
	EXPECT_EQ(tern_tcp_count(A), 0u);
	EXPECT_EQ(client.closed_calls, 1);
}

// Without GRO: with it, the ten segments of a flight arrive in one burst,
// become one packet and get one ACK (test_gro.cc, TcpGro).
class TcpLossNoGro : public TcpRules {
protected:
	void conf_stack(tern_stack_conf &sc, int) override { sc.no_gro = true; }
};

// ACKs of data lost: a later cumulative ACK covers them (no
// retransmission); when every ACK of a flight is lost, the RTO sends the
// first segment again and the receiver drops it as a duplicate and ACKs.
TEST_F(TcpLossNoGro, LostAcksOfDataAreCoveredByLaterAcksOrTheRto)
{
	establish();
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 1 && pure_ack(f) && dropped++ < 4;
	};
	Bytes d1 = send_bulk(client, 10 * kMss);
	ASSERT_TRUE(run_until([&] { return client.acked == d1.size(); }));
	EXPECT_GE(dropped, 5) << "an ACK for at most every second segment";
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 0u);

	bool lose = true;
	drop = [&lose](int side, const Frame &f) { return lose && side == 1 && pure_ack(f); };
	Bytes d2 = pattern(5 * kMss, 3);
	ASSERT_EQ(tern_tcp_write(A, client.c, d2.data(), (uint32_t)d2.size()),
		  (int)d2.size());
	ASSERT_TRUE(run_until([&] { return server.got.size() == d1.size() + d2.size(); }));
	step_ms(100);
	lose = false;
	ASSERT_TRUE(run_until([&] { return client.acked == d1.size() + d2.size(); }, 3000));
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 1u);
	EXPECT_GE(counter(stats(B), "tcp.drop_dup_data") +
		  counter(stats(B), "tcp.drop_out_of_window"), 1u);
	Bytes all = d1;
	all.insert(all.end(), d2.begin(), d2.end());
	EXPECT_TRUE(server.got == all);
}

// ---- what a receiver takes apart, what a sender puts together ------------------

using TcpSegs = TcpRules;

// Received segments are often chains (the wire passes on the sender's
// header mbuf and the indirect ones holding its data; a NIC scatters):
// the bytes a segment repeats are cut off across its segments, when it
// overlaps what came before it in order and what the out-of-order
// queue holds.
TEST_F(TcpSegs, OverlapsAreCutAcrossChainedSegments)
{
	establish();
	drop = [](int, const Frame &) { return true; };	// the test is A
	tern_tcp_info ci = info(0, client.c);
	uint32_t base = info(1, server.c).rcv_nxt;
	Bytes stream = pattern(4000, 9);
	auto seg = [&](uint32_t off, uint32_t len) {
		Bytes d(stream.begin() + off, stream.begin() + off + len);
		Bytes f = tcp_frame(kMacB, kMacA, kIpA, kIpB, ci.lport, 80, base + off,
				    ci.rcv_nxt, kAck | RTE_TCP_PSH_FLAG, 65535, Bytes(), d);
		// headers alone in the first mbuf, the data in 300-byte ones
		inject(B, f, 0, 14 + 20 + 20, 300);
		pump();
	};
	seg(1000, 1000);	// out of order
	seg(1500, 1000);	// starts inside it, runs past: [2000, 2500) kept
	seg(0, 600);		// in order
	seg(400, 800);		// 200 repeated, then fills up to the queue
	EXPECT_EQ(server.got.size(), 2500u);
	seg(2400, 1600);	// 100 repeated
	ASSERT_EQ(server.got.size(), stream.size());
	EXPECT_TRUE(server.got == stream);
	EXPECT_EQ(info(1, server.c).rcv_nxt, base + 4000);
}

// Data segments that carry SACK blocks (a two-way transfer with losses
// both ways) leave room for them: no segment passes the MTU (to be
// dropped as too big at every sending), and the blocks do ride on data.
TEST_F(TcpSegs, DataCarryingSackBlocksFitsTheMtu)
{
	establish(echo_opts(false), echo_opts(true));
	server.echo_paced = true;
	int n_data[2] = {0, 0};
	drop = [&n_data](int side, const Frame &f) {
		return is_tcp(f) && payload_len(f) > 0 && ++n_data[side] == 3;
	};
	const size_t n = 300000;
	Bytes data = send_bulk(client, n);
	ASSERT_TRUE(run_until([&] { return client.got.size() >= n; }, 60000)) << describe();
	EXPECT_TRUE(client.got == data);
	bool sack_on_data[2] = {false, false};
	for (const Frame &f : frames) {
		if (!is_tcp(f))
			continue;
		EXPECT_LE(f.b.size(), 14u + 1500u);
		if (payload_len(f) > 0 && !sack_of(f).empty())
			sack_on_data[f.side] = true;
	}
	EXPECT_TRUE(sack_on_data[0]);
	EXPECT_TRUE(sack_on_data[1]);
	EXPECT_EQ(counter(stats(A), "ip4.drop_too_big"), 0u);
	EXPECT_EQ(counter(stats(B), "ip4.drop_too_big"), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 0u) << "recovered by SACK";
	EXPECT_EQ(counter(stats(B), "tcp.rto_expired"), 0u) << "recovered by SACK";
}

// After an RTO the sender goes back to SND.UNA and skips what the peer
// SACKed (RFC 6675 5.1): a hole shorter than an MSS (here a short first
// write) is sent as it is, not held by the sender's SWS rule for a full
// segment that can never come.
TEST_F(TcpSegs, HoleShorterThanAnMssIsSentAgainAfterTheRto)
{
	establish();
	tern_tcp_set_nodelay(A, client.c, true);
	uint32_t first = info(0, client.c).snd_nxt;
	int lost = 0;
	drop = [&lost, first](int side, const Frame &f) {
		// the short segment, and its fast retransmission
		return side == 0 && is_tcp(f) && payload_len(f) > 0 &&
		       seq_of(f) == first && lost++ < 2;
	};
	Bytes a = pattern(1000, 1), b = pattern(10 * kMss, 2);
	ASSERT_EQ(tern_tcp_write(A, client.c, a.data(), (uint32_t)a.size()), (int)a.size());
	ASSERT_EQ(tern_tcp_write(A, client.c, b.data(), (uint32_t)b.size()), (int)b.size());
	ASSERT_TRUE(run_until([&] { return server.got.size() == a.size() + b.size(); }, 5000))
		<< describe();
	EXPECT_EQ(lost, 3);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 1u);
	a.insert(a.end(), b.begin(), b.end());
	EXPECT_TRUE(server.got == a);
}

// ---- reordering, duplication and loss from the impairment engine ------------

class TcpImpair : public TcpRules {
protected:
	void impair(int side, const tern_impair_conf &c)
	{
		tern_impair *i = tern_impair_create(&c, SOCKET_ID_ANY);
		ASSERT_NE(i, nullptr);
		tern_wire_set_impair(w, side, i);	// the wire owns it
	}
	tern_impair_stats istats(int side)
	{
		tern_impair_stats st;
		memset(&st, 0, sizeof(st));
		tern_impair_stats_get(tern_wire_impair(w, side), &st);
		return st;
	}
	static tern_impair_conf conf(uint64_t seed, double reorder, double dup,
				     double loss)
	{
		tern_impair_conf c;
		memset(&c, 0, sizeof(c));
		c.seed = seed;
		c.reorder = reorder;
		c.reorder_us = 1000;
		c.duplicate = dup;
		c.loss = loss;
		return c;
	}
	// Closes both sides (the client first) through the impaired link.
	void close_both()
	{
		server.close_on_fin = true;
		ASSERT_EQ(tern_tcp_close(A, client.c), 0);
		ASSERT_TRUE(run_until([&] { return client.closed && server.closed; }, 60000));
		EXPECT_EQ(client.err, 0);
		EXPECT_EQ(server.err, 0);
	}
};

TEST_F(TcpImpair, ReorderedAndDuplicatedBulkArrivesIntact)
{
	establish();
	impair(0, conf(101, 0.05, 0.05, 0));
	impair(1, conf(202, 0.05, 0.05, 0));
	const size_t n = 4u << 20;
	Bytes data = send_bulk(client, n);
	ASSERT_TRUE(run_until([&] { return server.got.size() >= n; }, 120000));
	ASSERT_EQ(server.got.size(), n);
	EXPECT_TRUE(server.got == data) << "byte for byte";
	tern_impair_stats a = istats(0), b = istats(1);
	EXPECT_GT(a.reordered, 50u);
	EXPECT_GT(a.duplicated, 50u);
	EXPECT_GT(b.reordered, 10u);
	EXPECT_GT(b.duplicated, 10u);
	tern_stack_stats sb = stats(B);
	EXPECT_GT(counter(sb, "tcp.ooo_queued"), 0u);
	EXPECT_GT(counter(sb, "tcp.drop_dup_data") + counter(sb, "tcp.drop_out_of_window"), 0u);
	EXPECT_EQ(counter(sb, "tcp.drop_bad_cksum"), 0u);
	EXPECT_EQ(counter(stats(A), "mbuf.drop_alloc_fail"), 0u);
	EXPECT_EQ(counter(sb, "mbuf.drop_alloc_fail"), 0u);
	close_both();
}

// Both ways: a paced echo, with 64 KiB buffers (the four queues of two
// 256 KiB connections, whose received segments are chains of two mbufs,
// would need more than the test's pool of 1000).
TEST_F(TcpImpair, LossReorderAndDuplicatesBothWaysEchoIntact)
{
	tern_tcp_opts co = echo_opts(false), so = echo_opts(true);
	establish(co, so);
	server.echo_paced = true;
	impair(0, conf(303, 0.05, 0.05, 0.02));
	impair(1, conf(404, 0.05, 0.05, 0.02));
	const size_t n = 2u << 20;
	Bytes data = send_bulk(client, n);
	ASSERT_TRUE(run_until([&] { return client.got.size() >= n; }, 300000))
		<< describe();
	ASSERT_EQ(client.got.size(), n);
	EXPECT_TRUE(server.got == data);
	EXPECT_TRUE(client.got == data);
	EXPECT_GT(istats(0).drop_loss, 20u);
	EXPECT_GT(istats(1).drop_loss, 20u);
	EXPECT_GT(counter(stats(A), "tcp.retrans_segs"), 0u);
	EXPECT_GT(counter(stats(B), "tcp.retrans_segs"), 0u);
	EXPECT_GT(counter(stats(A), "tcp.fast_retrans"), 0u);
	for (tern_stack *st : {A, B}) {
		EXPECT_EQ(counter(stats(st), "mbuf.drop_alloc_fail"), 0u);
		EXPECT_EQ(counter(stats(st), "ip4.drop_too_big"), 0u);
	}
	close_both();
}

// ---- the receiver's zero window -----------------------------------------------

class TcpZeroWindow : public TcpRules {
protected:
	static constexpr uint32_t kBuf = 16384;
	void SetUp() override
	{
		TcpRules::SetUp();
		if (HasFatalFailure())
			return;
		tern_tcp_opts so;
		memset(&so, 0, sizeof(so));
		so.manual_window = true;	// the application reads by tern_tcp_recved
		so.rcvbuf = kBuf;
		establish(tern_tcp_opts(), so);
		if (HasFatalFailure())
			return;
		data = pattern(300000, 11);
	}
	void push() { tcp_write_from(A, client.c, data, off); }
	size_t unread() const { return server.got.size() - consumed; }
	// Sends until the server's window is shut and the client has
	// nothing in flight.
	void fill()
	{
		push();
		ASSERT_TRUE(run_until([&] {
			push();
			tern_tcp_info si = info(1, server.c), ci = info(0, client.c);
			return si.rcv_wnd == 0 && ci.unacked == 0;
		}));
		EXPECT_EQ(unread(), (size_t)kBuf) << "exactly the buffer, no more";
	}
	// The application reads `chunk` bytes every `every` ms until all came.
	void read_all(size_t chunk, unsigned every)
	{
		unsigned tick = 0;
		ASSERT_TRUE(run_until([&] {
			push();
			max_unread = std::max(max_unread, unread());
			if (tick++ % every == 0 && unread() > 0) {
				size_t k = std::min(chunk, unread());
				consumed += k;
				tern_tcp_recved(B, server.c, (uint32_t)k);
			}
			return server.got.size() == data.size();
		}, 120000));
		EXPECT_TRUE(server.got == data);
		EXPECT_LE(max_unread, (size_t)kBuf);
	}
	Bytes data;
	size_t off = 0, consumed = 0, max_unread = 0;
};

TEST_F(TcpZeroWindow, ReceiverThatStopsReadingIsProbedWithoutData)
{
	fill();
	size_t had = server.got.size();
	uint64_t probes0 = counter(stats(A), "tcp.window_probes");
	frames.clear();
	run_until([] { return false; }, 30000);
	EXPECT_EQ(server.got.size(), had) << "nothing taken past the window";
	uint64_t probes = counter(stats(A), "tcp.window_probes") - probes0;
	// backed off: 0.2 + 0.4 + ... s, not every RTO
	EXPECT_GE(probes, 3u);
	EXPECT_LE(probes, 10u);
	auto fa = tcp_from(0), fb = tcp_from(1);
	EXPECT_EQ(fa.size(), probes);
	for (const Frame &f : fa)
		EXPECT_LE(payload_len(f), 1u) << "a probe, not a full segment";
	// each answered with the window still shut
	EXPECT_EQ(fb.size(), probes);
	for (const Frame &f : fb)
		EXPECT_EQ(win_of(f), 0u);
	// the application reads again, slowly: the window opens and shuts
	// again, no byte is lost or taken twice
	read_all(4096, 5);
	EXPECT_EQ(counter(stats(B), "tcp.drop_ooo_full"), 0u);
}

TEST_F(TcpZeroWindow, LostWindowUpdateIsFoundByTheNextProbe)
{
	fill();
	uint64_t probes0 = counter(stats(A), "tcp.window_probes");
	int dropped = 0;
	drop = [&dropped](int side, const Frame &f) {
		return side == 1 && pure_ack(f) && win_of(f) > 0 && dropped++ == 0;
	};
	size_t had = server.got.size();
	consumed += unread();
	tern_tcp_recved(B, server.c, (uint32_t)kBuf);
	pump();
	EXPECT_EQ(dropped, 1) << "the window update";
	EXPECT_EQ(server.got.size(), had);
	ASSERT_TRUE(run_until([&] { return server.got.size() > had; }, 60000));
	EXPECT_GT(counter(stats(A), "tcp.window_probes"), probes0);
	drop = nullptr;
	read_all(kBuf, 1);
}

// ---- sequence numbers across 2^32 ----------------------------------------------

class TcpWrap : public TcpRules {
protected:
	// A connection whose ISNs are `a_below` and `b_below` under 2^32:
	// the ISNs of the tuple at this instant are read from a first
	// handshake, then shifted (tern_tcp_set_isn_offset) for a second one
	// on the same tuple at the same instant.
	void start_near_wrap(uint32_t a_below, uint32_t b_below)
	{
		const uint16_t lport = 40000;
		tern_tcp_opts co = echo_opts(false), so = echo_opts(true);
		listen(80, so);
		ASSERT_NE(connect(80, co, lport), nullptr);
		uint32_t iss_a = info(0, client.c).snd_una;
		pump();
		ASSERT_TRUE(client.connected && accepted == 1);
		uint32_t iss_b = info(0, client.c).rcv_nxt - 1;
		tern_tcp_abort(A, client.c);
		tern_tcp_abort(B, server.c);
		pump();
		client = Peer();
		client.s = A;
		server = Peer();
		server.s = B;
		accepted = 0;
		tern_tcp_set_isn_offset(A, (0u - a_below) - iss_a);
		tern_tcp_set_isn_offset(B, (0u - b_below) - iss_b);
		ASSERT_NE(connect(80, co, lport), nullptr);
		pump();
		ASSERT_TRUE(client.connected && accepted == 1);
		ASSERT_EQ(info(0, client.c).snd_una, 1u - a_below);
		ASSERT_EQ(info(1, server.c).snd_una, 1u - b_below);
	}
};

TEST_F(TcpWrap, BulkBothWaysAcrossTheWrapWithLoss)
{
	start_near_wrap(3000, 2000);
	server.echo_paced = true;
	// The first sending of each data segment that starts within two
	// segments below 2^32 is lost (so one lost segment straddles the
	// wrap, and SACK blocks above it start past 0 while the cumulative
	// ACK is still below), and 1% of everything else.
	std::set<uint32_t> seen[2];
	drop = [&seen](int side, const Frame &f) {
		if (!is_tcp(f) || payload_len(f) == 0)
			return false;
		uint32_t s = seq_of(f);
		bool first = seen[side].insert(s).second;
		uint32_t to_wrap = 0u - s;
		return first && to_wrap > 0 && to_wrap <= 2 * kMss + 100;
	};
	tern_impair_conf c;
	memset(&c, 0, sizeof(c));
	c.loss = 0.01;
	c.seed = 505;
	tern_wire_set_impair(w, 0, tern_impair_create(&c, SOCKET_ID_ANY));
	c.seed = 606;
	tern_wire_set_impair(w, 1, tern_impair_create(&c, SOCKET_ID_ANY));
	const size_t n = 3u << 20;
	Bytes data = send_bulk(client, n);
	ASSERT_TRUE(run_until([&] {
		return client.got.size() >= n && client.acked == n && server.acked == n;
	}, 300000)) << describe();
	ASSERT_EQ(client.got.size(), n);
	EXPECT_TRUE(server.got == data);
	EXPECT_TRUE(client.got == data);
	// both directions went past 0
	tern_tcp_info ci = info(0, client.c), si = info(1, server.c);
	EXPECT_LT(ci.snd_una, 0x80000000u);
	EXPECT_LT(si.snd_una, 0x80000000u);
	EXPECT_EQ(ci.snd_una - (1u - 3000u), n + 0u);
	EXPECT_EQ(si.snd_una - (1u - 2000u), n + 0u);
	// on the wire, each way: a segment straddling 2^32 sent twice, and
	// an ACK below 2^32 whose SACK block lies above it
	for (int side = 0; side < 2; side++) {
		std::map<uint32_t, int> straddling;
		bool sack_across = false;
		for (const Frame &f : frames) {
			if (!is_tcp(f))
				continue;
			uint32_t s = seq_of(f);
			if (f.side == side && payload_len(f) > 0 &&
			    s > 0x80000000u && s + (uint32_t)payload_len(f) < s)
				straddling[s]++;
			if (f.side != side && ack_of(f) > 0x80000000u)
				for (auto &b : sack_of(f))
					if (b.first < 0x80000000u)
						sack_across = true;
		}
		ASSERT_EQ(straddling.size(), 1u) << side;
		EXPECT_GE(straddling.begin()->second, 2) << side;
		EXPECT_TRUE(sack_across) << side;
	}
	EXPECT_GT(counter(stats(A), "tcp.fast_retrans"), 0u);
	EXPECT_GT(counter(stats(B), "tcp.fast_retrans"), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.drop_paws"), 0u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_paws"), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.drop_bad_ack"), 0u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_bad_ack"), 0u);
	for (tern_stack *st : {A, B}) {
		EXPECT_EQ(counter(stats(st), "mbuf.drop_alloc_fail"), 0u);
		EXPECT_EQ(counter(stats(st), "ip4.drop_too_big"), 0u);
	}
}

// ---- TIME_WAIT reuse (RFC 6191) -------------------------------------------------

class TcpTimeWait : public TcpRules {
protected:
	static constexpr uint16_t kPort = 40001;
	// The server closes first, so it holds the TIME_WAIT (as HTTP
	// servers do), and the client is free to use its port again.
	void server_in_time_wait(tern_tcp_opts co = tern_tcp_opts())
	{
		listen();
		ASSERT_NE(connect(80, co, kPort), nullptr);
		ASSERT_TRUE(run_until([&] { return client.connected && accepted; }));
		ASSERT_EQ(tern_tcp_write(A, client.c, "first", 5), 5);
		ASSERT_TRUE(run_until([&] { return server.got.size() == 5; }));
		client.close_on_fin = true;
		tw = server.c;
		ASSERT_EQ(tern_tcp_close(B, server.c), 0);
		ASSERT_TRUE(run_until([&] { return client.closed && server.closed; }));
		ASSERT_EQ(tern_tcp_state(tw), TERN_TCP_TIME_WAIT);
		ASSERT_EQ(tern_tcp_count(A), 0u);
		ASSERT_EQ(tern_tcp_count(B), 1u);
		last_tsval = 0;
		for (const Frame &f : tcp_from(0))
			tsval_of(f, &last_tsval);
		client = Peer();
		client.s = A;
		server = Peer();
		server.s = B;
		accepted = 0;
	}
	tern_tcp_conn *tw = nullptr;
	uint32_t last_tsval = 0;
};

// A SYN on the tuple whose timestamp is newer than the last one seen
// opens a new connection at once (RFC 6191 2): no wait for 2 MSL, no
// RST, no retransmitted SYN.
TEST_F(TcpTimeWait, NewerTimestampSynReusesTheTuple)
{
	server_in_time_wait();
	step_ms(1000);
	frames.clear();
	ASSERT_NE(connect(80, tern_tcp_opts(), kPort), nullptr);
	pump();
	EXPECT_TRUE(client.connected);
	EXPECT_EQ(accepted, 1);
	auto fb = tcp_from(1);
	ASSERT_GE(fb.size(), 1u);
	EXPECT_EQ(tflags(fb[0]), kSyn | kAck);
	EXPECT_EQ(counter(stats(A), "tcp.syn_retrans"), 0u);
	EXPECT_EQ(tern_tcp_count(B), 1u) << "the new connection took the tuple";
	ASSERT_TRUE(client.connected && accepted == 1);
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_ESTABLISHED);
	ASSERT_EQ(tern_tcp_write(A, client.c, "again", 5), 5);
	pump();
	EXPECT_EQ(server.got, text("again"));
}

// Without timestamps, RFC 6191 falls back on RFC 1122 4.2.2.13: a SYN
// whose sequence number is above the old connection's reopens it (the
// ISN clock has moved 1 s, 250,000, past it).
TEST_F(TcpTimeWait, HigherSequenceSynWithoutTimestampsReusesTheTuple)
{
	tern_tcp_opts co;
	memset(&co, 0, sizeof(co));
	co.no_timestamps = true;
	server_in_time_wait(co);
	step_ms(1000);
	frames.clear();
	ASSERT_NE(connect(80, co, kPort), nullptr);
	pump();
	EXPECT_TRUE(client.connected);
	EXPECT_EQ(accepted, 1);
	EXPECT_EQ(counter(stats(A), "tcp.syn_retrans"), 0u);
	EXPECT_EQ(tern_tcp_count(B), 1u);
}

// An old duplicate SYN (its timestamp older than the last seen) must not
// open anything: the TIME_WAIT stays and no SYN-ACK goes out.
TEST_F(TcpTimeWait, OlderTimestampSynDoesNotReuseTheTuple)
{
	server_in_time_wait();
	ASSERT_NE(last_tsval, 0u);
	tern_tcp_info ti = info(1, tw);
	step_ms(1000);
	frames.clear();
	// A has no connection: it would answer B's ACK with a RST that ends
	// the TIME_WAIT (RFC 1337's hazard), which is not this test's
	drop = [](int side, const Frame &) { return side == 0; };
	inject_seg(1, 80, kPort, ti.rcv_nxt + 1000000, 0, kSyn, 65535,
		   ts_opt(last_tsval - 1000, 0));
	EXPECT_EQ(counter(stats(B), "tcp.drop_paws"), 1u);
	for (const Frame &f : tcp_from(1))
		EXPECT_FALSE(tflags(f) & kSyn) << "no SYN-ACK to an old SYN";
	EXPECT_EQ(accepted, 0);
	EXPECT_EQ(tern_tcp_count(B), 1u);
	EXPECT_EQ(tern_tcp_state(tw), TERN_TCP_TIME_WAIT);
}

// ---- a RST in every state (RFC 9293 3.10.7, RFC 5961 3) -------------------------

struct RstCase {
	enum tern_tcp_state st;
	int side;		// whose connection gets the RST
	int calls_after;	// closed() calls the application saw in all
	int err;		// its err (-1: none came)
	bool estab_reset;	// counted in tcp.estab_resets (RFC 1213)
};

void PrintTo(const RstCase &k, std::ostream *os)
{
	*os << tern_tcp_state_name(k.st);
}

std::string rst_case_name(const ::testing::TestParamInfo<RstCase> &i)
{
	return tern_tcp_state_name(i.param.st);
}

class TcpRst : public TcpRules, public ::testing::WithParamInterface<RstCase> {
protected:
	// Brings a connection into st; sets target, tside, tpeer.
	void reach(enum tern_tcp_state st)
	{
		tside = 0;
		tpeer = &client;
		switch (st) {
		case TERN_TCP_LISTEN:
			listen();
			return;
		case TERN_TCP_SYN_SENT:
			drop = [](int side, const Frame &) { return side == 0; };
			ASSERT_NE(connect(81), nullptr);
			pump();
			target = client.c;
			return;
		case TERN_TCP_SYN_RECEIVED: {
			listen(80, tern_tcp_opts(), 1);
			drop = [](int side, const Frame &) { return side == 1; };
			ASSERT_NE(connect(), nullptr);
			pump();
			auto bc = conns_of(B);
			ASSERT_EQ(bc.size(), 1u);
			target = bc[0];
			tside = 1;
			tpeer = &server;
			return;
		}
		default:
			break;
		}
		establish();
		if (HasFatalFailure())
			return;
		target = client.c;
		switch (st) {
		case TERN_TCP_ESTABLISHED:
			break;
		case TERN_TCP_FIN_WAIT_1:
			drop = [](int side, const Frame &f) {
				return side == 0 && is_tcp(f) && (tflags(f) & kFin);
			};
			ASSERT_EQ(tern_tcp_close(A, client.c), 0);
			pump();
			break;
		case TERN_TCP_FIN_WAIT_2:
			ASSERT_EQ(tern_tcp_close(A, client.c), 0);
			pump();
			break;
		case TERN_TCP_CLOSE_WAIT:
			ASSERT_EQ(tern_tcp_close(A, client.c), 0);
			pump();
			target = server.c;
			tside = 1;
			tpeer = &server;
			break;
		case TERN_TCP_CLOSING:
			// simultaneous close, the ACKs of both FINs lost
			drop = [](int, const Frame &f) { return pure_ack(f); };
			ASSERT_EQ(tern_tcp_close(A, client.c), 0);
			ASSERT_EQ(tern_tcp_close(B, server.c), 0);
			pump();
			EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_CLOSING);
			break;
		case TERN_TCP_LAST_ACK:
			ASSERT_EQ(tern_tcp_close(A, client.c), 0);
			pump();
			drop = [](int side, const Frame &f) { return side == 0 && pure_ack(f); };
			target = server.c;
			tside = 1;
			tpeer = &server;
			ASSERT_EQ(tern_tcp_close(B, server.c), 0);
			pump();
			break;
		case TERN_TCP_TIME_WAIT:
			server.close_on_fin = true;
			ASSERT_EQ(tern_tcp_close(A, client.c), 0);
			pump();
			break;
		default:
			FAIL() << "no way to " << tern_tcp_state_name(st);
		}
	}
	tern_tcp_conn *target = nullptr;
	int tside = 0;
	Peer *tpeer = nullptr;
};

TEST_P(TcpRst, OnlyAnExactResetCloses)
{
	const RstCase &k = GetParam();
	reach(k.st);
	if (HasFatalFailure())
		return;
	tern_stack *s = S(k.side);
	if (k.st == TERN_TCP_LISTEN) {
		// a RST to a listener is ignored (3.10.7.2), and not answered
		tern_stack_stats before = stats(B);
		frames.clear();
		inject_seg(1, 80, 5555, 12345, 0, kRst);
		inject_seg(1, 80, 5556, 12345, 777, kRst | kAck);
		EXPECT_TRUE(tcp_from(1).empty());
		EXPECT_EQ(counter(stats(B), "tcp.drop_rst") - counter(before, "tcp.drop_rst"), 2u);
		EXPECT_EQ(tern_tcp_count(B), 0u);
		ASSERT_NE(connect(), nullptr);
		ASSERT_TRUE(run_until([&] { return client.connected && accepted; }));
		return;
	}
	ASSERT_NE(target, nullptr);
	tern_tcp_info ti = info(k.side, target);
	ASSERT_EQ(ti.state, k.st) << tern_tcp_state_name((enum tern_tcp_state)ti.state);
	uint32_t count = tern_tcp_count(s);
	int calls = tpeer->closed_calls;
	uint16_t lp = ti.lport, rp = ti.rport;

	// What the target sends stays on the wire (the tap records it):
	// the real peer would answer it (a RST from CLOSED, say) and blur
	// what the injected segments did.
	int ts = k.side;
	drop = [ts](int side, const Frame &) { return side == ts; };
	tern_stack_stats st0 = stats(s);
	frames.clear();
	if (k.st == TERN_TCP_SYN_SENT) {
		// an ACK that does not acknowledge our SYN: not acceptable,
		// dropped, and a RST is never answered
		inject_seg(0, lp, rp, 0, ti.snd_nxt + 1000, kRst | kAck, 0);
		EXPECT_EQ(counter(stats(s), "tcp.drop_bad_ack") - counter(st0, "tcp.drop_bad_ack"), 1u);
		// no ACK at all: ignored (3.10.7.3)
		inject_seg(0, lp, rp, 0, 0, kRst, 0);
		EXPECT_EQ(counter(stats(s), "tcp.drop_rst") - counter(st0, "tcp.drop_rst"), 1u);
		EXPECT_TRUE(tcp_from(0).empty());
	} else {
		// out of the window, above and below: dropped silently
		inject_seg(k.side, lp, rp, ti.rcv_nxt + ti.rcv_wnd + 1000, 0, kRst, 0);
		inject_seg(k.side, lp, rp, ti.rcv_nxt - 100000, 0, kRst, 0);
		EXPECT_EQ(counter(stats(s), "tcp.drop_rst") - counter(st0, "tcp.drop_rst"), 2u);
		EXPECT_TRUE(tcp_from(k.side).empty());
		// in the window but not RCV.NXT: a challenge ACK (RFC 5961 3.2)
		ASSERT_GT(ti.rcv_wnd, 1u);
		inject_seg(k.side, lp, rp, ti.rcv_nxt + 1, 0, kRst, 0);
		EXPECT_EQ(counter(stats(s), "tcp.drop_rst") - counter(st0, "tcp.drop_rst"), 3u);
		EXPECT_EQ(counter(stats(s), "tcp.challenge_acks") -
			  counter(st0, "tcp.challenge_acks"), 1u);
		auto out = tcp_from(k.side);
		ASSERT_EQ(out.size(), 1u);
		EXPECT_EQ(tflags(out[0]), kAck);
		EXPECT_EQ(ack_of(out[0]), ti.rcv_nxt);
	}
	EXPECT_EQ(tern_tcp_state(target), k.st) << "unchanged";
	EXPECT_EQ(tern_tcp_count(s), count);
	EXPECT_EQ(tpeer->closed_calls, calls) << "the application heard nothing";
	EXPECT_EQ(counter(stats(s), "tcp.rx_rst"), counter(st0, "tcp.rx_rst"));

	// the exact one
	st0 = stats(s);
	frames.clear();
	if (k.st == TERN_TCP_SYN_SENT)
		inject_seg(0, lp, rp, 0, ti.snd_nxt, kRst | kAck, 0);
	else
		inject_seg(k.side, lp, rp, ti.rcv_nxt, 0, kRst, 0);
	tern_stack_stats st1 = stats(s);
	EXPECT_EQ(tern_tcp_count(s), count - 1);
	EXPECT_EQ(tern_tcp_state(target), TERN_TCP_CLOSED);
	EXPECT_EQ(tpeer->closed_calls, k.calls_after);
	EXPECT_EQ(tpeer->err, k.err);
	EXPECT_TRUE(tcp_from(k.side).empty()) << "a RST is never answered";
	EXPECT_EQ(counter(st1, "tcp.rx_rst") - counter(st0, "tcp.rx_rst"), 1u);
	EXPECT_EQ(counter(st1, "tcp.estab_resets") - counter(st0, "tcp.estab_resets"),
		  k.estab_reset ? 1u : 0u);
	EXPECT_EQ(counter(st1, "tcp.attempt_fails") - counter(st0, "tcp.attempt_fails"),
		  k.st == TERN_TCP_SYN_SENT ? 1u : 0u);
	EXPECT_TRUE(drops_changed(st0, st1).empty())
		<< ::testing::PrintToString(drops_changed(st0, st1));

	if (k.st == TERN_TCP_SYN_RECEIVED) {
		// back to LISTEN with its backlog (1) free again: the
		// client's next SYN is accepted
		drop = nullptr;
		EXPECT_EQ(accepted, 0);
		ASSERT_TRUE(run_until([&] { return client.connected && accepted; }, 3000));
	}
}

INSTANTIATE_TEST_SUITE_P(
	TcpStates, TcpRst,
	::testing::Values(
		RstCase{TERN_TCP_LISTEN, 1, 0, -1, false},
		RstCase{TERN_TCP_SYN_SENT, 0, 1, ECONNREFUSED, false},
		// passive: back to LISTEN, the application never saw it
		RstCase{TERN_TCP_SYN_RECEIVED, 1, 0, -1, false},
		RstCase{TERN_TCP_ESTABLISHED, 0, 1, ECONNRESET, true},
		RstCase{TERN_TCP_FIN_WAIT_1, 0, 1, ECONNRESET, false},
		RstCase{TERN_TCP_FIN_WAIT_2, 0, 1, ECONNRESET, false},
		RstCase{TERN_TCP_CLOSE_WAIT, 1, 1, EPIPE, true},
		// our FIN not acknowledged: the close did not complete
		RstCase{TERN_TCP_CLOSING, 0, 1, ECONNRESET, false},
		RstCase{TERN_TCP_LAST_ACK, 1, 1, ECONNRESET, false},
		// closed(0) came on entering TIME_WAIT; nothing more
		RstCase{TERN_TCP_TIME_WAIT, 0, 1, 0, false}),
	rst_case_name);

// ---- a SYN flood beside an established transfer --------------------------------

class TcpFlood : public TcpRules {
protected:
	// B answers the spoofed sources through a gateway whose MAC is a
	// host that is not there (A's NIC drops those frames).
	void conf_iface(tern_iface_conf &ic, int side) override
	{
		if (side == 1)
			ic.gateway = v4(kIpGw);
	}
	// The i-th spoofed SYN: 172.16.x.y, each from its own tuple.
	void spoofed_syn(uint32_t i)
	{
		uint32_t src = 0xac100000u + 1 + i / 200;
		uint16_t sport = (uint16_t)(20000 + i % 200);
		Bytes mss = {2, 4, 0x05, 0xb4};
		inject(B, tcp_frame(kMacB, kMacX, src, kIpB, sport, 80,
				    0x1000u * i, 0, kSyn, 65535, mss));
	}
};

TEST_F(TcpFlood, SpoofedSynsBeyondTheBacklogLeaveTheTransferAlone)
{
	tern_addr gw = v4(kIpGw);
	rte_ether_addr gmac = ether(kMacX);
	ASSERT_EQ(tern_neigh_add(B, kIfB, &gw, &gmac), 0);
	const uint32_t backlog = 64;
	listen(80, tern_tcp_opts(), backlog);
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected && accepted; }));

	const size_t n = 2u << 20;
	Bytes data = pattern(n, 21);
	size_t off = 0;
	uint32_t sent = 0;
	uint32_t peak_conns = 0;
	uint64_t t0 = now_ms();
	ASSERT_TRUE(run_until([&] {
		// 20 SYNs a millisecond for the first 300 ms
		if (now_ms() - t0 < 300)
			for (int k = 0; k < 20; k++)
				spoofed_syn(sent++);
		tcp_write_from(A, client.c, data, off, 8192);
		peak_conns = std::max(peak_conns, tern_tcp_count(B));
		return server.got.size() == n && now_ms() - t0 >= 300;
	}, 60000));
	EXPECT_EQ(sent, 6000u);
	EXPECT_TRUE(server.got == data);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 0u) << "the transfer did not stall";
	// the backlog held: the half-open connections never passed it
	EXPECT_EQ(peak_conns, backlog + 1);
	tern_stack_stats sb = stats(B);
	EXPECT_EQ(counter(sb, "tcp.passive_opens"), backlog + 1);
	// every SYN past the backlog is counted: dropped, or, with SYN
	// cookies, answered with a cookie (no state: peak_conns stays)
	uint64_t cookies = has_counter("tcp.syncookies_sent") ?
			   counter(sb, "tcp.syncookies_sent") : 0;
	EXPECT_EQ(counter(sb, "tcp.drop_listen_overflow") + cookies, sent - backlog);
	EXPECT_EQ(counter(sb, "tcp.drop_table_full"), 0u);
	EXPECT_EQ(counter(sb, "mbuf.drop_alloc_fail"), 0u);
	// half-open connections hold no mbufs: with the transfer done and
	// acknowledged, nothing is out of the pool
	ASSERT_TRUE(run_until([&] { return client.acked == n; }));
	pump();
	EXPECT_EQ(in_use(pool), 0u);

	// the half-open connections give up after their SYN-ACK retries
	// (1 + 2 + ... + 64 s), freeing the backlog
	for (int i = 0; i < 135; i++)
		step_ms(1000);
	EXPECT_EQ(tern_tcp_count(B), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.conn_timeouts"), backlog);
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_ESTABLISHED);
	Peer first = client;
	client = Peer();
	client.s = A;
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected && accepted == 2; }, 100));
	tern_tcp_abort(A, first.c);
}

}  // namespace

// Both ways at once with the default 256 KiB buffers, a pool of 1000
// mbufs and 2 % loss: the out-of-order queues of the two directions
// could hold more than the pool, and did, until nothing was left for the
// retransmission that fills their holes (a stall). Out-of-order data now
// leaves the last eighth of the pool alone (tcp.drop_ooo_pool_low) and
// comes again.
TEST_F(TcpImpair, OutOfOrderQueuesLeaveThePoolAReserve)
{
	tern_tcp_opts o{};
	o.sndbuf = o.rcvbuf = 256 * 1024;
	establish(o, o);
	impair(0, conf(303, 0.05, 0.05, 0.02));
	impair(1, conf(404, 0.05, 0.05, 0.02));
	const size_t n = 4u << 20;
	Bytes data = pattern(n, 7), data2 = pattern(n, 9);
	size_t o1 = 0, o2 = 0;
	ASSERT_TRUE(run_until([&] {
		tcp_write_from(A, client.c, data, o1, 64000);
		tcp_write_from(B, server.c, data2, o2, 64000);
		return client.got.size() >= n && server.got.size() >= n;
	}, 300000)) << describe();
	EXPECT_TRUE(server.got == data);
	EXPECT_TRUE(client.got == data2);
	EXPECT_GT(counter(stats(A), "tcp.drop_ooo_pool_low") +
		  counter(stats(B), "tcp.drop_ooo_pool_low"), 0u);
	EXPECT_GT(counter(stats(A), "tcp.retrans_segs"), 0u);
	EXPECT_GT(counter(stats(B), "tcp.retrans_segs"), 0u);
	close_both();
}
