/* Stack instance lifecycle, allocation, counters and the RX entry point
 * (Ethernet demux by destination MAC to an interface). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include <tern/mbuf_cow.h>
#include <tern/offload.h>

#include "stack_priv.h"
#include "wirefmt.h"

void *stack_zalloc(struct tern_stack *s, const char *what, size_t size)
{
	void *p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, s->socket);
	if (p == NULL && s->socket != SOCKET_ID_ANY)
		p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE,
				       SOCKET_ID_ANY);
	return p;
}

struct tern_stack *tern_stack_create(const struct tern_stack_conf *conf)
{
	if (conf == NULL || conf->pool == NULL || conf->clock == NULL ||
	    !eph_conf_valid(conf)) {
		rte_errno = EINVAL;
		return NULL;
	}
	int pkt_next_off = pktq_field_register();
	int pkt_pos_off = pktq_pos_field_register();
	if (pkt_next_off < 0 || pkt_pos_off < 0)
		return NULL;	/* rte_errno set */
	/* On the lcore's socket when there is memory there (DESIGN: each
	 * stack and its tables near the lcore that uses them). */
	struct tern_stack *s = rte_zmalloc_socket("tern_stack", sizeof(*s),
						  RTE_CACHE_LINE_SIZE,
						  conf->socket);
	if (s == NULL && conf->socket != SOCKET_ID_ANY)
		s = rte_zmalloc_socket("tern_stack", sizeof(*s),
				       RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", conf->name ? conf->name : "stack");
	s->lcore = conf->lcore;
	s->socket = conf->socket;
	s->pool = conf->pool;
	s->clock = conf->clock;
	s->pkt_next_off = pkt_next_off;
	s->pkt_pos_off = pkt_pos_off;
	s->gro = !conf->no_gro;
	/* xorshift must not start at zero */
	s->rng = conf->seed ? conf->seed :
		 0x9e3779b97f4a7c15ull * (conf->lcore + 1);
	eth_hooks_init(s);	/* chains and their continuations */
	s->ip_id = (uint16_t)(conf->lcore * 7919u);
	s->icmp_last_ns = tern_clock_now(s->clock);
	s->icmp_credit_ns = ICMP_BURST * (TERN_NS_PER_S / ICMP_RATE_PER_S);
	int rc = timer_init(s, conf->timer_tick_ns);
	if (rc == 0)
		rc = udp_init(s, conf);
	if (rc == 0)
		rc = eph_init(s, conf);
	if (rc == 0)
		rc = iface_init(s, conf);
	if (rc == 0)
		rc = ip4_frag_init(s, conf);
	if (rc == 0)
		rc = neigh_init(s, conf);
	if (rc == 0)
		rc = tcp_init(s, conf);
	if (rc != 0) {
		tern_stack_destroy(s);
		rte_errno = -rc;
		return NULL;
	}
	return s;
}

void tern_stack_destroy(struct tern_stack *s)
{
	if (s == NULL)
		return;
	while (s->nactive > 0)
		tern_iface_del(s, s->active[0]->conf.ifindex);
	tcp_fini(s);
	neigh_fini(s);
	ip4_frag_fini(s);
	iface_fini(s);
	eph_fini(s);
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

/* The interface an IPv4 frame to dst (unicast MAC mac, or NULL for a
 * broadcast frame) is for: the owner of dst when the frame reached one of
 * the MACs it answers for, or an interface of the link having dst as a
 * broadcast. One hash probe (the local table) for unicast. */
static struct iface *ip4_owner(struct tern_stack *s, uint16_t link,
			       const struct rte_ether_addr *mac,
			       rte_be32_t dst)
{
	struct iface *ifc;
	uint32_t host;
	const struct iface_range *r = local_range(s, dst, &ifc, &host);
	if (r != NULL) {
		if (ifc->conf.link != link)
			return NULL;
		if (mac == NULL || rte_is_same_ether_addr(mac, &ifc->conf.mac))
			return ifc;
		struct rte_ether_addr hm;
		iface_host_mac(ifc, r, host, &hm);
		return rte_is_same_ether_addr(mac, &hm) ? ifc : NULL;
	}
	ifc = iface_bcast_on_link(s, link, dst);
	if (ifc == NULL || mac == NULL ||
	    rte_is_same_ether_addr(mac, &ifc->conf.mac))
		return ifc;
	return NULL;
}

/* The header bytes of an LRO packet at its Ethernet header: the lengths
 * GRO (offload/gro.c) leaves in l2/l3/l4_len, else read from the packet
 * (a port's LRO need not set them). */
static uint32_t lro_hdr(const struct rte_mbuf *m)
{
	if (m->l4_len != 0)
		return (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	const uint32_t l2 = sizeof(struct rte_ether_hdr);
	if (m->data_len < l2 + sizeof(struct rte_ipv4_hdr))
		return 0;
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, l2);
	uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
	if (m->data_len < l2 + ihl + sizeof(struct rte_tcp_hdr))
		return l2 + ihl;
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)
		((const uint8_t *)ip + ihl);
	return l2 + ihl + (th->data_off >> 4) * 4u;
}

