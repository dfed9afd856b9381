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
