/* UDP (RFC 768) with a raw callback API on mbufs. Demux for thousands of
 * emulated hosts stays O(1): pcbs bound to one address sit in a hash of
 * (address, port); pcbs bound to any address chain from a per-port head
 * (one per port in practice); an exact binding beats the wildcard. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "stack_priv.h"
#include "wirefmt.h"

/* (address, port) packed for the map of exact bindings. */
static inline uint64_t udp_key(rte_be32_t addr, uint16_t port)
{
	return (uint64_t)addr << 16 | port;
}

int udp_init(struct tern_stack *s, const struct tern_stack_conf *c)
{
	s->udp_max = c->udp_max_pcbs ? c->udp_max_pcbs : 4096;
	s->pcbs = stack_zalloc(s, "tern_udp_pcbs", s->udp_max * sizeof(*s->pcbs));
	s->udp_free = stack_zalloc(s, "tern_udp_free",
				   s->udp_max * sizeof(*s->udp_free));
	s->port_head = stack_zalloc(s, "tern_udp_ports", 65536 * sizeof(uint32_t));
	s->port_exact = stack_zalloc(s, "tern_udp_exact",
				     65536 * sizeof(*s->port_exact));
	if (!s->pcbs || !s->udp_free || !s->port_head || !s->port_exact ||
	    hmap_init(&s->udp_exact, s, "tern_udp_exact", s->udp_max) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->udp_max; i++)
		s->udp_free[i] = s->udp_max - 1 - i;
	s->udp_nfree = s->udp_max;
	return 0;
}

void udp_fini(struct tern_stack *s)
{
	hmap_fini(&s->udp_exact);
	rte_free(s->pcbs);
	rte_free(s->udp_free);
	rte_free(s->port_head);
	rte_free(s->port_exact);
	s->pcbs = NULL;
	s->udp_free = NULL;
	s->port_head = NULL;
	s->port_exact = NULL;
}

static struct tern_udp_pcb *pcb_at(struct tern_stack *s, uint32_t idx1)
{
	return idx1 ? &s->pcbs[idx1 - 1] : NULL;
}

/* The pcb for (dst, port): an exact local address beats the wildcard. */
static struct tern_udp_pcb *udp_lookup(struct tern_stack *s, rte_be32_t dst,
				       uint16_t port)
{
	uint32_t i;
	if (s->port_exact[port] != 0 &&
	    hmap_get(&s->udp_exact, udp_key(dst, port), &i) == 0)
		return &s->pcbs[i];
	return pcb_at(s, s->port_head[port]);
}

bool udp_port_busy(struct tern_stack *s, const struct tern_addr *local,
		   uint16_t port)
{
	if (s->port_head[port] != 0)
		return true;	/* a wildcard holds every address */
	if (local->family == TERN_AF_NONE)
		return s->port_exact[port] != 0;
	uint32_t i;
	return hmap_get(&s->udp_exact, udp_key(local->v4, port), &i) == 0;
}

struct tern_udp_pcb *tern_udp_open(struct tern_stack *s,
				   const struct tern_addr *local, uint16_t port,
				   tern_udp_recv_fn fn, void *arg)
{
	struct tern_addr any;
	memset(&any, 0, sizeof(any));
	if (local == NULL)
		local = &any;
	if (fn == NULL || (local->family != TERN_AF_NONE &&
			   local->family != TERN_AF_INET)) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (local->family == TERN_AF_INET &&
	    tern_iface_by_addr(s, local) < 0) {
		/* like bind(2): only addresses of our interfaces */
		rte_errno = EADDRNOTAVAIL;
		return NULL;
	}
	if (port == 0) {
		/* No remote known here, so no steering: the plain range.
		 * Active opens call tern_stack_pick_port() first. */
		if (eph_pick_plain(s, IPPROTO_UDP, local, &port) < 0) {
			rte_errno = EADDRINUSE;
			return NULL;
		}
	} else if (udp_port_busy(s, local, port)) {
		rte_errno = EADDRINUSE;
		return NULL;
	}
	if (s->udp_nfree == 0) {
		rte_errno = ENOSPC;
		return NULL;
	}
	uint32_t i = s->udp_free[s->udp_nfree - 1];
	if (local->family == TERN_AF_INET) {
		if (hmap_put(&s->udp_exact, udp_key(local->v4, port), i) != 0) {
			rte_errno = ENOSPC;
			return NULL;
		}
		s->port_exact[port]++;
	}
	s->udp_nfree--;
	struct tern_udp_pcb *p = &s->pcbs[i];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->port = port;
	p->local = *local;
	p->fn = fn;
	p->arg = arg;
	if (local->family == TERN_AF_NONE) {
		p->next = s->port_head[port];
		s->port_head[port] = i + 1;
	}
	return p;
}

void tern_udp_close(struct tern_stack *s, struct tern_udp_pcb *pcb)
{
	if (pcb == NULL || !pcb->used)
		return;
	uint32_t idx = (uint32_t)(pcb - s->pcbs);
	if (pcb->local.family == TERN_AF_INET) {
		hmap_del(&s->udp_exact, udp_key(pcb->local.v4, pcb->port));
		s->port_exact[pcb->port]--;
	} else {
		uint32_t *link = &s->port_head[pcb->port];
		while (*link != 0 && *link != idx + 1)
			link = &s->pcbs[*link - 1].next;
		if (*link == idx + 1)
			*link = pcb->next;
	}
	memset(pcb, 0, sizeof(*pcb));
	s->udp_free[s->udp_nfree++] = idx;
}