/* The wire frames an LRO packet with hdr bytes of headers stands for. */
static uint32_t lro_frames(const struct rte_mbuf *m, uint32_t hdr)
{
	return m->pkt_len > hdr ? tern_ol_rx_segs(m, m->pkt_len - hdr) : 1;
}

/* The frames a GRO or LRO packet stands for, each with its headers. */
static void rx_lro_count(struct iface *ifc, const struct rte_mbuf *m)
{
	uint32_t hdr = lro_hdr(m);
	uint32_t segs = lro_frames(m, hdr);
	ifc->stats.rx_pkts += segs;
	ifc->stats.rx_bytes += m->pkt_len + (uint64_t)(segs - 1) * hdr;
}

/* One frame after the ETH_INPUT hooks: demux by ethertype and
 * destination. IPv4 goes to the interface owning the destination address
 * (ranges: several interfaces may share a MAC, and hosts of a range may
 * have MACs of their own); a frame for none of them goes to the interface
 * its MAC names (or, broadcast, the first of the link) so that ip4_input
 * counts why it is not for us. */
void eth_demux(struct tern_stack *s, uint16_t link, struct rte_mbuf *m)
{
	struct wf_eth eth;
	if (wf_eth_parse(m, &eth) != WF_OK) {
		STAT_INC(s, eth_drop_short);
		drop(m);
		return;
	}
	const struct rte_ether_addr *dst = &eth.h->dst_addr;
	bool ucast = rte_is_unicast_ether_addr(dst);
	if (!ucast && !rte_is_broadcast_ether_addr(dst)) {
		/* multicast: nothing of ours listens yet (IPv6 ND will) */
		STAT_INC(s, eth_drop_not_for_us);
		drop(m);
		return;
	}
	struct iface *ifc = NULL;
	switch (eth.type) {
	case RTE_ETHER_TYPE_ARP:
		if (ucast && iface_mac_owner(s, link, dst) == NULL)
			break;	/* not_for_us below */
		rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
		arp_input(s, link, m);
		return;
	case RTE_ETHER_TYPE_IPV4: {
		rte_be32_t dip;
		if (ip4_dst_of(m, &dip)) {
			ifc = ip4_owner(s, link, ucast ? dst : NULL, dip);
			/* ours, but sent to a MAC that does not answer for
			 * it (another emulated host's) */
			if (ifc == NULL && ucast &&
			    local_range(s, dip, NULL, NULL) != NULL)
				break;
		}
		if (ifc == NULL)
			ifc = ucast ? iface_mac_owner(s, link, dst) :
				      iface_first_on_link(s, link);
		if (ifc == NULL) {
			if (ucast)
				break;	/* not_for_us below */
			STAT_INC(s, eth_drop_no_iface);
			drop(m);
			return;
		}
		if (unlikely(m->ol_flags & RTE_MBUF_F_RX_LRO))
			rx_lro_count(ifc, m);
		else {
			ifc->stats.rx_pkts++;
			ifc->stats.rx_bytes += m->pkt_len;
		}
		m->l2_len = sizeof(struct rte_ether_hdr);
		rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
		ip4_input(s, ifc, m);
		return;
	}
	default:
		if (ucast && iface_mac_owner(s, link, dst) == NULL)
			break;
		STAT_INC(s, eth_drop_unknown_type);
		drop(m);
		return;
	}
	STAT_INC(s, eth_drop_not_for_us);
	drop(m);
}

static void eth_input(struct tern_stack *s, uint16_t link, struct rte_mbuf *m)
{
	STAT_INC(s, eth_rx_pkts);
	if (hooks_run(s, TERN_HOOK_ETH_INPUT, link, UINT16_MAX, m,
		       &s->st.eth_drop_hook_input) != TERN_HOOK_CONTINUE)
		return;
	eth_demux(s, link, m);
}

/* Bytes copied into a segment of our own when a frame's first segment
 * may not be written: every header the stack parses or rewrites in place
 * (Ethernet 14, IPv4 up to 60, ICMP 8, ARP 28, UDP 8) fits. */
#define RX_HDR_COPY 128

/* Makes m safe to parse and rewrite in place (DESIGN: packets that may be
 * shared are never written in place). The stack changes the metadata of
 * every segment (pull-up, trim) and the bytes of the headers (echo and ARP
 * replies are built in the request). When another holder shares a
 * segment's mbuf (refcnt > 1), the chain is cloned so the metadata is
 * ours; when the first segment's bytes are shared (indirect, or an
 * external buffer with other holders), the headers are copied into a
 * fresh segment in front and the rest stays shared (read only). NULL when
 * no mbuf was left for it (counted). */
