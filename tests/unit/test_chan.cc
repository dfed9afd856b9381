// lockfree/ channels: post and drain, call answered from another thread,
// many producers (more threads than CPUs, posting and calling at once on
// a small ring), full ring, and the timeout path (the late message must
// still run safely and its completion go back to the channel's pool: this
// test is meant to run under ASan as well). The only tests that sleep:
// real threads, real time.
#include "harness.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <tern/chan.h>

using namespace tt;

namespace {

std::string chan_name()
{
	static int n;
	return "tu_chan_" + std::to_string(n++);
}

struct Ctx {
	std::atomic<int> runs{0};
	std::atomic<long> sum{0};
};

int add_fn(void *lcore_ctx, tern_msg *msg)
{
	Ctx *c = static_cast<Ctx *>(lcore_ctx);
	int v;
	memcpy(&v, msg->data, sizeof(v));
	c->runs++;
	c->sum += v;
	return v * 2;
}

int arg_fn(void *lcore_ctx, tern_msg *msg)
{
	Ctx *c = static_cast<Ctx *>(lcore_ctx);
	c->runs++;
	return (int)(intptr_t)msg->arg + 1;
}

tern_msg msg_with(int v)
{
	tern_msg m;
	memset(&m, 0, sizeof(m));
	m.fn = add_fn;
	memcpy(m.data, &v, sizeof(v));
	return m;
}

}  // namespace

TEST(Chan, PostAndDrain)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 64, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	Ctx ctx;
	EXPECT_EQ(tern_chan_drain(c, &ctx, 32), 0u);
	for (int i = 1; i <= 10; i++) {
		tern_msg m = msg_with(i);
		ASSERT_EQ(tern_chan_post(c, &m), 0);
	}
	EXPECT_EQ(tern_chan_drain(c, &ctx, 4), 4u) << "at most max";
	EXPECT_EQ(tern_chan_drain(c, &ctx, 32), 6u);
	EXPECT_EQ(ctx.runs, 10);
	EXPECT_EQ(ctx.sum, 55);
	tern_chan_free(c);
}

TEST(Chan, FullRingRefusesPost)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 4, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	tern_msg m = msg_with(1);
	int ok = 0, rc = 0;
	for (int i = 0; i < 100 && (rc = tern_chan_post(c, &m)) == 0; i++)
		ok++;
	EXPECT_EQ(rc, -ENOBUFS);
	EXPECT_GE(ok, 3);
	EXPECT_LE(ok, 4);
	// A call on a full ring fails at once rather than waiting.
	EXPECT_EQ(tern_chan_call(c, arg_fn, nullptr, 1000), -ENOBUFS);
	Ctx ctx;
	EXPECT_EQ(tern_chan_drain(c, &ctx, 100), (unsigned)ok);
	tern_chan_free(c);	// empty now
}

TEST(Chan, FreeWithPendingMessages)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 16, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	tern_msg m = msg_with(5);
	ASSERT_EQ(tern_chan_post(c, &m), 0);
	ASSERT_EQ(tern_chan_post(c, &m), 0);
	tern_chan_free(c);	// runs nothing, leaks nothing (ASan)
}

TEST(Chan, CallAnsweredByDrainingThread)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 64, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	Ctx ctx;
	std::atomic<bool> stop{false};
	std::thread lcore([&] {
		while (!stop)
			if (tern_chan_drain(c, &ctx, 32) == 0)
				std::this_thread::yield();
	});
	for (int i = 0; i < 200; i++)
		ASSERT_EQ(tern_chan_call(c, arg_fn, (void *)(intptr_t)i, 5000), i + 1);
	// Posts mixed in are run too, in order with the calls.
	tern_msg m = msg_with(21);
	ASSERT_EQ(tern_chan_post(c, &m), 0);
	EXPECT_EQ(tern_chan_call(c, arg_fn, (void *)(intptr_t)41, 5000), 42);
	stop = true;
	lcore.join();
	EXPECT_EQ(ctx.runs, 202);
	EXPECT_EQ(ctx.sum, 21);
	tern_chan_free(c);
}

TEST(Chan, ManyProducers)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 256, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	Ctx ctx;
	const int per = 2000, nthreads = 3;
	std::atomic<int> posted{0};
	std::vector<std::thread> th;
	for (int t = 0; t < nthreads; t++)
		th.emplace_back([&] {
			tern_msg m = msg_with(1);
			for (int i = 0; i < per; i++) {
				while (tern_chan_post(c, &m) == -ENOBUFS)
					std::this_thread::yield();
				posted++;
			}
		});
	while (ctx.runs < per * nthreads)
		if (tern_chan_drain(c, &ctx, 64) == 0)
			std::this_thread::yield();
	for (auto &t : th)
		t.join();
	EXPECT_EQ(posted, per * nthreads);
	EXPECT_EQ(ctx.sum, per * nthreads);
	EXPECT_EQ(tern_chan_drain(c, &ctx, 64), 0u);
	tern_chan_free(c);
}

