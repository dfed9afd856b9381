/* Ethernet output: header prepend and the single exit towards the port
 * (hook ETH_OUTPUT, then checksum offload or software fallback). */
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

void eth_xmit(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	if (hooks_run(s, TERN_HOOK_ETH_OUTPUT, ifc->conf.link,
		       ifc->conf.ifindex, m, &s->st.eth_drop_hook_output) !=
	    TERN_HOOK_CONTINUE)
		return;
	eth_tx(s, ifc, m);
}

void eth_tx(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m)
{
	tern_ol_tx_finish(m, &ifc->conf.caps);
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
