// TCP between two stacks over the in-memory wire on the virtual clock:
// handshakes, options, data both ways, close, RST, loss and recovery.
#include <netinet/in.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>
#include <deque>
#include <map>
#include <set>

#include <tern/impair.h>
#include <tern/offload.h>
#include <tern/tcp.h>

#include "tcp_fixture.h"
#include "tcp_table_check.h"

using namespace tt;

namespace {

TEST_F(Tcp, HandshakeNegotiatesOptions)
{
	establish();
	tern_tcp_info ci, si;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	ASSERT_EQ(tern_tcp_info_get(B, server.c, &si), 0);
	EXPECT_EQ(ci.state, TERN_TCP_ESTABLISHED);
	EXPECT_EQ(si.state, TERN_TCP_ESTABLISHED);
	// 1500 - 20 - 20 - 12 (timestamps on every segment)
	EXPECT_EQ(ci.mss, 1448);
	EXPECT_EQ(si.mss, 1448);
	EXPECT_TRUE(ci.sack && ci.timestamps && si.sack && si.timestamps);
	EXPECT_NE(ci.snd_wscale, 0xff);
	EXPECT_EQ(ci.snd_wscale, si.rcv_wscale);
	EXPECT_EQ(ci.rcv_wscale, si.snd_wscale);
	// RFC 6928: IW10
	EXPECT_EQ(ci.cwnd, 10u * 1448);
	EXPECT_GE(ci.lport, 49152);
	EXPECT_EQ(si.rport, ci.lport);
	// the SYN carried mss, sackOK, TS, nop, wscale (Linux's layout)
	auto fa = tcp_from(0);
	ASSERT_GE(fa.size(), 2u);
	const uint8_t *th = fa[0].l4();
	EXPECT_EQ(tflags(fa[0]), RTE_TCP_SYN_FLAG);
	EXPECT_EQ((th[12] >> 4) * 4, 40);
	EXPECT_EQ(th[20], 2);	// MSS
	EXPECT_EQ(get16(th + 22), 1460);
	EXPECT_EQ(th[24], 4);	// SACK permitted
	EXPECT_EQ(th[26], 8);	// timestamps
	EXPECT_EQ(th[36], 1);	// nop
	EXPECT_EQ(th[37], 3);	// window scale
	auto fb = tcp_from(1);
	ASSERT_GE(fb.size(), 1u);
	EXPECT_EQ(tflags(fb[0]), RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(get32(fb[0].l4() + 8), get32(th + 4) + 1);	// ack = ISS + 1
	EXPECT_EQ(counter(stats(A), "tcp.active_opens"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.passive_opens"), 1u);
	EXPECT_EQ(drops_total(stats(A)), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
}

TEST_F(Tcp, OptionsOffNegotiateOff)
{
	tern_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.no_sack = o.no_timestamps = o.no_wscale = true;
	establish(o);
	expect_no_options(1460);
}

TEST_F(Tcp, IsnsDifferPerTupleAndMoveWithTime)
{
	// RFC 6528: ISN = M + F(4-tuple, secret), M ticking every 4 us
	ASSERT_NE(connect(81), nullptr);
	tern_tcp_conn *c1 = client.c;
	ASSERT_NE(connect(82), nullptr);
	tern_tcp_info i1, i2;
	ASSERT_EQ(tern_tcp_info_get(A, c1, &i1), 0);
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &i2), 0);
	// same instant, other tuple: F differs
	EXPECT_NE(i1.snd_una, i2.snd_una);
	tern_tcp_abort(A, c1);
	tern_tcp_abort(A, client.c);
	// same tuple 1 ms later: only M moved, by 1 ms / 4 us
	tern_clock_advance(&clk, TERN_NS_PER_MS);
	ASSERT_NE(connect(81, tern_tcp_opts(), i1.lport), nullptr);
	tern_tcp_info i3;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &i3), 0);
	EXPECT_EQ(i3.snd_una - i1.snd_una, 250u);
	tern_tcp_abort(A, client.c);
	client.c = nullptr;
}

TEST_F(Tcp, DataBothWaysInOrderIntact)
{
	establish();
	server.echo = true;
	Bytes data = send_bulk(client, 200000);
	ASSERT_TRUE(run_until([&] { return client.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(client.got, data);
	EXPECT_EQ(client.acked, data.size());
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 0u);
	EXPECT_EQ(drops_total(stats(A)), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
	// no segment larger than the MSS
	for (const Frame &f : frames) {
		if (f.is_ip4(IPPROTO_TCP)) {
			EXPECT_LE(f.l4_len() - (f.l4()[12] >> 4) * 4u, 1448u);
		}
	}
}

// ---- large segments: TSO at the port, or software segmentation -------

// What an interface's port was handed (the stack's TX function, before any
// NIC work): the TCP data packets, their payload and TSO marks.
struct PortPkt {
	uint32_t seq, payload;
	bool tso;
	uint16_t segsz;
};
struct PortTap {
	void *end = nullptr;	// the wire end it forwards to
	std::vector<PortPkt> pkts;
};

uint16_t port_tap_tx(void *ctx, rte_mbuf **pkts, uint16_t n)
{
	auto *p = static_cast<PortTap *>(ctx);
	for (uint16_t i = 0; i < n; i++) {
		const rte_mbuf *m = pkts[i];
		const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
		if (m->data_len < 54 || get16(&b[12]) != kEthIp4 || b[14 + 9] != IPPROTO_TCP)
			continue;
		size_t ihl = (b[14] & 0xf) * 4u, thl = (b[14 + ihl + 12] >> 4) * 4u;
		uint32_t payload = m->pkt_len - (uint32_t)(14 + ihl + thl);
		if (payload > 0)
			p->pkts.push_back({get32(&b[14 + ihl + 4]), payload,
					   (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0,
					   (uint16_t)m->tso_segsz});
	}
	return tern_wire_tx(p->end, pkts, n);
}

size_t tcp_payload(const Frame &f)
{
	return f.l4_len() - (f.l4()[12] >> 4) * 4u;
}

// Both interfaces with TSO (the in-memory wire cuts like a NIC would);
// TcpNoTso: without, so the stack cuts in software.
class TcpTso : public Tcp {
protected:
	void conf_iface(tern_iface_conf &ic, int side) override
	{
		port[side].end = ic.tx_ctx;
		ic.tx = port_tap_tx;
		ic.tx_ctx = &port[side];
		if (tso) {
			ic.caps.tx_ip4_cksum = ic.caps.tx_tcp_cksum = true;
			ic.caps.tso_max = TERN_OL_TSO_MAX;
		}
	}
	// The data frames side put on the wire: at most one MSS each, the
	// timestamps option in each, checksums right. Returns how many.
	size_t check_wire(int side)
	{
		size_t n = 0;
		for (const Frame &f : tcp_from(side)) {
			size_t len = tcp_payload(f);
			if (len == 0)
				continue;
			n++;
			EXPECT_LE(len, 1448u);
			EXPECT_LE(f.b.size(), 1514u);
			const uint8_t *o = f.l4() + 20;
			EXPECT_TRUE(o[0] == 1 && o[1] == 1 && o[2] == 8 && o[3] == 10)
				<< "timestamps in every segment";
			alignas(8) uint8_t buf[1600];
			memcpy(buf, f.b.data(), f.b.size());
			auto *ip = (rte_ipv4_hdr *)(buf + 14);
			EXPECT_EQ(rte_raw_cksum(ip, 20), 0xffff);
			EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, buf + 34), 0);
		}
		return n;
	}
	bool tso = true;
	PortTap port[2];
};

class TcpNoTso : public TcpTso {
protected:
	TcpNoTso() { tso = false; }
};

TEST_F(TcpTso, WindowLimitedBulkGoesInLargeSegmentsPeerSeesMss)
{
	establish();
	Bytes data = send_bulk(client, 3000000, 60000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 0u);
	EXPECT_EQ(drops_total(stats(A)), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
	tern_stack_stats st = stats(A);
	EXPECT_GT(counter(st, "eth.tx_tso"), 0u);
	EXPECT_EQ(counter(st, "eth.tx_gso"), 0u);
	// the port got segments of whole MSS, as large as the window and
	// TSO allow (at most 45 MSS: 64 KB)
	uint32_t largest = 0;
	uint64_t bytes = 0;
	for (const PortPkt &p : port[0].pkts) {
		largest = std::max(largest, p.payload);
		bytes += p.payload;
		EXPECT_LE(p.payload, 45u * 1448);
		if (p.payload > 1448) {
			EXPECT_TRUE(p.tso);
			EXPECT_EQ(p.segsz, 1448);
			EXPECT_EQ(p.payload % 1448, 0u) << "whole MSS (Nagle holds tails)";
		}
	}
	EXPECT_GE(largest, 20u * 1448);
	EXPECT_EQ(bytes, data.size());
	// the peer saw MSS segments with timestamps and good checksums
	// (Nagle with Minshall's rule lets a short tail go when no other
	// short one is in flight: about one per round trip, 1 % at most here)
	size_t wire = check_wire(0);
	size_t full = (data.size() + 1447) / 1448;
	EXPECT_GE(wire, full);
	EXPECT_LE(wire, full + full / 100);
	EXPECT_LT(port[0].pkts.size() * 5, wire);
	EXPECT_EQ(counter(st, "tcp.tx_segs"), tcp_from(0).size())
		<< "tcp.tx_segs counts segments as they leave";
}

TEST_F(TcpNoTso, WithoutTsoTheStackCutsLargeSegmentsInSoftware)
{
	establish();
	Bytes data = send_bulk(client, 1000000, 60000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(drops_total(stats(A)), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
	tern_stack_stats st = stats(A);
	EXPECT_EQ(counter(st, "eth.tx_tso"), 0u);
	EXPECT_GT(counter(st, "eth.tx_gso"), 0u);
	EXPECT_GT(counter(st, "eth.tx_gso_segs"), 5 * counter(st, "eth.tx_gso"));
	// the port only ever got MSS segments
	for (const PortPkt &p : port[0].pkts) {
		EXPECT_FALSE(p.tso);
		EXPECT_LE(p.payload, 1448u);
	}
	EXPECT_EQ(check_wire(0), port[0].pkts.size());
	size_t full = (data.size() + 1447) / 1448;
	EXPECT_GE(port[0].pkts.size(), full);
	EXPECT_LE(port[0].pkts.size(), full + full / 100);	// Minshall's short tails
}

TEST_F(TcpTso, LostSegmentsAreRecoveredFastRetransmitSendsOneMss)
{
	establish();
	int n = 0;
	drop = [&](int side, const Frame &f) {
		if (side != 0 || !f.is_ip4(IPPROTO_TCP) || tcp_payload(f) == 0)
			return false;
		n++;
		return n == 30 || n == 400 || n == 401 || n == 402;
	};
	Bytes data = send_bulk(client, 2000000, 60000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_GE(counter(stats(A), "tcp.fast_retrans"), 1u);
	EXPECT_GE(counter(stats(A), "tcp.retrans_segs"), 4u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_bad_cksum"), 0u);
	// the first packet that went again was one MSS
	uint32_t top = port[0].pkts.at(0).seq;
	bool seen = false;
	for (const PortPkt &p : port[0].pkts) {
		if ((int32_t)(p.seq - top) < 0) {
			EXPECT_EQ(p.payload, 1448u);
			EXPECT_FALSE(p.tso);
			seen = true;
			break;
		}
		top = p.seq + p.payload;
	}
	EXPECT_TRUE(seen);
	check_wire(0);
}

TEST_F(TcpTso, RtoSendsOneMssThenLargerSegmentsAgain)
{
	establish();
	// every data frame of the first flight is lost once: no duplicate
	// ACKs, only the RTO can help
	std::set<uint32_t> sent;
	bool losing = true;
	drop = [&](int side, const Frame &f) {
		if (side != 0 || !f.is_ip4(IPPROTO_TCP) || tcp_payload(f) == 0)
			return false;
		if (counter(stats(A), "tcp.rto_expired") > 0)
			losing = false;
		return losing && sent.insert(get32(f.l4() + 4)).second;
	};
	Bytes data = send_bulk(client, 100000, 100000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 1u);
	// the first flight: the initial window (10 MSS) in one packet
	ASSERT_GE(port[0].pkts.size(), 2u);
	EXPECT_TRUE(port[0].pkts[0].tso);
	EXPECT_EQ(port[0].pkts[0].payload, 10u * 1448);
	// then the RTO: one MSS from SND.UNA, and larger ones as the window
	// opens again
	EXPECT_EQ(port[0].pkts[1].seq, port[0].pkts[0].seq);
	EXPECT_EQ(port[0].pkts[1].payload, 1448u);
	EXPECT_FALSE(port[0].pkts[1].tso);
	bool large_again = false;
	for (size_t i = 2; i < port[0].pkts.size(); i++)
		if (port[0].pkts[i].tso &&
		    (int32_t)(port[0].pkts[i].seq - (port[0].pkts[0].seq + 10 * 1448)) < 0)
			large_again = true;
	EXPECT_TRUE(large_again) << "a retransmission of several MSS";
	check_wire(0);
}

// A data segment of one full MSS that also carries SACK blocks has more
// header than the MSS allowed for (RFC 6691: the MSS counts no options):
// it must still fit the MTU (it leaves as two segments), not be dropped.
TEST_F(TcpNoTso, FullSegmentWithSackBlocksStillFitsTheMtu)
{
	establish();
	int n = 0;
	drop = [&](int side, const Frame &f) {
		return side == 0 && f.is_ip4(IPPROTO_TCP) && tcp_payload(f) > 0 && ++n == 5;
	};
	Bytes da = pattern(300000, 1), db = pattern(300000, 2);
	size_t oa = 0, ob = 0;
	ASSERT_TRUE(run_until([&] {
		tcp_write_from(A, client.c, da, oa);
		tcp_write_from(B, server.c, db, ob);
		return server.got.size() == da.size() && client.got.size() == db.size();
	}, 20000));
	EXPECT_EQ(server.got, da);
	EXPECT_EQ(client.got, db);
	EXPECT_EQ(counter(stats(B), "ip4.drop_too_big"), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
	// B sent data with SACK blocks (the case under test), all within
	// the MTU
	bool sack_on_data = false;
	for (const Frame &f : tcp_from(1)) {
		EXPECT_LE(f.b.size(), 1514u);
		const uint8_t *o = f.l4() + 20;
		size_t olen = (f.l4()[12] >> 4) * 4u - 20;
		if (tcp_payload(f) > 0 && olen > 12 && o[12] == 1 && o[13] == 1 && o[14] == 5)
			sack_on_data = true;
	}
	EXPECT_TRUE(sack_on_data);
}

TEST_F(Tcp, GracefulCloseBothSidesAndTimeWait)
{
	establish();
	server.close_on_fin = true;
	ASSERT_EQ(tern_tcp_write(A, client.c, "hello", 5), 5);
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	ASSERT_TRUE(run_until([&] { return client.closed && server.closed; }));
	EXPECT_EQ(server.got, Bytes({'h', 'e', 'l', 'l', 'o'}));
	EXPECT_TRUE(server.fin);
	EXPECT_EQ(client.err, 0);
	EXPECT_EQ(server.err, 0);
	// the active closer waits in TIME_WAIT (2 MSL = 60 s), the other is gone
	EXPECT_EQ(tern_tcp_count(A), 1u);
	EXPECT_EQ(tern_tcp_count(B), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.time_wait"), 1u);
	step_ms(59000);
	EXPECT_EQ(tern_tcp_count(A), 1u);
	step_ms(1001);
	EXPECT_EQ(tern_tcp_count(A), 0u);
}

// A connection's deadlines are 32-bit clock readings (microseconds for
// the RTO, milliseconds for TIME_WAIT) compared modulo 2^32: an RTO and a
// TIME_WAIT that span the wrap of their counter last exactly as long.
class TcpDeadlineWrap : public Tcp, public ::testing::WithParamInterface<uint64_t> {
	uint64_t clock_start_ns() const override { return GetParam(); }
};

TEST_P(TcpDeadlineWrap, RtoAndTimeWaitLastTheirTime)
{
	listen();
	int dropped = 0;
	drop = [&](int side, const Frame &f) {
		return side == 0 && f.is_ip4(IPPROTO_TCP) && dropped++ == 0;
	};
	ASSERT_NE(connect(), nullptr);
	step_ms(999);
	EXPECT_FALSE(client.connected);
	step_ms(1);
	pump();
	EXPECT_TRUE(client.connected) << "the SYN again at 1 s";
	EXPECT_EQ(counter(stats(A), "tcp.syn_retrans"), 1u);
	ASSERT_TRUE(run_until([&] { return accepted == 1; }, 100));
	server.close_on_fin = true;
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	ASSERT_TRUE(run_until([&] { return client.closed && server.closed; }));
	EXPECT_EQ(counter(stats(A), "tcp.time_wait"), 1u);
	step_ms(59990);
	EXPECT_EQ(tern_tcp_count(A), 1u) << "in TIME_WAIT for 2 MSL";
	step_ms(20);
	EXPECT_EQ(tern_tcp_count(A), 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Tcp, TcpDeadlineWrap,
	::testing::Values(
		// the microsecond counter wraps 500.296 ms in (the start a
		// whole millisecond, as the wheel's ticks are)
		((1ull << 32) - 500296) * TERN_NS_PER_US,
		// the millisecond counter wraps 30 s in
		((1ull << 32) - 30000) * TERN_NS_PER_MS));

// A connection holds its callbacks as a byte: an index into a table of
// up to 255 per stack. One table more is refused, clearly, and leaves
// the connection as it was.
TEST_F(Tcp, OpsTablesPerStackAreBounded)
{
	establish();
	std::vector<tern_tcp_ops> tabs(300, kOps);
	size_t ok = 0;
	while (ok < tabs.size() &&
	       tern_tcp_set_ops(A, client.c, &tabs[ok], &client) == 0)
		ok++;
	EXPECT_EQ(ok, 254u) << "kOps is the stack's first";
	EXPECT_EQ(tern_tcp_set_ops(A, client.c, &tabs[ok], &client), -ENOSPC);
	EXPECT_EQ(tern_tcp_set_ops(A, client.c, &tabs[0], &client), 0) << "known";
	EXPECT_EQ(tcp_connect(A, kIpB, 80, &tabs[ok], &client), nullptr);
	EXPECT_EQ(rte_errno, ENOSPC);
	EXPECT_EQ(tern_tcp_set_ops(A, client.c, &kOps, &client), 0);
	ASSERT_EQ(tern_tcp_write(A, client.c, "ping", 4), 4);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 4; }));
	ASSERT_EQ(tern_tcp_write(B, server.c, "pong", 4), 4);
	ASSERT_TRUE(run_until([&] { return client.got.size() == 4; }));
}

TEST_F(Tcp, HalfCloseKeepsTheOtherDirection)
{
	establish();
	ASSERT_EQ(tern_tcp_shutdown_wr(A, client.c), 0);
	ASSERT_TRUE(run_until([&] { return server.fin; }));
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_CLOSE_WAIT);
	EXPECT_EQ(tern_tcp_state(client.c), TERN_TCP_FIN_WAIT_2);
	EXPECT_EQ(tern_tcp_write(A, client.c, "x", 1), -EPIPE);
	Bytes more = pattern(10000, 3);
	ASSERT_EQ(tern_tcp_write(B, server.c, more.data(), (uint32_t)more.size()),
		  (int)more.size());
	ASSERT_TRUE(run_until([&] { return client.got.size() == more.size(); }));
	EXPECT_EQ(client.got, more);
	ASSERT_EQ(tern_tcp_close(B, server.c), 0);
	ASSERT_TRUE(run_until([&] { return client.fin && server.closed; }));
	// the client is in TIME_WAIT: the application heard closed(0)
	EXPECT_TRUE(client.closed);
	EXPECT_EQ(client.err, 0);
	EXPECT_EQ(counter(stats(A), "tcp.time_wait"), 1u);
	EXPECT_EQ(tern_tcp_count(A), 1u);
}

TEST_F(Tcp, ConnectToClosedPortIsRefused)
{
	ASSERT_NE(connect(81), nullptr);
	ASSERT_TRUE(run_until([&] { return client.closed; }));
	EXPECT_EQ(client.err, ECONNREFUSED);
	EXPECT_EQ(counter(stats(B), "tcp.drop_no_conn"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.tx_rst"), 1u);
	EXPECT_EQ(counter(stats(A), "tcp.attempt_fails"), 1u);
	EXPECT_EQ(tern_tcp_count(A), 0u);
}

TEST_F(Tcp, LostSynIsSentAgainAfterTheInitialRto)
{
	listen();
	int dropped = 0;
	drop = [&](int side, const Frame &f) {
		if (side == 0 && f.is_ip4(IPPROTO_TCP) && dropped == 0) {
			dropped++;
			return true;
		}
		return false;
	};
	ASSERT_NE(connect(), nullptr);
	step_ms(999);
	EXPECT_FALSE(client.connected);
	ASSERT_TRUE(run_until([&] { return client.connected; }, 100));
	EXPECT_EQ(counter(stats(A), "tcp.syn_retrans"), 1u);
}

TEST_F(Tcp, LostSynAckIsSentAgain)
{
	listen();
	int dropped = 0;
	drop = [&](int side, const Frame &f) {
		if (side == 1 && f.is_ip4(IPPROTO_TCP) && dropped == 0) {
			dropped++;
			return true;
		}
		return false;
	};
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected && accepted; }, 3000));
	EXPECT_GE(counter(stats(B), "tcp.syn_retrans") + counter(stats(A), "tcp.syn_retrans"), 1u);
	// B did send its SYN-ACK again (the lost one is on the tap too)
	size_t synacks = 0;
	for (const Frame &f : tcp_from(1))
		if (tflags(f) == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
			synacks++;
	EXPECT_GE(synacks, 2u);
}

TEST_F(Tcp, UnansweredSynTimesOut)
{
	drop = [&](int side, const Frame &f) { return side == 0 && f.is_ip4(IPPROTO_TCP); };
	ASSERT_NE(connect(), nullptr);
	// 1 + 2 + 4 + ... + 64 s with six retries, then the last wait
	ASSERT_TRUE(run_until([&] { return client.closed; }, 200000));
	EXPECT_EQ(client.err, ETIMEDOUT);
	EXPECT_EQ(counter(stats(A), "tcp.syn_retrans"), 6u);
	EXPECT_EQ(tern_tcp_count(A), 0u);
}

TEST_F(Tcp, LostDataSegmentIsRecoveredByFastRetransmit)
{
	establish();
	int n = 0;
	drop = [&](int side, const Frame &f) {
		if (side == 0 && f.is_ip4(IPPROTO_TCP) && f.l4_len() > 100 && ++n == 3)
			return true;	// the third data segment
		return false;
	};
	Bytes data = send_bulk(client, 100000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_GE(counter(stats(A), "tcp.fast_retrans"), 1u);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 0u);
	EXPECT_GE(counter(stats(B), "tcp.ooo_queued"), 1u);
	// bytes acked and received come from SND.UNA and RCV.NXT: the
	// data once each, whatever came twice
	tern_tcp_info ia = info(0, client.c), ib = info(1, server.c);
	EXPECT_EQ(ia.bytes_acked, data.size());
	EXPECT_EQ(ib.bytes_received, data.size());
	// bytes sent count what went again, as Linux's tcpi_bytes_sent
	EXPECT_GE(ia.bytes_retrans, 1000u);
	EXPECT_GE(ia.retransmits, 1u);
	EXPECT_EQ(ia.bytes_sent, data.size() + ia.bytes_retrans);
	EXPECT_EQ(ib.bytes_sent, 0u);
	EXPECT_EQ(ib.bytes_retrans, 0u);
	EXPECT_EQ(ib.bytes_acked, 0u);
	EXPECT_EQ(ia.bytes_received, 0u);
}

// State only some connections use comes from a pool (tcp_ext_blocks);
// with it empty a connection goes without: out-of-order data is dropped
// and counted, the sender sends it again, nothing is lost.
class TcpTinyExtPool : public Tcp {
	void conf_stack(tern_stack_conf &c, int side) override
	{
		if (side == 1)
			c.tcp_ext_blocks = 1;
	}
};

TEST_F(TcpTinyExtPool, EmptyPoolDropsOutOfOrderDataAndCounts)
{
	// the first connection's keepalive takes B's only block
	tern_tcp_opts so = tern_tcp_opts();
	so.keepidle_s = 7200;
	establish(tern_tcp_opts(), so);
	tern_tcp_mem m;
	tern_tcp_mem_get(B, &m);
	EXPECT_EQ(m.ext_blocks, 1u);
	EXPECT_EQ(m.ext_used, 1u);
	// a second connection has none
	accepted = 0;
	client.connected = false;
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected && accepted; }));
	int n = 0;
	drop = [&](int side, const Frame &f) {
		if (side == 0 && f.is_ip4(IPPROTO_TCP) && f.l4_len() > 100 && ++n == 3)
			return true;	// the third data segment
		return false;
	};
	Bytes data = send_bulk(client, 100000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 60000));
	EXPECT_EQ(server.got, data);
	EXPECT_GE(counter(stats(B), "tcp.drop_no_ext"), 1u);
	EXPECT_GE(counter(stats(B), "tcp.ext_empty"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.ooo_queued"), 0u);
	tern_tcp_mem_get(B, &m);
	EXPECT_EQ(m.ext_used, 1u);
}

// The same from the passive side, whatever its ISS: RFC 6582 starts
// "recover" at the ISS. Passive opens left it 0, so a server whose ISS
// was 2^31 or more took its first losses to the RTO (one connection in
// two). The client's port is moved until B picks such an ISS.
TEST_F(Tcp, ServerLostDataSegmentIsRecoveredByFastRetransmit)
{
	listen();
	uint32_t iss = 0;
	for (uint16_t port = 40000; port < 40100; port++) {
		client = Peer();
		server = Peer();
		server.s = B;
		ASSERT_NE(connect(80, tern_tcp_opts(), port), nullptr);
		ASSERT_TRUE(run_until([&] { return client.connected && server.c; }));
		tern_tcp_info si;
		ASSERT_EQ(tern_tcp_info_get(B, server.c, &si), 0);
		iss = si.snd_una - 1;
		if (iss >= 0x80000000u)
			break;
		tern_tcp_abort(A, client.c);
		ASSERT_TRUE(run_until([&] { return server.closed; }));
	}
	ASSERT_GE(iss, 0x80000000u);
	int n = 0;
	drop = [&](int side, const Frame &f) {
		return side == 1 && f.is_ip4(IPPROTO_TCP) && f.l4_len() > 100 &&
		       ++n == 3;	// B's third data segment
	};
	Bytes data = send_bulk(server, 100000);
	ASSERT_TRUE(run_until([&] { return client.got.size() == data.size(); }, 20000));
	EXPECT_EQ(client.got, data);
	EXPECT_GE(counter(stats(B), "tcp.fast_retrans"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.rto_expired"), 0u);
}

// Linux receivers grow their window on nearly every ACK and, in a two-way
// transfer, carry SACK blocks on data. With SACK those ACKs are duplicates
// (RFC 6675 2) and enough SACKed bytes mark the hole lost (RFC 6675 4,
// IsLost): the lost segment goes again at once, not at the RTO. "B" here
// is the test, injecting what a Linux receiver sends; A's data never
// reaches the real B.
class TcpSackDupAcks : public Tcp {
protected:
	void SetUp() override
	{
		Tcp::SetUp();
		if (HasFatalFailure())
			return;
		establish();
		if (HasFatalFailure())
			return;
		drop = [](int side, const Frame &f) {
			return side == 0 && f.is_ip4(IPPROTO_TCP) && f.l4_len() > 100;
		};
		send_bulk(client, 10 * 1448, 1448);
		ASSERT_EQ(tern_tcp_info_get(A, client.c, &ai), 0);
		ASSERT_EQ(ai.snd_nxt - ai.snd_una, 10u * 1448) << "all in flight";
		mss = ai.mss;
		pump();		/* the wire sees frames as it moves them */
		frames.clear();
	}
	// A segment from B's side: ACK of una, window win, SACK blocks, data.
	void from_b(uint32_t seq, uint32_t una, uint16_t win,
		    const std::vector<std::pair<uint32_t, uint32_t>> &sack,
		    size_t data = 0)
	{
		inject_seg(0, ai.lport, 80, seq, una,
			   RTE_TCP_ACK_FLAG | (data ? RTE_TCP_PSH_FLAG : 0), win,
			   sack_opt(sack), pattern(data, 3));
	}
	bool retransmitted_una()
	{
		for (const Frame &f : tcp_from(0))
			if (f.l4_len() > 100 && get32(f.l4() + 4) == ai.snd_una)
				return true;
		return false;
	}
	tern_tcp_info ai;
	uint32_t mss = 0;
};

TEST_F(TcpSackDupAcks, GrowingWindowStillCounts)
{
	uint32_t una = ai.snd_una;
	for (uint32_t k = 1; k <= 3; k++) {
		EXPECT_FALSE(retransmitted_una()) << k;
		// one more segment SACKed, the window a little larger each time
		from_b(ai.rcv_nxt, una, (uint16_t)(1000 + k),
		       {{una + mss, una + (k + 1) * mss}});
	}
	EXPECT_EQ(counter(stats(A), "tcp.fast_retrans"), 1u);
	EXPECT_TRUE(retransmitted_una());
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 0u);
}

TEST_F(TcpSackDupAcks, OneAckSackingThreeSegmentsMarksTheHoleLost)
{
	uint32_t una = ai.snd_una;
	from_b(ai.rcv_nxt, una, 2000, {{una + mss, una + 4 * mss}});
	EXPECT_EQ(counter(stats(A), "tcp.fast_retrans"), 1u);
	EXPECT_TRUE(retransmitted_una());
}

TEST_F(TcpSackDupAcks, SackOnDataCountsOnlyWhenNew)
{
	uint32_t una = ai.snd_una, seq = ai.rcv_nxt;
	// data from B carrying the same block twice: one duplicate only
	from_b(seq, una, 2000, {{una + mss, una + 2 * mss}}, 100);
	seq += 100;
	from_b(seq, una, 2000, {{una + mss, una + 2 * mss}}, 100);
	seq += 100;
	EXPECT_EQ(counter(stats(A), "tcp.dup_acks"), 1u);
	from_b(seq, una, 2000, {{una + mss, una + 3 * mss}}, 100);
	seq += 100;
	EXPECT_FALSE(retransmitted_una());
	from_b(seq, una, 2000, {{una + mss, una + 4 * mss}}, 100);
	EXPECT_EQ(counter(stats(A), "tcp.fast_retrans"), 1u);
	EXPECT_TRUE(retransmitted_una());
	EXPECT_EQ(client.got.size(), 400u);
}

TEST_F(Tcp, LostTailIsRecoveredByRto)
{
	establish();
	int n = 0;
	drop = [&](int side, const Frame &f) {
		return side == 0 && f.is_ip4(IPPROTO_TCP) && f.l4_len() > 100 && ++n == 1;
	};
	ASSERT_EQ(tern_tcp_write(A, client.c, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 112), 112);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 112; }, 5000));
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 1u);
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 1u);
}

TEST_F(Tcp, RstInWindowButNotExactGetsAChallengeAck)
{
	establish();
	tern_tcp_info si;
	ASSERT_EQ(tern_tcp_info_get(B, server.c, &si), 0);
	// a RST from "A" whose seq is inside B's window but not rcv_nxt
	frames.clear();
	inject_seg(1, 80, si.rport, si.rcv_nxt + 100, 0, RTE_TCP_RST_FLAG, 0);
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_ESTABLISHED);
	EXPECT_EQ(counter(stats(B), "tcp.challenge_acks"), 1u);
	// the challenge ACK went out: an ACK of rcv_nxt, no RST
	auto fb = tcp_from(1);
	ASSERT_EQ(fb.size(), 1u);
	EXPECT_EQ(tflags(fb[0]) & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG),
		  RTE_TCP_ACK_FLAG);
	EXPECT_EQ(get32(fb[0].l4() + 8), si.rcv_nxt);
	// the exact one resets
	inject_seg(1, 80, si.rport, si.rcv_nxt, 0, RTE_TCP_RST_FLAG, 0);
	EXPECT_TRUE(server.closed);
	EXPECT_EQ(server.err, ECONNRESET);
}

