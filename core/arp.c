/* ARP (RFC 826) with a per-stack cache: entries are INCOMPLETE (request
 * sent, packets queued) or REACHABLE (until arp_timeout). One timer per
 * stack, armed at the earliest deadline, does retries and expiry. */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_hash_crc.h>

#include "stack_priv.h"
#include "wirefmt.h"

static void arp_tick(struct tern_stack *s, struct tern_timer *t);

void arp_init(struct tern_stack *s)
{
	tern_timer_init(&s->arp_timer, arp_tick, NULL);
}

static void entry_flush(struct arp_entry *e)
{
	for (unsigned i = 0; i < e->qn; i++)
		rte_pktmbuf_free(e->q[i]);
	e->qn = 0;
}

void arp_fini(struct tern_stack *s)
{
	for (unsigned i = 0; i < ARP_TABLE_SIZE; i++)
		entry_flush(&s->arp[i]);
	tern_timer_cancel(s, &s->arp_timer);
}

static inline uint32_t slot_of(uint16_t ifindex, rte_be32_t ip)
{
	return rte_hash_crc_4byte(ip, ifindex) & (ARP_TABLE_SIZE - 1);
}

static struct arp_entry *arp_find(struct tern_stack *s, uint16_t ifindex,
				  rte_be32_t ip)
{
	uint32_t i = slot_of(ifindex, ip);
	for (unsigned n = 0; n < ARP_TABLE_SIZE; n++, i = (i + 1) & (ARP_TABLE_SIZE - 1)) {
		struct arp_entry *e = &s->arp[i];
		if (e->state == ARP_FREE)
			return NULL;
		if (e->state != ARP_DELETED && e->ip == ip && e->ifindex == ifindex)
			return e;
	}
	return NULL;
}

/* Open addressing with tombstones; the table is kept at most 3/4 full
 * so probes stay short. */
static struct arp_entry *arp_insert(struct tern_stack *s, uint16_t ifindex,
				    rte_be32_t ip)
{
	if (s->arp_used >= ARP_TABLE_SIZE * 3 / 4) {
		STAT_INC(s, arp_drop_table_full);
		return NULL;
	}
	uint32_t i = slot_of(ifindex, ip);
	for (;; i = (i + 1) & (ARP_TABLE_SIZE - 1)) {
		struct arp_entry *e = &s->arp[i];
		if (e->state == ARP_FREE || e->state == ARP_DELETED) {
			memset(e, 0, sizeof(*e));
			e->ifindex = ifindex;
			e->ip = ip;
			s->arp_used++;
			return e;
		}
	}
}

static void arp_remove(struct tern_stack *s, struct arp_entry *e)
{
	entry_flush(e);
	e->state = ARP_DELETED;
	s->arp_used--;
	/* A tombstone right before a free slot ends no probe chain that
	 * reaches anything: it and the tombstones before it can be freed,
	 * so failed lookups stay short after long churn. */
	uint32_t i = (uint32_t)(e - s->arp);
	if (s->arp[(i + 1) & (ARP_TABLE_SIZE - 1)].state != ARP_FREE)
		return;
	for (unsigned n = 0; n < ARP_TABLE_SIZE &&
			     s->arp[i].state == ARP_DELETED; n++) {
		s->arp[i].state = ARP_FREE;
		i = (i - 1) & (ARP_TABLE_SIZE - 1);
	}
}

static void arp_schedule(struct tern_stack *s, uint64_t deadline)
{
	if (!tern_timer_pending(&s->arp_timer) ||
	    deadline < s->arp_timer.expires_ns)
		tern_timer_arm(s, &s->arp_timer, deadline);
}

int arp_send(struct tern_stack *s, struct iface *ifc, uint16_t op,
	     rte_be32_t sip, const struct rte_ether_addr *tha, rte_be32_t tip,
	     const struct rte_ether_addr *eth_dst)
{
	struct rte_mbuf *m = tern_stack_alloc(s);
	if (m == NULL)
		return -ENOBUFS;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)rte_pktmbuf_append(
		m, sizeof(*a));
	if (unlikely(a == NULL)) { /* a pool with tiny buffers */
		STAT_INC(s, mbuf_drop_alloc_fail);
		drop(m);
		return -ENOBUFS;
	}
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&ifc->conf.mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = tip;
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_ARP);
	if (eh == NULL)
		return -ENOBUFS;
	rte_ether_addr_copy(eth_dst, &eh->dst_addr);
	eth_xmit(s, ifc, m);
	return 0;
}

