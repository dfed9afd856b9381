#include "harness.h"

#include <cstring>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

namespace tt {

rte_ether_addr ether(const Mac &m)
{
	rte_ether_addr e;
	memcpy(e.addr_bytes, m.data(), 6);
	return e;
}

Mac mac_of(const rte_ether_addr &e)
{
	Mac m;
	memcpy(m.data(), e.addr_bytes, 6);
	return m;
}

uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_cksum(const uint8_t *p, size_t n, uint32_t seed)
{
	return fold(sum16(p, n, seed));
}

uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + len;
}

void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

Bytes eth(const Mac &dst, const Mac &src, uint16_t type, const Bytes &payload)
{
	Bytes b(14);
	memcpy(&b[0], dst.data(), 6);
	memcpy(&b[6], src.data(), 6);
	put16(&b[12], type);
	b.insert(b.end(), payload.begin(), payload.end());
	return b;
}

Bytes ip4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes &l4,
	  const Ip4Opts &o)
{
	size_t hlen = o.ihl >= 5 ? o.ihl * 4u : 20u;
	Bytes b(hlen, 0);
	b[0] = (uint8_t)(o.version << 4 | (o.ihl & 0xf));
	put16(&b[2], o.total_len >= 0 ? (uint16_t)o.total_len
				       : (uint16_t)(hlen + l4.size()));
	put16(&b[4], o.id);
	put16(&b[6], o.frag);
	b[8] = o.ttl;
	b[9] = proto;
	put32(&b[12], src);
	put32(&b[16], dst);
	uint16_t ck = inet_cksum(b.data(), hlen);
	if (o.bad_cksum)
		ck ^= 0x5a5a;
	put16(&b[10], ck);
	b.insert(b.end(), l4.begin(), l4.end());
	return b;
}

Bytes udp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	  const Bytes &payload, const UdpOpts &o)
{
	Bytes b(8);
	put16(&b[0], sport);
	put16(&b[2], dport);
	uint16_t len = o.len >= 0 ? (uint16_t)o.len : (uint16_t)(8 + payload.size());
	put16(&b[4], len);
	b.insert(b.end(), payload.begin(), payload.end());
	uint16_t ck = inet_cksum(b.data(), b.size(),
				 pseudo_sum(src, dst, 17, (uint16_t)b.size()));
	if (ck == 0)
		ck = 0xffff;	// RFC 768: a computed zero is sent as ones
	if (o.bad_cksum)
		ck ^= 0x1234;
	if (o.zero_cksum)
		ck = 0;
	put16(&b[6], ck);
	return b;
}

Bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
	   const Bytes &payload, bool bad_cksum)
{
	Bytes b(8, 0);
	b[0] = type;
	b[1] = code;
	put16(&b[4], id);
	put16(&b[6], seq);
	b.insert(b.end(), payload.begin(), payload.end());
	uint16_t ck = inet_cksum(b.data(), b.size());
	if (bad_cksum)
		ck ^= 0x0f0f;
	put16(&b[2], ck);
	return b;
}

Bytes arp(uint16_t op, const Mac &sha, uint32_t spa, const Mac &tha,
	  uint32_t tpa, const ArpOpts &o)
{
	Bytes b(28, 0);
	put16(&b[0], o.htype);
	put16(&b[2], o.ptype);
	b[4] = o.hlen;
	b[5] = o.plen;
	put16(&b[6], op);
	memcpy(&b[8], sha.data(), 6);
	put32(&b[14], spa);
	memcpy(&b[18], tha.data(), 6);
	put32(&b[24], tpa);
	return b;
}

Bytes udp_frame(const Mac &dmac, uint32_t dst, uint16_t dport,
		const Bytes &payload, uint32_t src, uint16_t sport)
{
	return eth(dmac, kMacX, kEthIp4,
		   ip4(src, dst, 17, udp(src, dst, sport, dport, payload)));
}

Bytes pattern(size_t n, uint8_t seed)
{
	Bytes b(n);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7 + 1);
	return b;
}

rte_mempool *make_pool(unsigned n)
{
	static unsigned seq;
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "tu_pool_%u", seq++);
	// No per-lcore cache and a plain ring: pool_full() counts exactly.
	return rte_pktmbuf_pool_create_by_ops(name, n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					      SOCKET_ID_ANY, "ring_mp_mc");
}

