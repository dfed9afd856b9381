// Copy-on-write: packets that may be shared are never written in place.
// A sender that keeps a reference (as TCP keeps what it sent for
// retransmission, or a generator its pattern) must find every byte of its
// buffers as it left them, headroom included, whatever the receiver does:
// echo replies, ARP replies, UDP echo, header pull-up.
#include "harness.h"

#include <tern/mbuf_cow.h>

using namespace tt;

namespace {

// Every byte of every buffer of a chain, headroom and tailroom included.
Bytes buffers(const rte_mbuf *m)
{
	Bytes b;
	for (; m != nullptr; m = m->next) {
		const uint8_t *p = static_cast<const uint8_t *>(m->buf_addr);
		b.insert(b.end(), p, p + m->buf_len);
	}
	return b;
}

class Cow : public UdpPair {
protected:
	void SetUp() override
	{
		UdpPair::SetUp();
		tern_addr x = v4(kIpX);
		rte_ether_addr mx = ether(kMacX);
		ASSERT_EQ(tern_neigh_add(A, kIfA, &x, &mx), 0);
	}
	// Injects m into A while we keep our own reference; returns what
	// our reference's buffers held before.
	Bytes inject_kept(rte_mbuf *m)
	{
		rte_pktmbuf_refcnt_update(m, 1);
		Bytes before = buffers(m);
		rte_mbuf *in = m;
		tern_stack_input(A, 0, &in, 1);
		pump();
		return before;
	}
	Bytes ping_frame() { return eth(kMacA, kMacX, kEthIp4,
					ip4(kIpX, kIpA, 1, icmp(8, 0, 7, 1, pattern(64)))); }
	void expect_echo_reply()
	{
		auto out = frames_from(0);
		ASSERT_EQ(out.size(), 1u);
		ASSERT_TRUE(out[0].is_ip4(1));
		EXPECT_EQ(out[0].l4()[0], 0) << "echo reply";
		EXPECT_EQ(inet_cksum(out[0].l4(), out[0].l4_len()), 0);
		EXPECT_EQ(Bytes(out[0].l4() + 8, out[0].l4() + out[0].l4_len()),
			  pattern(64));
	}
};

}  // namespace

TEST(CowHelper, DecidesWritability)
{
	rte_mempool *mp = make_pool(64);
	ASSERT_NE(mp, nullptr);
	rte_mbuf *m = mbuf_from(mp, pattern(100));
	EXPECT_TRUE(tern_mbuf_writable(m));
	EXPECT_TRUE(tern_mbuf_meta_owned(m));
	rte_pktmbuf_refcnt_update(m, 1);
	EXPECT_FALSE(tern_mbuf_writable(m)) << "refcount 2";
	EXPECT_FALSE(tern_mbuf_meta_owned(m));
	rte_pktmbuf_free(m);
	EXPECT_TRUE(tern_mbuf_writable(m));
	rte_mbuf *c = rte_pktmbuf_clone(m, mp);
	ASSERT_NE(c, nullptr);
	EXPECT_FALSE(tern_mbuf_writable(c)) << "indirect";
	EXPECT_TRUE(tern_mbuf_meta_owned(c)) << "the clone's own metadata";
	EXPECT_FALSE(tern_mbuf_writable(m)) << "the direct one now shared";
	rte_pktmbuf_free(c);
	EXPECT_TRUE(tern_mbuf_writable(m));
	rte_pktmbuf_free(m);
	int freed = 0;
	rte_mbuf *e = mbuf_ext_from(mp, pattern(100), &freed);
	ASSERT_NE(e, nullptr);
	EXPECT_TRUE(tern_mbuf_writable(e)) << "external buffer, one holder";
	rte_mbuf_ext_refcnt_update(e->shinfo, 1);
	EXPECT_FALSE(tern_mbuf_writable(e)) << "external buffer, two holders";
	rte_mbuf_ext_refcnt_update(e->shinfo, -1);
	rte_pktmbuf_free(e);
	EXPECT_EQ(freed, 1);
	EXPECT_TRUE(pool_full(mp));
	rte_mempool_free(mp);
}

TEST_F(Cow, EchoReplyLeavesASharedRequestAlone)
{
	rte_mbuf *m = mbuf_from(pool, ping_frame());
	Bytes before = inject_kept(m);
	expect_echo_reply();
	EXPECT_EQ(buffers(m), before) << "the sender's bytes changed";
	EXPECT_EQ(stats(A).mbuf_rx_unshared, 1u);
	rte_pktmbuf_free(m);
}

