/* Hand-over of frames that land on the wrong lcore (DESIGN rule 8).
 *
 * Each worker opens connections from its own part of the ephemeral range
 * (tern_eph_split), and with RSS it picks ports whose replies hash to its
 * own queue, so replies normally arrive where their flow lives. When they
 * do not (a NIC without RSS, a RETA that changed, ICMP errors, which NICs
 * hash on addresses only), the worker that received the frame classifies
 * it *before* its stack sees it and, when another worker owns it, puts it
 * on that worker's hand-over ring. The owner feeds its ring's frames to
 * its stack without classifying them again, so a frame is processed once,
 * by one stack. A full ring drops the frame, counted (handover_drop).
 *
 * One ring per worker, multi-producer (every other worker may hand over
 * to it), single consumer (its owner). */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include <tern/rss.h>

#include "dp_priv.h"

int dp_handover_create(struct tern_worker *w)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "tern_ho_w%u", w->idx);
	w->handover = rte_ring_create(name, DP_HANDOVER_SIZE, (int)w->socket,
				      RING_F_SC_DEQ);
	if (w->handover == NULL)
		w->handover = rte_ring_create(name, DP_HANDOVER_SIZE,
					      SOCKET_ID_ANY, RING_F_SC_DEQ);
	return w->handover == NULL ? -rte_errno : 0;
}

void dp_handover_free(struct tern_worker *w)
{
	void *m;

	if (w->handover == NULL)
		return;
	/* Loops are stopped: nobody enqueues any more. */
	while (rte_ring_dequeue(w->handover, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(w->handover);
	w->handover = NULL;
}

uint16_t dp_handover_steer(struct tern_worker *w, uint16_t port_id,
			   struct rte_mbuf **pkts, uint16_t n)
{
	struct tern_dp *dp = w->dp;
	uint16_t keep = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int owner = tern_steer_owner(&dp->eph, m);
		if (likely(owner < 0 || (unsigned)owner == w->idx ||
			   (unsigned)owner >= dp->nworkers)) {
			pkts[keep++] = m;
			continue;
		}
		/* The owner feeds it to its stack as received on port_id
		 * (not every PMD sets m->port; net_ring does not). */
		m->port = port_id;
		if (rte_ring_mp_enqueue(dp->workers[owner]->handover, m) == 0) {
			w->st.handover_out++;
		} else {
			w->st.handover_drop++;
			rte_pktmbuf_free(m);
		}
	}
	return keep;
}

unsigned dp_handover_drain(struct tern_worker *w)
{
	struct rte_mbuf *pkts[TERN_DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->handover, (void **)pkts,
					       TERN_DP_BURST, NULL);
	if (n == 0)
		return 0;
	w->st.handover_in += n;
	/* Runs of frames from one port go in together. */
	unsigned start = 0;
	for (unsigned i = 1; i <= n; i++) {
		if (i < n && pkts[i]->port == pkts[start]->port)
			continue;
		tern_stack_input(w->stack, pkts[start]->port, &pkts[start],
				 (uint16_t)(i - start));
		start = i;
	}
	return n;
}

int dp_stacks_set_rss(struct tern_dp *dp)
{
	for (unsigned s = 0; s < dp->nports; s++) {
		const struct dp_port *p = &dp->ports[s];
		if (!p->rss || p->reta == NULL)
			continue;
		for (unsigned i = 0; i < dp->nworkers && i < p->queues; i++) {
			struct tern_rss_conf c = {
				.key = p->rss_key,
				.key_len = p->rss_key_len,
				.reta = p->reta,
				.reta_size = p->reta_size,
				.queue = (uint16_t)i,
				.hash_udp = p->hash_udp,
				.hash_tcp = p->hash_tcp,
			};
			int rc = tern_stack_set_link_rss(dp->workers[i]->stack,
							 p->port_id, &c);
			if (rc < 0) {
				DP_LOG(ERR, "port %u: RSS for worker %u: %s",
				       p->port_id, i, rte_strerror(-rc));
				return rc;
			}
		}
	}
	return 0;
}