static void send_request(struct tern_stack *s, struct iface *ifc,
			 rte_be32_t tip)
{
	static const struct rte_ether_addr zero;
	struct rte_ether_addr bcast;
	memset(&bcast, 0xff, sizeof(bcast));
	if (arp_send(s, ifc, RTE_ARP_OP_REQUEST, iface_src_for(ifc, tip), &zero,
		     tip, &bcast) == 0)
		STAT_INC(s, arp_tx_requests);
}

/* Sends what waited for e, now that its MAC is known. */
static void entry_release(struct tern_stack *s, struct arp_entry *e)
{
	struct iface *ifc = iface_get(s, e->ifindex);
	unsigned n = e->qn;
	e->qn = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = e->q[i];
		if (ifc == NULL) {
			STAT_INC(s, arp_drop_unresolved);
			drop(m);
			continue;
		}
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(&e->mac, &eh->dst_addr);
		eth_xmit(s, ifc, m);
	}
}

static void entry_set_reachable(struct tern_stack *s, struct arp_entry *e,
				const struct rte_ether_addr *mac)
{
	rte_ether_addr_copy(mac, &e->mac);
	e->state = ARP_REACHABLE;
	e->retries = 0;
	e->deadline_ns = tern_clock_now(s->clock) + s->arp_timeout_ns;
	arp_schedule(s, e->deadline_ns);
	entry_release(s, e);
}

static void arp_tick(struct tern_stack *s, struct tern_timer *t)
{
	(void)t;
	uint64_t now = tern_clock_now(s->clock), next = UINT64_MAX;
	for (unsigned i = 0; i < ARP_TABLE_SIZE; i++) {
		struct arp_entry *e = &s->arp[i];
		if (e->state < ARP_INCOMPLETE)
			continue;
		if (e->deadline_ns <= now) {
			if (e->state == ARP_REACHABLE) {
				arp_remove(s, e);
				continue;
			}
			/* INCOMPLETE: retry, or give up (RFC 1122 2.3.2.1
			 * asks to limit the request rate and to time out) */
			if (e->retries >= s->arp_max_retries) {
				s->st.arp_drop_unresolved += e->qn;
				arp_remove(s, e);
				continue;
			}
			struct iface *ifc = iface_get(s, e->ifindex);
			if (ifc == NULL) {
				s->st.arp_drop_unresolved += e->qn;
				arp_remove(s, e);
				continue;
			}
			e->retries++;
			e->deadline_ns = now + s->arp_retry_ns;
			send_request(s, ifc, e->ip);
		}
		if (e->deadline_ns < next)
			next = e->deadline_ns;
	}
	if (next != UINT64_MAX)
		tern_timer_arm(s, &s->arp_timer, next);
}

void arp_output(struct tern_stack *s, struct iface *ifc, rte_be32_t nexthop,
		struct rte_mbuf *m)
{
	struct arp_entry *e = arp_find(s, ifc->conf.ifindex, nexthop);
	if (likely(e != NULL && e->state == ARP_REACHABLE)) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(&e->mac, &eh->dst_addr);
		eth_xmit(s, ifc, m);
		return;
	}
	if (e == NULL) {
		e = arp_insert(s, ifc->conf.ifindex, nexthop);
		if (e == NULL) {
			drop(m);
			return;
		}
		e->state = ARP_INCOMPLETE;
		e->deadline_ns = tern_clock_now(s->clock) + s->arp_retry_ns;
		arp_schedule(s, e->deadline_ns);
		send_request(s, ifc, nexthop);
	}
	if (e->qn >= s->arp_queue_len) {
		STAT_INC(s, arp_drop_queue_full);
		drop(m);
		return;
	}
	e->q[e->qn++] = m;
}

/* Learns sender (ip, mac) on ifc. create: add when absent (the request
 * was for us, RFC 826 "merge" otherwise only updates). */
static void arp_learn(struct tern_stack *s, struct iface *ifc, rte_be32_t ip,
		      const struct rte_ether_addr *mac, bool create)
{
	if (ip == 0 || ip4_is_limited_bcast(ip) || ip4_is_multicast(ip) ||
	    !rte_is_valid_assigned_ether_addr(mac))
		return;
	uint16_t ifindex = ifc->conf.ifindex;
	struct arp_entry *e = arp_find(s, ifindex, ip);
	if (e == NULL) {
		if (!create)
			return;
		e = arp_insert(s, ifindex, ip);
		if (e == NULL)
			return;
	} else if (e->state == ARP_REACHABLE &&
		   rte_is_same_ether_addr(&e->mac, mac)) {
		/* refresh only; nothing new to share */
		e->deadline_ns = tern_clock_now(s->clock) + s->arp_timeout_ns;
		return;
	}
	STAT_INC(s, arp_learned);
	entry_set_reachable(s, e, mac);
	if (s->neigh_cb != NULL) {
		struct tern_addr a = tern_addr_v4(ip);
		s->neigh_cb(s->neigh_arg, ifindex, &a, mac);
	}
}

