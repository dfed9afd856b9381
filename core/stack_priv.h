/* Private state of a stack instance. Only core sources include this. */
#ifndef TERN_STACK_PRIV_H
#define TERN_STACK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <tern/stack.h>

#include "local.h"
#include "neigh.h"
#include "tcp_priv.h"

#define ICMP_RATE_PER_S 1000	/* like Linux net.ipv4.icmp_msgs_per_sec */
#define ICMP_BURST 50

/* An address range of an interface, with what per-packet checks need
 * precomputed (DESIGN: per-address masks and broadcasts). */
struct iface_range {
	rte_be32_t base;	/* first address */
	uint32_t first;		/* host order: base */
	uint32_t count;
	rte_be32_t mask;
	rte_be32_t net;		/* base & mask */
	rte_be32_t bcast;	/* directed broadcast; 0: none (/31, /32) */
	uint8_t plen;
	bool host_macs;
	struct rte_ether_addr mac_base;	/* host i: mac_base + i */
};

struct iface {
	bool used;
	uint16_t slot;		/* index in tern_stack.ifaces */
	struct tern_iface_conf conf;
	struct iface_range ranges[TERN_IFACE_MAX_ADDRS];
	unsigned nranges;
	struct tern_iface_stats stats;
};

#define PMTU_SLOTS 256		/* power of two */

struct pmtu_entry {
	rte_be32_t dst;
	uint16_t mtu;		/* 0: free */
	uint64_t expires_ns;
};

struct tern_udp_pcb {
	bool used;
	uint16_t port;		/* host order */
	uint32_t next;		/* next pcb index + 1 on the same port, 0 end */
	struct tern_addr local;	/* family NONE: any */
	tern_udp_recv_fn fn;
	tern_udp_err_fn err_fn;
	void *arg;
	struct tern_route rt;	/* the last destination's route */
};

struct tern_stack {
	char name[32];
	unsigned lcore;
	int socket;		/* NUMA socket of its memory (conf) */
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
	uint8_t ifslot[TERN_MAX_IFINDEX];	/* ifindex -> slot + 1 */
	struct hmap macs;	/* (link, MAC) -> slot: Ethernet demux */
	unsigned host_mac_ranges;	/* ranges with MACs of their own */
	struct local_table local;	/* our addresses (local.h) */

	/* routes */
	struct tern_fib *fib;
	bool fib_owned;		/* ours: we keep our interfaces' routes */

	/* neighbours (ARP now, ND later) */
	struct neigh_table neigh;
	int pkt_next_off;	/* pktq.h: the mbuf field chaining queues */
	int pkt_pos_off;	/* pktq.h: a packet's place in TCP's send
				 * queue (tcp_sndq_push) */
	uint64_t rng;		/* stack_rand() state */

	/* IPv4 */
	uint16_t ip_id;
	uint32_t route_epoch;	/* moves when interfaces, addresses or path
				 * MTUs change: cached routes look again */
	struct pmtu_entry *pmtu;	/* PMTU_SLOTS, ip4_frag.c */
	uint32_t pmtu_live;
	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row *frag_dr;
	struct tern_timer frag_timer;
	uint64_t frag_timeout_ns;
	uint64_t frag_last_ns;	/* last fragment seen */

	/* ICMP error rate limit (token bucket, RFC 1812 4.3.2.8) */
	uint64_t icmp_credit_ns;	/* starts full: ICMP_BURST messages */
	uint64_t icmp_last_ns;

	/* UDP */
	struct tern_udp_pcb *pcbs;	/* udp_max */
	uint32_t udp_max;
	uint32_t *udp_free;		/* free pcb indices (a stack) */
	uint32_t udp_nfree;
	uint32_t *port_head;		/* 65536: wildcard pcbs, index + 1 */
	uint16_t *port_exact;		/* 65536: pcbs bound to one address */
	struct hmap udp_exact;		/* (address, port) -> pcb index */

	/* TCP (tcp_*.c) */
	struct tcp_state tcp;
	/* RX: GRO on (conf), and the connection-table hash of the packet
	 * being input, computed for the whole burst (tcp_rx_hints) */
	bool gro;
	const struct tcp_rx_hint *rx_hint;

	/* ephemeral ports and RSS steering (ephemeral.c) */
	struct eph_state *eph;

	/* timers: a hierarchical wheel (timer_wheel.h) */
	struct timer_wheel *tw;
};

