/* Cross-lcore message channels: an MPSC rte_ring of fixed-size messages.
 *
 * Producers enqueue in RTS mode (relaxed tail sync, RING_F_MP_RTS_ENQ).
 * In the default MP mode each producer, after copying its element, spins
 * until every producer that reserved slots before it has published its
 * tail: a producer descheduled between reserve and publish (the control
 * thread, a Python-driven test, anything sharing a CPU) stalls every
 * other producer, workers posting neighbours included. RTS lets the last
 * producer in flight move the tail for all of them, so nobody spins on
 * another thread's progress; a descheduled producer only delays when the
 * consumer sees the elements behind its own. HTS would serialise
 * producers completely (the next one waits for the previous one to
 * finish), which is the stall we want to avoid; it exists for the peek
 * API, which we do not use. The single consumer (the owning lcore) keeps
 * the SC mode.
 *
 * A call's completion comes from the channel's own mempool with a
 * reference count of two (the caller and the lcore): when the caller
 * gives up after its timeout, the lcore may still run the message later
 * and complete it, so whichever side lets go last returns the completion
 * to the mempool. Neither side ever touches memory the other may already
 * have returned, and the lcore never calls libc free(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <tern/chan.h>

_Static_assert(sizeof(struct tern_msg) == 64,
	       "tern_msg is one cache line; ring element size depends on it");
_Static_assert(sizeof(struct tern_msg) % 4 == 0,
	       "rte_ring element size must be a multiple of 4");

struct tern_completion {
	atomic_uint refs;	/* 2 at creation: caller + lcore */
	atomic_bool done;	/* release-stored after result */
	int result;
	struct rte_mempool *mp;	/* where it goes back */
};

struct tern_chan {
	struct rte_ring *ring;
	struct rte_mempool *done_pool;	/* completions of calls */
};

/* Completions in flight: one per call being waited for (callers are few:
 * the control thread, tests) plus one per abandoned call whose message
 * is still in the ring, which the ring's size bounds. Calls past that
 * fail with -ENOBUFS like a full ring. */
#define CHAN_DONE_EXTRA 64

/* Messages dequeued per ring access while draining. */
#define CHAN_DRAIN_CHUNK 16

static void completion_put(struct tern_completion *d)
{
	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
		rte_mempool_put(d->mp, d);
}

/* The completion pool: "ring_mt_rts" for the same reason as the channel
 * (the control thread takes and returns, lcores return: none may spin on
 * a descheduled one), no per-lcore cache (callers are mostly non-EAL
 * threads, which have none, and a cache would hide completions from the
 * leak check in tern_chan_free). */