TEST_F(Cow, EchoReplyLeavesACloneTemplateAlone)
{
	rte_mbuf *tmpl = mbuf_from(pool, ping_frame());
	Bytes before = buffers(tmpl);
	rte_mbuf *c = rte_pktmbuf_clone(tmpl, pool);
	ASSERT_NE(c, nullptr);
	tern_stack_input(A, 0, &c, 1);
	pump();
	expect_echo_reply();
	EXPECT_EQ(buffers(tmpl), before);
	rte_pktmbuf_free(tmpl);
}

TEST_F(Cow, EchoReplyLeavesASharedExternalBufferAlone)
{
	int freed = 0;
	rte_mbuf *m = mbuf_ext_from(pool, ping_frame(), &freed);
	ASSERT_NE(m, nullptr);
	rte_mbuf_ext_shared_info *sh = m->shinfo;
	rte_mbuf_ext_refcnt_update(sh, 1);	// another holder: us
	uint8_t *buf = static_cast<uint8_t *>(m->buf_addr);
	Bytes before(buf, buf + m->buf_len);
	rte_mbuf *in = m;
	tern_stack_input(A, 0, &in, 1);
	pump();
	expect_echo_reply();
	EXPECT_EQ(Bytes(buf, buf + before.size()), before);
	EXPECT_EQ(freed, 0) << "our hold keeps the buffer";
	ASSERT_EQ(rte_mbuf_ext_refcnt_update(sh, -1), 0) << "ours was the last";
	sh->free_cb(buf, sh->fcb_opaque);
	EXPECT_EQ(freed, 1);
}

TEST_F(Cow, ArpReplyLeavesASharedRequestAlone)
{
	rte_mbuf *m = mbuf_from(pool, eth(kBcast, kMacX, kEthArp,
					  arp(1, kMacX, kIpX, kZero, kIpA)));
	Bytes before = inject_kept(m);
	auto r = arp_from(0, 2);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].arp_tpa(), kIpX);
	EXPECT_EQ(buffers(m), before);
	rte_pktmbuf_free(m);
}

TEST_F(Cow, PullUpOfASharedChainCopiesFirst)
{
	// The IPv4 header is split across two segments and the chain is
	// shared: the pull-up must not move bytes inside the sender's mbufs.
	rte_mbuf *m = mbuf_from(pool, ping_frame(), 20, 30);
	ASSERT_GT(m->nb_segs, 1);
	Bytes before = inject_kept(m);
	expect_echo_reply();
	EXPECT_EQ(buffers(m), before);
	EXPECT_EQ(m->data_len, 20) << "our segments' metadata untouched";
	rte_pktmbuf_free(m);
}

// A sends through the wire keeping every datagram (refcnt 2, as a
// retransmission queue would); B echoes each back in place. A's kept
// mbufs must come out of the round trip byte for byte as they went in.
namespace {

struct Echo {
	tern_stack *s;
	tern_udp_pcb *pcb;
	unsigned n = 0;
};

void echo_cb(void *arg, tern_udp_pcb *, rte_mbuf *m, const tern_addr *src,
	     uint16_t sport, const tern_addr *)
{
	auto *e = static_cast<Echo *>(arg);
	e->n++;
	tern_udp_sendto(e->s, e->pcb, src, sport, m);
}

}  // namespace

TEST_F(Cow, UdpEchoThroughTheWireNeverWritesTheSendersBytes)
{
	resolve_statically();
	Echo e;
	e.s = B;
	e.pcb = tern_udp_open(B, nullptr, 7700, echo_cb, &e);
	ASSERT_NE(e.pcb, nullptr);
	std::vector<rte_mbuf *> kept;
	std::vector<Bytes> snap;
	for (int i = 0; i < 8; i++) {
		rte_mbuf *m = tern_stack_alloc(A);
		ASSERT_NE(m, nullptr);
		Bytes p = pattern(100 + i * 200, (uint8_t)i);
		memcpy(rte_pktmbuf_append(m, (uint16_t)p.size()), p.data(), p.size());
		rte_pktmbuf_refcnt_update(m, 1);	// ours
		kept.push_back(m);
		snap.push_back(buffers(m));
		tern_addr b = v4(kIpB);
		ASSERT_EQ(tern_udp_sendto(A, pa, &b, 7700, m), 0);
		pump();
	}
	EXPECT_EQ(e.n, 8u);
	ASSERT_EQ(rxa.got.size(), 8u);
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(rxa.got[i].data, pattern(100 + i * 200, (uint8_t)i));
		EXPECT_EQ(buffers(kept[i]), snap[i]) << i;
		rte_pktmbuf_free(kept[i]);
	}
	tern_udp_close(B, e.pcb);
}
