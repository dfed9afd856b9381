/* A worker's TX buffer for one port: keeps what the port refused, within
 * a bound, and tells the stack when it is full (txbuf.h says why). */
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "txbuf.h"

void dp_txbuf_init(struct dp_txbuf *b, struct tern_worker_stats *st,
		   uint16_t port_id, uint16_t queue, bool has_queue)
{
	b->st = st;
	b->port_id = port_id;
	b->queue = queue;
	b->has_queue = has_queue;
	b->n = 0;
	b->held = 0;
	b->flush_at = DP_TXBUF_BURST;
}

uint16_t dp_txbuf_flush(struct dp_txbuf *b)
{
	if (b->n == 0)
		return 0;
	uint16_t sent = rte_eth_tx_burst(b->port_id, b->queue, b->pkts, b->n);
	uint16_t left = b->n - sent;

	b->st->tx_pkts += sent;
	if (unlikely(left > 0)) {
		/* The port's ring is full. Keep the rest, in order, for the
		 * next flush; count each packet the first time it is refused
		 * (those past the ones held already). */
		b->st->tx_deferred += b->n - RTE_MAX(sent, b->held);
		memmove(b->pkts, b->pkts + sent, left * sizeof(b->pkts[0]));
	}
	b->n = left;
	b->held = left;
	/* A full burst of new packets before the next try, or as soon as
	 * the buffer is full: then every transmit call tries the port once
	 * more before it refuses (a refused tx_burst on a full ring is a
	 * few loads). */
	b->flush_at = (uint16_t)RTE_MIN(left + DP_TXBUF_BURST, DP_TXBUF_CAP);
	return sent;
}

uint16_t dp_txbuf_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_txbuf *b = ctx;
	uint16_t i;

	if (unlikely(!b->has_queue))
		return 0;	/* the stack frees them and counts the drop */
	for (i = 0; i < n; i++) {
		if (b->n >= b->flush_at) {
			dp_txbuf_flush(b);
			if (unlikely(b->n == DP_TXBUF_CAP))
				break;	/* the stack counts eth_drop_tx_full */
		}
		b->pkts[b->n++] = pkts[i];
	}
	return i;
}

uint16_t dp_txbuf_drop(struct dp_txbuf *b)
{
	uint16_t n = b->n;

	if (n > 0) {
		rte_pktmbuf_free_bulk(b->pkts, n);
		b->st->tx_dropped += n;
	}
	b->n = 0;
	b->held = 0;
	b->flush_at = DP_TXBUF_BURST;
	return n;
}
