/* Cross-lcore message channels: an MPSC rte_ring of fixed-size messages.
 *
 * A call's completion lives on the heap with a reference count of two
 * (the caller and the lcore): when the caller gives up after its timeout,
 * the lcore may still run the message later and complete it, so whichever
 * side lets go last frees the completion. Neither side ever touches memory
 * the other may already have freed. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
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
};

struct tern_chan {
	struct rte_ring *ring;
};

/* Messages dequeued per ring access while draining. */
#define CHAN_DRAIN_CHUNK 16

static void completion_put(struct tern_completion *d)
{
	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
		free(d);
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
	/* Any thread posts (MP), only the owning lcore drains (SC). */
	c->ring = rte_ring_create_elem(name, sizeof(struct tern_msg),
				       rte_align32pow2(size), socket,
				       RING_F_SC_DEQ);
	if (c->ring == NULL) {
		int err = rte_errno;
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
	struct tern_completion *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	atomic_init(&d->refs, 2);
	atomic_init(&d->done, false);

	struct tern_msg m;
	memset(&m, 0, sizeof(m));
	m.fn = fn;
	m.arg = arg;
	m.done = d;
	if (rte_ring_enqueue_elem(c->ring, &m, sizeof(m)) != 0) {
		free(d);
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
	/* The lcore still holds its reference and frees d if it runs the
	 * message later. */
	completion_put(d);
	return -ETIMEDOUT;
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