::testing::AssertionResult pool_full(const rte_mempool *mp)
{
	// make_pool's pools sit on an rte_ring ("ring_mp_mc"): its count is
	// what is in the pool, unclamped.
	unsigned n = rte_ring_count(static_cast<const rte_ring *>(mp->pool_data));
	if (n == mp->size)
		return ::testing::AssertionSuccess();
	if (n > mp->size)
		return ::testing::AssertionFailure()
		       << n - mp->size << " mbufs freed twice (pool holds " << n
		       << " of " << mp->size << ")";
	return ::testing::AssertionFailure() << mp->size - n << " mbufs leaked";
}

rte_mbuf *mbuf_from(rte_mempool *mp, const Bytes &b, size_t split, size_t seg)
{
	rte_mbuf *head = rte_pktmbuf_alloc(mp);
	if (!head)
		return nullptr;
	size_t first = split && split < b.size() ? split : b.size();
	if (first) {
		char *d = rte_pktmbuf_append(head, (uint16_t)first);
		memcpy(d, b.data(), first);
	}
	size_t off = first;
	size_t chunk = seg ? seg : 1024;
	while (off < b.size()) {
		size_t n = std::min(chunk, b.size() - off);
		rte_mbuf *s = rte_pktmbuf_alloc(mp);
		if (!s) {
			rte_pktmbuf_free(head);
			return nullptr;
		}
		memcpy(rte_pktmbuf_append(s, (uint16_t)n), &b[off], n);
		if (rte_pktmbuf_chain(head, s) != 0) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free(head);
			return nullptr;
		}
		off += n;
	}
	return head;
}

static void ext_buf_free(void *addr, void *opaque)
{
	rte_free(addr);
	++*static_cast<int *>(opaque);
}

rte_mbuf *mbuf_ext_from(rte_mempool *mp, const Bytes &b, int *freed)
{
	rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (!m)
		return nullptr;
	uint16_t len = 2048;
	void *buf = rte_malloc("tt_extbuf", len, RTE_CACHE_LINE_SIZE);
	if (!buf) {
		rte_pktmbuf_free(m);
		return nullptr;
	}
	rte_mbuf_ext_shared_info *sh =
		rte_pktmbuf_ext_shinfo_init_helper(buf, &len, ext_buf_free, freed);
	rte_pktmbuf_attach_extbuf(m, buf, rte_malloc_virt2iova(buf), len, sh);
	rte_pktmbuf_reset_headroom(m);
	char *d = rte_pktmbuf_append(m, (uint16_t)b.size());
	if (!d) {
		rte_pktmbuf_free(m);
		return nullptr;
	}
	memcpy(d, b.data(), b.size());
	return m;
}

Bytes mbuf_bytes(const rte_mbuf *m)
{
	Bytes b(rte_pktmbuf_pkt_len(m));
	if (!b.empty()) {
		const void *p = rte_pktmbuf_read(m, 0, (uint32_t)b.size(), b.data());
		if (p != b.data())
			memcpy(b.data(), p, b.size());
	}
	return b;
}

tern_stack_stats stats(const tern_stack *s)
{
	tern_stack_stats st;
	memset(&st, 0, sizeof(st));
	tern_stack_stats_get(s, &st);
	return st;
}

uint64_t counter(const tern_stack_stats &st, const std::string &name)
{
	unsigned n = 0;
	const tern_counter_desc *d = tern_stack_counter_descs(&n);
	for (unsigned i = 0; i < n; i++)
		if (name == std::string(d[i].proto) + "." + d[i].name)
			return *(const uint64_t *)((const char *)&st + d[i].offset);
	ADD_FAILURE() << "no counter named " << name;
	return UINT64_MAX;
}

std::vector<std::string> drops_changed(const tern_stack_stats &a,
				       const tern_stack_stats &b)
{
	std::vector<std::string> out;
	unsigned n = 0;
	const tern_counter_desc *d = tern_stack_counter_descs(&n);
	for (unsigned i = 0; i < n; i++) {
		if (strncmp(d[i].name, "drop_", 5) != 0)
			continue;
		uint64_t va = *(const uint64_t *)((const char *)&a + d[i].offset);
		uint64_t vb = *(const uint64_t *)((const char *)&b + d[i].offset);
		if (va != vb)
			out.push_back(std::string(d[i].proto) + "." + d[i].name +
				      " +" + std::to_string((int64_t)(vb - va)));
	}
	return out;
}

