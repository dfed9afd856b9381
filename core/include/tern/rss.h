/* Connections stay on their lcore (DESIGN rule 8).
 *
 * - The Toeplitz hash of an IPv4 tuple as a NIC computes it for RSS, and
 *   tern's symmetric key (both directions of a flow hash the same).
 * - Steering: the choice of a local port whose *return* traffic hashes,
 *   through a link's key and RETA, to the queue the opening lcore reads.
 * - The split of the ephemeral port range between workers, and the
 *   classifier that tells which worker owns a received frame (the one
 *   whose range holds its destination port), so the data plane can hand a
 *   frame that landed on the wrong lcore to the right one.
 * - The stack-level port choice for active opens (UDP now, TCP next),
 *   which uses the link's RSS when the data plane gave it one.
 *
 * Why tern does not use rte_thash's predictable-RSS helpers: see
 * docs/architecture.md, "RSS steering". */
#ifndef TERN_RSS_H
#define TERN_RSS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <tern/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

#define TERN_RSS_KEY_MIN 16	/* an IPv4 L4 tuple (12 bytes) + 4 */
#define TERN_RSS_KEY_MAX 64	/* bytes; 40 on most NICs, 52 on i40e */
#define TERN_RSS_RETA_MAX 65536
#define TERN_EPHEMERAL_LO 49152	/* RFC 6335 section 6: dynamic ports */
#define TERN_EPHEMERAL_HI 65535

/* ---- Toeplitz ------------------------------------------------------ */

/* A key prepared for hashing (rte_softrss_be's word order). */
struct tern_rss_key {
	uint32_t w[TERN_RSS_KEY_MAX / 4];
	uint8_t len;		/* bytes */
};

/* tern's key: 0x6d5a repeated. With its 16-bit halves equal the Toeplitz
 * windows of source and destination fields coincide, so a flow and its
 * reverse hash alike (Woo and Park, "Scalable TCP session monitoring with
 * symmetric receive-side scaling", 2012). len bytes. */
void tern_rss_key_symmetric(uint8_t *key, unsigned len);

/* len: 16..64, a multiple of 4. -EINVAL. */
int tern_rss_key_init(struct tern_rss_key *k, const uint8_t *key,
		      unsigned len);

/* The hash a NIC computes over src addr, dst addr, src port, dst port
 * (addresses in network order, ports in host order), and over the
 * addresses only (what NICs hash for fragments and other protocols). */
uint32_t tern_rss_hash_v4(const struct tern_rss_key *k, rte_be32_t src,
			  rte_be32_t dst, uint16_t sport, uint16_t dport);
uint32_t tern_rss_hash_v4_l3(const struct tern_rss_key *k, rte_be32_t src,
			     rte_be32_t dst);

/* ---- one link's RSS, and the steering it allows ---------------------- */

struct tern_rss_conf {
	const uint8_t *key;	/* the key the port hashes with */
	unsigned key_len;
	const uint16_t *reta;	/* queue = reta[hash & (reta_size - 1)] */
	unsigned reta_size;	/* a power of two, 1..65536 */
	uint16_t queue;		/* the queue this stack reads */
	bool hash_udp;		/* the port hashes UDP ports (else IPs only) */
	bool hash_tcp;		/* the port hashes TCP ports */
};

struct tern_rss_steer;

/* Precomputes the steering for conf (copied). NULL with rte_errno EINVAL
 * or ENOMEM. */
struct tern_rss_steer *tern_rss_steer_create(const struct tern_rss_conf *c);
void tern_rss_steer_free(struct tern_rss_steer *st);

/* The queue a frame of proto (IPPROTO_UDP/TCP; anything else hashes the
 * addresses only) from src:sport to dst:dport arrives on. */
uint16_t tern_rss_steer_queue(const struct tern_rss_steer *st, uint8_t proto,
			      rte_be32_t src, rte_be32_t dst, uint16_t sport,
			      uint16_t dport);

/* True when port is taken (the caller's table of ports in use). */
typedef bool (*tern_port_busy_fn)(void *arg, uint16_t port);

/* Picks a local port in [lo, hi] such that the return traffic (from
 * remote:rport to local:port) arrives on the steer's queue, and busy()
 * (may be NULL) says it is free. *cursor walks the steered ports of the
 * range in a fixed order, so successive calls give distinct ports; the
 * cost is O(1) expected (a few table lookups per candidate, no hashing),
 * O(range) only when nearly every steered port is busy.
 * 0; -EOPNOTSUPP when the port does not hash proto's ports (any local
 * port lands on the same queue); -ENOENT when no port of the range lands
 * on the queue (it has no RETA entry, or the key cannot reach them);
 * -EADDRINUSE when every port of the range that does is busy; -EINVAL. */
int tern_rss_steer_port(const struct tern_rss_steer *st, uint8_t proto,
			rte_be32_t local, rte_be32_t remote, uint16_t rport,
			uint16_t lo, uint16_t hi, uint32_t *cursor,
			tern_port_busy_fn busy, void *arg, uint16_t *port);

/* ---- the ephemeral range split between workers ------------------------ */

struct tern_eph_split {
	uint16_t lo, hi;
	unsigned n;		/* workers */
	unsigned base;		/* ports per worker (the first extra get +1) */
	unsigned extra;
};

/* lo/hi 0/0: 49152..65535. -EINVAL when lo > hi, lo is 0, n is 0 or the
 * range has fewer than n ports. */
int tern_eph_split_init(struct tern_eph_split *sp, uint16_t lo, uint16_t hi,
			unsigned n);
/* Worker i's contiguous part. */
void tern_eph_split_range(const struct tern_eph_split *sp, unsigned i,
			  uint16_t *lo, uint16_t *hi);
/* The worker whose part holds port, -1 outside the range. */
int tern_eph_split_owner(const struct tern_eph_split *sp, uint16_t port);

/* The worker that owns frame m (data at its Ethernet header): for IPv4
 * UDP/TCP, the owner of its destination port; for an ICMP error quoting
 * a UDP/TCP packet, the owner of the quoted (our) source port. -1 when no
 * worker owns it (ARP, echo, fragments, ports outside the range: flows
 * the peer opened), so it stays where it landed. Reads headers only. */
int tern_steer_owner(const struct tern_eph_split *sp,
		     const struct rte_mbuf *m);

/* ---- the stack's port choice ------------------------------------------- */

/* The data plane tells each stack how link `link` spreads frames over
 * queues and which queue this stack reads (NULL forgets it). Control
 * thread before the loops run, or a message on the stack's lcore.
 * -EINVAL, -ENOMEM, -ENOSPC (too many links). */
int tern_stack_set_link_rss(struct tern_stack *s, uint16_t link,
			    const struct tern_rss_conf *c);

/* The stack's ephemeral range (tern_stack_conf.ephemeral_lo/hi). */
void tern_stack_ephemeral_range(const struct tern_stack *s, uint16_t *lo,
				uint16_t *hi);

/* A local port for an active open of proto (IPPROTO_UDP today) from
 * local (family NONE: the source the route to remote gives) to
 * remote:rport: in this stack's ephemeral range, not in use, and — when
 * the link towards remote has RSS information — one whose return traffic
 * hashes to this stack's queue (with no route, no RSS, or a queue the
 * link never fills, any free port of the range). 0; -EINVAL;
 * -EPROTONOSUPPORT; -EADDRINUSE. */
int tern_stack_pick_port(struct tern_stack *s, uint8_t proto,
			 const struct tern_addr *local,
			 const struct tern_addr *remote, uint16_t rport,
			 uint16_t *port);

#ifdef __cplusplus
}
#endif
#endif
