/* Packet queues chained through the packets themselves: a dynamic mbuf
 * field holds the next packet (m->next already chains the segments of one
 * packet). A queue costs three words however long it is, so a neighbour
 * entry, a reassembly or a held packet list needs no array sized in
 * advance. The field's offset is registered once per process
 * (rte_mbuf_dynfield_register() returns the same offset for the same
 * name) and kept in each stack. */
#ifndef TERN_PKTQ_H
#define TERN_PKTQ_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

struct pktq {
	struct rte_mbuf *head, *tail;
	uint32_t n;
};

/* A pktq without the count, where only empty or not matters and the
 * four bytes do (TCP's send queue lives in the hot control block). */
struct pktlist {
	struct rte_mbuf *head, *tail;
};

/* The offset of the "next packet" field, or -1 with rte_errno set. */
int pktq_field_register(void);

/* The offset of a 32-bit field a queue may keep each packet's position
 * in (TCP's send queue: its first byte's offset in the stream, mod
 * 2^32), or -1 with rte_errno set. */
int pktq_pos_field_register(void);

static inline uint32_t *pktq_posp(int off, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, off, uint32_t *);
}

static inline struct rte_mbuf **pktq_nextp(int off, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, off, struct rte_mbuf **);
}

/* The linking both queues share. */
static inline void pkt_link_tail(int off, struct rte_mbuf **head,
				 struct rte_mbuf **tail, struct rte_mbuf *m)
{
	*pktq_nextp(off, m) = NULL;
	if (*tail != NULL)
		*pktq_nextp(off, *tail) = m;
	else
		*head = m;
	*tail = m;
}

static inline struct rte_mbuf *pkt_unlink_head(int off, struct rte_mbuf **head,
					       struct rte_mbuf **tail)
{
	struct rte_mbuf *m = *head;
	if (m == NULL)
		return NULL;
	*head = *pktq_nextp(off, m);
	if (*head == NULL)
		*tail = NULL;
	return m;
}

static inline void pktq_init(struct pktq *q)
{
	q->head = q->tail = NULL;
	q->n = 0;
}

static inline void pktq_push(int off, struct pktq *q, struct rte_mbuf *m)
{
	pkt_link_tail(off, &q->head, &q->tail, m);
	q->n++;
}

static inline struct rte_mbuf *pktq_pop(int off, struct pktq *q)
{
	struct rte_mbuf *m = pkt_unlink_head(off, &q->head, &q->tail);
	if (m != NULL)
		q->n--;
	return m;
}

/* Frees every packet; returns how many. */
static inline uint32_t pktq_purge(int off, struct pktq *q)
{
	uint32_t n = q->n;
	struct rte_mbuf *m;
	while ((m = pktq_pop(off, q)) != NULL)
		rte_pktmbuf_free(m);
	return n;
}

static inline void pktlist_push(int off, struct pktlist *l, struct rte_mbuf *m)
{
	pkt_link_tail(off, &l->head, &l->tail, m);
}

static inline struct rte_mbuf *pktlist_pop(int off, struct pktlist *l)
{
	return pkt_unlink_head(off, &l->head, &l->tail);
}

static inline void pktlist_purge(int off, struct pktlist *l)
{
	struct rte_mbuf *m;
	while ((m = pktlist_pop(off, l)) != NULL)
		rte_pktmbuf_free(m);
}

#endif
