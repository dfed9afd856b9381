// Replays the fuzz seed corpus (tests/fuzz/corpus) through the fuzz
// harness, plus a few thousand deterministic random inputs: each leaves
// the pool full and nothing crashes.
#include "harness.h"

#include <dirent.h>

#include <fstream>
#include <iterator>
#include <random>

#include "fuzz_frame.h"

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
