/* Ethernet output: header prepend and the single exit towards the port
 * (checksum offload or software fallback, hook ETH_OUTPUT, transmit), and
 * the continuations through which hooks put held packets back into the
 * path (tern_hook_resume). */
#include <errno.h>

#include "stack_priv.h"

struct rte_ether_hdr *eth_prepend(struct tern_stack *s, struct rte_mbuf *m,
				  const struct iface *ifc, uint16_t type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(
		m, sizeof(struct rte_ether_hdr));
	if (unlikely(eh == NULL)) {
		STAT_INC(s, mbuf_drop_alloc_fail);
		drop(m);
		return NULL;
	}
	rte_ether_addr_copy(&ifc->conf.mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(type);
	m->l2_len = sizeof(struct rte_ether_hdr);
	return eh;
}

static void eth_xmit_one(struct tern_stack *s, struct iface *ifc,
			 struct rte_mbuf *m)
{
	/* Checksums first, so ETH_OUTPUT hooks see the bytes the wire gets
	 * (those the port computes are still pending in ol_flags, with the
	 * pseudo-header sum in the field: the capture writes them itself). */
	tern_ol_tx_finish(m, &ifc->conf.caps);
	if (hooks_run(s, TERN_HOOK_ETH_OUTPUT, ifc->conf.link,
		       ifc->conf.ifindex, m, &s->st.eth_drop_hook_output) !=
	    TERN_HOOK_CONTINUE)
		return;
	eth_tx(s, ifc, m);
}

/* A TSO packet the port does not segment: cut here, each segment on its
 * way as if TCP had sent it. */
static void eth_xmit_gso(struct tern_stack *s, struct iface *ifc,
			 struct rte_mbuf *m)
{
	struct rte_mbuf *segs[TERN_OL_TSO_SEGS_MAX];
	int n = tern_ol_tso_segment(m, s->pool, segs, RTE_DIM(segs));
	if (unlikely(n < 0)) {
		if (n == -ENOBUFS)
			STAT_INC(s, mbuf_drop_alloc_fail);
		else
			STAT_INC(s, eth_drop_gso);
		drop(m);
		return;
	}
	STAT_INC(s, eth_tx_gso);
	STAT_ADD(s, eth_tx_gso_segs, (uint64_t)n);
	for (int i = 0; i < n; i++)
		eth_xmit_one(s, ifc, segs[i]);
}

void eth_xmit(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	/* TCP sends segments as large as the window allows (TSO). The port
	 * cuts them when it can; otherwise, and whenever ETH_OUTPUT hooks
	 * (capture, impairment) want to see frames as the wire carries
	 * them, they are cut in software here. */
	if (unlikely(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
		if (!tern_hooks_empty(&s->hooks, TERN_HOOK_ETH_OUTPUT) ||
		    !tern_ol_tso_port(m, &ifc->conf.caps)) {
			eth_xmit_gso(s, ifc, m);
			return;
		}
		STAT_INC(s, eth_tx_tso);
	}
	eth_xmit_one(s, ifc, m);
}

void eth_tx(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	uint32_t len = m->pkt_len;
	if (unlikely(ifc->conf.tx(ifc->conf.tx_ctx, &m, 1) != 1)) {
		STAT_INC(s, eth_drop_tx_full);
		drop(m);
		return;
	}
	STAT_INC(s, eth_tx_pkts);
	ifc->stats.tx_pkts++;
	ifc->stats.tx_bytes += len;
}

/* ---- continuations for held packets ---------------------------------- */

/* What every continuation checks first: the verdict of the hooks after
 * the one that held m (a drop is counted against the point's direction),
 * and, when ifc is wanted, that the interface still exists (it may have
 * gone while the packet was held). NULL when m was dropped. */
static struct tern_stack *cont_begin(void *owner, struct rte_mbuf *m,
				     const struct tern_hook_ctx *ctx,
				     enum tern_verdict v, bool output,
				     struct iface **ifc)
{
	struct tern_stack *s = owner;
	if (v != TERN_HOOK_CONTINUE) {
		if (output)
			STAT_INC(s, eth_drop_hook_output);
		else
			STAT_INC(s, eth_drop_hook_input);
		drop(m);
		return NULL;
	}
	if (ifc == NULL)
		return s;
	*ifc = iface_get(s, ctx->ifindex);
	if (unlikely(*ifc == NULL)) {
		STAT_INC(s, eth_drop_no_iface);
		drop(m);
		return NULL;
	}
	return s;
}

static void cont_eth_input(void *owner, struct rte_mbuf *m,
			   const struct tern_hook_ctx *ctx, enum tern_verdict v)
{
	struct tern_stack *s = cont_begin(owner, m, ctx, v, false, NULL);
	if (s != NULL)
		eth_demux(s, ctx->link, m);
}

static void cont_eth_output(void *owner, struct rte_mbuf *m,
			    const struct tern_hook_ctx *ctx, enum tern_verdict v)
{
	struct iface *ifc;
	struct tern_stack *s = cont_begin(owner, m, ctx, v, true, &ifc);
	if (s != NULL)
		eth_tx(s, ifc, m);
}

static void cont_ip_input(void *owner, struct rte_mbuf *m,
			  const struct tern_hook_ctx *ctx, enum tern_verdict v)
{
	struct iface *ifc;
	struct tern_stack *s = cont_begin(owner, m, ctx, v, false, &ifc);
	if (s != NULL)
		ip4_deliver(s, ifc, m);
}

static void cont_ip_output(void *owner, struct rte_mbuf *m,
			   const struct tern_hook_ctx *ctx, enum tern_verdict v)
{
	struct iface *ifc;
	struct tern_stack *s = cont_begin(owner, m, ctx, v, true, &ifc);
	if (s != NULL)
		ip4_output_resume(s, ifc, m);
}

void eth_hooks_init(struct tern_stack *s)
{
	tern_hooks_init(&s->hooks);
	tern_hooks_set_cont(&s->hooks, TERN_HOOK_ETH_INPUT, cont_eth_input, s);
	tern_hooks_set_cont(&s->hooks, TERN_HOOK_ETH_OUTPUT, cont_eth_output, s);
	tern_hooks_set_cont(&s->hooks, TERN_HOOK_IP_INPUT, cont_ip_input, s);
	tern_hooks_set_cont(&s->hooks, TERN_HOOK_IP_OUTPUT, cont_ip_output, s);
}