uint64_t drops_total(const tern_stack_stats &st)
{
	uint64_t t = 0;
	unsigned n = 0;
	const tern_counter_desc *d = tern_stack_counter_descs(&n);
	for (unsigned i = 0; i < n; i++)
		if (strncmp(d[i].name, "drop_", 5) == 0)
			t += *(const uint64_t *)((const char *)&st + d[i].offset);
	return t;
}

Mac Frame::dst() const
{
	Mac m;
	memcpy(m.data(), &b[0], 6);
	return m;
}

Mac Frame::src() const
{
	Mac m;
	memcpy(m.data(), &b[6], 6);
	return m;
}

Mac Frame::arp_sha() const
{
	Mac m;
	memcpy(m.data(), &b[14 + 8], 6);
	return m;
}

bool Frame::is_arp(uint16_t op) const
{
	return type() == kEthArp && b.size() >= 14 + 28 && (!op || arp_op() == op);
}

bool Frame::is_ip4(uint8_t proto) const
{
	return type() == kEthIp4 && b.size() >= 34 && (!proto || b[14 + 9] == proto);
}

tern_tcp_conn *tcp_connect(tern_stack *s, uint32_t dst, uint16_t port,
			   const tern_tcp_ops *ops, void *arg,
			   const tern_tcp_opts &o, uint16_t lport)
{
	tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.remote = v4(dst);
	cc.rport = port;
	cc.lport = lport;
	cc.ops = ops;
	cc.arg = arg;
	cc.opts = o;
	return tern_tcp_connect(s, &cc);
}

