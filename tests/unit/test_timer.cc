// Stack timers on the virtual clock: order, re-arm, cancel, many, next.
#include "harness.h"

#include <algorithm>
#include <random>

using namespace tt;

namespace {

struct Log {
	std::vector<int> order;
	std::vector<uint64_t> at;
};

struct T {
	tern_timer t;
	int id;
	Log *log;
	int rearm = 0;		// re-arm itself this many more times
	uint64_t period = 0;
};

void fire(tern_stack *s, tern_timer *t)
{
	T *x = static_cast<T *>(t->arg);
	x->log->order.push_back(x->id);
	x->log->at.push_back(tern_stack_now(s));
	EXPECT_FALSE(tern_timer_pending(t)) << "a running timer is disarmed";
	if (x->rearm > 0) {
		x->rearm--;
		EXPECT_EQ(tern_timer_arm(s, t, tern_stack_now(s) + x->period), 0);
	}
}

class Timers : public TwoStacks {
protected:
	uint64_t now() { return tern_stack_now(A); }
	void make(T &x, int id, Log *log)
	{
		x.id = id;
		x.log = log;
		tern_timer_init(&x.t, fire, &x);
	}
};

}  // namespace

TEST_F(Timers, InitIsNotPending)
{
	Log log;
	T x;
	make(x, 1, &log);
	EXPECT_FALSE(tern_timer_pending(&x.t));
	EXPECT_EQ(x.t.arg, &x);
	// Cancelling an idle timer is harmless.
	tern_timer_cancel(A, &x.t);
	EXPECT_FALSE(tern_timer_pending(&x.t));
}

