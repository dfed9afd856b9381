// The TCP fixture: two stacks over the in-memory wire (harness.h) with a
// client on A and a listener on B, what the application's callbacks saw,
// and helpers to read and forge segments. Shared by test_tcp.cc and
// test_tcp_rules.cc.
//
// TearDown is the leak check with the stacks alive: drops and impairments
// go, the listener closes, every connection not in TIME_WAIT is aborted,
// the clock runs past 2 MSL (TIME_WAIT must end by itself), and then no
// connection may be left and every mbuf must be back in the pool (before
// tern_stack_destroy, which would free whatever a connection still held).
#pragma once

#include <netinet/in.h>
#include <rte_errno.h>
#include <rte_tcp.h>

#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <tern/tcp.h>

#include "harness.h"

namespace tt {

// What one connection's callbacks saw.
struct Peer {
	tern_stack *s = nullptr;
	tern_tcp_conn *c = nullptr;
	Bytes got;
	bool connected = false, fin = false, closed = false;
	int err = -1;
	int closed_calls = 0;	// closed() must come once
	uint64_t acked = 0;
	bool echo = false;	// send back what arrives
	// Echo under a manual window (tern_tcp_opts.manual_window): what
	// the send queue has no room for waits in `held`, and the window
	// opens as the echo is acknowledged, so a slow way back slows the
	// way in and nothing grows without bound.
	bool echo_paced = false;
	std::deque<rte_mbuf *> held;
	bool close_on_fin = false;
};

inline void echo_flush(Peer *p, tern_tcp_conn *c)
{
	while (!p->held.empty() && tern_tcp_send(p->s, c, p->held.front()) == 0)
		p->held.pop_front();
}

inline void on_connected(void *arg, tern_tcp_conn *)
{
	static_cast<Peer *>(arg)->connected = true;
}

inline void on_recv(void *arg, tern_tcp_conn *c, rte_mbuf *m)
{
	Peer *p = static_cast<Peer *>(arg);
	if (m == nullptr) {
		p->fin = true;
		if (p->close_on_fin)
			tern_tcp_close(p->s, c);
		return;
	}
	Bytes b = mbuf_bytes(m);
	p->got.insert(p->got.end(), b.begin(), b.end());
	if (p->echo_paced) {
		p->held.push_back(m);
		echo_flush(p, c);
	} else if (p->echo)
		EXPECT_EQ(tern_tcp_send(p->s, c, m), 0);
	else
		rte_pktmbuf_free(m);
}

inline void on_sent(void *arg, tern_tcp_conn *c, uint32_t n)
{
	Peer *p = static_cast<Peer *>(arg);
	p->acked += n;
	if (p->echo_paced) {
		echo_flush(p, c);
		tern_tcp_recved(p->s, c, n);	// n echoed bytes are done with
	}
}

inline void on_closed(void *arg, tern_tcp_conn *, int err)
{
	Peer *p = static_cast<Peer *>(arg);
	p->closed = true;
	p->closed_calls++;
	p->err = err;
	p->c = nullptr;
}

inline const tern_tcp_ops kOps = {on_connected, on_recv, on_sent, on_closed};

class Tcp : public TwoStacks {
protected:
	void SetUp() override
	{
		TwoStacks::SetUp();
		if (HasFatalFailure())
			return;
		resolve_statically();
		client.s = A;
		server.s = B;
	}

	void TearDown() override
	{
		drain_and_check();
		TwoStacks::TearDown();
	}

	// The leak check with the stacks alive (see the top of the file).
	void drain_and_check()
	{
		drop = nullptr;
		if (w != nullptr) {
			tern_wire_set_impair(w, 0, nullptr);
			tern_wire_set_impair(w, 1, nullptr);
		}
		if (A == nullptr || B == nullptr || pool == nullptr)
			return;
		if (lst)
			tern_tcp_listener_close(B, lst);
		lst = nullptr;
		for (tern_stack *s : {A, B}) {
			std::vector<tern_tcp_conn *> open;
			tern_tcp_foreach(s, [](void *arg, tern_tcp_conn *c) {
				if (tern_tcp_state(c) != TERN_TCP_TIME_WAIT)
					static_cast<std::vector<tern_tcp_conn *> *>(arg)->push_back(c);
				return 0;
			}, &open);
			for (tern_tcp_conn *c : open)
				tern_tcp_abort(s, c);
		}
		for (Peer *p : {&client, &server}) {
			for (rte_mbuf *m : p->held)
				rte_pktmbuf_free(m);
			p->held.clear();
		}
		pump();
		// 2 MSL (60 s by default) and the FIN-WAIT-2 timeout (60 s)
		step_ms(121000);
		EXPECT_EQ(tern_tcp_count(A), 0u) << "connections left on A";
		EXPECT_EQ(tern_tcp_count(B), 0u) << "connections left on B";
		EXPECT_TRUE(pool_full(pool)) << "with the stacks still running";
	}