TEST_F(Tcp, AbortSendsRstAndPeerSeesReset)
{
	establish();
	tern_tcp_abort(A, client.c);
	client.c = nullptr;
	ASSERT_TRUE(run_until([&] { return server.closed; }));
	EXPECT_EQ(server.err, ECONNRESET);
	EXPECT_EQ(tern_tcp_count(A), 0u);
	EXPECT_EQ(tern_tcp_count(B), 0u);
}

TEST_F(Tcp, RstOnCloseLeavesNoTimeWait)
{
	tern_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.rst_on_close = true;
	establish(o);
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	EXPECT_TRUE(client.closed);
	ASSERT_TRUE(run_until([&] { return server.closed; }));
	EXPECT_EQ(server.err, ECONNRESET);
	EXPECT_EQ(tern_tcp_count(A), 0u);
}

TEST_F(Tcp, SenderBytesAreNeverWritten)
{
	establish();
	// a payload shared with the application (refcount 2): the stack may
	// only clone it
	Bytes data = pattern(3000, 9);
	rte_mbuf *m = mbuf_from(pool, data, 1000, 1000);
	ASSERT_NE(m, nullptr);
	for (rte_mbuf *seg = m; seg != nullptr; seg = seg->next)
		rte_mbuf_refcnt_update(seg, 1);
	ASSERT_EQ(tern_tcp_send(A, client.c, m), 0);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(mbuf_bytes(m), data);
	rte_pktmbuf_free(m);
}

