// hooks/ capture: a hook user writing pcapng from ETH_INPUT/ETH_OUTPUT.
#include "harness.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include <tern/capture.h>

using namespace tt;

namespace {

class Capture : public TwoStacks {
protected:
	void TearDown() override
	{
		if (cap) {
			tern_hook_del(tern_stack_hooks(A), TERN_HOOK_ETH_INPUT, "cap");
			tern_hook_del(tern_stack_hooks(A), TERN_HOOK_ETH_OUTPUT, "cap");
			tern_capture_close(cap);
		}
		unlink(path.c_str());
		TwoStacks::TearDown();
	}
	tern_capture *cap = nullptr;
	std::string path = "/tmp/tern_unit_cap_" + std::to_string(getpid()) + ".pcapng";
};

}  // namespace

TEST_F(Capture, BothDirectionsWritten)
{
	cap = tern_capture_open(path.c_str(), UINT16_MAX, 0);
	ASSERT_NE(cap, nullptr);
	tern_hooks *h = tern_stack_hooks(A);
	ASSERT_EQ(tern_hook_add(h, TERN_HOOK_ETH_INPUT, "cap", tern_capture_hook, cap), 0);
	ASSERT_EQ(tern_hook_add(h, TERN_HOOK_ETH_OUTPUT, "cap", tern_capture_hook, cap), 0);
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(100)), 0);
	pump();
	ASSERT_EQ(rb.got.size(), 1u) << "capture never changes what the stack does";
	// A sent the ARP request and the datagram, received the reply.
	size_t n = frames_from(0).size() + frames_from(1).size();
	EXPECT_EQ(n, 3u);
	EXPECT_EQ(tern_capture_drain(cap), (int)n);
	tern_capture_stats st;
	tern_capture_stats_get(cap, &st);
	EXPECT_EQ(st.captured, n);
	EXPECT_EQ(st.written, n);
	EXPECT_EQ(st.missed, 0u);

	ASSERT_EQ(tern_hook_del(h, TERN_HOOK_ETH_INPUT, "cap"), 0);
	ASSERT_EQ(tern_hook_del(h, TERN_HOOK_ETH_OUTPUT, "cap"), 0);
	tern_capture_close(cap);
	cap = nullptr;
	std::ifstream f(path, std::ios::binary);
	Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	ASSERT_GE(b.size(), 28u + n * 32);
	EXPECT_EQ(Bytes(b.begin(), b.begin() + 4), Bytes({0x0a, 0x0d, 0x0d, 0x0a}))
		<< "pcapng section header block";
	// The datagram's payload is in the file.
	Bytes p = pattern(100);
	EXPECT_NE(std::search(b.begin(), b.end(), p.begin(), p.end()), b.end());
}

TEST_F(Capture, OtherPortFiltered)
{
	cap = tern_capture_open(path.c_str(), 5, 0);	// link 5: not ours
	ASSERT_NE(cap, nullptr);
	tern_hooks *h = tern_stack_hooks(A);
	ASSERT_EQ(tern_hook_add(h, TERN_HOOK_ETH_INPUT, "cap", tern_capture_hook, cap), 0);
	ASSERT_EQ(tern_hook_add(h, TERN_HOOK_ETH_OUTPUT, "cap", tern_capture_hook, cap), 0);
	resolve_statically();
	Rx ra;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(10)), 0);
	pump();
	EXPECT_EQ(tern_capture_drain(cap), 0);
	tern_capture_stats st;
	tern_capture_stats_get(cap, &st);
	EXPECT_EQ(st.captured, 0u);
}

TEST(CaptureOpen, BadPath)
{
	EXPECT_EQ(tern_capture_open("/nonexistent-dir/x.pcapng", UINT16_MAX, 0), nullptr);
}