	static void on_accept(void *arg, tern_tcp_listener *, tern_tcp_conn *c)
	{
		Tcp *t = static_cast<Tcp *>(arg);
		// the stack keeps the listener in arg until now: the
		// application must not see it
		EXPECT_EQ(tern_tcp_arg(c), nullptr);
		t->accepted++;
		t->server.c = c;
		tern_tcp_set_ops(t->B, c, &kOps, &t->server);
	}

	void listen(uint16_t port = 80, tern_tcp_opts o = tern_tcp_opts(),
		    uint32_t backlog = 0)
	{
		tern_tcp_listen_conf lc;
		memset(&lc, 0, sizeof(lc));
		lc.port = port;
		lc.backlog = backlog;
		lc.accept = on_accept;
		lc.arg = this;
		lc.opts = o;
		lst = tern_tcp_listen(B, &lc);
		ASSERT_NE(lst, nullptr) << rte_strerror(rte_errno);
	}

	// A connection from A to B:port whose callbacks go to p (p.s is set
	// to A, p.c to the connection or null); lport 0: an ephemeral port.
	tern_tcp_conn *connect_peer(Peer &p, uint16_t port = 80,
				    tern_tcp_opts o = tern_tcp_opts(),
				    uint16_t lport = 0)
	{
		p.s = A;
		p.c = tcp_connect(A, kIpB, port, &kOps, &p, o, lport);
		return p.c;
	}
	// The same for `client`.
	tern_tcp_conn *connect(uint16_t port = 80, tern_tcp_opts o = tern_tcp_opts(),
			       uint16_t lport = 0)
	{
		return connect_peer(client, port, o, lport);
	}

	// Pumps and moves the clock by `ms` steps of 1 ms until pred holds.
	bool run_until(const std::function<bool()> &pred, unsigned ms = 5000)
	{
		for (unsigned i = 0; i < ms; i++) {
			pump();
			if (pred())
				return true;
			step_ms(1);
		}
		return pred();
	}

	void establish(tern_tcp_opts co = tern_tcp_opts(),
		       tern_tcp_opts so = tern_tcp_opts())
	{
		listen(80, so);
		ASSERT_NE(connect(80, co), nullptr) << rte_strerror(rte_errno);
		ASSERT_TRUE(run_until([&] { return client.connected && accepted; }));
	}

	std::vector<Frame> tcp_from(int side)
	{
		std::vector<Frame> out;
		for (const Frame &f : frames)
			if (f.side == side && f.is_ip4(IPPROTO_TCP))
				out.push_back(f);
		return out;
	}