TEST_F(Tcp, ZeroWindowIsProbedAndReopens)
{
	tern_tcp_opts so;
	memset(&so, 0, sizeof(so));
	so.manual_window = true;
	so.rcvbuf = 8192;
	establish(tern_tcp_opts(), so);
	Bytes data = pattern(20000, 5);
	size_t off = 0;
	auto push = [&] { tcp_write_from(A, client.c, data, off); };
	push();
	ASSERT_TRUE(run_until([&] { return server.got.size() >= 7000; }));
	// the window shuts: the last bytes that fit go by the override
	// timeout, then probes, no data
	run_until([] { return false; }, 5000);
	EXPECT_GE(counter(stats(A), "tcp.window_probes"), 1u);
	EXPECT_LE(server.got.size(), 8192u);
	size_t have = server.got.size();
	tern_tcp_recved(B, server.c, (uint32_t)have);
	ASSERT_TRUE(run_until([&] {
		push();
		size_t n = server.got.size();
		if (n > have) {
			tern_tcp_recved(B, server.c, (uint32_t)(n - have));
			have = n;
		}
		return n == data.size();
	}, 60000));
	EXPECT_EQ(server.got, data);
}

// The first connection's handshake never completes (A's ACKs from port
// `stuck` are lost), so it holds the backlog of 1; the second one finds
// the backlog full.
static uint16_t tsport(const Frame &f) { return get16(f.l4()); }

