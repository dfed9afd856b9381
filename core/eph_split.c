/* The ephemeral range split between workers, and which worker owns a
 * received frame. Each worker opens connections from its own part of the
 * range, so a frame's destination port names the worker that opened its
 * flow; the data plane hands frames that land elsewhere to that worker
 * before any stack sees them (DESIGN rule 8). */
#include <errno.h>
#include <stddef.h>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <tern/rss.h>

int tern_eph_split_init(struct tern_eph_split *sp, uint16_t lo, uint16_t hi,
			unsigned n)
{
	if (lo == 0 && hi == 0) {
		lo = TERN_EPHEMERAL_LO;
		hi = TERN_EPHEMERAL_HI;
	}
	if (sp == NULL || lo == 0 || lo > hi || n == 0 ||
	    (unsigned)(hi - lo) + 1 < n)
		return -EINVAL;
	unsigned span = (unsigned)(hi - lo) + 1;
	sp->lo = lo;
	sp->hi = hi;
	sp->n = n;
	sp->base = span / n;
	sp->extra = span % n;
	return 0;
}

void tern_eph_split_range(const struct tern_eph_split *sp, unsigned i,
			  uint16_t *lo, uint16_t *hi)
{
	/* The first `extra` workers take one port more. */
	unsigned start = sp->lo + i * sp->base + RTE_MIN(i, sp->extra);
	unsigned len = sp->base + (i < sp->extra ? 1 : 0);
	*lo = (uint16_t)start;
	*hi = (uint16_t)(start + len - 1);
}

int tern_eph_split_owner(const struct tern_eph_split *sp, uint16_t port)
{
	if (port < sp->lo || port > sp->hi)
		return -1;
	unsigned off = port - sp->lo;
	unsigned big = sp->extra * (sp->base + 1);
	if (off < big)
		return (int)(off / (sp->base + 1));
	return (int)(sp->extra + (off - big) / sp->base);
}

/* ICMP messages that quote the packet which caused them (RFC 792): for
 * these the quoted packet is one we sent, its source port is ours. */
static bool icmp_is_error(uint8_t type)
{
	return type == 3 /* destination unreachable */ || type == 4 /* quench */ ||
	       type == 5 /* redirect */ || type == 11 /* time exceeded */ ||
	       type == 12 /* parameter problem */;
}

/* The IPv4 header at off and its length, NULL when it is not a whole,
 * unfragmented-or-first header. */
static const struct rte_ipv4_hdr *ip4_at(const struct rte_mbuf *m,
					 uint32_t off, struct rte_ipv4_hdr *buf,
					 unsigned *hlen)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_read(m, off, sizeof(*ip),
							 buf);
	if (ip == NULL || (ip->version_ihl >> 4) != 4)
		return NULL;
	*hlen = (ip->version_ihl & 0xf) * 4u;
	if (*hlen < sizeof(*ip))
		return NULL;
	return ip;
}

int tern_steer_owner(const struct tern_eph_split *sp,
		     const struct rte_mbuf *m)
{
	rte_be16_t type_buf, ports_buf[2];
	const rte_be16_t *type = rte_pktmbuf_read(
		m, offsetof(struct rte_ether_hdr, ether_type), 2, &type_buf);
	if (type == NULL || *type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return -1;

	struct rte_ipv4_hdr ibuf;
	unsigned hlen;
	uint32_t off = sizeof(struct rte_ether_hdr);
	const struct rte_ipv4_hdr *ip = ip4_at(m, off, &ibuf, &hlen);
	/* A fragment but the first has no ports; the first alone is not
	 * worth steering apart from the rest (NICs hash fragments on the
	 * addresses only). */
	if (ip == NULL || (ip->fragment_offset &
			   RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK |
				    RTE_IPV4_HDR_MF_FLAG)) != 0)
		return -1;
	off += hlen;

	if (ip->next_proto_id == IPPROTO_UDP ||
	    ip->next_proto_id == IPPROTO_TCP) {
		const rte_be16_t *p = rte_pktmbuf_read(m, off, 4, ports_buf);
		return p ? tern_eph_split_owner(sp, rte_be_to_cpu_16(p[1])) : -1;
	}
	if (ip->next_proto_id != IPPROTO_ICMP)
		return -1;
	uint8_t tbuf;
	const uint8_t *itype = rte_pktmbuf_read(m, off, 1, &tbuf);
	if (itype == NULL || !icmp_is_error(*itype))
		return -1;
	/* The quoted header follows the 8-byte ICMP header, then at least 8
	 * bytes of its payload (RFC 792): the ports. */
	off += sizeof(struct rte_icmp_hdr);
	const struct rte_ipv4_hdr *q = ip4_at(m, off, &ibuf, &hlen);
	if (q == NULL || (q->next_proto_id != IPPROTO_UDP &&
			  q->next_proto_id != IPPROTO_TCP) ||
	    (q->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return -1;
	const rte_be16_t *p = rte_pktmbuf_read(m, off + hlen, 4, ports_buf);
	return p ? tern_eph_split_owner(sp, rte_be_to_cpu_16(p[0])) : -1;
}
