/* Private state of a stack instance. Only core sources include this. */
#ifndef TERN_STACK_PRIV_H
#define TERN_STACK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <tern/stack.h>

#define ARP_TABLE_SIZE 1024	/* power of two */
#define ARP_QUEUE_MAX 16
#define UDP_MAX_PCBS 4096
#define TIMER_HEAP_MAX 65536
#define ICMP_RATE_PER_S 1000	/* like Linux net.ipv4.icmp_msgs_per_sec */
#define ICMP_BURST 50

struct iface_addr {
	struct tern_addr addr;
	uint8_t plen;
};

struct iface {
	bool used;
	struct tern_iface_conf conf;
	struct iface_addr addrs[TERN_IFACE_MAX_ADDRS];
	unsigned naddrs;
	struct tern_iface_stats stats;
};

enum arp_state { ARP_FREE = 0, ARP_DELETED, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_entry {
	uint8_t state;
	uint8_t retries;
	uint8_t qn;
	uint16_t ifindex;
	rte_be32_t ip;
	struct rte_ether_addr mac;
	uint64_t deadline_ns;	/* expiry (reachable) or next retry */
	struct rte_mbuf *q[ARP_QUEUE_MAX];
};

struct tern_udp_pcb {
	bool used;
	uint16_t port;		/* host order */
	uint32_t next;		/* next pcb index + 1 on the same port, 0 end */
	struct tern_addr local;	/* family NONE: any */
	tern_udp_recv_fn fn;
	void *arg;
};

struct tern_stack {
	char name[32];
	unsigned lcore;
	struct rte_mempool *pool;
	struct tern_clock *clock;
	struct tern_hooks hooks;
	struct tern_stack_stats st;

	/* interfaces, by slot; ifindex is in conf. active[] lists the slots
	 * in use in the order they were added, so per-packet scans (demux,
	 * routes) visit only real interfaces. */
	struct iface ifaces[TERN_MAX_IFACES];
	struct iface *active[TERN_MAX_IFACES];
	unsigned nactive;

	/* ARP */
	struct arp_entry arp[ARP_TABLE_SIZE];
	unsigned arp_used;
	uint64_t arp_timeout_ns, arp_retry_ns;
	unsigned arp_max_retries, arp_queue_len;
	struct tern_timer arp_timer;
	tern_neigh_learn_fn neigh_cb;
	void *neigh_arg;

	/* IPv4 */
	uint16_t ip_id;

	/* ICMP error rate limit (token bucket, RFC 1812 4.3.2.8) */
	uint64_t icmp_credit_ns;	/* starts full: ICMP_BURST messages */
	uint64_t icmp_last_ns;

	/* UDP */
	struct tern_udp_pcb *pcbs;	/* UDP_MAX_PCBS */
	uint32_t *port_head;		/* 65536 entries: pcb index + 1 */
	uint16_t next_ephemeral;