static struct rte_mbuf *rx_unshare(struct tern_stack *s, struct rte_mbuf *m)
{
	if (!tern_mbuf_meta_owned(m)) {
		struct rte_mbuf *c = rte_pktmbuf_clone(m, s->pool);
		rte_pktmbuf_free(m);
		if (c == NULL) {
			STAT_INC(s, mbuf_drop_alloc_fail);
			return NULL;
		}
		m = c;
	}
	if (tern_mbuf_writable(m))
		return m;
	struct rte_mbuf *h = rte_pktmbuf_alloc(s->pool);
	if (h == NULL) {
		STAT_INC(s, mbuf_drop_alloc_fail);
		rte_pktmbuf_free(m);
		return NULL;
	}
	uint32_t k = RTE_MIN(m->pkt_len, (uint32_t)RX_HDR_COPY);
	k = RTE_MIN(k, (uint32_t)rte_pktmbuf_tailroom(h));
	void *dst = rte_pktmbuf_mtod(h, void *);
	const void *src = rte_pktmbuf_read(m, 0, k, dst);
	if (src != dst)
		memcpy(dst, src, k);
	h->data_len = (uint16_t)k;
	h->pkt_len = m->pkt_len;
	h->port = m->port;
	h->ol_flags = m->ol_flags & ~(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL);
	h->packet_type = m->packet_type;
	h->hash = m->hash;
	h->vlan_tci = m->vlan_tci;
	/* Drop the copied bytes from the shared segments: their metadata
	 * is ours, their bytes are not touched. */
	struct rte_mbuf *rest = m;
	uint16_t nseg = 0;
	while (rest != NULL && k > 0) {
		uint16_t take = (uint16_t)RTE_MIN((uint32_t)rest->data_len, k);
		rest->data_off = (uint16_t)(rest->data_off + take);
		rest->data_len = (uint16_t)(rest->data_len - take);
		k -= take;
		if (rest->data_len == 0) {
			struct rte_mbuf *next = rest->next;
			rest->next = NULL;
			rte_pktmbuf_free_seg(rest);
			rest = next;
		}
	}
	for (struct rte_mbuf *t = rest; t != NULL; t = t->next)
		nseg++;
	if (rest != NULL) {
		rest->pkt_len = h->pkt_len - h->data_len;
		rest->nb_segs = nseg;
	}
	h->next = rest;
	h->nb_segs = (uint16_t)(nseg + 1);
	STAT_INC(s, mbuf_rx_unshared);
	return h;
}

/* Frames handled together: what GRO may merge and whose connection
 * lookups are prepared together (a DPDK RX burst is 32 or 64). */
#define RX_CHUNK 64
/* Fewer frames than this have only their table slots prefetched, not
 * the blocks too: the second pass waits for the slots, which pays when
 * several misses overlap, and in a burst of one to three (a handshake,
 * request/response) the frames are mostly of one connection, so waiting
 * only moved the one miss (cps). The slot alone, prefetched before
 * Ethernet and IP run, arrives while they do: in a table sized for a
 * million the SYN's lookup is a miss to memory (docs/bench.md,
 * "Flatness"). */
#define RX_HINT_MIN 4

/* A burst of at most RX_CHUNK frames: made safe to write, merged (GRO),
 * their connections looked up ahead (tcp_rx_hints), then input one by
 * one. A lone frame skips the burst work. */
static void input_chunk(struct tern_stack *s, uint16_t link,
			struct rte_mbuf *const *in, uint16_t n)
{
	struct rte_mbuf *pkts[RX_CHUNK];
	uint16_t k = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = in[i];
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(in[i + 1], void *));
		/* eth.rx_pkts counts wire frames: a port's LRO packet stands
		 * for several (eth_input counts one) */
		if (unlikely(m->ol_flags & RTE_MBUF_F_RX_LRO))
			STAT_ADD(s, eth_rx_pkts, lro_frames(m, lro_hdr(m)) - 1);
		if (unlikely(!tern_mbuf_writable(m) ||
			     (m->next != NULL && !tern_mbuf_meta_owned(m)))) {
			m = rx_unshare(s, m);
			if (m == NULL)
				continue;
		}
		pkts[k++] = m;
	}
	if (k == 1) {
		/* the slot only: its load runs beside Ethernet and IP */
		struct tcp_rx_hint hint;
		tcp_rx_hints(s, pkts, 1, &hint, false);
		s->rx_hint = &hint;
		eth_input(s, link, pkts[0]);
		s->rx_hint = NULL;
		return;
	}
	if (k == 0)
		return;
	/* as TSO on output: while ETH_INPUT hooks are attached (a capture,
	 * a filter) they see frames as the wire carried them */
	if (s->gro && tern_hooks_empty(&s->hooks, TERN_HOOK_ETH_INPUT)) {
		uint32_t merged;
		k = tern_ol_gro_tcp4(pkts, k, &merged);
		/* eth.rx_pkts counts frames from the wire */
		STAT_ADD(s, eth_rx_pkts, merged);
		STAT_ADD(s, eth_rx_gro_merged, merged);
	}
	struct tcp_rx_hint hint[RX_CHUNK];
	tcp_rx_hints(s, pkts, k, hint, k >= RX_HINT_MIN);
	for (uint16_t i = 0; i < k; i++) {
		s->rx_hint = &hint[i];
		eth_input(s, link, pkts[i]);
	}
	s->rx_hint = NULL;
}

uint16_t tern_stack_input(struct tern_stack *s, uint16_t link,
			  struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i += RX_CHUNK)
		input_chunk(s, link, pkts + i,
			    (uint16_t)RTE_MIN(n - i, RX_CHUNK));
	return n;
}
