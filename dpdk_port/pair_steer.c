/* The steered ring pair, a test port that spreads frames over queues as
 * a NIC would (ternd --ring-pair-rss toeplitz|queue0).
 *
 * net_ring delivers what TX queue q sends to the peer's RX queue q, which
 * keeps every flow on the lcore that sent it and so hides both steering
 * problems: source ports chosen without regard to RSS, and frames landing
 * on the wrong lcore. Here an RX callback on every RX queue of ring0 and
 * ring1 does what the NIC's RSS would: for each frame that queue q's ring
 * brought, it computes the queue RSS picks — the Toeplitz hash with
 * tern's symmetric key over a round-robin RETA of DP_PAIR_RETA_SIZE
 * entries (UDP/TCP over addresses and ports, other IPv4 over addresses,
 * anything else queue 0, as NICs do), or queue 0 for everything — keeps
 * the frames that belong to q and passes the others through
 * pair_steer[port][their queue], a multi-producer ring that the owner's
 * own callback empties into its burst. Each frame is delivered once, on
 * one queue; a full steering ring drops it, counted (pair_steer_drop).
 * Per flow, order is kept: a flow always travels the same path.
 *
 * In toeplitz mode the ports report RSS, the key and the RETA, so the
 * stacks choose source ports whose replies hash back to them; in queue0
 * mode they report no RSS (a multi-queue port that does not spread). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dp_priv.h"

struct dp_pair_rxq {
	struct tern_dp *dp;
	unsigned d;			/* receiving port: ring<d> */
	uint64_t *drops;		/* the polling worker's pair_steer_drop */
};

/* The queue the emulated NIC gives m (data at its Ethernet header). */
static uint16_t pair_queue_of(const struct tern_dp *dp,
			      const struct rte_mbuf *m)
{
	if (dp->conf.pair_rss == TERN_DP_PAIR_QUEUE0)
		return 0;
	rte_be16_t tbuf;
	const rte_be16_t *type = rte_pktmbuf_read(m, 12, 2, &tbuf);
	struct rte_ipv4_hdr ibuf;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_read(
		m, sizeof(struct rte_ether_hdr), sizeof(ibuf), &ibuf);
	if (type == NULL || *type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ip == NULL || (ip->version_ihl >> 4) != 4)
		return 0;
	uint32_t h;
	rte_be16_t pbuf[2];
	const rte_be16_t *ports = NULL;
	bool frag = (ip->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) != 0;
	if (!frag && (ip->next_proto_id == IPPROTO_UDP ||
		      ip->next_proto_id == IPPROTO_TCP))
		ports = rte_pktmbuf_read(m, sizeof(struct rte_ether_hdr) +
					 (ip->version_ihl & 0xf) * 4u, 4, pbuf);
	if (ports != NULL)
		h = tern_rss_hash_v4(&dp->pair_key, ip->src_addr, ip->dst_addr,
				     rte_be_to_cpu_16(ports[0]),
				     rte_be_to_cpu_16(ports[1]));
	else
		h = tern_rss_hash_v4_l3(&dp->pair_key, ip->src_addr,
					ip->dst_addr);
	return dp->pair_reta[h & (DP_PAIR_RETA_SIZE - 1)];
}

static uint16_t pair_rx_cb(uint16_t port_id, uint16_t queue,
			   struct rte_mbuf *pkts[], uint16_t nb, uint16_t max,
			   void *arg)
{
	struct dp_pair_rxq *rq = arg;
	struct tern_dp *dp = rq->dp;
	uint16_t keep = 0;
	(void)port_id;

	for (uint16_t i = 0; i < nb; i++) {
		uint16_t q = pair_queue_of(dp, pkts[i]);
		if (q == queue || q >= dp->pair_queues) {
			pkts[keep++] = pkts[i];
			continue;
		}
		if (rte_ring_mp_enqueue(dp->pair_steer[rq->d][q], pkts[i]) != 0) {
			(*rq->drops)++;
			rte_pktmbuf_free(pkts[i]);
		}
	}
	if (keep < max)
		keep += (uint16_t)rte_ring_sc_dequeue_burst(
			dp->pair_steer[rq->d][queue], (void **)&pkts[keep],
			max - keep, NULL);
	return keep;
}

int dp_pair_steer_setup(struct tern_dp *dp)
{
	char name[RTE_RING_NAMESIZE];
	unsigned nq = dp->pair_queues;

	if (!dp->have_pair || dp->conf.pair_rss == TERN_DP_PAIR_DIRECT)
		return 0;
	uint8_t key[40];
	tern_rss_key_symmetric(key, sizeof(key));
	tern_rss_key_init(&dp->pair_key, key, sizeof(key));
	for (unsigned i = 0; i < DP_PAIR_RETA_SIZE; i++)
		dp->pair_reta[i] = (uint16_t)(i % nq);
	dp->pair_rxq = rte_zmalloc("tern_pair_rxq",
				   2 * nq * sizeof(*dp->pair_rxq), 0);
	if (dp->pair_rxq == NULL)
		return -ENOMEM;

	for (unsigned d = 0; d < 2; d++) {
		uint16_t slot = dp_port_slot(dp, dp->pair_port[d]);
		if (slot == DP_NO_SLOT)
			return -ENODEV;
		struct dp_port *p = &dp->ports[slot];
		for (unsigned q = 0; q < nq && q < p->queues; q++) {
			snprintf(name, sizeof(name), "tern_rps%u_q%u", d, q);
			dp->pair_steer[d][q] = rte_ring_create(name,
				DP_RING_PAIR_SIZE, (int)rte_socket_id(),
				RING_F_SC_DEQ);
			if (dp->pair_steer[d][q] == NULL)
				return -rte_errno;
			struct dp_pair_rxq *rq = &dp->pair_rxq[d * nq + q];
			rq->dp = dp;
			rq->d = d;
			rq->drops = &dp->workers[q]->st.pair_steer_drop;
			dp->pair_cb[d][q] = rte_eth_add_rx_callback(
				p->port_id, (uint16_t)q, pair_rx_cb, rq);
			if (dp->pair_cb[d][q] == NULL)
				return -rte_errno;
		}
		if (dp->conf.pair_rss != TERN_DP_PAIR_TOEPLITZ)
			continue;
		/* Report RSS like a NIC, so the stacks steer by it. */
		rte_free(p->reta);
		p->reta = rte_zmalloc("tern_reta", sizeof(dp->pair_reta), 0);
		if (p->reta == NULL)
			return -ENOMEM;
		memcpy(p->reta, dp->pair_reta, sizeof(dp->pair_reta));
		p->reta_size = DP_PAIR_RETA_SIZE;
		memcpy(p->rss_key, key, sizeof(key));
		p->rss_key_len = sizeof(key);
		p->hash_udp = p->hash_tcp = true;
		p->rss = nq > 1;
	}
	return 0;
}

void dp_pair_steer_free(struct tern_dp *dp)
{
	/* The loops are stopped: no callback runs. */
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned q = 0; q < TERN_DP_MAX_WORKERS; q++) {
			if (dp->pair_cb[d][q] != NULL) {
				if (rte_eth_remove_rx_callback(dp->pair_port[d],
						(uint16_t)q, dp->pair_cb[d][q]) == 0)
					rte_free((void *)(uintptr_t)dp->pair_cb[d][q]);
				dp->pair_cb[d][q] = NULL;
			}
			dp_ring_drain_free(&dp->pair_steer[d][q]);
		}
	}
	rte_free(dp->pair_rxq);
	dp->pair_rxq = NULL;
}
