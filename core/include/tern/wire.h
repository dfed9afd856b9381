/* In-memory wire: joins two links of two stacks (or one) in one thread,
 * for unit tests and the loopback benchmark. Frames sent on one end queue
 * until tern_wire_pump() delivers them to the other end's stack; with an
 * impairment engine on a direction (tern_wire_set_impair), the pump
 * offers them to it at the sending stack's clock and delivers what it
 * lets through, now or, for held frames, at a later pump. */
#ifndef TERN_WIRE_H
#define TERN_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <tern/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_wire;
struct tern_impair;

/* Optional observer of each frame before delivery, given the side (0/1)
 * that sent it. Return 0 to deliver, 1 to drop it (the wire frees it). */
typedef int (*tern_wire_tap_fn)(void *arg, int from_side, struct rte_mbuf *m);

struct tern_wire *tern_wire_create(struct tern_stack *a, uint16_t link_a,
				   struct tern_stack *b, uint16_t link_b);
/* Frees what is still queued. */
void tern_wire_destroy(struct tern_wire *w);
/* The tx function and context to put in the tern_iface_conf of an
 * interface on side 0 (stack a) or 1 (stack b). */
uint16_t tern_wire_tx(void *end, struct rte_mbuf **pkts, uint16_t n);
void *tern_wire_end(struct tern_wire *w, int side);
/* The tap sees frames as they leave the wire (after the impairment:
 * what the receiver gets, held frames when they are delivered). */
void tern_wire_set_tap(struct tern_wire *w, tern_wire_tap_fn fn, void *arg);
/* Impairs the frames sent from side (0/1) with imp, which the wire owns
 * from now on: destroyed (held frames freed) when replaced, set to NULL
 * or when the wire is destroyed. Corruption spares Ethernet headers. */
void tern_wire_set_impair(struct tern_wire *w, int side,
			  struct tern_impair *imp);
struct tern_impair *tern_wire_impair(const struct tern_wire *w, int side);
/* Delivers what is queued (and what engines hold that is due) in both
 * directions, repeatedly, until the wire is quiet or max_rounds passed;
 * returns frames moved (sent frames taken, held frames released). */
unsigned tern_wire_pump(struct tern_wire *w, unsigned max_rounds);
/* Benchmarks only: the wire stands for two NICs that offload checksums
 * in hardware. The checksums a sender left to its port are not computed
 * (that work is the NIC's, not the CPU's), and the receiver is told its
 * port found them good (RTE_MBUF_F_RX_*_CKSUM_GOOD), so it does not
 * verify them either; their fields keep the pseudo-header sums, which a
 * tap sees. Off by default: the wire computes what was offloaded and the
 * receiver verifies every checksum, as tests need. */
void tern_wire_set_nic_cksum(struct tern_wire *w, bool on);
/* Benchmarks only, with nic_cksum: the sending NIC cuts a TSO packet
 * into segments and the receiving one merges them again (LRO), so the
 * packet crosses whole and arrives as one LRO packet, as
 * tern_ol_gro_tcp4 would make it (RTE_MBUF_F_RX_LRO, tso_segsz); the
 * frames it stands for count in tern_wire_sent. The work of cutting and
 * merging is the NICs', not the CPU's. A side with an impairment engine
 * still cuts (a lossy link loses frames, not TSO packets). Off by
 * default: TSO packets are cut in software and the receiver's GRO merges
 * them. */
void tern_wire_set_nic_lro(struct tern_wire *w, bool on);
/* Frames sent from side (0/1) since creation. */
uint64_t tern_wire_sent(const struct tern_wire *w, int side);

#ifdef __cplusplus
}
#endif
#endif