	/* timers: binary min-heap */
	struct tern_timer **heap;
	uint32_t heap_n;
};

#define STAT_INC(s, name) ((s)->st.name++)

/* Every interface in use, in the order it was added. */
#define FOR_EACH_IFACE(s, ifc)                                                 \
	for (unsigned ifc##_i = 0;                                             \
	     ifc##_i < (s)->nactive && ((ifc) = (s)->active[ifc##_i], 1);      \
	     ifc##_i++)

/* iface.c */
struct iface *iface_get(struct tern_stack *s, uint16_t ifindex);
struct iface *iface_by_link_mac(struct tern_stack *s, uint16_t link,
				const struct rte_ether_addr *mac);
struct iface *iface_by_link_ip(struct tern_stack *s, uint16_t link,
			       rte_be32_t ip);
struct iface *iface_first_on_link(struct tern_stack *s, uint16_t link);
/* The interface on link accepting IPv4 dst (owns it, or it is one of its
 * broadcasts), among those with MAC mac unless mac is NULL; NULL if none. */
struct iface *iface_for_ip4(struct tern_stack *s, uint16_t link,
			    const struct rte_ether_addr *mac, rte_be32_t dst);
bool iface_owns_ip(const struct iface *ifc, rte_be32_t ip);
bool iface_is_bcast(const struct iface *ifc, rte_be32_t ip);
/* The address of ifc to use as a source towards dst. */
rte_be32_t iface_src_for(const struct iface *ifc, rte_be32_t dst);

/* route.c: picks the interface and next hop for dst; src (0 = any)
 * restricts to the interface owning it. -EHOSTUNREACH. */
int route_lookup(struct tern_stack *s, rte_be32_t dst, rte_be32_t src,
		 struct iface **ifc, rte_be32_t *nexthop);

/* stack.c: demux of one frame after the ETH_INPUT hooks (by destination
 * MAC and ethertype). Consumes m. */
void eth_demux(struct tern_stack *s, uint16_t link, struct rte_mbuf *m);

/* eth.c: finishes checksums, runs ETH_OUTPUT, then eth_tx(). Always
 * consumes m. */
void eth_xmit(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m);
/* After the ETH_OUTPUT hooks: hands m (data at the Ethernet header,
 * checksums finished) to the interface's transmit function. Consumes m. */
void eth_tx(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m);
/* Initialises the hook chains and registers how each point continues
 * (eth_demux, eth_tx, ip4_deliver) for packets hooks hold and resume. */
void eth_hooks_init(struct tern_stack *s);
/* Prepends an Ethernet header; NULL (m freed, counted) without room. */
struct rte_ether_hdr *eth_prepend(struct tern_stack *s, struct rte_mbuf *m,
				  const struct iface *ifc, uint16_t type);

/* arp.c */
void arp_init(struct tern_stack *s);
void arp_fini(struct tern_stack *s);
void arp_input(struct tern_stack *s, uint16_t link, struct rte_mbuf *m);
/* m has its Ethernet header (dst to fill). Sends now, or queues it until
 * nexthop is resolved, or drops it (counted). Consumes m. */
void arp_output(struct tern_stack *s, struct iface *ifc, rte_be32_t nexthop,
		struct rte_mbuf *m);
void arp_iface_gone(struct tern_stack *s, uint16_t ifindex);
int arp_send(struct tern_stack *s, struct iface *ifc, uint16_t op,
	     rte_be32_t sip, const struct rte_ether_addr *tha, rte_be32_t tip,
	     const struct rte_ether_addr *eth_dst);

/* ip4.c */
void ip4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m);
/* After validation and the IP_INPUT hooks: hands m (data at its IPv4
 * header, l3_len set) to ICMP or UDP. Consumes m. */
void ip4_deliver(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m);
/* m data at the L4 header; m->ol_flags may hold the L4 TX checksum flag.
 * src 0 = choose. Consumes m. 0 or -errno (drop counted). */
int ip4_output(struct tern_stack *s, struct rte_mbuf *m, rte_be32_t src,
	       rte_be32_t dst, uint8_t proto);

/* icmp4.c */
void icmp4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
		 unsigned hlen);
/* m: the offending packet, data at its IPv4 header; m is not consumed. */
void icmp4_send_unreach(struct tern_stack *s, struct iface *ifc,
			const struct rte_mbuf *m, uint8_t code);

/* udp.c */
int udp_init(struct tern_stack *s);
void udp_fini(struct tern_stack *s);
void udp_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
	       unsigned hlen);

/* timer.c */
int timer_init(struct tern_stack *s);
void timer_fini(struct tern_stack *s);

static inline void drop(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

/* Runs the chain of point, if it has one, and returns its verdict. On
 * DROP, m is freed here and counted in *drops; on CONSUMED the hook owns
 * it. Either way the caller must stop when the verdict is not CONTINUE. */
static inline enum tern_verdict hooks_run(struct tern_stack *s,
					  enum tern_hook_point point,
					  uint16_t link, uint16_t ifindex,
					  struct rte_mbuf *m, uint64_t *drops)
{
	if (tern_hooks_empty(&s->hooks, point))
		return TERN_HOOK_CONTINUE;
	struct tern_hook_ctx ctx = {point, link, ifindex, s->lcore};
	enum tern_verdict v = tern_hooks_run(&s->hooks, m, &ctx);
	if (v == TERN_HOOK_DROP) {
		(*drops)++;
		drop(m);
	}
	return v;
}

static inline bool ip4_is_limited_bcast(rte_be32_t ip)
{
	return ip == RTE_BE32(0xffffffff);
}

static inline bool ip4_is_multicast(rte_be32_t ip)
{
	return (rte_be_to_cpu_32(ip) >> 28) == 0xe;
}

/* 127/8: never seen outside a host (RFC 1122 3.2.1.3 (g)). */
static inline bool ip4_is_loopback(rte_be32_t ip)
{
	return (rte_be_to_cpu_32(ip) >> 24) == 127;
}

static inline rte_be32_t ip4_mask(uint8_t plen)
{
	return plen == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - plen));
}

#endif
