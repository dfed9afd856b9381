/* pcapng capture as a hook user. Lcores copy (rte_pcapng_copy) onto a
 * multi-producer ring; the control thread writes the file. The copy pool
 * and the ring are sized so a burst of traffic is absorbed; beyond that
 * packets are counted as missed rather than stalling the data path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>
#include <rte_version.h>

#include <tern/capture.h>
#include <tern/offload.h>

#define CAP_RING_SIZE 4096
#define CAP_POOL_SIZE (CAP_RING_SIZE * 2 - 1)
#define CAP_DRAIN_BURST 64

struct tern_capture {
	rte_pcapng_t *pcapng;
	struct rte_ring *ring;
	struct rte_mempool *pool;
	uint16_t port;
	uint32_t snaplen;
	uint64_t captured;	/* atomics: several lcores update them */
	uint64_t missed;
	uint64_t written;	/* control thread only */
	uint64_t base_ns;	/* wall clock (CLOCK_REALTIME) at open ... */
	uint64_t base_tsc;	/* ... and the TSC then */
	uint64_t tsc_hz;
};

/* pcapng Enhanced Packet Block header, which rte_pcapng_copy() puts at
 * the start of each copy, the packet data right after it (pcapng spec,
 * section 4.3). */
struct epb_head {
	uint32_t block_type;
	uint32_t block_length;
	uint32_t interface_id;
	uint32_t timestamp_hi;
	uint32_t timestamp_lo;
	uint32_t capture_length;
	uint32_t original_length;
};

/* 22.11's rte_pcapng converts TSC to ns as delta * 1e9 / hz, which wraps
 * 64 bits once the process is ~7 s old (captures came out dated 1993), so
 * the hook writes the block's timestamp itself, without overflow. */
static void epb_set_time(const struct tern_capture *c, struct rte_mbuf *copy,
			 uint64_t tsc)
{
	if (copy->data_len < sizeof(struct epb_head))
		return;
	struct epb_head *h = rte_pktmbuf_mtod(copy, struct epb_head *);
	uint64_t d = tsc - c->base_tsc;
	uint64_t ns = c->base_ns + (d / c->tsc_hz) * 1000000000ull +
		      (d % c->tsc_hz) * 1000000000ull / c->tsc_hz;
	h->timestamp_hi = (uint32_t)(ns >> 32);
	h->timestamp_lo = (uint32_t)ns;
}

/* Writes len bytes at off of a possibly chained mbuf (what fits). */
static void mbuf_write(struct rte_mbuf *m, uint32_t off, const void *src,
		       uint32_t len)
{
	const uint8_t *p = src;
	for (struct rte_mbuf *s = m; s != NULL && len > 0; s = s->next) {
		if (off >= s->data_len) {
			off -= s->data_len;
			continue;
		}
		uint32_t n = RTE_MIN(len, (uint32_t)s->data_len - off);
		memcpy(rte_pktmbuf_mtod_offset(s, uint8_t *, off), p, n);
		p += n;
		len -= n;
		off = 0;
	}
}

/* On output the stack has finished every checksum except those the port
 * computes (ETH_OUTPUT runs after tern_ol_tx_finish): the copy gets those
 * as the port will write them, so tcpdump and tshark see the bytes of the
 * wire rather than a pseudo-header sum. */
static void epb_fix_cksums(struct rte_mbuf *copy, const struct rte_mbuf *m)
{
	struct tern_ol_fix fix[2];
	unsigned n = tern_ol_tx_pending(m, fix);
	if (n == 0 || copy->data_len < sizeof(struct epb_head))
		return;
	const struct epb_head *h = rte_pktmbuf_mtod(copy, const struct epb_head *);
	for (unsigned i = 0; i < n; i++)
		if (fix[i].off + sizeof(fix[i].val) <= h->capture_length)
			mbuf_write(copy, sizeof(*h) + fix[i].off, &fix[i].val,
				   sizeof(fix[i].val));	/* else cut by snaplen */
}