TEST_F(Timers, RunInExpiryOrder)
{
	Log log;
	T x[3];
	uint64_t t0 = now();
	uint64_t when[3] = {30, 10, 20};
	for (int i = 0; i < 3; i++) {
		make(x[i], i, &log);
		ASSERT_EQ(tern_timer_arm(A, &x[i].t, t0 + when[i] * TERN_NS_PER_MS), 0);
		EXPECT_TRUE(tern_timer_pending(&x[i].t));
	}
	tern_clock_advance(&clk, 9 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	EXPECT_TRUE(log.order.empty()) << "nothing is due before 10 ms";
	tern_clock_advance(&clk, 1 * TERN_NS_PER_MS);
	EXPECT_GE(tern_stack_run_timers(A), 1u);
	ASSERT_EQ(log.order, std::vector<int>({1}));
	tern_clock_advance(&clk, 100 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	EXPECT_EQ(log.order, std::vector<int>({1, 2, 0}));
	for (auto &t : x)
		EXPECT_FALSE(tern_timer_pending(&t.t));
	// Timers belong to their stack: B ran none of them.
	EXPECT_EQ(log.order.size(), 3u);
}

TEST_F(Timers, RearmMovesExpiry)
{
	Log log;
	T x;
	make(x, 7, &log);
	uint64_t t0 = now();
	ASSERT_EQ(tern_timer_arm(A, &x.t, t0 + 5 * TERN_NS_PER_MS), 0);
	ASSERT_EQ(tern_timer_arm(A, &x.t, t0 + 50 * TERN_NS_PER_MS), 0);
	EXPECT_EQ(x.t.expires_ns, t0 + 50 * TERN_NS_PER_MS);
	tern_clock_advance(&clk, 10 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	EXPECT_TRUE(log.order.empty()) << "re-armed later: old expiry forgotten";
	tern_clock_advance(&clk, 40 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	ASSERT_EQ(log.order.size(), 1u) << "re-arming never duplicates";
	// Earlier re-arm works as well.
	ASSERT_EQ(tern_timer_arm(A, &x.t, now() + 100 * TERN_NS_PER_MS), 0);
	ASSERT_EQ(tern_timer_arm(A, &x.t, now() + 1 * TERN_NS_PER_MS), 0);
	tern_clock_advance(&clk, 1 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	EXPECT_EQ(log.order.size(), 2u);
	tern_clock_advance(&clk, 200 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	EXPECT_EQ(log.order.size(), 2u);
}

TEST_F(Timers, PeriodicRearmFromCallback)
{
	Log log;
	T x;
	make(x, 1, &log);
	x.rearm = 4;
	x.period = 10 * TERN_NS_PER_MS;
	uint64_t t0 = now();
	ASSERT_EQ(tern_timer_arm(A, &x.t, t0 + x.period), 0);
	for (int i = 0; i < 100; i++) {
		tern_clock_advance(&clk, TERN_NS_PER_MS);
		tern_stack_run_timers(A);
	}
	ASSERT_EQ(log.at.size(), 5u);
	for (size_t i = 0; i < log.at.size(); i++)
		EXPECT_EQ(log.at[i], t0 + (i + 1) * x.period);
	EXPECT_FALSE(tern_timer_pending(&x.t));
}

TEST_F(Timers, CancelPreventsRun)
{
	Log log;
	T x[3];
	for (int i = 0; i < 3; i++) {
		make(x[i], i, &log);
		ASSERT_EQ(tern_timer_arm(A, &x[i].t, now() + (i + 1) * TERN_NS_PER_MS), 0);
	}
	tern_timer_cancel(A, &x[1].t);
	EXPECT_FALSE(tern_timer_pending(&x[1].t));
	EXPECT_TRUE(tern_timer_pending(&x[0].t));
	tern_clock_advance(&clk, 10 * TERN_NS_PER_MS);
	tern_stack_run_timers(A);
	EXPECT_EQ(log.order, std::vector<int>({0, 2}));
}

TEST_F(Timers, ManyTimersRunSorted)
{
	const int n = 500;
	Log log;
	std::vector<T> x(n);
	std::mt19937 rng(42);
	uint64_t t0 = now();
	std::vector<uint64_t> exp(n);
	for (int i = 0; i < n; i++) {
		make(x[i], i, &log);
		exp[i] = t0 + 1 + rng() % (1000 * TERN_NS_PER_MS);
		ASSERT_EQ(tern_timer_arm(A, &x[i].t, exp[i]), 0) << i;
	}
	// Cancel every fifth one, from the middle of the heap.
	for (int i = 0; i < n; i += 5)
		tern_timer_cancel(A, &x[i].t);
	for (int k = 0; k < 1000; k++) {
		tern_clock_advance(&clk, TERN_NS_PER_MS);
		tern_stack_run_timers(A);
	}
	ASSERT_EQ(log.order.size(), (size_t)(n - n / 5));
	for (size_t i = 1; i < log.order.size(); i++)
		EXPECT_LE(exp[log.order[i - 1]], exp[log.order[i]]) << i;
	for (int id : log.order)
		EXPECT_NE(id % 5, 0) << "cancelled timer " << id << " ran";
	for (size_t i = 0; i < log.order.size(); i++)
		EXPECT_GE(log.at[i], exp[log.order[i]]) << "ran before due";
}

TEST_F(Timers, NextTimer)
{
	Log log;
	T x, y;
	make(x, 1, &log);
	make(y, 2, &log);
	uint64_t t0 = now();
	ASSERT_EQ(tern_timer_arm(A, &x.t, t0 + 1), 0);
	EXPECT_EQ(tern_stack_next_timer(A), t0 + 1);
	ASSERT_EQ(tern_timer_arm(A, &y.t, t0 + 2), 0);
	EXPECT_EQ(tern_stack_next_timer(A), t0 + 1);
	tern_timer_cancel(A, &x.t);
	EXPECT_EQ(tern_stack_next_timer(A), t0 + 2);
	tern_clock_advance(&clk, 2);
	tern_stack_run_timers(A);
	EXPECT_EQ(log.order, std::vector<int>({2}));
	EXPECT_GT(tern_stack_next_timer(A), t0 + 2);
}

TEST_F(Timers, NextTimerEmptyStackIsMax)
{
	// A fresh stack with no neighbours has nothing pending of its own or
	// keeps its housekeeping in the future.
	EXPECT_GT(tern_stack_next_timer(A), now());
}

namespace {

struct Canceller {
	tern_timer t;
	tern_timer *victim;
	int runs = 0;
};

void cancel_other(tern_stack *s, tern_timer *t)
{
	Canceller *c = static_cast<Canceller *>(t->arg);
	c->runs++;
	tern_timer_cancel(s, c->victim);
}

}  // namespace

TEST_F(Timers, CancelFromCallbackOfTimerDueTogether)
{
	// Both due in the same run: the first cancels the second, which must
	// then not run (its owner may be freeing it).
	Log log;
	T victim;
	make(victim, 2, &log);
	Canceller c;
	c.victim = &victim.t;
	tern_timer_init(&c.t, cancel_other, &c);
	uint64_t t0 = now();
	ASSERT_EQ(tern_timer_arm(A, &c.t, t0 + 5), 0);
	ASSERT_EQ(tern_timer_arm(A, &victim.t, t0 + 6), 0);
	tern_clock_advance(&clk, 100);
	tern_stack_run_timers(A);
	EXPECT_EQ(c.runs, 1);
	EXPECT_TRUE(log.order.empty());
	EXPECT_FALSE(tern_timer_pending(&victim.t));
}

TEST_F(Timers, ArmInThePastRunsNextTime)
{
	Log log;
	T x;
	make(x, 1, &log);
	tern_clock_advance(&clk, TERN_NS_PER_S);
	ASSERT_EQ(tern_timer_arm(A, &x.t, now() - TERN_NS_PER_MS), 0);
	tern_stack_run_timers(A);
	EXPECT_EQ(log.order.size(), 1u);
}