bool tcp_write_from(tern_stack *s, tern_tcp_conn *c, const Bytes &d,
		    size_t &off, size_t chunk)
{
	while (off < d.size()) {
		size_t k = std::min(chunk, d.size() - off);
		int r = tern_tcp_write(s, c, d.data() + off, (uint32_t)k);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	return off == d.size();
}

void rx_collect(void *arg, tern_udp_pcb *, rte_mbuf *m, const tern_addr *src,
		uint16_t sport, const tern_addr *dst)
{
	Rx *rx = static_cast<Rx *>(arg);
	Got g;
	g.data = mbuf_bytes(m);
	g.src = *src;
	g.dst = *dst;
	g.sport = sport;
	g.nb_segs = m->nb_segs;
	rx->got.push_back(g);
	rte_pktmbuf_free(m);
}

static Frame frame_of(int side, const rte_mbuf *m)
{
	Frame f;
	f.side = side;
	f.b = mbuf_bytes(m);
	f.ol_flags = m->ol_flags;
	f.l2_len = m->l2_len;
	f.l3_len = m->l3_len;
	return f;
}

uint16_t capture_tx(void *ctx, rte_mbuf **pkts, uint16_t n)
{
	auto *v = static_cast<std::vector<Frame> *>(ctx);
	for (uint16_t i = 0; i < n; i++) {
		v->push_back(frame_of(0, pkts[i]));
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

int wire_tap(void *arg, int from_side, rte_mbuf *m)
{
	TwoStacks *t = static_cast<TwoStacks *>(arg);
	Frame f = frame_of(from_side, m);
	bool dropped = t->drop && t->drop(from_side, f);
	t->frames.push_back(f);
	return dropped ? 1 : 0;
}

void TwoStacks::SetUp()
{
	tern_clock_init_virtual(&clk, clock_start_ns());
	pool = make_pool();
	ASSERT_NE(pool, nullptr) << rte_strerror(rte_errno);

	for (int side = 0; side < 2; side++) {
		tern_stack_conf sc;
		memset(&sc, 0, sizeof(sc));
		sc.name = side ? "B" : "A";
		sc.pool = pool;
		sc.clock = &clk;
		sc.neigh_reachable_ms = 30000;
		sc.neigh_retrans_ms = 1000;
		sc.neigh_mcast_probes = 3;
		sc.neigh_queue_len = 8;
		sc.seed = 42 + side;
		conf_stack(sc, side);
		tern_stack *s = tern_stack_create(&sc);
		ASSERT_NE(s, nullptr) << rte_strerror(rte_errno);
		(side ? B : A) = s;
	}
	w = tern_wire_create(A, 0, B, 0);
	ASSERT_NE(w, nullptr);
	tern_wire_set_tap(w, wire_tap, this);

	for (int side = 0; side < 2; side++) {
		tern_iface_conf ic;
		memset(&ic, 0, sizeof(ic));
		ic.ifindex = side ? kIfB : kIfA;
		ic.link = 0;
		snprintf(ic.name, sizeof(ic.name), "%s", side ? "ifB" : "ifA");
		ic.mac = ether(side ? kMacB : kMacA);
		ic.mtu = 1500;
		ic.tx = tern_wire_tx;
		ic.tx_ctx = tern_wire_end(w, side);
		conf_iface(ic, side);
		ASSERT_EQ(tern_iface_add(S(side), &ic), 0);
		tern_addr a = v4(side ? kIpB : kIpA);
		ASSERT_EQ(tern_iface_addr_add(S(side), ic.ifindex, &a, 24), 0);
	}
	// Whatever the interfaces said when they came up is not the test's.
	pump();
	frames.clear();
}

void TwoStacks::TearDown()
{
	if (w)
		tern_wire_destroy(w);
	if (A)
		tern_stack_destroy(A);
	if (B)
		tern_stack_destroy(B);
	w = nullptr;
	A = B = nullptr;
	if (pool) {
		// The leak check: every mbuf is back in the pool.
		EXPECT_TRUE(pool_full(pool));
		rte_mempool_free(pool);
		pool = nullptr;
	}
}

void TwoStacks::step(uint64_t ns)
{
	tern_clock_advance(&clk, ns);
	tern_stack_run_timers(A);
	tern_stack_run_timers(B);
	pump();
}

void TwoStacks::inject(tern_stack *s, const Bytes &b, uint64_t ol_flags,
		       size_t split, size_t seg)
{
	rte_mbuf *m = mbuf_from(pool, b, split, seg);
	ASSERT_NE(m, nullptr);
	m->ol_flags = ol_flags;
	ASSERT_EQ(tern_stack_input(s, 0, &m, 1), 1);
}

int TwoStacks::send(tern_stack *s, tern_udp_pcb *pcb, uint32_t dst,
		    uint16_t dport, const Bytes &payload)
{
	rte_mbuf *m = tern_stack_alloc(s);
	EXPECT_NE(m, nullptr);
	if (!m)
		return -ENOMEM;
	if (!payload.empty()) {
		char *d = rte_pktmbuf_append(m, (uint16_t)payload.size());
		EXPECT_NE(d, nullptr);
		memcpy(d, payload.data(), payload.size());
	}
	tern_addr a = v4(dst);
	return tern_udp_sendto(s, pcb, &a, dport, m);
}

tern_udp_pcb *TwoStacks::open(tern_stack *s, uint16_t port, Rx *rx,
			      uint32_t local)
{
	tern_addr l;
	memset(&l, 0, sizeof(l));
	if (local)
		l = v4(local);
	return tern_udp_open(s, &l, port, rx_collect, rx);
}

void TwoStacks::resolve_statically()
{
	tern_addr a = v4(kIpA), b = v4(kIpB);
	rte_ether_addr ma = ether(kMacA), mb = ether(kMacB);
	ASSERT_EQ(tern_neigh_add(A, kIfA, &b, &mb), 0);
	ASSERT_EQ(tern_neigh_add(B, kIfB, &a, &ma), 0);
}

std::vector<Frame> TwoStacks::frames_from(int side) const
{
	std::vector<Frame> out;
	for (const Frame &f : frames)
		if (f.side == side)
			out.push_back(f);
	return out;
}

std::vector<Frame> TwoStacks::arp_from(int side, uint16_t op) const
{
	std::vector<Frame> out;
	for (const Frame &f : frames)
		if (f.side == side && f.is_arp(op))
			out.push_back(f);
	return out;
}

}  // namespace tt
