/* One port's TX buffer on one worker: the interfaces' tx_ctx, the queue
 * between the stack's transmit calls and rte_eth_tx_burst.
 *
 * Backpressure. When the port refuses part of a burst (its descriptor
 * ring is full), the buffer keeps the refused packets, in order, at its
 * head and offers them first at the next flush. Only when it holds
 * DP_TXBUF_CAP packets does it refuse new ones: the transmit function then
 * returns fewer than it was given, the stack frees the rest and counts
 * eth_drop_tx_full (tern_iface_tx_fn), and a protocol that keeps what it
 * sent (TCP) sees that the packet did not leave. What the buffer still
 * holds when it is torn down is freed and counted as the worker's
 * tx_dropped; nothing else leaves it unsent.
 *
 * Why DP_TXBUF_CAP is 4 bursts (128 mbufs). The buffer only fills once
 * the NIC's own ring (1024 descriptors by default) is full, so it is for
 * a port that refuses for a loop iteration or two, not for a port slower
 * than its producers: that one needs the producer to slow down, and a
 * deeper buffer would only add queueing delay and keep mbufs the RX side
 * needs from the pool. One loop iteration adds at most about three bursts
 * to a port (the replies to one RX burst, a generator's burst, packets a
 * resolved neighbour releases), so four bursts lose nothing to a refusal
 * that lasts one iteration; 128 more packets behind 1024 descriptors add
 * at most an eighth to the queueing delay, and 128 mbufs per port and
 * worker is a small share of a socket's pool (16383 by default).
 *
 * Only the owning worker touches a buffer (its stats included). */
#ifndef TERN_DP_TXBUF_H
#define TERN_DP_TXBUF_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <tern/dp.h>

#ifdef __cplusplus
extern "C" {	/* for tests/unit/test_txbuf.cc */
#endif

#define DP_TXBUF_BURST 64			/* new packets per flush */
#define DP_TXBUF_CAP (4 * TERN_DP_BURST)	/* held at most (see above) */

static_assert(DP_TXBUF_BURST <= DP_TXBUF_CAP,
	       "a flush must fit in the buffer");

struct dp_txbuf {
	struct tern_worker_stats *st;	/* tx_pkts, tx_deferred, tx_dropped */
	uint16_t port_id;
	uint16_t queue;
	bool has_queue;		/* false: the port has fewer queues than workers */
	uint16_t n;		/* pkts[0, n) wait, oldest first */
	uint16_t held;		/* pkts[0, held) were refused at least once */
	uint16_t flush_at;	/* flush when n reaches it */
	struct rte_mbuf *pkts[DP_TXBUF_CAP];
};

void dp_txbuf_init(struct dp_txbuf *b, struct tern_worker_stats *st,
		   uint16_t port_id, uint16_t queue, bool has_queue);

/* The interfaces' tern_iface_tx_fn (ctx is a struct dp_txbuf): takes
 * packets in order until the buffer holds DP_TXBUF_CAP, flushing every
 * DP_TXBUF_BURST; returns how many it took. */
uint16_t dp_txbuf_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n);

/* Offers everything buffered to the port, held packets first; keeps
 * what the port refuses. Returns how many the port took. */
uint16_t dp_txbuf_flush(struct dp_txbuf *b);

/* Frees everything still buffered, counting it as tx_dropped; returns
 * how many. For teardown, after a last flush. */
uint16_t dp_txbuf_drop(struct dp_txbuf *b);

#ifdef __cplusplus
}
#endif
#endif