TEST(Chan, TimeoutThenLateDrain)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 16, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	Ctx ctx;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(tern_chan_call(c, arg_fn, (void *)(intptr_t)7, 50), -ETIMEDOUT);
	auto waited = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(waited, std::chrono::milliseconds(45));
	EXPECT_LT(waited, std::chrono::seconds(5));
	// The lcore comes back: the abandoned call runs and completes into
	// nothing (no use of freed memory, ASan watches).
	EXPECT_EQ(tern_chan_calls_in_flight(c), 1u) << "the lcore's reference";
	EXPECT_EQ(tern_chan_drain(c, &ctx, 16), 1u);
	EXPECT_EQ(ctx.runs, 1);
	EXPECT_EQ(tern_chan_calls_in_flight(c), 0u)
		<< "the lcore returned the completion to the pool";
	// The channel still works afterwards.
	std::atomic<bool> stop{false};
	std::thread lcore([&] {
		while (!stop)
			if (tern_chan_drain(c, &ctx, 8) == 0)
				std::this_thread::yield();
	});
	EXPECT_EQ(tern_chan_call(c, arg_fn, (void *)(intptr_t)9, 5000), 10);
	stop = true;
	lcore.join();
	EXPECT_EQ(tern_chan_calls_in_flight(c), 0u);
	tern_chan_free(c);
}

TEST(Chan, TimeoutThenFree)
{
	// Timed out and never drained: freeing the channel drops it cleanly.
	tern_chan *c = tern_chan_create(chan_name().c_str(), 16, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(tern_chan_call(c, arg_fn, nullptr, 10), -ETIMEDOUT);
	EXPECT_EQ(tern_chan_calls_in_flight(c), 1u);
	tern_chan_free(c);
}

// Many producers at once, more threads than this machine has CPUs, so
// producers get descheduled in the middle of an enqueue: callers and
// posters share an 8-slot ring (RTS enqueue) with one draining thread.
// Every call gets its own answer, every post runs once, and every
// completion is back in the pool afterwards.
TEST(Chan, ManyCallersAndPostersOnASmallRing)
{
	tern_chan *c = tern_chan_create(chan_name().c_str(), 8, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	Ctx ctx;
	std::atomic<bool> stop{false};
	std::thread lcore([&] {
		while (!stop)
			if (tern_chan_drain(c, &ctx, 4) == 0)
				std::this_thread::yield();
	});
	const int ncallers = 4, nposters = 4, calls = 300, posts = 500;
	std::atomic<int> wrong{0}, answered{0};
	std::vector<std::thread> th;
	for (int t = 0; t < ncallers; t++)
		th.emplace_back([&, t] {
			for (int i = 0; i < calls; i++) {
				intptr_t v = t * 100000 + i;
				int rc;
				while ((rc = tern_chan_call(c, arg_fn, (void *)v,
							    5000)) == -ENOBUFS)
					std::this_thread::yield();
				if (rc != (int)v + 1)
					wrong++;
				else
					answered++;
			}
		});
	for (int t = 0; t < nposters; t++)
		th.emplace_back([&] {
			tern_msg m = msg_with(1);
			for (int i = 0; i < posts; i++)
				while (tern_chan_post(c, &m) == -ENOBUFS)
					std::this_thread::yield();
		});
	for (auto &t : th)
		t.join();
	// Posts may still sit in the ring: wait for the drainer to run them.
	while (ctx.runs < ncallers * calls + nposters * posts)
		std::this_thread::yield();
	stop = true;
	lcore.join();
	EXPECT_EQ(wrong, 0);
	EXPECT_EQ(answered, ncallers * calls);
	EXPECT_EQ(ctx.runs, ncallers * calls + nposters * posts);
	EXPECT_EQ(ctx.sum, nposters * posts);
	EXPECT_EQ(tern_chan_calls_in_flight(c), 0u);
	EXPECT_EQ(tern_chan_drain(c, &ctx, 64), 0u);
	tern_chan_free(c);
}

TEST(Chan, CreateBadArgs)
{
	EXPECT_EQ(tern_chan_create(nullptr, 16, SOCKET_ID_ANY), nullptr);
	std::string n = chan_name();
	tern_chan *c = tern_chan_create(n.c_str(), 16, SOCKET_ID_ANY);
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(tern_chan_create(n.c_str(), 16, SOCKET_ID_ANY), nullptr)
		<< "ring names are unique";
	tern_chan_free(c);
}