TEST_F(Tcp, FullBacklogIsAnsweredWithSynCookies)
{
	listen(80, tern_tcp_opts(), 1);
	uint16_t stuck = 0;
	drop = [&](int side, const Frame &f) {
		return side == 0 && f.is_ip4(IPPROTO_TCP) && tsport(f) == stuck &&
		       !(tflags(f) & RTE_TCP_SYN_FLAG);
	};
	Peer first;
	ASSERT_NE(connect_peer(first), nullptr);
	stuck = info(0, first.c).lport;
	pump();
	// A took the SYN-ACK; its ACK was lost, so B still holds the first
	// one half open, in the backlog
	EXPECT_TRUE(first.connected);
	EXPECT_EQ(accepted, 0);
	EXPECT_EQ(tern_tcp_count(B), 1u);
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected && accepted == 1; }, 2000));
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_sent"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_listen_overflow"), 0u);
	// the options came back through the timestamp: SACK, window scale
	tern_tcp_info ci, si;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	ASSERT_EQ(tern_tcp_info_get(B, server.c, &si), 0);
	EXPECT_TRUE(si.sack);
	EXPECT_TRUE(si.timestamps);
	EXPECT_EQ(si.snd_wscale, ci.rcv_wscale);
	EXPECT_EQ(si.rcv_wscale, ci.snd_wscale);
	EXPECT_EQ(si.mss + 12u, 1460u);	// 1460 is in the cookie's table
	// what B accepted is the second connection; the first is still
	// half open there and established on A
	EXPECT_EQ(si.rport, ci.lport);
	EXPECT_NE(ci.lport, stuck);
	EXPECT_EQ(tern_tcp_count(B), 2u);
	EXPECT_EQ(tern_tcp_state(first.c), TERN_TCP_ESTABLISHED);
	EXPECT_FALSE(first.closed);
	// and the connection carries data both ways
	Bytes data = send_bulk(client, 300000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	ASSERT_EQ(tern_tcp_write(B, server.c, "pong", 4), 4);
	ASSERT_TRUE(run_until([&] { return client.got.size() == 4; }));
	EXPECT_TRUE(first.got.empty());
	tern_tcp_abort(A, first.c);
}