struct tern_capture *tern_capture_open(const char *path, uint16_t port,
				       uint32_t snaplen)
{
	static unsigned seq; /* unique ring/pool names; control thread only */
	char name[RTE_RING_NAMESIZE];
	struct tern_capture *c = rte_zmalloc("tern_capture", sizeof(*c), 0);
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->port = port;
	c->snaplen = snaplen ? snaplen : UINT32_MAX;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->base_tsc = rte_get_tsc_cycles();
	c->base_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	c->tsc_hz = rte_get_tsc_hz() ? rte_get_tsc_hz() : 1;

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int err = errno;
		rte_free(c);
		rte_errno = err;
		return NULL;
	}
	c->pcapng = rte_pcapng_fdopen(fd, NULL, NULL, "tern " TERN_VERSION,
				      NULL);
	if (c->pcapng == NULL) {
		int err = rte_errno ? rte_errno : EIO;
		close(fd);
		rte_free(c);
		rte_errno = err;
		return NULL;
	}
	seq++;
	snprintf(name, sizeof(name), "tcap_r%u", seq);
	c->ring = rte_ring_create(name, CAP_RING_SIZE, (int)rte_socket_id(),
				  RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tcap_p%u", seq);
	/* Copies chain when a frame outgrows one buffer, so the buffer size
	 * only needs to fit the common case. */
	uint32_t len = (snaplen != 0 && snaplen < RTE_MBUF_DEFAULT_DATAROOM) ?
		snaplen : RTE_MBUF_DEFAULT_DATAROOM;
	c->pool = rte_pktmbuf_pool_create(name, CAP_POOL_SIZE, 0, 0,
					  (uint16_t)rte_pcapng_mbuf_size(len),
					  (int)rte_socket_id());
	if (c->ring == NULL || c->pool == NULL) {
		int err = rte_errno ? rte_errno : ENOMEM;
		rte_ring_free(c->ring);
		rte_mempool_free(c->pool);
		rte_pcapng_close(c->pcapng);
		rte_free(c);
		rte_errno = err;
		return NULL;
	}
	return c;
}

enum tern_verdict tern_capture_hook(void *arg, struct rte_mbuf *m,
				    const struct tern_hook_ctx *ctx)
{
	struct tern_capture *c = arg;
	if (c->port != UINT16_MAX && c->port != ctx->link)
		return TERN_HOOK_CONTINUE;
	enum rte_pcapng_direction dir = ctx->point == TERN_HOOK_ETH_OUTPUT ?
		RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN;
	uint64_t tsc = rte_get_tsc_cycles();
	struct rte_mbuf *copy = rte_pcapng_copy(ctx->link, ctx->lcore, m,
						c->pool, c->snaplen, tsc, dir);
	if (copy != NULL) {
		epb_set_time(c, copy, tsc);
		if (dir == RTE_PCAPNG_DIRECTION_OUT)
			epb_fix_cksums(copy, m);
	}
	if (copy == NULL || rte_ring_mp_enqueue(c->ring, copy) != 0) {
		rte_pktmbuf_free(copy);
		__atomic_fetch_add(&c->missed, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&c->captured, 1, __ATOMIC_RELAXED);
	}
	return TERN_HOOK_CONTINUE;
}

int tern_capture_drain(struct tern_capture *c)
{
	struct rte_mbuf *pkts[CAP_DRAIN_BURST];
	int total = 0;
	unsigned n;
	while ((n = rte_ring_sc_dequeue_burst(c->ring, (void **)pkts,
					      CAP_DRAIN_BURST, NULL)) > 0) {
		/* Despite its header comment, 22.11's write_packets does not
		 * free the copies (dpdk-dumpcap frees them itself); without
		 * this the copy pool ran dry after 8191 packets. */
		ssize_t w = rte_pcapng_write_packets(c->pcapng, pkts,
						     (uint16_t)n);
		rte_pktmbuf_free_bulk(pkts, n);
		if (w < 0)
			return -EIO;
		c->written += n;
		total += (int)n;
	}
	return total;
}

void tern_capture_stats_get(const struct tern_capture *c,
			    struct tern_capture_stats *out)
{
	out->captured = __atomic_load_n(&c->captured, __ATOMIC_RELAXED);
	out->missed = __atomic_load_n(&c->missed, __ATOMIC_RELAXED);
	out->written = c->written;
}

void tern_capture_close(struct tern_capture *c)
{
	if (c == NULL)
		return;
	if (tern_capture_drain(c) < 0) {
		/* file error: still free what is queued */
		struct rte_mbuf *m;
		while (rte_ring_sc_dequeue(c->ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	rte_pcapng_close(c->pcapng);
	rte_ring_free(c->ring);
	if (rte_mempool_avail_count(c->pool) != c->pool->size)
		RTE_LOG(WARNING, USER1, "capture: copy pool not full at close "
			"(%u of %u): leak\n", rte_mempool_avail_count(c->pool),
			c->pool->size);
	rte_mempool_free(c->pool);
	rte_free(c);
}