namespace {

// The packets of the Enhanced Packet Blocks of a pcapng file (host order,
// as tern writes it).
std::vector<Bytes> epb_packets(const Bytes &f)
{
	std::vector<Bytes> out;
	size_t off = 0;
	while (off + 12 <= f.size()) {
		uint32_t type, len;
		memcpy(&type, &f[off], 4);
		memcpy(&len, &f[off + 4], 4);
		if (len < 12 || off + len > f.size())
			break;
		if (type == 6 && len >= 32) {
			uint32_t cap;
			memcpy(&cap, &f[off + 20], 4);
			out.emplace_back(f.begin() + off + 28, f.begin() + off + 28 + cap);
		}
		off += len;
	}
	return out;
}

// A's port computes IPv4 and UDP checksums: the stack leaves them to it.
class CaptureOffload : public Capture {
protected:
	void conf_iface(tern_iface_conf &ic, int side) override
	{
		if (side == 0)
			ic.caps.tx_ip4_cksum = ic.caps.tx_udp_cksum = true;
	}
};

}  // namespace

TEST_F(CaptureOffload, OutputShowsTheChecksumsThePortWrites)
{
	cap = tern_capture_open(path.c_str(), UINT16_MAX, 0);
	ASSERT_NE(cap, nullptr);
	tern_hooks *h = tern_stack_hooks(A);
	ASSERT_EQ(tern_hook_add(h, TERN_HOOK_ETH_OUTPUT, "cap", tern_capture_hook, cap), 0);
	resolve_statically();
	Rx ra, rb;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_NE(open(B, 7000, &rb), nullptr);
	for (size_t len : {1, 100, 1001})
		ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(len)), 0);
	pump();
	ASSERT_EQ(rb.got.size(), 3u);
	ASSERT_EQ(tern_hook_del(h, TERN_HOOK_ETH_OUTPUT, "cap"), 0);
	tern_capture_close(cap);
	cap = nullptr;

	std::ifstream f(path, std::ios::binary);
	Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	std::vector<Bytes> pkts = epb_packets(b);
	ASSERT_EQ(pkts.size(), 3u);
	for (size_t i = 0; i < pkts.size(); i++) {
		const Bytes &p = pkts[i];
		ASSERT_GE(p.size(), 42u);
		EXPECT_EQ(inet_cksum(&p[14], 20), 0) << "IPv4 header checksum, packet " << i;
		EXPECT_NE(get16(&p[24]), 0) << "not left to the port";
		uint16_t ulen = get16(&p[38]);
		ASSERT_EQ(p.size(), 34u + ulen);
		uint32_t ps = pseudo_sum(get32(&p[26]), get32(&p[30]), 17, ulen);
		EXPECT_EQ(inet_cksum(&p[34], ulen, ps), 0) << "UDP checksum, packet " << i;
		// the same bytes as the wire carried (the wire completes
		// offloaded checksums like a NIC)
		EXPECT_EQ(p, frames_from(0)[i].b);
	}
}

TEST_F(CaptureOffload, SnaplenCutsThroughTheUdpChecksum)
{
	// 40 bytes: the IP checksum fits, the UDP one does not; nothing is
	// written past the cut.
	cap = tern_capture_open(path.c_str(), UINT16_MAX, 40);
	ASSERT_NE(cap, nullptr);
	tern_hooks *h = tern_stack_hooks(A);
	ASSERT_EQ(tern_hook_add(h, TERN_HOOK_ETH_OUTPUT, "cap", tern_capture_hook, cap), 0);
	resolve_statically();
	Rx ra;
	tern_udp_pcb *pa = open(A, 0, &ra);
	ASSERT_NE(pa, nullptr);
	ASSERT_EQ(send(A, pa, kIpB, 7000, pattern(100)), 0);
	pump();
	ASSERT_EQ(tern_hook_del(h, TERN_HOOK_ETH_OUTPUT, "cap"), 0);
	tern_capture_close(cap);
	cap = nullptr;
	std::ifstream f(path, std::ios::binary);
	Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	std::vector<Bytes> pkts = epb_packets(b);
	ASSERT_EQ(pkts.size(), 1u);
	ASSERT_EQ(pkts[0].size(), 40u);
	EXPECT_EQ(inet_cksum(&pkts[0][14], 20), 0);
}
