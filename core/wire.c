/* In-memory wire between two links. It behaves like a NIC pair: checksums
 * a sender offloaded are completed in flight (as hardware would), and the
 * receiver sees clean RX flags ("not checked"), so software verification
 * runs on the receiving side. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include <tern/offload.h>
#include <tern/wire.h>

#define WIRE_QLEN 4096

struct wire_end {
	struct tern_wire *w;
	int side;
	unsigned n;
	struct rte_mbuf *q[WIRE_QLEN];
	uint64_t sent;
};

struct tern_wire {
	struct tern_stack *stack[2];
	uint16_t link[2];
	struct wire_end end[2];
	tern_wire_tap_fn tap;
	void *tap_arg;
};

struct tern_wire *tern_wire_create(struct tern_stack *a, uint16_t link_a,
				   struct tern_stack *b, uint16_t link_b)
{
	struct tern_wire *w = rte_zmalloc("tern_wire", sizeof(*w), 0);
	if (w == NULL)
		return NULL;
	w->stack[0] = a;
	w->stack[1] = b;
	w->link[0] = link_a;
	w->link[1] = link_b;
	for (int i = 0; i < 2; i++) {
		w->end[i].w = w;
		w->end[i].side = i;
	}
	return w;
}

void tern_wire_destroy(struct tern_wire *w)
{
	if (w == NULL)
		return;
	for (int i = 0; i < 2; i++)
		rte_pktmbuf_free_bulk(w->end[i].q, w->end[i].n);
	rte_free(w);
}

void *tern_wire_end(struct tern_wire *w, int side)
{
	return &w->end[side & 1];
}

void tern_wire_set_tap(struct tern_wire *w, tern_wire_tap_fn fn, void *arg)
{
	w->tap = fn;
	w->tap_arg = arg;
}

uint16_t tern_wire_tx(void *endp, struct rte_mbuf **pkts, uint16_t n)
{
	struct wire_end *e = endp;
	uint16_t k = 0;
	while (k < n && e->n < WIRE_QLEN)
		e->q[e->n++] = pkts[k++];
	e->sent += k;
	return k;
}

uint64_t tern_wire_sent(const struct tern_wire *w, int side)
{
	return w->end[side & 1].sent;
}

/* What a NIC does to an outgoing frame with TX offload flags. */
static void nic_finish(struct rte_mbuf *m)
{
	static const struct tern_ol_caps none;
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		/* the field holds the pseudo-header sum: restart from zero */
		tern_ol_tx_finish(m, &none);
	}
	tern_ol_reset(m, 0);	/* RX flags UNKNOWN: the receiver checks */
}

unsigned tern_wire_pump(struct tern_wire *w, unsigned max_rounds)
{
	struct rte_mbuf *batch[WIRE_QLEN];
	unsigned total = 0;
	for (unsigned r = 0; r < max_rounds; r++) {
		unsigned moved = 0;
		for (int side = 0; side < 2; side++) {
			struct wire_end *e = &w->end[side];
			unsigned n = e->n, k = 0;
			memcpy(batch, e->q, n * sizeof(batch[0]));
			e->n = 0;
			for (unsigned i = 0; i < n; i++) {
				struct rte_mbuf *m = batch[i];
				nic_finish(m);
				if (w->tap && w->tap(w->tap_arg, side, m)) {
					rte_pktmbuf_free(m);
					continue;
				}
				batch[k++] = m;
			}
			int to = side ^ 1;
			if (k)
				tern_stack_input(w->stack[to], w->link[to], batch,
						 (uint16_t)k);
			moved += n;
		}
		total += moved;
		if (moved == 0)
			break;
	}
	return total;
}