// A listener that sent no cookie checks no ACK as one (as Linux): the
// stray ACK is answered with a RST and counted as such, not as a failed
// cookie.
TEST_F(Tcp, StrayAcksToAListenerThatSentNoCookieAreNotCookies)
{
	listen();
	// an ACK to the listener that no SYN,ACK of ours answered
	inject_seg(1, 80, 4000, 12345, 0xdeadbeef, RTE_TCP_ACK_FLAG, 1000);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 0u);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_failed"), 0u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_no_conn"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.tx_rst"), 1u);
	EXPECT_EQ(tern_tcp_count(B), 0u);
}

class TcpAlwaysCookies : public Tcp {
	void conf_stack(tern_stack_conf &c, int side) override
	{
		if (side == 1)
			c.tcp_syncookies = 2;	// always
	}
};

// While the listener's cookies may come back (128 s after the last one
// it sent), an ACK that is no cookie of ours is refused and counted as a
// failed cookie; after that it is only a stray ACK.
TEST_F(TcpAlwaysCookies, ForgedCookieAcksAreRefused)
{
	listen();
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected && accepted == 1; }));
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_sent"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 1u);
	inject_seg(1, 80, 4000, 12345, 0xdeadbeef, RTE_TCP_ACK_FLAG, 1000);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_failed"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.tx_rst"), 1u);
	EXPECT_EQ(tern_tcp_count(B), 1u);	// the cookie connection only
	for (int i = 0; i < 130; i++) {
		step_ms(1000);
		pump();
	}
	inject_seg(1, 80, 4000, 22345, 0xfeedbeef, RTE_TCP_ACK_FLAG, 1000);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_failed"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_no_conn"), 2u);
	EXPECT_EQ(counter(stats(B), "tcp.tx_rst"), 2u);
	EXPECT_EQ(tern_tcp_count(B), 1u);
}

// RFC 4987 3.6: without timestamps a cookie keeps only the MSS, so the
// SYN,ACK must not offer window scaling or SACK-permitted (as Linux):
// offered and then forgotten, the client would scale windows the server
// reads unscaled. Found by tests/packetdrill/syncookies/.
TEST_F(TcpAlwaysCookies, CookieWithoutTimestampsOffersOnlyTheMss)
{
	tern_tcp_opts co;
	memset(&co, 0, sizeof(co));
	co.no_timestamps = true;
	establish(co);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_sent"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 1u);
	auto fb = tcp_from(1);
	ASSERT_GE(fb.size(), 1u);
	ASSERT_EQ(tflags(fb[0]), RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(hdr_len(fb[0]), 24u);	// the MSS option alone
	EXPECT_EQ(fb[0].l4()[20], 2);
	expect_no_options(1460);
}

// The connection a cookie's ACK makes has the receive window its SYN,ACK
// offered: data the client sends before the server sends anything is
// taken, not dropped as beyond a zero window (RFC 9293 3.8.6.2.2). Found
// by tests/packetdrill/syncookies/.
TEST_F(TcpAlwaysCookies, CookieConnectionTakesDataAtOnce)
{
	establish();
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 1u);
	tern_tcp_info si;
	ASSERT_EQ(tern_tcp_info_get(B, server.c, &si), 0);
	EXPECT_GE(si.rcv_wnd, 60000u);
	ASSERT_EQ(tern_tcp_write(A, client.c, "ping", 4), 4);
	pump();
	EXPECT_EQ(server.got.size(), 4u);
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
}

class TcpOneBlock : public Tcp {
	void conf_stack(tern_stack_conf &c, int side) override
	{
		if (side == 1)
			c.tcp_max_conns = 1;
	}
};

// A full connection table is no reason to go silent: the SYN is answered
// with a cookie (which holds no block), and the cookie's ACK makes the
// connection once a block is free; until then it is counted as
// drop_table_full and the client's retransmission brings it again.
TEST_F(TcpOneBlock, FullTableAnswersWithACookie)
{
	listen();
	Peer first;
	ASSERT_NE(connect_peer(first), nullptr);
	ASSERT_TRUE(run_until([&] { return first.connected && accepted == 1; }));
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_sent"), 0u);

	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected; }, 100));
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_sent"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.drop_table_full"), 1u) << "the cookie's ACK";
	EXPECT_EQ(tern_tcp_count(B), 1u);
	EXPECT_EQ(accepted, 1);

	tern_tcp_abort(A, first.c);
	ASSERT_TRUE(run_until([&] { return tern_tcp_count(B) == 0; }, 100));
	ASSERT_EQ(tern_tcp_write(A, client.c, "ping", 4), 4);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 4; }, 100));
	EXPECT_EQ(accepted, 2);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_recv"), 1u);
	EXPECT_EQ(tern_tcp_state(server.c), TERN_TCP_ESTABLISHED);
}

class TcpNoCookies : public Tcp {
	void conf_stack(tern_stack_conf &c, int side) override
	{
		if (side == 1)
			c.tcp_syncookies = 1;	// never
	}
};