#define STAT_INC(s, name) ((s)->st.name++)
#define STAT_ADD(s, name, n) ((s)->st.name += (n))

static inline uint32_t tcp_idx(const struct tern_stack *s,
			       const struct tcp_conn *c)
{
	return (uint32_t)(c - s->tcp.conns);
}

static inline struct tcp_cold *tcp_cold_of(struct tern_stack *s,
					   const struct tcp_conn *c)
{
	return &s->tcp.cold[c - s->tcp.conns];
}

/* The connection's callbacks (NULL: none yet). */
static inline const struct tern_tcp_ops *tcp_ops(const struct tern_stack *s,
						 const struct tcp_conn *c)
{
	return s->tcp.ops_tab[c->ops];
}

/* The connection whose timer link l is, or NULL when l is another
 * owner's (in struct tern_timer): connections embed the link alone, and
 * the wheel tells them by their array's address range. */
static inline struct tcp_conn *tcp_conn_of_timer(const struct tern_stack *s,
						 struct tern_timer_link *l)
{
	const struct tcp_state *t = &s->tcp;
	uintptr_t first = (uintptr_t)&t->conns[0].timer;
	if ((uintptr_t)l - first >= ((uintptr_t)t->max + 1) * sizeof(struct tcp_conn))
		return NULL;
	return container_of(l, struct tcp_conn, timer);
}

/* c's on-demand block, NULL when it has none (struct tcp_ext). */
static inline struct tcp_ext *tcp_ext_of(struct tern_stack *s,
					 const struct tcp_conn *c)
{
	return c->ext != 0 ? &s->tcp.ext[c->ext - 1] : NULL;
}

/* Queues m at the end of c's send queue, noting where its first byte
 * falls in the stream (mod 2^32: the queue is shorter), so that offsets
 * within the queue are differences of two packets' positions and the
 * control block keeps none (tcp_output.c attach_data). */
static inline void tcp_sndq_push(struct tern_stack *s, struct tcp_conn *c,
				 struct rte_mbuf *m)
{
	struct rte_mbuf *t = c->sndq.tail;
	*pktq_posp(s->pkt_pos_off, m) =
		t != NULL ? *pktq_posp(s->pkt_pos_off, t) + t->pkt_len : 0;
	pktlist_push(s->pkt_next_off, &c->sndq, m);
}

/* Counts a retransmission of segs segments, bytes of data. */
static inline void tcp_count_retrans(struct tern_stack *s, struct tcp_conn *c,
				     uint32_t segs, uint32_t bytes)
{
	struct tcp_cold *cold = tcp_cold_of(s, c);
	STAT_ADD(s, tcp_retrans_segs, segs);
	cold->retransmits += segs;
	cold->bytes_retrans = cold->bytes_retrans + bytes < cold->bytes_retrans ?
			      UINT32_MAX : cold->bytes_retrans + bytes;
}

/* c's on-demand block, taken from the pool when it has none; NULL (and
 * tcp.ext_empty counted) when the pool is empty (tcp_table.c). */
struct tcp_ext *tcp_ext_take(struct tern_stack *s, struct tcp_conn *c);
static inline struct tcp_ext *tcp_ext_get(struct tern_stack *s,
					  struct tcp_conn *c)
{
	return c->ext != 0 ? &s->tcp.ext[c->ext - 1] : tcp_ext_take(s, c);
}

/* Gives c's block back unless it holds data or keepalive is on. */
void tcp_ext_trim(struct tern_stack *s, struct tcp_conn *c);

/* The route c keeps (tcp_route_hold gave it one). */
static inline struct tern_route *tcp_route_of(struct tern_stack *s,
					      const struct tcp_conn *c)
{
	return &s->tcp.routes.ent[tcp_cold_of(s, c)->route].rt;
}

/* Input, timers and API calls hold the TCP state while they work on a
 * connection: a block released meanwhile (a callback aborting it) is
 * reused only when the outermost work ends. */
static inline void tcp_hold(struct tern_stack *s)
{
	s->tcp.busy++;
}

static inline void tcp_unhold(struct tern_stack *s)
{
	if (--s->tcp.busy == 0 && s->tcp.nreap != 0)
		tcp_reap(s);
}