static struct rte_mempool *done_pool_create(const struct tern_chan *c,
					    unsigned n, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	/* Unique while the channel lives, and short enough for
	 * RTE_MEMPOOL_NAMESIZE whatever the channel's name is. */
	snprintf(name, sizeof(name), "tcd_%" PRIxPTR, (uintptr_t)c);
	struct rte_mempool *mp = rte_mempool_create_empty(
		name, n, sizeof(struct tern_completion), 0, 0, socket,
		RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	int rc = rte_mempool_set_ops_byname(mp, "ring_mt_rts", NULL);
	if (rc == 0)
		rc = rte_mempool_populate_default(mp);
	if (rc < 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return NULL;
	}
	return mp;
}

static void completion_finish(struct tern_completion *d, int result)
{
	d->result = result;
	atomic_store_explicit(&d->done, true, memory_order_release);
	completion_put(d);
}

struct tern_chan *tern_chan_create(const char *name, unsigned size, int socket)
{
	if (name == NULL || size == 0 || size > RTE_RING_SZ_MASK) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_chan *c = rte_zmalloc_socket("tern_chan", sizeof(*c),
						 RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/* Any thread posts (MP, RTS: see the top), only the owning lcore
	 * drains (SC). */
	unsigned slots = rte_align32pow2(size);
	c->ring = rte_ring_create_elem(name, sizeof(struct tern_msg), slots,
				       socket,
				       RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
	if (c->ring != NULL)
		c->done_pool = done_pool_create(c, slots + CHAN_DONE_EXTRA,
						socket);
	if (c->ring == NULL || c->done_pool == NULL) {
		int err = rte_errno;
		rte_ring_free(c->ring);
		rte_free(c);
		rte_errno = err;
		return NULL;
	}
	return c;
}

void tern_chan_free(struct tern_chan *c)
{
	if (c == NULL)
		return;
	/* Nothing runs, but a waiting caller must not wait for a message
	 * that is gone, and the lcore's reference must be dropped. */
	struct tern_msg m;
	while (rte_ring_dequeue_elem(c->ring, &m, sizeof(m)) == 0) {
		if (m.done != NULL)
			completion_finish(m.done, -ECANCELED);
	}
	rte_ring_free(c->ring);
	/* Every completion is back now unless a caller is still waiting,
	 * which the contract rules out (calls and free on one thread). */
	rte_mempool_free(c->done_pool);
	rte_free(c);
}

int tern_chan_post(struct tern_chan *c, const struct tern_msg *msg)
{
	/* rte_ring_enqueue_elem() takes a non-const pointer. */
	struct tern_msg m = *msg;
	if (rte_ring_enqueue_elem(c->ring, &m, sizeof(m)) != 0)
		return -ENOBUFS;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int tern_chan_call(struct tern_chan *c, tern_msg_fn fn, void *arg,
		   unsigned timeout_ms)
{
	return tern_chan_call_data(c, fn, arg, NULL, 0, timeout_ms);
}

int tern_chan_call_data(struct tern_chan *c, tern_msg_fn fn, void *arg,
			const void *data, size_t len, unsigned timeout_ms)
{
	if (len > TERN_MSG_DATA)
		return -EINVAL;
	struct tern_completion *d;
	if (rte_mempool_get(c->done_pool, (void **)&d) != 0)
		return -ENOBUFS;
	atomic_init(&d->refs, 2);
	atomic_init(&d->done, false);
	d->result = 0;
	d->mp = c->done_pool;

	struct tern_msg m;
	memset(&m, 0, sizeof(m));
	m.fn = fn;
	m.arg = arg;
	m.done = d;
	if (len > 0)
		memcpy(m.data, data, len);
	if (rte_ring_enqueue_elem(c->ring, &m, sizeof(m)) != 0) {
		rte_mempool_put(c->done_pool, d);
		return -ENOBUFS;
	}

	/* The lcore answers within one loop iteration when it is busy
	 * polling; start with short sleeps and back off so an idle-sleeping
	 * worker does not make the control thread spin. */
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned sleep_us = 20;
	for (;;) {
		if (atomic_load_explicit(&d->done, memory_order_acquire)) {
			int rc = d->result;
			completion_put(d);
			return rc;
		}
		if (mono_ns() >= deadline)
			break;
		usleep(sleep_us);
		if (sleep_us < 200)
			sleep_us *= 2;
	}
	/* The lcore still holds its reference and returns d if it runs
	 * the message later. */
	completion_put(d);
	return -ETIMEDOUT;
}

unsigned tern_chan_calls_in_flight(const struct tern_chan *c)
{
	return rte_mempool_in_use_count(c->done_pool);
}

unsigned tern_chan_drain(struct tern_chan *c, void *lcore_ctx, unsigned max)
{
	struct tern_msg msgs[CHAN_DRAIN_CHUNK];
	unsigned done = 0;

	while (done < max) {
		unsigned want = RTE_MIN(max - done, (unsigned)CHAN_DRAIN_CHUNK);
		unsigned n = rte_ring_dequeue_burst_elem(c->ring, msgs,
							 sizeof(msgs[0]), want,
							 NULL);
		for (unsigned i = 0; i < n; i++) {
			struct tern_msg *m = &msgs[i];
			int rc = m->fn != NULL ? m->fn(lcore_ctx, m) : -EINVAL;
			if (m->done != NULL)
				completion_finish(m->done, rc);
		}
		done += n;
		if (n < want)
			break;
	}
	return done;
}