// RFC 1122 4.2.2.17: the window may stay shut as long as the receiver
// answers the probes; when it stops answering, the sender gives up as on
// retransmissions. Found by tern_fuzz_tcp: a connection the application
// had closed, with data queued behind a shut window, probed a silent peer
// forever.
TEST_F(Tcp, UnansweredWindowProbesTimeOut)
{
	tern_tcp_opts so;
	memset(&so, 0, sizeof(so));
	so.manual_window = true;	// B never reads: its window shuts
	so.rcvbuf = 8192;
	establish(tern_tcp_opts(), so);
	Bytes data = pattern(20000, 5);
	ASSERT_EQ(tern_tcp_write(A, client.c, data.data(), (uint32_t)data.size()),
		  (int)data.size());
	ASSERT_TRUE(run_until([&] {
		return counter(stats(A), "tcp.window_probes") >= 1;
	}, 10000));
	EXPECT_EQ(tern_tcp_close(A, client.c), 0);	// data still queued
	// 40 minutes of probes, each answered: the connection stays
	for (int i = 0; i < 40 * 600; i++) {
		pump();
		step_ms(100);
	}
	EXPECT_FALSE(client.closed);
	uint64_t probes = counter(stats(A), "tcp.window_probes");
	EXPECT_GT(probes, 20u);	// more than tcp_retries (15), answered
	// the peer goes silent: after tcp_retries more probes, ETIMEDOUT
	drop = [](int side, const Frame &) { return side == 1; };
	for (int i = 0; i < 60 * 600 && !client.closed; i++) {
		pump();
		step_ms(100);
	}
	EXPECT_TRUE(client.closed);
	EXPECT_EQ(client.err, ETIMEDOUT);
	EXPECT_EQ(counter(stats(A), "tcp.window_probes"), probes + 15);
	EXPECT_EQ(counter(stats(A), "tcp.conn_timeouts"), 1u);
	EXPECT_EQ(tern_tcp_count(A), 0u);
}

// A FIN that finds no mbuf is sent again later. Found by tern_fuzz_tcp:
// with nothing in flight and no data waiting no timer was armed, so a
// connection closed while the pool was empty stayed ESTABLISHED forever.
TEST_F(Tcp, FinWithoutMbufIsSentLater)
{
	establish();
	server.close_on_fin = true;
	std::vector<rte_mbuf *> hog;
	while (rte_mbuf *m = rte_pktmbuf_alloc(pool))
		hog.push_back(m);
	uint64_t fails = stats(A).mbuf_drop_alloc_fail;
	EXPECT_EQ(tern_tcp_close(A, client.c), 0);
	EXPECT_GT(stats(A).mbuf_drop_alloc_fail, fails);	// the FIN had none
	EXPECT_FALSE(client.closed);
	for (rte_mbuf *m : hog)
		rte_pktmbuf_free(m);
	// the FIN goes, B closes too, A ends in TIME_WAIT (closed(0))
	ASSERT_TRUE(run_until([&] { return server.fin && client.closed; }, 10000));
	EXPECT_EQ(client.err, 0);
	EXPECT_TRUE(run_until([&] { return server.closed; }, 10000));
	EXPECT_EQ(server.err, 0);
}

// "Fragmentation needed" quoting the SYN (RFC 1191): the MSS shrinks, the
// SYN goes again by its own timer, and the send sequence stays in order.
// Found by tern_fuzz_tcp: tcp_err4 moved snd_nxt back to snd_una (the ISS)
// in SYN-SENT, the SYN-ACK then put snd_una one past it, and every data
// segment after that was built from before the send queue: nothing went.
TEST_F(Tcp, FragNeededDuringHandshakeKeepsSequenceOrder)
{
	listen();
	ASSERT_NE(connect(), nullptr);
	tern_tcp_info ci;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	ASSERT_EQ(ci.state, TERN_TCP_SYN_SENT);
	// from a router: the SYN (as if 1500 bytes long) does not fit 576;
	// snd_una is the ISS: the SYN is in flight
	inject_frag_needed(ci.lport, 80, ci.snd_una, 576);
	EXPECT_EQ(counter(stats(A), "tcp.rx_icmp_errors"), 1u);
	bool ordered = true;
	ASSERT_TRUE(run_until([&] {
		tern_tcp_info i;
		if (tern_tcp_info_get(A, client.c, &i) == 0 &&
		    (int32_t)(i.snd_nxt - i.snd_una) < 0)
			ordered = false;
		return client.connected && accepted;
	}));
	EXPECT_TRUE(ordered) << "snd_nxt fell behind snd_una";
	// the MSS the SYN-ACK sets stays within the path MTU learned
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	EXPECT_EQ(ci.mss, 576 - 40 - 12);
	Bytes data = send_bulk(client, 5000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 1000));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(counter(stats(A), "ip4.drop_too_big"), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.rto_expired"), 0u);
}

// The path MTU shrinks under an established connection: segments in
// flight go again at the new size, and later ones are cut to it.
TEST_F(Tcp, FragNeededShrinksTheMssOfAnEstablishedConnection)
{
	establish();
	tern_tcp_info ci;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	drop = [](int side, const Frame &f) {	// the path loses what is big
		return side == 0 && f.is_ip4(IPPROTO_TCP) && f.b.size() > 14 + 1000;
	};
	Bytes data = pattern(20000, 9);
	ASSERT_EQ(tern_tcp_write(A, client.c, data.data(), (uint32_t)data.size()),
		  (int)data.size());
	// about the first segment in flight
	inject_frag_needed(ci.lport, 80, ci.snd_una, 1000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 5000));
	EXPECT_EQ(server.got, data);
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	EXPECT_EQ(ci.mss, 1000 - 40 - 12);
}

// A "fragmentation needed" below the IP layer's floor (552, Linux's
// min_pmtu) is believed only down to the floor, by TCP too: a forged one
// must not cut a connection to 16-byte segments.
TEST_F(Tcp, FragNeededBelowTheFloorStopsAtTheFloor)
{
	establish();
	tern_tcp_info ci;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	drop = [](int side, const Frame &) { return side == 0; };
	Bytes data = pattern(3000, 4);
	ASSERT_EQ(tern_tcp_write(A, client.c, data.data(), (uint32_t)data.size()),
		  (int)data.size());
	inject_frag_needed(ci.lport, 80, ci.snd_una, 68);
	EXPECT_EQ(counter(stats(A), "tcp.rx_icmp_errors"), 1u);
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	EXPECT_EQ(ci.mss, 552 - 40 - 12);
	drop = nullptr;
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 5000));
	EXPECT_EQ(server.got, data);
}

// Data trimmed at its front (part already received, or overlapping what
// waits out of order) when the segment is a chain whose first mbuf holds
// only the headers, as the wire delivers what a stack sent from a header
// mbuf and clones: rte_pktmbuf_adj() cannot cut past the first mbuf, and
// its failure went unseen, so the stream got the wrong bytes. Found by
// tern_fuzz_tcp (and a retransmission after a path MTU change).
TEST_F(Tcp, TrimmingChainedSegmentsKeepsTheRightBytes)
{
	establish();
	Bytes data = pattern(1000, 11);
	ASSERT_EQ(tern_tcp_write(A, client.c, data.data(), 200), 200);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 200; }));
	tern_tcp_info ci;
	ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
	uint32_t base = ci.snd_nxt - 200;	// stream offset 0
	// A's segments, written by hand: [from, to) of the stream, the data
	// in mbufs of their own after a header-only one
	auto seg = [&](uint32_t from, uint32_t to) {
		inject(B, tcp_frame(kMacB, kMacA, kIpA, kIpB, ci.lport, 80,
				    base + from, ci.rcv_nxt,
				    RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 0xffff, Bytes(),
				    Bytes(data.begin() + from, data.begin() + to)),
		       0, 14 + 20 + 20, 40);
	};
	seg(190, 300);	// 10 bytes B has, 100 new
	ASSERT_EQ(server.got.size(), 300u);
	seg(400, 500);	// out of order
	seg(450, 600);	// starts inside what waits, runs past it
	seg(300, 420);	// fills the hole, reaches into what waits
	EXPECT_EQ(server.got.size(), 600u);
	EXPECT_EQ(server.got, Bytes(data.begin(), data.begin() + 600));
}

TEST_F(TcpNoCookies, FullBacklogDropsSyns)
{
	listen(80, tern_tcp_opts(), 1);
	// the handshake never completes: A's ACKs are lost
	drop = [&](int side, const Frame &f) {
		return side == 0 && f.is_ip4(IPPROTO_TCP) && !(tflags(f) & RTE_TCP_SYN_FLAG);
	};
	Peer first;
	ASSERT_NE(connect_peer(first), nullptr);
	ASSERT_NE(connect(), nullptr);
	pump();
	EXPECT_EQ(counter(stats(B), "tcp.drop_listen_overflow"), 1u);
	EXPECT_EQ(counter(stats(B), "tcp.syncookies_sent"), 0u);
	// the first got its SYN-ACK; the second's SYN went unanswered
	EXPECT_TRUE(first.connected);
	EXPECT_FALSE(client.connected);
	uint16_t second = info(0, client.c).lport;
	for (const Frame &f : tcp_from(1))
		EXPECT_NE(get16(f.l4() + 2), second) << "B answered the second SYN";
	EXPECT_EQ(tern_tcp_count(B), 1u);
	EXPECT_EQ(accepted, 0);
	tern_tcp_abort(A, first.c);
	tern_tcp_abort(A, client.c);
}

