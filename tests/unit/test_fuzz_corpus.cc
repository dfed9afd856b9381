// Replays the fuzz seed corpora through the fuzz harnesses: single frames
// (tests/fuzz/corpus, fuzz_frame.h) and whole TCP conversations
// (tests/fuzz/tcp_corpus, fuzz_tcp.h), plus deterministic random inputs:
// each leaves the pool full, passes the harness's checks and crashes
// nothing.
#include "harness.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <tern/tcp.h>

#include "fuzz_frame.h"
#include "fuzz_tcp.h"

using namespace tt;

TEST(FuzzCorpus, SeedsReplay)
{
	DIR *d = opendir(TERN_FUZZ_CORPUS);
	ASSERT_NE(d, nullptr) << TERN_FUZZ_CORPUS;
	int n = 0;
	while (dirent *e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		std::string path = std::string(TERN_FUZZ_CORPUS) + "/" + e->d_name;
		std::ifstream f(path, std::ios::binary);
		Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
		EXPECT_EQ(tern_fuzz_frame(b.data(), b.size()), 0) << e->d_name;
		n++;
	}
	closedir(d);
	EXPECT_GE(n, 30) << "the seed corpus is there";
}

TEST(FuzzCorpus, RandomInputs)
{
	std::mt19937 rng(1234);
	for (int i = 0; i < 3000; i++) {
		Bytes b(2 + rng() % 200);
		for (auto &x : b)
			x = (uint8_t)rng();
		ASSERT_EQ(tern_fuzz_frame(b.data(), b.size()), 0) << "input " << i;
	}
}

namespace {

// The files of a corpus directory, sorted (a replay in a fixed order).
std::vector<std::string> corpus_files(const char *dir)
{
	std::vector<std::string> out;
	DIR *d = opendir(dir);
	if (d == nullptr)
		return out;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.')
			out.push_back(e->d_name);
	closedir(d);
	std::sort(out.begin(), out.end());
	return out;
}

}  // namespace

// Each seed is a TCP conversation (fuzz_tcp.h): it must pass every check
// of the harness (frames well formed, data in order and intact, the API's
// callbacks as documented, every connection gone at the end) and return
// every mbuf; together the seeds must still drive connections through
// every state and move data both ways, so a change in TCP that stops a
// handshake or a close shows here, not only as lost fuzzer coverage.
TEST(FuzzTcpCorpus, SeedsReplay)
{
	std::vector<std::string> files = corpus_files(TERN_FUZZ_TCP_CORPUS);
	ASSERT_GE(files.size(), 40u) << TERN_FUZZ_TCP_CORPUS;
	tern_fuzz_tcp_stats_get(nullptr, 1);
	for (const std::string &name : files) {
		std::ifstream f(std::string(TERN_FUZZ_TCP_CORPUS) + "/" + name,
				std::ios::binary);
		Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
		ASSERT_FALSE(b.empty()) << name;
		EXPECT_EQ(tern_fuzz_tcp_one(b.data(), b.size()), 0) << name;
	}
	struct tern_fuzz_tcp_stats st;
	tern_fuzz_tcp_stats_get(&st, 1);
	EXPECT_EQ(st.runs, files.size());
	for (int state = TERN_TCP_SYN_SENT; state < TERN_TCP_NSTATES; state++)
		EXPECT_TRUE(st.states_seen & (1u << state))
			<< "no seed reaches "
			<< tern_tcp_state_name((enum tern_tcp_state)state);
	EXPECT_GT(st.segs_in, 200u);
	EXPECT_GT(st.segs_out, 200u);
	EXPECT_GT(st.bytes_delivered, 10000u);	// checked against the pattern
	EXPECT_GT(st.bytes_acked, 10000u);
	EXPECT_GT(st.closed_err[0], 0u);	// closes that finished
	EXPECT_GT(st.closed_err[1], 0u);	// resets
	EXPECT_GT(st.closed_err[2], 0u);	// timeouts
	EXPECT_GT(st.closed_err[3], 0u);	// refused
	EXPECT_GT(st.closed_err[4], 0u);	// an ICMP error ended an attempt
}

// Random programs: most ops miss (no connection yet, bytes out of
// window), but they cross every op with every other and end the same way.
TEST(FuzzTcpCorpus, RandomPrograms)
{
	std::mt19937 rng(4321);
	for (int i = 0; i < 300; i++) {
		Bytes b(1 + rng() % 300);
		for (auto &x : b)
			x = (uint8_t)rng();
		ASSERT_EQ(tern_fuzz_tcp_one(b.data(), b.size()), 0) << "input " << i;
	}
}