	// ---- reading segments -------------------------------------------
	static uint8_t tflags(const Frame &f) { return f.l4()[13]; }
	static uint32_t seq_of(const Frame &f) { return get32(f.l4() + 4); }
	static uint32_t ack_of(const Frame &f) { return get32(f.l4() + 8); }
	static uint16_t win_of(const Frame &f) { return get16(f.l4() + 14); }
	static size_t hdr_len(const Frame &f) { return (f.l4()[12] >> 4) * 4u; }
	static size_t payload_len(const Frame &f) { return f.l4_len() - hdr_len(f); }
	static bool is_tcp(const Frame &f) { return f.is_ip4(IPPROTO_TCP); }
	// A segment with nothing but an ACK (no data, SYN, FIN or RST).
	static bool pure_ack(const Frame &f)
	{
		return is_tcp(f) && payload_len(f) == 0 &&
		       (tflags(f) & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG |
				     RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG)) ==
			       RTE_TCP_ACK_FLAG;
	}
	// Calls fn with each option of a segment (o[0] the kind, o[1] the
	// length; nops skipped) in order, until fn returns true, the list
	// ends or an option runs past the header.
	template <typename Fn> static void each_opt(const Frame &f, Fn fn)
	{
		const uint8_t *o = f.l4() + 20;
		size_t n = hdr_len(f) - 20;
		for (size_t i = 0; i < n;) {
			if (o[i] == 0)
				break;
			if (o[i] == 1) {
				i++;
				continue;
			}
			if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
				break;
			if (fn(o + i))
				return;
			i += o[i + 1];
		}
	}
	// The SACK blocks of a segment, in the order sent.
	static std::vector<std::pair<uint32_t, uint32_t>> sack_of(const Frame &f)
	{
		std::vector<std::pair<uint32_t, uint32_t>> out;
		each_opt(f, [&](const uint8_t *o) {
			if (o[0] == 5)
				for (size_t k = 2; k + 8 <= o[1]; k += 8)
					out.emplace_back(get32(o + k), get32(o + k + 4));
			return false;
		});
		return out;
	}
	// The timestamp option's TSval; false when there is none.
	static bool tsval_of(const Frame &f, uint32_t *val)
	{
		bool found = false;
		each_opt(f, [&](const uint8_t *o) {
			if (o[0] == 8 && o[1] == 10) {
				*val = get32(o + 2);
				found = true;
			}
			return found;
		});
		return found;
	}

	// The established pair negotiated no SACK, timestamps or window
	// scaling, and both ends send segments of mss bytes.
	void expect_no_options(uint16_t mss)
	{
		tern_tcp_info ci, si;
		ASSERT_EQ(tern_tcp_info_get(A, client.c, &ci), 0);
		ASSERT_EQ(tern_tcp_info_get(B, server.c, &si), 0);
		EXPECT_FALSE(ci.sack || ci.timestamps || si.sack || si.timestamps);
		EXPECT_EQ(ci.snd_wscale, 0xff);
		EXPECT_EQ(ci.rcv_wscale, 0xff);
		EXPECT_EQ(si.snd_wscale, 0xff);
		EXPECT_EQ(si.rcv_wscale, 0xff);
		EXPECT_EQ(ci.mss, mss);
		EXPECT_EQ(si.mss, mss);
	}

	// ---- forging segments -------------------------------------------
	// A TCP/IPv4/Ethernet frame from src:sport to dst:dport (src_mac to
	// dst_mac), options padded to 4 bytes, checksums right.
	static Bytes tcp_frame(const Mac &dst_mac, const Mac &src_mac, uint32_t src,
			       uint32_t dst, uint16_t sport, uint16_t dport,
			       uint32_t seq, uint32_t ack, uint8_t flags,
			       uint16_t win, Bytes opts = Bytes(),
			       const Bytes &data = Bytes())
	{
		while (opts.size() % 4)
			opts.push_back(1);	// nop
		Bytes tcp(20, 0);
		put16(&tcp[0], sport);
		put16(&tcp[2], dport);
		put32(&tcp[4], seq);
		put32(&tcp[8], ack);
		tcp[12] = (uint8_t)(((20 + opts.size()) / 4) << 4);
		tcp[13] = flags;
		put16(&tcp[14], win);
		tcp.insert(tcp.end(), opts.begin(), opts.end());
		tcp.insert(tcp.end(), data.begin(), data.end());
		uint32_t sum = pseudo_sum(src, dst, IPPROTO_TCP, (uint16_t)tcp.size());
		put16(&tcp[16], inet_cksum(tcp.data(), tcp.size(), sum));
		return eth(dst_mac, src_mac, kEthIp4, ip4(src, dst, IPPROTO_TCP, tcp));
	}
	// A segment into side `to` (0: A, 1: B) from its peer, on the
	// connection whose local and remote ports (as `to` sees them) are
	// lport and rport; then pumps.
	void inject_seg(int to, uint16_t lport, uint16_t rport, uint32_t seq,
			uint32_t ack, uint8_t flags, uint16_t win = 65535,
			const Bytes &opts = Bytes(), const Bytes &data = Bytes())
	{
		uint32_t me = to ? kIpB : kIpA, peer = to ? kIpA : kIpB;
		const Mac &mm = to ? kMacB : kMacA, &pm = to ? kMacA : kMacB;
		inject(S(to), tcp_frame(mm, pm, peer, me, rport, lport, seq, ack,
					flags, win, opts, data));
		pump();
	}
	static Bytes ts_opt(uint32_t val, uint32_t ecr)
	{
		Bytes o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
		put32(&o[4], val);
		put32(&o[8], ecr);
		return o;
	}
	// SACK blocks [first, second), after two nops; none: no option.
	static Bytes sack_opt(const std::vector<std::pair<uint32_t, uint32_t>> &blocks)
	{
		if (blocks.empty())
			return Bytes();
		Bytes o = {1, 1, 5, (uint8_t)(2 + 8 * blocks.size())};
		for (auto &b : blocks) {
			o.resize(o.size() + 8);
			put32(&o[o.size() - 8], b.first);
			put32(&o[o.size() - 4], b.second);
		}
		return o;
	}
	// "Fragmentation needed" (RFC 1191) from the gateway to A, next-hop
	// MTU mtu, quoting the header of A's segment seq from lport to B's
	// rport as if it were 1500 bytes long. Does not pump.
	void inject_frag_needed(uint16_t lport, uint16_t rport, uint32_t seq,
				uint16_t mtu)
	{
		Bytes quoted = ip4(kIpA, kIpB, IPPROTO_TCP, Bytes(8, 0),
				   Ip4Opts{.total_len = 1500});
		put16(&quoted[20], lport);
		put16(&quoted[22], rport);
		put32(&quoted[24], seq);
		inject(A, eth(kMacA, kMacGw, kEthIp4,
			      ip4(kIpGw, kIpA, IPPROTO_ICMP, icmp(3, 4, 0, mtu, quoted))));
	}