TEST_F(Tcp, ApiErrors)
{
	tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.rport = 80;
	EXPECT_EQ(tern_tcp_connect(A, &cc), nullptr);
	EXPECT_EQ(rte_errno, EINVAL);
	cc.remote = v4(0x0b000001);	// no route
	EXPECT_EQ(tern_tcp_connect(A, &cc), nullptr);
	EXPECT_EQ(rte_errno, EHOSTUNREACH);
	cc.remote = v4(kIpB);
	cc.local = v4(0x0a000077);	// not ours
	EXPECT_EQ(tern_tcp_connect(A, &cc), nullptr);
	EXPECT_EQ(rte_errno, EADDRNOTAVAIL);
	listen();
	tern_tcp_listen_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.port = 80;
	lc.accept = on_accept;
	EXPECT_EQ(tern_tcp_listen(B, &lc), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
	lc.port = 0;
	EXPECT_EQ(tern_tcp_listen(B, &lc), nullptr);
	EXPECT_EQ(rte_errno, EINVAL);
	// a fixed 4-tuple in use
	ASSERT_NE(connect(80, tern_tcp_opts(), 5000), nullptr);
	Peer dup;
	EXPECT_EQ(connect_peer(dup, 80, tern_tcp_opts(), 5000), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
	// sending before the handshake queues; after close it is refused
	EXPECT_EQ(tern_tcp_write(A, client.c, "abc", 3), 3);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 3; }));
	ASSERT_EQ(tern_tcp_close(A, client.c), 0);
	EXPECT_EQ(tern_tcp_write(A, client.c, "abc", 3), -EPIPE);
}

TEST_F(Tcp, ManyConnectionsShareOneListener)
{
	listen();
	std::vector<Peer> peers(200);
	std::vector<tern_tcp_conn *> cs;
	int acc = 0;
	tern_tcp_listener_close(B, lst);
	tern_tcp_listen_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.port = 80;
	lc.accept = [](void *arg, tern_tcp_listener *, tern_tcp_conn *c) {
		auto *p = static_cast<std::pair<int *, tern_stack *> *>(arg);
		(*p->first)++;
		tern_tcp_close(p->second, c);
	};
	std::pair<int *, tern_stack *> ctx(&acc, B);
	lc.arg = &ctx;
	lst = tern_tcp_listen(B, &lc);
	ASSERT_NE(lst, nullptr);
	for (auto &p : peers) {
		p.close_on_fin = true;
		ASSERT_NE(connect_peer(p), nullptr);
	}
	ASSERT_TRUE(run_until([&] {
		for (auto &p : peers)
			if (!p.closed)
				return false;
		return true;
	}));
	EXPECT_EQ(acc, 200);
	// the server closed first: TIME_WAIT is on B; A is empty
	EXPECT_EQ(tern_tcp_count(A), 0u);
	EXPECT_EQ(tern_tcp_count(B), 200u);
	step_ms(61000);
	EXPECT_EQ(tern_tcp_count(B), 0u);
}

// An idle established connection keeps no timer: the handshake's
// retransmission timer goes when it completes, on both sides; one that
// carried data fires at most once more, finding nothing due.
TEST_F(Tcp, IdleConnectionKeepsNoTimer)
{
	// (the stacks' own timers, neighbours', are seconds further away
	// than the SYN's RTO of 1 s would be)
	const uint64_t soon = 2000 * TERN_NS_PER_MS;
	establish();
	pump();
	EXPECT_GT(tern_stack_next_timer(A), tern_stack_now(A) + soon);
	EXPECT_GT(tern_stack_next_timer(B), tern_stack_now(B) + soon);
	ASSERT_EQ(tern_tcp_write(A, client.c, "ping", 4), 4);
	ASSERT_TRUE(run_until([&] { return client.acked == 4; }));
	uint64_t before = counter(stats(A), "tcp.retrans_segs");
	step_ms(3000);
	EXPECT_GT(tern_stack_next_timer(A), tern_stack_now(A) + soon);
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), before);
	EXPECT_EQ(tern_tcp_state(client.c), TERN_TCP_ESTABLISHED);
}

// Connections to one peer share one route entry (a connection keeps an
// index, not a copy), which goes when the last of them does.
TEST_F(Tcp, ConnectionsToOnePeerShareOneRoute)
{
	listen();
	tern_tcp_mem m;
	tern_tcp_mem_get(A, &m);
	EXPECT_EQ(m.routes, 0u);
	std::vector<Peer> peers(3);
	for (auto &p : peers)
		ASSERT_NE(connect_peer(p), nullptr);
	ASSERT_TRUE(run_until([&] {
		return accepted == 3 && peers[0].connected && peers[1].connected &&
		       peers[2].connected;
	}));
	tern_tcp_mem_get(A, &m);
	EXPECT_EQ(m.routes, 1u);
	tern_tcp_mem_get(B, &m);
	EXPECT_EQ(m.routes, 1u);
	// data still flows on the shared route, both ways
	ASSERT_EQ(tern_tcp_write(A, peers[2].c, "ping", 4), 4);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 4; }));
	tern_tcp_abort(A, peers[0].c);
	tern_tcp_abort(A, peers[1].c);
	tern_tcp_mem_get(A, &m);
	EXPECT_EQ(m.routes, 1u);
	tern_tcp_abort(A, peers[2].c);
	tern_tcp_mem_get(A, &m);
	EXPECT_EQ(m.routes, 0u);
	ASSERT_TRUE(run_until([&] { return tern_tcp_count(B) == 0; }));
	tern_tcp_mem_get(B, &m);
	EXPECT_EQ(m.routes, 0u);
	// and a new connection gets one again
	ASSERT_NE(connect(), nullptr);
	ASSERT_TRUE(run_until([&] { return client.connected; }));
	tern_tcp_mem_get(A, &m);
	EXPECT_EQ(m.routes, 1u);
}

}  // namespace

// Header prediction, segment by segment (GRO off, so every wire segment
// reaches TCP on its own; with GRO a merged packet is predicted as one).
class TcpPredict : public Tcp {
	void conf_stack(tern_stack_conf &sc, int) override { sc.no_gro = true; }
};

// A bulk transfer's data segments and the ACKs that answer them take the
// predicted path, and what it delivers is exact.
TEST_F(TcpPredict, BulkTransferTakesThePredictedPaths)
{
	establish();
	uint64_t segs0 = counter(stats(B), "tcp.rx_segs");
	Bytes data = send_bulk(client, 400000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	uint64_t segs = counter(stats(B), "tcp.rx_segs") - segs0;
	uint64_t pdata = counter(stats(B), "tcp.rx_predicted_data");
	// the data segments (about 270 at the MSS) nearly all predicted
	EXPECT_GE(pdata, 250u);
	EXPECT_LE(pdata, segs);
	// and the sender's ACKs of new data
	EXPECT_GE(counter(stats(A), "tcp.rx_predicted_acks"), 100u);
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 0u);
}

