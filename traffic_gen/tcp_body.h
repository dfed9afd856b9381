/* What the TCP services share (tcp_svc.c, tcp_cli.c): the pattern body
 * sent by reference, and a byte queue of received segments. Private to
 * traffic_gen/. */
#ifndef TERN_TCP_BODY_H
#define TERN_TCP_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <tern/tcp_svc.h>

/* Bytes one mbuf of body carries at most (an external buffer's length
 * is 16 bits). Large pieces keep the send queue short. */
#define BODY_CHUNK 60000u
/* Below this much send space (and more body to go), wait for ACKs rather
 * than queue small pieces. */
#define BODY_MIN_PUSH 16384u

/* The pattern, PERIOD + BODY_CHUNK bytes of it, in one read-only buffer
 * that every body mbuf of an instance points into (external buffer,
 * reference counted: it goes when the owner and the last mbuf let go). */
struct body_src {
	uint8_t *buf;
	rte_iova_t iova;
	struct rte_mbuf_ext_shared_info *shinfo;
};

/* 0 or -ENOMEM. */
int body_src_init(struct body_src *b);
/* The owner lets go; mbufs still in flight keep the buffer alive. */
void body_src_release(struct body_src *b);
/* An mbuf of s's pool holding len (<= BODY_CHUNK) bytes of the pattern
 * from body offset off, by reference. NULL when the pool is empty. */
struct rte_mbuf *body_mbuf(struct tern_stack *s, struct body_src *b,
			   uint64_t off, uint32_t len);
/* Queues pattern bytes on c while it has room: from *off, at most *left,
 * advancing both (and *queued). 0, -ENOBUFS (no mbuf: nothing will call
 * again, retry from a poller) or tern_tcp_send's -errno. If head is not
 * NULL it goes first, with the first piece of body chained to it (one
 * segment for a short response); it is consumed (set to NULL) once
 * queued. */
int body_push(struct tern_stack *s, struct tern_tcp_conn *c,
	      struct body_src *b, struct rte_mbuf **head, uint64_t *off,
	      uint64_t *left, uint64_t *queued);

/* Received data not yet consumed: the segments of the chains recv gave,
 * linked one after another through m->next. */
struct segq {
	struct rte_mbuf *head, *tail;	/* segments */
	uint32_t off;			/* bytes of head already consumed */
	uint64_t bytes;			/* bytes from head + off */
};

static inline void segq_push(struct segq *q, struct rte_mbuf *m)
{
	q->bytes += m->pkt_len;
	if (q->head == NULL)
		q->head = m;
	else
		q->tail->next = m;
	q->tail = rte_pktmbuf_lastseg(m);
}

/* Drops up to n bytes from the front; returns how many went. */
uint64_t segq_drop(struct segq *q, uint64_t n);
static inline void segq_purge(struct segq *q)
{
	segq_drop(q, q->bytes);
	q->head = q->tail = NULL;
	q->off = 0;
}
/* Unlinks whole segments from the front holding at most max bytes (at
 * most 128 segments) as one chain; NULL when the first does not fit or
 * the queue is empty. The queue's offset must be 0. */
struct rte_mbuf *segq_take(struct segq *q, uint64_t max);

#endif