	tern_tcp_info info(int side, const tern_tcp_conn *c)
	{
		tern_tcp_info i;
		memset(&i, 0, sizeof(i));
		EXPECT_EQ(tern_tcp_info_get(S(side), c, &i), 0);
		return i;
	}

	// The client's and the server's connections, for failure messages.
	std::string describe()
	{
		std::string out;
		const std::pair<int, Peer *> ps[] = {{0, &client}, {1, &server}};
		for (auto [side, p] : ps) {
			out += side ? " | server: " : "client: ";
			if (p->c == nullptr) {
				out += "gone";
				continue;
			}
			tern_tcp_info i = info(side, p->c);
			char b[512];
			snprintf(b, sizeof(b),
				 "%s una %u nxt %u wnd %u cwnd %u ssthresh %u queued %u "
				 "unacked %u rcv_nxt %u rcv_wnd %u rto %u us backoff %u "
				 "retrans %u got %zu held %zu",
				 tern_tcp_state_name((enum tern_tcp_state)i.state),
				 i.snd_una, i.snd_nxt, i.snd_wnd, i.cwnd, i.ssthresh,
				 i.send_queued, i.unacked, i.rcv_nxt, i.rcv_wnd,
				 i.rto_us, i.backoff, i.retransmits, p->got.size(),
				 p->held.size());
			out += b;
		}
		for (int side = 0; side < 2; side++) {
			tern_stack_stats st = stats(S(side));
			unsigned n = 0;
			const tern_counter_desc *d = tern_stack_counter_descs(&n);
			out += side ? "\nB:" : "\nA:";
			for (unsigned k = 0; k < n; k++) {
				uint64_t v = *(const uint64_t *)((const char *)&st + d[k].offset);
				if (v != 0)
					out += std::string(" ") + d[k].name + "=" + std::to_string(v);
			}
		}
		return out;
	}

	// Sends n bytes from `from` in writes of at most `chunk`.
	Bytes send_bulk(Peer &from, size_t n, size_t chunk = 4000)
	{
		Bytes data = pattern(n, 7);
		size_t off = 0;
		bool ok = run_until([&] {
			return tcp_write_from(from.s, from.c, data, off, chunk);
		}, 20000);
		EXPECT_TRUE(ok);
		return data;
	}

	tern_tcp_listener *lst = nullptr;
	Peer client, server;
	int accepted = 0;
};

}  // namespace tt