// With GRO, merged packets take the predicted path too: nearly every
// packet TCP sees on B (wire segments less those merged into another).
TEST_F(Tcp, MergedSegmentsArePredictedToo)
{
	establish();
	uint64_t segs0 = counter(stats(B), "tcp.rx_segs");
	Bytes data = send_bulk(client, 400000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	uint64_t merged = counter(stats(B), "eth.rx_gro_merged");
	uint64_t packets = counter(stats(B), "tcp.rx_segs") - segs0 - merged;
	uint64_t pdata = counter(stats(B), "tcp.rx_predicted_data");
	EXPECT_GT(merged, 0u);
	EXPECT_GE(pdata * 10, packets * 8);	// 80 % of the packets TCP saw
	EXPECT_LE(pdata, packets);
}

// A lost segment: what arrives after the hole is out of order and takes
// the full path (queued, SACKed), the sender's duplicate ACKs and SACKs
// too; the stream is still exact and prediction resumes after recovery.
TEST_F(TcpPredict, PredictionStepsAsideForAHole)
{
	establish();
	int n = 0;
	drop = [&](int side, const Frame &f) {
		return side == 0 && f.is_ip4(IPPROTO_TCP) && f.b.size() > 1000 &&
		       ++n == 20;
	};
	Bytes data = send_bulk(client, 200000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_GE(counter(stats(A), "tcp.retrans_segs"), 1u);
	uint64_t pdata = counter(stats(B), "tcp.rx_predicted_data");
	EXPECT_GT(pdata, 60u);	// before the hole and after recovery
	// the segments that arrived while the hole was open were not
	// predicted: fewer predicted than data segments received
	uint64_t data_segs = (data.size() + 1447) / 1448;
	EXPECT_LT(pdata, data_segs);
}

// ACKs of new data confirm the next hop (as Linux's dst_confirm): a
// sender's neighbour entry stays REACHABLE past ReachableTime and it
// never probes; the receiver, which only sends ACKs, has no such hint
// and probes when its entry went stale (as Linux does).
TEST_F(Tcp, AcksOfNewDataKeepTheNeighbourReachable)
{
	establish();
	Bytes chunk = pattern(1000, 3);
	for (int i = 0; i < 180; i++) {	// three minutes, a write a second
		ASSERT_EQ(tern_tcp_write(A, client.c, chunk.data(), 1000), 1000);
		pump();
		step_ms(1000);
		pump();
	}
	EXPECT_EQ(server.got.size(), 180000u);
	EXPECT_TRUE(arp_from(0, 1 /* ARP request */).empty());
	EXPECT_FALSE(arp_from(1, 1 /* ARP request */).empty());
	tern_neigh_info ni;
	ni.state = 0;
	tern_neigh_walk(A, 0, [](void *arg, const tern_neigh_info *i) {
		if (i->ip.v4 == rte_cpu_to_be_32(kIpB))
			*(tern_neigh_info *)arg = *i;
	}, &ni);
	EXPECT_EQ(ni.state, TERN_NEIGH_REACHABLE);
	EXPECT_LT(ni.confirmed_ago_ns, 2 * TERN_NS_PER_S);
}

// A generator's short exchange: the request written in the connected
// callback rides on the handshake's ACK, the response on the ACK of the
// request, the server's FIN on the ACK of the client's FIN (when the
// server closes in the FIN callback): SYN, SYN-ACK, request, response,
// FIN, FIN, ACK.
namespace {
struct Exch {
	tern_stack *s;
	bool rst;
	int done = 0;
};
void ex_connected(void *arg, tern_tcp_conn *c)
{
	Exch *e = static_cast<Exch *>(arg);
	static const uint8_t req[64] = {1};
	EXPECT_EQ(tern_tcp_write(e->s, c, req, sizeof(req)), 64);
}
void ex_recv(void *arg, tern_tcp_conn *c, rte_mbuf *m)
{
	Exch *e = static_cast<Exch *>(arg);
	if (m == nullptr)
		return;
	rte_pktmbuf_free(m);
	e->done++;
	if (e->rst)
		tern_tcp_abort(e->s, c);
	else
		tern_tcp_close(e->s, c);
}
void ex_closed(void *, tern_tcp_conn *, int) {}
const tern_tcp_ops kExOps = {ex_connected, ex_recv, nullptr, ex_closed};
}  // namespace

TEST_F(Tcp, ShortExchangeTakesSevenFramesWithFinAndFiveWithRst)
{
	for (bool rst : {false, true}) {
		SCOPED_TRACE(rst ? "rst" : "fin");
		listen();
		server.echo = true;
		server.close_on_fin = true;
		frames.clear();
		tern_tcp_opts o{};
		o.nodelay = true;
		Exch e{A, rst};
		ASSERT_NE(tcp_connect(A, kIpB, 80, &kExOps, &e, o), nullptr);
		ASSERT_TRUE(run_until([&] { return e.done == 1; }));
		step_ms(1);
		std::string seq;
		for (const Frame &f : frames) {
			if (!f.is_ip4(IPPROTO_TCP))
				continue;
			const uint8_t *t = f.l4();
			uint8_t fl = t[13];
			size_t len = f.l4_len() - (t[12] >> 4) * 4u;
			seq += f.side ? "B:" : "A:";
			seq += (fl & RTE_TCP_SYN_FLAG) ? "S" : "";
			seq += (fl & RTE_TCP_FIN_FLAG) ? "F" : "";
			seq += (fl & RTE_TCP_RST_FLAG) ? "R" : "";
			seq += (fl & RTE_TCP_ACK_FLAG) ? "." : "";
			seq += len ? std::to_string(len) : "";
			seq += " ";
		}
		if (rst)
			EXPECT_EQ(seq, "A:S B:S. A:.64 B:.64 A:R. ");
		else
			EXPECT_EQ(seq, "A:S B:S. A:.64 B:.64 A:F. B:F. A:. ");
		tern_tcp_listener_close(B, lst);
		lst = nullptr;
		server = Peer();
		server.s = B;
		step_ms(121000);
	}
}

// The connection table (open addressing with linear probing, each slot
// keeping the entry's distance from its home so that a deletion shifts
// entries back without reading their blocks): churn at full load against
// a plain list, from the inside (tcp_table_check.c).
class TcpTable : public Tcp {
	void conf_stack(tern_stack_conf &c, int side) override
	{
		if (side == 0)
			c.tcp_max_conns = 65536;	// 131072 slots, half full
	}
};

TEST_F(TcpTable, ChurnAtFullLoadAgainstAPlainList)
{
	for (uint64_t seed : {1ull, 0x9e3779b97f4a7c15ull}) {
		tcp_table_check_result r;
		char err[160] = "";
		ASSERT_EQ(tcp_table_check(A, seed, 200000, &r, err, sizeof(err)), 0)
			<< err << " (seed " << seed << ")";
		EXPECT_EQ(r.ops, 65536u + 400000u);
		EXPECT_GE(r.checks, 20u);
		// the slots have room for the field at this size, and at half
		// load some clusters run past it: both ways of finding an
		// entry's home were taken
		EXPECT_EQ(r.dmax, 15u);
		EXPECT_GT(r.far, 0u) << "longest distance " << r.max_dist;
	}
}

// Benchmarks stand the wire for two NICs with checksum offload, TSO and
// LRO (tern_wire_set_nic_lro): a TSO packet crosses whole and arrives as
// one LRO packet, which TCP takes as it takes GRO's.
TEST_F(TcpTso, NicPairWithLroCarriesTsoPacketsWhole)
{
	tern_wire_set_nic_cksum(w, true);
	tern_wire_set_nic_lro(w, true);
	establish();
	uint64_t sent0 = tern_wire_sent(w, 0);
	Bytes data = send_bulk(client, 3000000, 60000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == data.size(); }, 20000));
	EXPECT_EQ(server.got, data);
	EXPECT_EQ(drops_total(stats(A)), 0u);
	EXPECT_EQ(drops_total(stats(B)), 0u);
	EXPECT_EQ(counter(stats(A), "tcp.retrans_segs"), 0u);
	size_t big = 0, data_frames = 0;
	for (const Frame &f : tcp_from(0)) {
		if (tcp_payload(f) > 0)
			data_frames++;
		if (f.b.size() > 1514)
			big++;
	}
	EXPECT_GT(big, data_frames / 2) << "most went whole";
	// the wire counts the frames they stand for, as a NIC's counters
	uint64_t full = (data.size() + 1447) / 1448;
	EXPECT_GE(tern_wire_sent(w, 0) - sent0, full);
	tern_stack_stats st = stats(B);
	EXPECT_GE(counter(st, "eth.rx_pkts"), full);

	// an impaired link loses and reorders frames, not TSO packets: with
	// an engine on the wire (here one that does nothing) the wire cuts
	tern_impair_conf ic;
	memset(&ic, 0, sizeof(ic));
	ic.seed = 1;
	tern_wire_set_impair(w, 0, tern_impair_create(&ic, SOCKET_ID_ANY));
	frames.clear();
	server.got.clear();
	Bytes more = send_bulk(client, 1000000, 60000);
	ASSERT_TRUE(run_until([&] { return server.got.size() == more.size(); }, 20000));
	EXPECT_EQ(server.got, more);
	for (const Frame &f : tcp_from(0))
		EXPECT_LE(f.b.size(), 1514u) << "cut, as the link carries it";
}

// Bytes sent are not kept but worked out (bytes acked + SND.MAX - SND.UNA
// + bytes sent again): right while data is in flight, and after.
TEST_F(Tcp, BytesSentCountDataInFlight)
{
	establish();
	static const uint8_t buf[3000] = {7};
	ASSERT_EQ(tern_tcp_write(A, client.c, buf, sizeof(buf)), 3000);
	tern_tcp_info i = info(0, client.c);	// sent, nothing acked yet
	EXPECT_EQ(i.unacked, 3000u);
	EXPECT_EQ(i.bytes_sent, 3000u);
	EXPECT_EQ(i.bytes_acked, 0u);
	ASSERT_TRUE(run_until([&] { return server.got.size() == 3000; }));
	step_ms(300);
	i = info(0, client.c);
	EXPECT_EQ(i.bytes_sent, 3000u);
	EXPECT_EQ(i.bytes_acked, 3000u);
	EXPECT_EQ(i.bytes_retrans, 0u);
	ASSERT_EQ(tern_tcp_shutdown_wr(A, client.c), 0);	// the FIN is no data
	step_ms(300);
	i = info(0, client.c);
	EXPECT_EQ(i.bytes_sent, 3000u);
	EXPECT_EQ(i.bytes_acked, 3000u);
}