uint16_t tern_udp_local_port(const struct tern_udp_pcb *pcb)
{
	return pcb->port;
}

void udp_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
	       unsigned hlen)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	unsigned iplen = rte_be_to_cpu_16(ip->total_length) - hlen;
	struct rte_ipv4_hdr iph = *ip; /* survives the adj below */
	rte_pktmbuf_adj(m, (uint16_t)hlen);

	struct wf_udp u;
	enum wf_verdict v = wf_udp_parse(m, iplen, &u);
	if (unlikely(v != WF_OK)) {
		if (v == WF_SHORT)
			STAT_INC(s, udp_drop_short);
		else
			STAT_INC(s, udp_drop_bad_len);
		drop(m);
		return;
	}
	/* RFC 768: the checksum covers the datagram (u.len bytes, which may
	 * be fewer than the IP payload) and a pseudo-header holding the UDP
	 * length, not the IP payload length. */
	if (unlikely(tern_ol_rx_l4_ip4(m, &iph, u.h, u.len, IPPROTO_UDP) !=
		     TERN_OL_CKSUM_GOOD)) {
		STAT_INC(s, udp_drop_bad_cksum);
		drop(m);
		return;
	}
	uint16_t dport = rte_be_to_cpu_16(u.h->dst_port);
	struct tern_udp_pcb *pcb = udp_lookup(s, iph.dst_addr, dport);
	if (pcb == NULL) {
		STAT_INC(s, udp_drop_no_port);
		/* quote the original: put the IP header back in front */
		rte_pktmbuf_prepend(m, (uint16_t)hlen);
		icmp4_send_unreach(s, ifc, m, 3 /* port unreachable */);
		drop(m);
		return;
	}
	STAT_INC(s, udp_rx_pkts);
	struct tern_addr src = tern_addr_v4(iph.src_addr);
	struct tern_addr dst = tern_addr_v4(iph.dst_addr);
	uint16_t sport = rte_be_to_cpu_16(u.h->src_port);
	wf_trim_to(m, u.len);
	rte_pktmbuf_adj(m, sizeof(struct rte_udp_hdr));
	m->l4_len = sizeof(struct rte_udp_hdr);
	pcb->fn(pcb->arg, pcb, m, &src, sport, &dst);
}

int tern_udp_sendto(struct tern_stack *s, struct tern_udp_pcb *pcb,
		    const struct tern_addr *dst, uint16_t dport,
		    struct rte_mbuf *m)
{
	if (unlikely(pcb == NULL || dst == NULL || dst->family != TERN_AF_INET ||
		     dport == 0)) {
		drop(m);
		return -EINVAL;
	}
	uint32_t len = m->pkt_len + sizeof(struct rte_udp_hdr);
	if (unlikely(len > UINT16_MAX - sizeof(struct rte_ipv4_hdr))) {
		STAT_INC(s, ip4_drop_too_big);
		drop(m);
		return -EMSGSIZE;
	}
	/* Headers go in bytes we may write: a payload shared with others
	 * (a template, a retransmission copy) gets a header segment. */
	m = mbuf_hdr_room(s, m, sizeof(struct rte_udp_hdr) +
			  sizeof(struct rte_ipv4_hdr) +
			  sizeof(struct rte_ether_hdr));
	if (unlikely(m == NULL))
		return -ENOBUFS;
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)rte_pktmbuf_prepend(
		m, sizeof(*u));
	u->src_port = rte_cpu_to_be_16(pcb->port);
	u->dst_port = rte_cpu_to_be_16(dport);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)len);
	u->dgram_cksum = 0;
	/* A reused RX mbuf carries RX flags: start clean. */
	tern_ol_reset(m, RTE_MBUF_F_TX_UDP_CKSUM);
	m->packet_type = 0;
	m->l4_len = sizeof(*u);
	/* The pcb keeps the route of its last destination: a flow sends
	 * with no lookup while the route stays valid. */
	if (unlikely(pcb->rt.dst.family != TERN_AF_INET ||
		     pcb->rt.dst.v4 != dst->v4)) {
		int rc = tern_route_get(s, dst, &pcb->local, &pcb->rt);
		if (rc != 0) {
			memset(&pcb->rt, 0, sizeof(pcb->rt));
			STAT_INC(s, ip4_drop_no_route);
			drop(m);
			return rc == -EADDRNOTAVAIL ? rc : -EHOSTUNREACH;
		}
	}
	int rc = tern_ip_send(s, &pcb->rt, m, IPPROTO_UDP, 0);
	if (rc == 0)
		STAT_INC(s, udp_tx_pkts);
	return rc;
}

void tern_udp_set_err_fn(struct tern_udp_pcb *pcb, tern_udp_err_fn fn)
{
	if (pcb != NULL)
		pcb->err_fn = fn;
}

int udp_err4(struct tern_stack *s, const struct rte_ipv4_hdr *in,
	     const uint8_t *l4, int err, uint32_t info)
{
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)l4;
	struct tern_udp_pcb *pcb = udp_lookup(s, in->src_addr,
					      rte_be_to_cpu_16(u->src_port));
	if (pcb == NULL)
		return -ENOENT;
	STAT_INC(s, udp_rx_errors);
	if (pcb->err_fn != NULL) {
		struct tern_addr d = tern_addr_v4(in->dst_addr);
		pcb->err_fn(pcb->arg, pcb, err, &d,
			    rte_be_to_cpu_16(u->dst_port), info);
	}
	return 0;
}