/* Every interface in use, in the order it was added. */
#define FOR_EACH_IFACE(s, ifc)                                                 \
	for (unsigned ifc##_i = 0;                                             \
	     ifc##_i < (s)->nactive && ((ifc) = (s)->active[ifc##_i], 1);      \
	     ifc##_i++)

/* iface.c */
int iface_init(struct tern_stack *s, const struct tern_stack_conf *c);
void iface_fini(struct tern_stack *s);

static inline struct iface *iface_get(struct tern_stack *s, uint16_t ifindex)
{
	if (unlikely(ifindex >= TERN_MAX_IFINDEX || s->ifslot[ifindex] == 0))
		return NULL;
	return &s->ifaces[s->ifslot[ifindex] - 1];
}

/* The range of ours holding ip (and its interface and host number), or
 * NULL. O(1) however many addresses the stack has. */
const struct iface_range *local_range(struct tern_stack *s, rte_be32_t ip,
				      struct iface **ifc, uint32_t *host);
/* First interface on link with MAC mac (hash), or NULL. */
struct iface *iface_by_link_mac(struct tern_stack *s, uint16_t link,
				const struct rte_ether_addr *mac);
/* The interface on link answering for unicast MAC mac: its own MAC or
 * that of a host of one of its ranges; NULL when none. */
struct iface *iface_mac_owner(struct tern_stack *s, uint16_t link,
			      const struct rte_ether_addr *mac);
/* The interface on link owning ip, or NULL. */
struct iface *iface_by_link_ip(struct tern_stack *s, uint16_t link,
			       rte_be32_t ip);
struct iface *iface_first_on_link(struct tern_stack *s, uint16_t link);
/* The first interface on link having dst as a broadcast address. */
struct iface *iface_bcast_on_link(struct tern_stack *s, uint16_t link,
				  rte_be32_t dst);
bool iface_owns_ip(const struct iface *ifc, rte_be32_t ip);
bool iface_is_bcast(const struct iface *ifc, rte_be32_t ip);
/* True when ip is inside the subnet of one of ifc's ranges. */
bool iface_on_link(const struct iface *ifc, rte_be32_t ip);
/* The address of ifc to use as a source towards dst. */
rte_be32_t iface_src_for(const struct iface *ifc, rte_be32_t dst);
/* MAC of host `host` of range r of ifc. */
void iface_host_mac(const struct iface *ifc, const struct iface_range *r,
		    uint32_t host, struct rte_ether_addr *mac);
/* The MAC that ifc sends from for source src (one of its addresses). */
void iface_src_mac(struct tern_stack *s, const struct iface *ifc,
		   rte_be32_t src, struct rte_ether_addr *mac);

/* route.c: picks the interface and next hop for dst; src (0 = any)
 * sends from the interface owning it (an emulated host sends from its
 * own interface): a destination in that interface's subnets goes direct,
 * others through the route's gateway when the route's interface is on the
 * same link, else through that interface's gateway. -EHOSTUNREACH. */
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

/* arp.c: the ARP wire (RFC 826); the cache is the neighbour table. */
void arp_input(struct tern_stack *s, uint16_t link, struct rte_mbuf *m);
/* Sends an ARP packet from ifc with sender (sha, sip) (sha NULL: the
 * interface's MAC) to Ethernet eth_dst. */
int arp_send(struct tern_stack *s, struct iface *ifc, uint16_t op,
	     const struct rte_ether_addr *sha, rte_be32_t sip,
	     const struct rte_ether_addr *tha, rte_be32_t tip,
	     const struct rte_ether_addr *eth_dst);

/* ip4.c */
struct wf_ip4;
/* need bytes of headroom in front of m's data that we may write: when
 * m's first segment is shared (its headroom belongs to the buffer's other
 * holders, e.g. a retransmission copy) or too full, a segment of our own
 * is chained in front. NULL (m freed, counted) without an mbuf. */
struct rte_mbuf *mbuf_hdr_room(struct tern_stack *s, struct rte_mbuf *m,
			       uint16_t need);
void ip4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m);
/* After the IP_OUTPUT hooks: Ethernet header, then the neighbour (or a
 * broadcast). m is an IPv4 packet with its header. Consumes m. */
int ip4_output_tail(struct tern_stack *s, struct iface *ifc,
		    struct tern_route *rt, struct rte_mbuf *m);
/* A packet held by an IP_OUTPUT hook, put back: routed again from its
 * header. Consumes m. */
void ip4_output_resume(struct tern_stack *s, struct iface *ifc,
		       struct rte_mbuf *m);

