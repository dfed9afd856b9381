/* The pattern body of the TCP services, sent by reference from one
 * read-only buffer, its checksum, and the received-byte queue. */
#include <errno.h>
#include <string.h>

#include <zlib.h>

#include <rte_malloc.h>

#include "tcp_body.h"

static inline uint8_t pat(uint32_t k)
{
	/* Knuth's multiplicative hash: neighbouring bytes look unrelated,
	 * so a misplaced segment cannot go unnoticed. */
	return (uint8_t)((k * 2654435761u) >> 24);
}

uint8_t tern_tcp_pattern_byte(uint64_t off)
{
	return pat((uint32_t)(off % TERN_TCP_PATTERN_PERIOD));
}

void tern_tcp_pattern_fill(void *dst, uint64_t off, size_t len)
{
	uint8_t *p = dst;
	uint32_t k = (uint32_t)(off % TERN_TCP_PATTERN_PERIOD);

	for (size_t i = 0; i < len; i++) {
		p[i] = pat(k);
		if (++k == TERN_TCP_PATTERN_PERIOD)
			k = 0;
	}
}

uint32_t tern_tcp_crc32(uint32_t crc, const void *buf, size_t len)
{
	return (uint32_t)crc32_z(crc, buf, len);
}

/* ---- the shared body buffer ------------------------------------------ */

#define BODY_BUF_LEN (TERN_TCP_PATTERN_PERIOD + BODY_CHUNK)
/* the shared info after the pattern, aligned */
#define BODY_SHINFO_OFF RTE_ALIGN_CEIL(BODY_BUF_LEN, RTE_CACHE_LINE_SIZE)

static void body_free_cb(void *addr, void *opaque)
{
	(void)addr;		/* where the last mbuf pointed, not the base */
	rte_free(opaque);
}

int body_src_init(struct body_src *b)
{
	size_t len = BODY_SHINFO_OFF + sizeof(struct rte_mbuf_ext_shared_info);

	b->buf = rte_malloc_socket("tern_tcp_body", len, RTE_CACHE_LINE_SIZE,
				   (int)rte_socket_id());
	if (b->buf == NULL)
		b->buf = rte_malloc("tern_tcp_body", len, RTE_CACHE_LINE_SIZE);
	if (b->buf == NULL)
		return -ENOMEM;
	tern_tcp_pattern_fill(b->buf, 0, BODY_BUF_LEN);
	b->iova = rte_malloc_virt2iova(b->buf);
	b->shinfo = (struct rte_mbuf_ext_shared_info *)(b->buf + BODY_SHINFO_OFF);
	b->shinfo->free_cb = body_free_cb;
	b->shinfo->fcb_opaque = b->buf;
	rte_mbuf_ext_refcnt_set(b->shinfo, 1);	/* the owner's */
	return 0;
}

void body_src_release(struct body_src *b)
{
	if (b->buf == NULL)
		return;
	if (rte_mbuf_ext_refcnt_update(b->shinfo, -1) == 0)
		rte_free(b->buf);
	b->buf = NULL;
	b->shinfo = NULL;
}

struct rte_mbuf *body_mbuf(struct tern_stack *s, struct body_src *b,
			   uint64_t off, uint32_t len)
{
	struct rte_mbuf *m = tern_stack_alloc(s);
	uint32_t phase = (uint32_t)(off % TERN_TCP_PATTERN_PERIOD);

	if (m == NULL)
		return NULL;
	rte_mbuf_ext_refcnt_update(b->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, b->buf + phase,
				  b->iova == RTE_BAD_IOVA ? RTE_BAD_IOVA :
				  b->iova + phase, (uint16_t)len, b->shinfo);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}

int body_push(struct tern_stack *s, struct tern_tcp_conn *c,
	      struct body_src *b, struct rte_mbuf **head, uint64_t *off,
	      uint64_t *left, uint64_t *queued)
{
	while (*left > 0 || (head != NULL && *head != NULL)) {
		struct rte_mbuf *h = head != NULL ? *head : NULL;
		uint32_t hl = h != NULL ? h->pkt_len : 0;
		uint32_t space = tern_tcp_send_space(c);
		uint64_t want = RTE_MIN(*left, (uint64_t)BODY_CHUNK);
		struct rte_mbuf *m = NULL;

		/* Too little room: the data in flight brings ACKs, and sent
		 * callbacks bring us back (an empty queue has all sndbuf). */
		if (space < hl + RTE_MIN(want, (uint64_t)BODY_MIN_PUSH))
			return 0;
		uint32_t n = (uint32_t)RTE_MIN(want, (uint64_t)(space - hl));
		if (n > 0) {
			m = body_mbuf(s, b, *off, n);
			if (m == NULL)
				return -ENOBUFS;
		}
		if (h != NULL && m != NULL && rte_pktmbuf_chain(h, m) < 0) {
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
		if (h != NULL)
			m = h;
		int rc = tern_tcp_send(s, c, m);
		if (rc < 0) {
			/* only a connection going away refuses here (the
			 * room was checked): the caller ends it */
			rte_pktmbuf_free(m);
			if (h != NULL)
				*head = NULL;
			return rc;
		}
		if (h != NULL)
			*head = NULL;
		*off += n;
		*left -= n;
		*queued += (uint64_t)hl + n;
	}
	return 0;
}

/* ---- received bytes -------------------------------------------------- */

uint64_t segq_drop(struct segq *q, uint64_t n)
{
	uint64_t done = 0;

	while (done < n && q->head != NULL) {
		struct rte_mbuf *seg = q->head;
		uint32_t avail = seg->data_len - q->off;

		if (n - done < avail) {
			q->off += (uint32_t)(n - done);
			q->bytes -= n - done;
			return n;
		}
		done += avail;
		q->bytes -= avail;
		q->head = seg->next;
		q->off = 0;
		rte_pktmbuf_free_seg(seg);	/* clears next and nb_segs */
	}
	if (q->head == NULL)
		q->tail = NULL;
	return done;
}

struct rte_mbuf *segq_take(struct segq *q, uint64_t max)
{
	struct rte_mbuf *first = q->head, *last = NULL, *seg = q->head;
	uint64_t total = 0;
	uint16_t n = 0;

	while (seg != NULL && n < 128 && total + seg->data_len <= max) {
		total += seg->data_len;
		last = seg;
		seg = seg->next;
		n++;
	}
	if (last == NULL)
		return NULL;
	q->head = seg;
	if (seg == NULL)
		q->tail = NULL;
	q->bytes -= total;
	last->next = NULL;
	first->nb_segs = n;
	first->pkt_len = (uint32_t)total;
	return first;
}
