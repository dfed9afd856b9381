// The stack's 64-bit hash map (core/hmap.h): a long random run of puts,
// sets and deletes checked against std::unordered_map, so backward-shift
// deletion never loses or resurrects a key, sequential keys included.
#include "harness.h"

#include <random>
#include <unordered_map>

extern "C" {
#include "../../core/hmap.h"
}

using namespace tt;

namespace {

class Hmap : public ::testing::Test {
protected:
	void SetUp() override
	{
		tern_clock_init_virtual(&clk, 0);
		pool = make_pool(64);
		tern_stack_conf sc;
		memset(&sc, 0, sizeof(sc));
		sc.pool = pool;
		sc.clock = &clk;
		s = tern_stack_create(&sc);
		ASSERT_NE(s, nullptr);
	}
	void TearDown() override
	{
		tern_stack_destroy(s);
		rte_mempool_free(pool);
	}
	tern_clock clk;
	rte_mempool *pool = nullptr;
	tern_stack *s = nullptr;
};

}  // namespace

TEST_F(Hmap, MatchesAReferenceUnderChurn)
{
	hmap h;
	ASSERT_EQ(hmap_init(&h, s, "test_hmap", 1000), 0);
	EXPECT_GE(h.cap, 1000u);
	std::unordered_map<uint64_t, uint32_t> ref;
	std::mt19937_64 rng(1234);
	for (int step = 0; step < 300000; step++) {
		// half sequential keys (addresses), half random: both patterns
		uint64_t key = (rng() & 1) ? 0x0a000000u + rng() % 3000 : rng() % 5000;
		uint32_t val = (uint32_t)rng();
		int op = (int)(rng() % 3);
		if (op == 0) {
			int rc = hmap_put(&h, key, val);
			if (ref.count(key))
				ASSERT_EQ(rc, -EEXIST);
			else if (ref.size() >= h.cap)
				ASSERT_EQ(rc, -ENOSPC);
			else {
				ASSERT_EQ(rc, 0);
				ref[key] = val;
			}
		} else if (op == 1) {
			int rc = hmap_del(&h, key);
			ASSERT_EQ(rc, ref.erase(key) ? 0 : -ENOENT);
		} else {
			uint32_t v = 0;
			int rc = hmap_get(&h, key, &v);
			auto it = ref.find(key);
			if (it == ref.end()) {
				ASSERT_EQ(rc, -ENOENT);
			} else {
				ASSERT_EQ(rc, 0);
				ASSERT_EQ(v, it->second);
			}
		}
		ASSERT_EQ(h.n, ref.size());
	}
	for (const auto &kv : ref) {
		uint32_t v;
		ASSERT_EQ(hmap_get(&h, kv.first, &v), 0);
		EXPECT_EQ(v, kv.second);
	}
	ASSERT_EQ(hmap_set(&h, 42, 7), ref.count(42) || ref.size() < h.cap ? 0 : -ENOSPC);
	hmap_fini(&h);
}

TEST_F(Hmap, FullRefusesAndDeleteMakesRoom)
{
	hmap h;
	ASSERT_EQ(hmap_init(&h, s, "test_hmap", 16), 0);
	for (uint32_t i = 0; i < h.cap; i++)
		ASSERT_EQ(hmap_put(&h, 100 + i, i), 0);
	EXPECT_EQ(hmap_put(&h, 99, 1), -ENOSPC);
	EXPECT_EQ(hmap_del(&h, 100), 0);
	EXPECT_EQ(hmap_put(&h, 99, 1), 0);
	uint32_t v;
	EXPECT_EQ(hmap_get(&h, 100, &v), -ENOENT);
	EXPECT_EQ(hmap_get(&h, 99, &v), 0);
	EXPECT_EQ(v, 1u);
	hmap_fini(&h);
}