void arp_input(struct tern_stack *s, uint16_t link, struct rte_mbuf *m)
{
	struct wf_arp arp;
	enum wf_verdict v = wf_arp_parse(m, &arp);
	if (v != WF_OK) {
		if (v == WF_SHORT)
			STAT_INC(s, arp_drop_malformed);
		else
			STAT_INC(s, arp_drop_unsupported);
		drop(m);
		return;
	}
	const struct rte_arp_ipv4 *d = &arp.h->arp_data;
	rte_be32_t sip = d->arp_sip, tip = d->arp_tip;
	struct iface *ifc = iface_by_link_ip(s, link, tip);
	if (arp.op == RTE_ARP_OP_REQUEST)
		STAT_INC(s, arp_rx_requests);
	else
		STAT_INC(s, arp_rx_replies);

	if (ifc == NULL) {
		/* Not our address; a gratuitous announcement (sip == tip) or
		 * any other frame still refreshes entries we already have
		 * (RFC 826 merge step) on every interface of the link. */
		struct iface *o;
		FOR_EACH_IFACE(s, o)
			if (o->conf.link == link)
				arp_learn(s, o, sip, &d->arp_sha, false);
		STAT_INC(s, arp_drop_not_for_us);
		drop(m);
		return;
	}
	ifc->stats.rx_pkts++;
	/* frame bytes, like IPv4's: eth_input already stripped the header */
	ifc->stats.rx_bytes += m->pkt_len + sizeof(struct rte_ether_hdr);
	if (sip == tip) {
		/* someone announces our own address: conflict, don't learn */
		STAT_INC(s, arp_drop_not_for_us);
		drop(m);
		return;
	}
	arp_learn(s, ifc, sip, &d->arp_sha, true);
	if (arp.op != RTE_ARP_OP_REQUEST) {
		drop(m); /* reply consumed: its content is learned */
		return;
	}
	/* Answer in place: the request mbuf becomes the reply. */
	struct rte_ether_addr sha = d->arp_sha;
	struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&sha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&ifc->conf.mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = tip;
	wf_trim_to(m, sizeof(*a)); /* Ethernet padding */
	tern_ol_reset(m, 0);
	m->packet_type = 0;
	struct rte_ether_hdr *eh = eth_prepend(s, m, ifc, RTE_ETHER_TYPE_ARP);
	if (eh == NULL)
		return;
	rte_ether_addr_copy(&sha, &eh->dst_addr);
	STAT_INC(s, arp_tx_replies);
	eth_xmit(s, ifc, m);
}

void arp_iface_gone(struct tern_stack *s, uint16_t ifindex)
{
	for (unsigned i = 0; i < ARP_TABLE_SIZE; i++) {
		struct arp_entry *e = &s->arp[i];
		if (e->state >= ARP_INCOMPLETE && e->ifindex == ifindex) {
			s->st.arp_drop_unresolved += e->qn;
			arp_remove(s, e);
		}
	}
}

void tern_stack_set_neigh_cb(struct tern_stack *s, tern_neigh_learn_fn fn,
			     void *arg)
{
	s->neigh_cb = fn;
	s->neigh_arg = arg;
}

int tern_neigh_add(struct tern_stack *s, uint16_t ifindex,
		   const struct tern_addr *ip, const struct rte_ether_addr *mac)
{
	if (ip == NULL || ip->family != TERN_AF_INET || mac == NULL ||
	    !rte_is_valid_assigned_ether_addr(mac))
		return -EINVAL;
	if (iface_get(s, ifindex) == NULL)
		return -ENOENT;
	struct arp_entry *e = arp_find(s, ifindex, ip->v4);
	if (e == NULL) {
		e = arp_insert(s, ifindex, ip->v4);
		if (e == NULL)
			return -ENOSPC;
	}
	entry_set_reachable(s, e, mac);
	return 0;
}

int tern_neigh_lookup(const struct tern_stack *s, uint16_t ifindex,
		      const struct tern_addr *ip, struct rte_ether_addr *mac)
{
	if (ip == NULL || ip->family != TERN_AF_INET)
		return -ENOENT;
	struct arp_entry *e = arp_find((struct tern_stack *)s, ifindex, ip->v4);
	if (e == NULL || e->state != ARP_REACHABLE)
		return -ENOENT;
	if (mac != NULL)
		*mac = e->mac;
	return 0;
}
