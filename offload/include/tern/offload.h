/* Checksum offload with software fallback. Core marks what each outgoing
 * packet needs (ol_flags TX_IPV4 | TX_IP_CKSUM | TX_UDP_CKSUM ..., with
 * l2_len/l3_len set); tern_ol_tx_finish() gives to the port what it can do
 * and computes the rest in software. On receive, the port's verdict is
 * used when it gave one and software verifies otherwise, so the same
 * packet is checked either way. */
#ifndef TERN_OFFLOAD_H
#define TERN_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Port abilities, from rte_eth_dev_info (or set by hand in tests). */
struct tern_ol_caps {
	bool tx_ip4_cksum;
	bool tx_udp_cksum;
	bool tx_tcp_cksum;
	bool rx_ip4_cksum;
	bool rx_l4_cksum;
	/* TSO: the port cuts a TCP/IPv4 packet marked RTE_MBUF_F_TX_TCP_SEG
	 * into segments of tso_segsz payload bytes, each with a copy of the
	 * headers and its own IP and TCP checksums. tso_max is the largest
	 * payload of one such packet, 0 when the port has no TSO (or it is
	 * turned off); tern_ol_tso_segment() does the same in software. */
	uint32_t tso_max;
	/* The port refuses a TSO packet whose tso_segsz plus l2, l3 and l4
	 * headers exceed this (0: no such limit). net_tap in DPDK 22.11
	 * compares that sum, Ethernet header included, with its MTU, so a
	 * full-sized segment (MSS 1448 + 66 header bytes) is refused:
	 * tern_ol_tso_port() asks it for shorter segments (1434). */
	uint16_t tso_frame_max;
	/* Most mbufs in one TSO packet's chain (tx_desc_lim.nb_seg_max);
	 * 0: no limit known. */
	uint16_t tso_mbufs_max;
	/* The port sums the L4 bytes segment by segment, each as if it
	 * started on a 16-bit boundary, so a chained packet with a segment
	 * of odd length (the last aside) leaves with a wrong checksum:
	 * net_tap in DPDK 22.11 (tap_tx_l4_add_rcksum). tern_ol_tx_finish()
	 * sums such packets in software. */
	bool tx_l4_cksum_even_segs;
};

/* Reads tx/rx_offload_capa of a port (DPDK ethdev). The caller enables
 * the same offloads in rte_eth_conf; see tern_ol_port_tx_offloads(). */
struct rte_eth_dev_info;
void tern_ol_caps_from_dev_info(const struct rte_eth_dev_info *di,
				struct tern_ol_caps *out);
uint64_t tern_ol_port_tx_offloads(const struct tern_ol_caps *c);
uint64_t tern_ol_port_rx_offloads(const struct tern_ol_caps *c);

/* Starts m's offload flags afresh (an RX mbuf reused for TX carries RX
 * verdicts that mean nothing on the way out), keeping the flags that say
 * whose buffer the data lives in: clearing RTE_MBUF_F_INDIRECT or
 * RTE_MBUF_F_EXTERNAL makes rte_pktmbuf_free() return the mbuf as a
 * direct one, with a foreign buf_addr, and never release the buffer. */
