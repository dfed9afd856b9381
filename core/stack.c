/* Stack instance lifecycle, allocation, counters and the RX entry point
 * (Ethernet demux by destination MAC to an interface). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "stack_priv.h"
#include "wirefmt.h"

struct tern_stack *tern_stack_create(const struct tern_stack_conf *conf)
{
	if (conf == NULL || conf->pool == NULL || conf->clock == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->arp_queue_len > ARP_QUEUE_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_stack *s = rte_zmalloc("tern_stack", sizeof(*s),
					   RTE_CACHE_LINE_SIZE);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", conf->name ? conf->name : "stack");
	s->lcore = conf->lcore;
	s->pool = conf->pool;
	s->clock = conf->clock;
	eth_hooks_init(s);	/* chains and their continuations */
	s->arp_timeout_ns = (conf->arp_timeout_ms ? conf->arp_timeout_ms : 60000) *
			    TERN_NS_PER_MS;
	s->arp_retry_ns = (conf->arp_retry_ms ? conf->arp_retry_ms : 1000) *
			  TERN_NS_PER_MS;
	s->arp_max_retries = conf->arp_max_retries ? conf->arp_max_retries : 3;
	s->arp_queue_len = conf->arp_queue_len ? conf->arp_queue_len : 8;
	s->ip_id = (uint16_t)(conf->lcore * 7919u);
	s->icmp_last_ns = tern_clock_now(s->clock);
	s->icmp_credit_ns = ICMP_BURST * (TERN_NS_PER_S / ICMP_RATE_PER_S);
	if (timer_init(s) != 0 || udp_init(s) != 0) {
		tern_stack_destroy(s);
		rte_errno = ENOMEM;
		return NULL;
	}
	arp_init(s);
	return s;
}

void tern_stack_destroy(struct tern_stack *s)
{
	if (s == NULL)
		return;
	while (s->nactive > 0)
		tern_iface_del(s, s->active[0]->conf.ifindex);
	arp_fini(s);
	udp_fini(s);
	timer_fini(s);
	rte_free(s);
}

struct tern_clock *tern_stack_clock(struct tern_stack *s) { return s->clock; }
struct rte_mempool *tern_stack_pool(struct tern_stack *s) { return s->pool; }
struct tern_hooks *tern_stack_hooks(struct tern_stack *s) { return &s->hooks; }

uint64_t tern_stack_now(const struct tern_stack *s)
{
	return tern_clock_now(s->clock);
}

struct rte_mbuf *tern_stack_alloc(struct tern_stack *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);
	if (unlikely(m == NULL))
		STAT_INC(s, mbuf_drop_alloc_fail);
	return m;
}

void tern_stack_stats_get(const struct tern_stack *s,
			  struct tern_stack_stats *out)
{
	*out = s->st;
}

static const struct tern_counter_desc counter_descs[] = {
#define TERN_DESC(proto, name)                                                 \
	{#proto, #name, offsetof(struct tern_stack_stats, proto##_##name)},
	TERN_STACK_COUNTERS(TERN_DESC)
#undef TERN_DESC
};

const struct tern_counter_desc *tern_stack_counter_descs(unsigned *n)
{
	*n = RTE_DIM(counter_descs);
	return counter_descs;
}

/* The IPv4 destination of the frame m (data at the Ethernet header), or
 * false when the header is not there (ip4_input will say why). */
static bool ip4_dst_of(struct rte_mbuf *m, rte_be32_t *dst)
{
	const uint32_t need = sizeof(struct rte_ether_hdr) +
			      sizeof(struct rte_ipv4_hdr);
	if (wf_pullup(m, need) != 0)
		return false;
	*dst = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
				       sizeof(struct rte_ether_hdr))->dst_addr;
	return true;
}

static bool ip4_accepts(const struct iface *ifc, struct rte_mbuf *m)
{
	rte_be32_t dst;
	return ip4_dst_of(m, &dst) &&
	       (iface_owns_ip(ifc, dst) || iface_is_bcast(ifc, dst));
}

static struct iface *ip4_demux(struct tern_stack *s, uint16_t link,
			       const struct rte_ether_addr *mac,
			       struct rte_mbuf *m)
{
	rte_be32_t dst;
	return ip4_dst_of(m, &dst) ? iface_for_ip4(s, link, mac, dst) : NULL;
}

/* One frame after the ETH_INPUT hooks: demux by destination MAC and
 * ethertype. */
void eth_demux(struct tern_stack *s, uint16_t link, struct rte_mbuf *m)
{
	struct wf_eth eth;
	if (wf_eth_parse(m, &eth) != WF_OK) {
		STAT_INC(s, eth_drop_short);
		drop(m);
		return;
	}
	struct iface *ifc = NULL;
	const struct rte_ether_addr *dst = &eth.h->dst_addr;
	if (rte_is_unicast_ether_addr(dst)) {
		ifc = iface_by_link_mac(s, link, dst);
		if (ifc == NULL) {
			STAT_INC(s, eth_drop_not_for_us);
			drop(m);
			return;
		}
	} else if (!rte_is_broadcast_ether_addr(dst)) {
		/* multicast: nothing of ours listens yet (IPv6 ND will) */
		STAT_INC(s, eth_drop_not_for_us);
		drop(m);
		return;
	}
	switch (eth.type) {
	case RTE_ETHER_TYPE_ARP:
		rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
		arp_input(s, link, m);
		return;
	case RTE_ETHER_TYPE_IPV4:
		/* Interfaces may share a MAC (ternd gives each the port's
		 * unless told otherwise) and a broadcast frame may be for
		 * any of them: the IPv4 destination picks among those the
		 * MAC allows. When none accepts it (or the header is short)
		 * the first candidate gets it and ip4_input counts the drop. */
		if (ifc == NULL || !ip4_accepts(ifc, m)) {
			struct iface *to = ip4_demux(s, link, ifc ? dst : NULL, m);
			if (to != NULL)
				ifc = to;
		}
		if (ifc == NULL)
			ifc = iface_first_on_link(s, link);
		if (ifc == NULL) {
			STAT_INC(s, eth_drop_no_iface);
			drop(m);
			return;
		}
		ifc->stats.rx_pkts++;
		ifc->stats.rx_bytes += m->pkt_len;
		m->l2_len = sizeof(struct rte_ether_hdr);
		rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
		ip4_input(s, ifc, m);
		return;
	default:
		STAT_INC(s, eth_drop_unknown_type);
		drop(m);
		return;
	}
}

static void eth_input(struct tern_stack *s, uint16_t link, struct rte_mbuf *m)
{
	STAT_INC(s, eth_rx_pkts);
	if (hooks_run(s, TERN_HOOK_ETH_INPUT, link, UINT16_MAX, m,
		       &s->st.eth_drop_hook_input) != TERN_HOOK_CONTINUE)
		return;
	eth_demux(s, link, m);
}

uint16_t tern_stack_input(struct tern_stack *s, uint16_t link,
			  struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		eth_input(s, link, pkts[i]);
	}
	return n;
}