/* ip4_frag.c */
int ip4_frag_init(struct tern_stack *s, const struct tern_stack_conf *c);
void ip4_frag_fini(struct tern_stack *s);
/* m is a fragment for us (header valid, data at it): NULL while the
 * datagram is incomplete (m is held) or when m was dropped (counted);
 * else the whole datagram, header checksum redone, l3_len set. */
struct rte_mbuf *ip4_reassemble(struct tern_stack *s, struct rte_mbuf *m,
				const struct wf_ip4 *ip);
/* m (IPv4 header built without DF, larger than rt->mtu): its transport
 * checksum done in software, cut into fragments of rt->mtu, each sent
 * through ip4_output_tail. Consumes m. */
int ip4_fragment_out(struct tern_stack *s, struct iface *ifc,
		     struct tern_route *rt, struct rte_mbuf *m);
/* The path MTU towards dst: ifmtu unless ICMP said less (RFC 1191). */
uint16_t pmtu_get(struct tern_stack *s, rte_be32_t dst, uint16_t ifmtu);
/* Lowers the estimate for dst to mtu (not below 552); 1 when it changed. */
int pmtu_update(struct tern_stack *s, rte_be32_t dst, uint32_t mtu);
/* After validation and the IP_INPUT hooks: hands m (data at its IPv4
 * header, l3_len set) to ICMP or UDP. Consumes m. */
void ip4_deliver(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m);
/* m data at the L4 header; m->ol_flags may hold the L4 TX checksum flag.
 * src 0 = choose. Looks the route up and sends through tern_ip_send().
 * Consumes m. 0 (sent or queued for resolution) or -errno (drop
 * counted). */
int ip4_output(struct tern_stack *s, struct rte_mbuf *m, rte_be32_t src,
	       rte_be32_t dst, uint8_t proto);

/* icmp4.c */
void icmp4_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
		 unsigned hlen);
/* m: the offending packet, data at its IPv4 header; m is not consumed. */
void icmp4_send_unreach(struct tern_stack *s, struct iface *ifc,
			const struct rte_mbuf *m, uint8_t code);

/* udp.c */
int udp_init(struct tern_stack *s, const struct tern_stack_conf *c);
void udp_fini(struct tern_stack *s);
/* A pcb bound to port would clash with one bound to (local, port). */
bool udp_port_busy(struct tern_stack *s, const struct tern_addr *local,
		   uint16_t port);
void udp_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
	       unsigned hlen);
/* An ICMP error about a datagram we sent: in, the quoted IPv4 header, l4
 * its first 8 bytes. 0 when a pcb took it, -ENOENT when none matches. */
int udp_err4(struct tern_stack *s, const struct rte_ipv4_hdr *in,
	     const uint8_t *l4, int err, uint32_t info);

/* stack.c: zeroed, cache-aligned memory on the stack's socket (any
 * socket when that one has none); rte_free() it. NULL when none. */
void *stack_zalloc(struct tern_stack *s, const char *what, size_t size);

/* ephemeral.c: the stack's range, the links' RSS, port choice. */
bool eph_conf_valid(const struct tern_stack_conf *conf);
int eph_init(struct tern_stack *s, const struct tern_stack_conf *conf);
void eph_fini(struct tern_stack *s);
/* A free port of the range for proto on local, without steering (a
 * passive bind to port 0). 0 or -EADDRINUSE. */
int eph_pick_plain(struct tern_stack *s, uint8_t proto,
		   const struct tern_addr *local, uint16_t *port);

/* timer.c: tick_ns 0 = the default tick. 0 or -ENOMEM. */
int timer_init(struct tern_stack *s, uint32_t tick_ns);
/* tern_timer_arm and tern_timer_cancel on a bare link (TCP's). */
void tw_arm(struct tern_stack *s, struct tern_timer_link *t, uint64_t expires_ns);
void tw_cancel(struct tern_stack *s, struct tern_timer_link *t);
void timer_fini(struct tern_stack *s);

static inline void drop(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

/* xorshift64*: cheap, deterministic from the stack's seed (tests); not
 * for anything an attacker must not predict. */
static inline uint64_t stack_rand(struct tern_stack *s)
{
	uint64_t x = s->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dull;
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
	return plen == 0 || plen > 32 ? 0 : rte_cpu_to_be_32(~0u << (32 - plen));
}

#endif
