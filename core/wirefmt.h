/* Wire formats, apart from the state machines (DESIGN rule 4): each
 * function validates one header in an mbuf whose data starts at it, and
 * only then exposes its fields. The verdict names the drop reason. A
 * header split across segments is first pulled up into the first segment
 * (BSD's m_pullup), so the fields can be read in place. */
#ifndef TERN_WIREFMT_H
#define TERN_WIREFMT_H

#include <stdint.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

enum wf_verdict {
	WF_OK = 0,
	WF_SHORT,		/* truncated header */
	WF_BAD_VERSION,
	WF_BAD_HLEN,
	WF_BAD_LEN,		/* length fields disagree with the frame */
	WF_FRAGMENT,
	WF_UNSUPPORTED,		/* valid but not a kind we handle */
};

struct wf_eth {
	const struct rte_ether_hdr *h;
	uint16_t type;		/* host order */
};

struct wf_arp {
	const struct rte_arp_hdr *h;
	uint16_t op;		/* host order */
};

struct wf_ip4 {
	struct rte_ipv4_hdr *h;
	unsigned hlen;		/* header bytes incl. options */
	unsigned total;		/* total_length, host order */
};

struct wf_udp {
	struct rte_udp_hdr *h;
	unsigned len;		/* UDP length field, host order */
};

/* Makes the first len bytes contiguous in m's first segment, moving bytes
 * from the following segments into its tailroom. -1 when the packet is
 * shorter than len, or there is no room, or a segment is shared. */
int wf_pullup(struct rte_mbuf *m, uint32_t len);

/* Cuts m to len bytes (len <= pkt_len), across segments: Ethernet padding
 * may fill more than the last segment. Frees the segments left empty. */
void wf_trim_to(struct rte_mbuf *m, uint32_t len);
/* Removes the first len bytes of m (at most pkt_len), across segments,
 * where rte_pktmbuf_adj() stops at the first one (and fails when len is
 * more than it holds). m stays the head, maybe empty; the segments after
 * it left empty are freed. */
void wf_trim_front(struct rte_mbuf *m, uint32_t len);

enum wf_verdict wf_eth_parse(struct rte_mbuf *m, struct wf_eth *out);
/* Ethernet/IPv4 ARP only (RFC 826 htype 1, ptype 0x0800, 6/4). */
enum wf_verdict wf_arp_parse(struct rte_mbuf *m, struct wf_arp *out);
/* Version, header length, total length against the mbuf, fragments
 * (WF_FRAGMENT with *out filled: the header is valid, the packet is a
 * fragment). The checksum is left to the caller (offload may have
 * checked it). */
enum wf_verdict wf_ip4_parse(struct rte_mbuf *m, struct wf_ip4 *out);
/* m data at the UDP header; iplen = IP payload length. */
enum wf_verdict wf_udp_parse(struct rte_mbuf *m, unsigned iplen,
			     struct wf_udp *out);
/* m data at the ICMP header; iplen = IP payload length. */
enum wf_verdict wf_icmp_parse(struct rte_mbuf *m, unsigned iplen,
			      const struct rte_icmp_hdr **out);

#endif