static inline void tern_ol_reset(struct rte_mbuf *m, uint64_t tx_flags)
{
	m->ol_flags = (m->ol_flags &
		       (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) | tx_flags;
}

/* Finishes the checksums of an IPv4 packet at m (Ethernet header first,
 * l2_len/l3_len set, ol_flags saying which checksums are wanted). For each
 * one the port can do, leaves the flag set and writes the pseudo-header
 * sum the port expects; for the others computes the checksum in software
 * and clears the flag. */
void tern_ol_tx_finish(struct rte_mbuf *m, const struct tern_ol_caps *caps);

/* A checksum a port has still to write: value (network order, ready to
 * store) and offset from the data start. */
struct tern_ol_fix {
	uint32_t off;
	rte_be16_t val;
};

/* For m after tern_ol_tx_finish(): the checksums the port will compute
 * (ol_flags still asking for them), as the port will write them, so a
 * copy of m (a capture) can show the bytes the wire gets. m is not
 * changed. Returns how many of fix[2] it filled. */
unsigned tern_ol_tx_pending(const struct rte_mbuf *m, struct tern_ol_fix fix[2]);

/* ---- TSO and software segmentation ----------------------------------- */

/* The largest TCP payload in one TSO packet: the IPv4 total length is 16
 * bits, less a 20-byte IP header and a TCP header with 40 bytes of
 * options. */
#define TERN_OL_TSO_MAX (UINT16_MAX - 20 - 60)
/* The most segments one TSO packet becomes: what net_tap in DPDK 22.11
 * takes (MAX_GSO_MBUFS) and what tern_ol_tso_segment() is asked to fill.
 * TCP keeps its TSO packets within this many MSS. */
#define TERN_OL_TSO_SEGS_MAX 64

/* Whether the port behind caps segments m itself: m is a TSO packet
 * (RTE_MBUF_F_TX_TCP_SEG with TX_IPV4, tso_segsz, l2/l3/l4_len set,
 * headers in the first mbuf) within the port's limits, and, on a port
 * whose L4 checksum needs even segments (tx_l4_cksum_even_segs), every
 * piece the port cuts has an even length. A port with tso_frame_max
 * below tso_segsz plus headers gets segments short enough for it: then
 * m->tso_segsz is lowered (when the answer is yes). When it returns
 * false the caller segments m with tern_ol_tso_segment(). */
bool tern_ol_tso_port(struct rte_mbuf *m, const struct tern_ol_caps *caps);

/* Software segmentation (GSO) of a TSO packet m: out[i] gets a new
 * header mbuf from pool with a copy of m's Ethernet, IPv4 and TCP headers
 * (options included: timestamps stay in every segment) followed by
 * indirect mbufs pointing at m's payload (never copied, never written).
 * Segment i carries tso_segsz bytes (the last what is left); its IPv4
 * total length and id (m's + i) and its TCP sequence number are set; FIN
 * and PSH stay on the last segment only, CWR on the first only (RFC 3168
 * 6.1.2). Each segment keeps m's checksum requests (TX_IPV4, IP_CKSUM,
 * TCP_CKSUM, without TCP_SEG): give each to tern_ol_tx_finish(). On
 * success m is consumed (its data lives on in the segments) and the count
 * is returned (1: m itself, already small enough, with TCP_SEG cleared).
 * -EINVAL a packet this cannot cut (not TCP/IPv4, headers not in the
 * first mbuf, tso_segsz 0, more than max segments), -ENOBUFS pool empty;
 * m is then untouched. */
int tern_ol_tso_segment(struct rte_mbuf *m, struct rte_mempool *pool,
			struct rte_mbuf **out, unsigned max);

/* ---- GRO ---------------------------------------------------------------- */

/* Receive offload in software (offload/gro.c): in the burst pkts[0..n)
 * (frames at their Ethernet header, as from rte_eth_rx_burst), in-order
 * TCP/IPv4 data segments of one flow become one packet: the first
 * frame's headers, then the payload of the others (their headers cut
 * off, their mbufs chained, nothing copied). Such a packet has
 * RTE_MBUF_F_RX_LRO with tso_segsz the payload of its first segment
 * (DPDK's convention for LRO; every segment but the last was that long),
 * l2_len/l3_len/l4_len its header lengths, the IPv4 length and header
 * checksum rewritten, good checksum flags, and the TCP ACK, window,
 * timestamp and PSH of its last segment. Merged: same Ethernet header;
 * IPv4 without options or fragments, same TOS, TTL and DF; same ports,
 * TCP header length and options (a timestamp in the NOP,NOP,TS place may
 * advance); flags ACK or ACK|PSH; contiguous sequence numbers; an ACK
 * that does not go back; checksums good by the port's flags or software
 * (which then records them as good, so TCP does not sum again). A PSH or
 * a segment shorter than the first ends a packet; anything else of the
 * flow (a gap, a FIN, a bad checksum) ends it and stays after it, so a
 * flow's order never changes. pkts[] is compacted in place; returns the
 * new count, *merged the frames absorbed into others. */
uint16_t tern_ol_gro_tcp4(struct rte_mbuf **pkts, uint16_t n,
			  uint32_t *merged);

/* Marks h, a TCP/IPv4 packet at its Ethernet header whose IPv4 header
 * ip heads iplen bytes (that header and what follows), as one packet
 * standing for segments of mss payload bytes: the form tern_ol_gro_tcp4
 * gives (IPv4 length and header checksum rewritten, RTE_MBUF_F_RX_LRO,
 * tso_segsz, l2/l3/l4_len), and a port's LRO should. */
struct rte_ipv4_hdr;
void tern_ol_lro_mark(struct rte_mbuf *h, struct rte_ipv4_hdr *ip,
		      uint32_t iplen, uint16_t mss, uint8_t l4_len);

/* Wire segments in a received TCP packet of payload bytes: more than
 * one for a GRO (or LRO) packet. */
static inline uint32_t tern_ol_rx_segs(const struct rte_mbuf *m,
				       uint32_t payload)
{
	if (!(m->ol_flags & RTE_MBUF_F_RX_LRO) || m->tso_segsz == 0 ||
	    payload <= m->tso_segsz)
		return 1;
	return (payload + m->tso_segsz - 1) / m->tso_segsz;
}

/* One's-complement sum (RFC 1071, not complemented) of len bytes at buf:
 * what rte_raw_cksum() returns, 8 bytes a step instead of 2. */
uint16_t tern_ol_raw_sum(const void *buf, size_t len);

/* One's-complement sum (RFC 1071, not complemented) of len bytes at off
 * in a possibly chained mbuf. -1 when off + len passes the packet end.
 * DPDK 22.11's rte_raw_cksum_mbuf() truncates each segment's 32-bit sum
 * before byte-swapping odd-offset segments, so chains with odd segment
 * lengths got wrong sums; this reduces first. */
int tern_ol_raw_cksum_mbuf(const struct rte_mbuf *m, uint32_t off,
			   uint32_t len, uint16_t *out);

enum tern_ol_verdict {
	TERN_OL_CKSUM_GOOD = 0,
	TERN_OL_CKSUM_BAD = 1,
};

/* IPv4 header checksum of the header at ip (hlen bytes): uses the port's
 * flag in m->ol_flags when it has one, software otherwise. */
enum tern_ol_verdict tern_ol_rx_ip4(const struct rte_mbuf *m, const void *ip,
				    unsigned hlen);
/* UDP/TCP checksum over the IPv4 packet at ip; l4 points inside m. l4len
 * is the length the checksum covers and the pseudo-header carries: the
 * UDP length field for UDP (RFC 768), the IP payload length for TCP. A
 * UDP checksum of zero means none (RFC 768) and is good. */
enum tern_ol_verdict tern_ol_rx_l4_ip4(const struct rte_mbuf *m,
				       const void *ip, const void *l4,
				       unsigned l4len, uint8_t proto);

#ifdef __cplusplus
}
#endif
#endif
