/* IPv4 fragments: reassembly of what we receive (rte_ip_frag) and
 * fragmentation of what we send larger than the path MTU (RFC 791 3.2),
 * and the path MTU cache (RFC 1191).
 *
 * Reassembly limits: at most ip4_frag_max datagrams in progress, each done
 * within ip4_frag_timeout_ms (RFC 791 suggests 15 s, Linux uses 30 s) and
 * in at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8 in DPDK 22.11) fragments:
 * 11,840 bytes of payload at a 1500-byte MTU. Every fragment dropped is
 * counted: bad length, oversize, and what rte_ip_frag discards (overlaps,
 * too many fragments, a full table) or lets expire. */
#include <errno.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_ip_frag.h>
#include <rte_log.h>

#include "stack_priv.h"
#include "wirefmt.h"

#define FRAG_BUCKET_ENTRIES 16		/* a power of two (rte_ip_frag) */
#define FRAG_TICK_NS (500 * TERN_NS_PER_MS)	/* expiry sweep period */
#define IP4_MAX_FRAGS 64		/* 65535 bytes at a 1100-byte MTU */

/* RFC 1191 6.3: an estimate older than 10 minutes is retried. */
#define PMTU_EXPIRE_NS (600 * TERN_NS_PER_S)
/* Below this, ICMP says are not believed (Linux's min_pmtu): a forged
 * "fragmentation needed" must not shrink our packets to nothing. */
#define PMTU_FLOOR 552
#define PMTU_PROBE 8

static void frag_tick(struct tern_stack *s, struct tern_timer *t);

int ip4_frag_init(struct tern_stack *s, const struct tern_stack_conf *c)
{
	uint32_t max = c->ip4_frag_max ? c->ip4_frag_max : 1024;
	uint32_t buckets = rte_align32pow2((max + FRAG_BUCKET_ENTRIES - 1) /
					   FRAG_BUCKET_ENTRIES);
	s->frag_timeout_ns = (c->ip4_frag_timeout_ms ? c->ip4_frag_timeout_ms :
			      30000) * TERN_NS_PER_MS;
	/* rte_ip_frag counts time in whatever unit it is given: ns here.
	 * It logs every table it makes at INFO on USER1; one line per stack
	 * in every log is noise, so USER1 is quieter while it runs. */
	int lvl = rte_log_get_level(RTE_LOGTYPE_USER1);
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
	s->frag_tbl = rte_ip_frag_table_create(buckets, FRAG_BUCKET_ENTRIES,
					       max, s->frag_timeout_ns,
					       s->socket);
	if (s->frag_tbl == NULL && s->socket != SOCKET_ID_ANY)
		s->frag_tbl = rte_ip_frag_table_create(buckets,
						       FRAG_BUCKET_ENTRIES, max,
						       s->frag_timeout_ns,
						       SOCKET_ID_ANY);
	if (lvl >= 0)
		rte_log_set_level(RTE_LOGTYPE_USER1, (uint32_t)lvl);
	s->frag_dr = stack_zalloc(s, "tern_frag_dr", sizeof(*s->frag_dr));
	s->pmtu = stack_zalloc(s, "tern_pmtu", PMTU_SLOTS * sizeof(*s->pmtu));
	tern_timer_init(&s->frag_timer, frag_tick, NULL);
	if (s->frag_tbl == NULL || s->frag_dr == NULL || s->pmtu == NULL)
		return -ENOMEM;
	return 0;
}

void ip4_frag_fini(struct tern_stack *s)
{
	tern_timer_cancel(s, &s->frag_timer);
	if (s->frag_tbl != NULL && s->frag_dr != NULL) {
		/* everything still held goes back to the pool */
		rte_ip_frag_table_del_expired_entries(s->frag_tbl, s->frag_dr,
						      UINT64_MAX);
		rte_ip_frag_free_death_row(s->frag_dr, 0);
	}
	rte_ip_frag_table_destroy(s->frag_tbl);
	rte_free(s->frag_dr);
	rte_free(s->pmtu);
	s->frag_tbl = NULL;
	s->frag_dr = NULL;
	s->pmtu = NULL;
}

/* Frees the death row, counting what died in *counter. */
static void bury(struct tern_stack *s, uint32_t before, uint64_t *counter)
{
	uint32_t died = s->frag_dr->cnt - before;
	if (died == 0)
		return;
	*counter += died;
	rte_ip_frag_free_death_row(s->frag_dr, 0);
}

static void frag_tick(struct tern_stack *s, struct tern_timer *t)
{
	uint64_t now = tern_stack_now(s);
	uint32_t before = s->frag_dr->cnt;
	rte_ip_frag_table_del_expired_entries(s->frag_tbl, s->frag_dr, now);
	bury(s, before, &s->st.ip4_drop_frag_timeout);
	/* Sweep while fragments may still be held. */
	if (now - s->frag_last_ns <= s->frag_timeout_ns + FRAG_TICK_NS)
		tern_timer_arm(s, t, now + FRAG_TICK_NS);
}

struct rte_mbuf *ip4_reassemble(struct tern_stack *s, struct rte_mbuf *m,
				const struct wf_ip4 *ip)
{
	STAT_INC(s, ip4_rx_fragments);
	uint16_t fo = rte_be_to_cpu_16(ip->h->fragment_offset);
	uint32_t off = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8;
	uint32_t plen = ip->total - ip->hlen;
	/* RFC 791: a fragment carries data, in multiples of 8 bytes unless
	 * it is the last one. */
	if (plen == 0 || ((fo & RTE_IPV4_HDR_MF_FLAG) && (plen & 7))) {
		STAT_INC(s, ip4_drop_frag_bad_len);
		drop(m);
		return NULL;
	}
	/* The datagram would not fit in 65535 bytes (the "ping of death"). */
	if (off + plen + ip->hlen > UINT16_MAX) {
		STAT_INC(s, ip4_drop_frag_oversize);
		drop(m);
		return NULL;
	}
	uint64_t now = tern_stack_now(s);
	s->frag_last_ns = now;
	if (!tern_timer_pending(&s->frag_timer))
		tern_timer_arm(s, &s->frag_timer, now + FRAG_TICK_NS);
	/* rte_ip_frag strips l2_len + l3_len from later fragments; our data
	 * starts at the IP header. */
	m->l2_len = 0;
	m->l3_len = ip->hlen;
	uint32_t before = s->frag_dr->cnt;
	struct rte_mbuf *r = rte_ipv4_frag_reassemble_packet(
		s->frag_tbl, s->frag_dr, m, now, ip->h);
	bury(s, before, &s->st.ip4_drop_frag_reasm);
	if (r == NULL)
		return NULL;
	/* The library zeroed the checksum of the header it rewrote. */
	struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(r, struct rte_ipv4_hdr *);
	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
	r->l3_len = (uint16_t)((h->version_ihl & 0xf) * 4);
	STAT_INC(s, ip4_reassembled);
	return r;
}

int ip4_fragment_out(struct tern_stack *s, struct iface *ifc,
		     struct tern_route *rt, struct rte_mbuf *m)
{
	static const struct tern_ol_caps none;
	struct rte_mbuf *frags[IP4_MAX_FRAGS];

	/* The transport checksum covers the whole datagram: it is computed
	 * now, in software, before the datagram is cut. */
	m->l2_len = 0;
	tern_ol_tx_finish(m, &none);
	int32_t n = rte_ipv4_fragment_packet(m, frags, RTE_DIM(frags), rt->mtu,
					     s->pool, s->pool);
	drop(m);	/* the fragments hold references to its data */
	if (n < 0) {
		if (n == -ENOMEM) {
			STAT_INC(s, mbuf_drop_alloc_fail);
			return -ENOBUFS;
		}
		STAT_INC(s, ip4_drop_too_big);
		return -EMSGSIZE;
	}
	STAT_INC(s, ip4_tx_fragmented);
	int rc = 0;
	for (int32_t i = 0; i < n; i++) {
		struct rte_mbuf *f = frags[i];
		struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);
		h->hdr_checksum = 0;
		f->l3_len = (uint16_t)((h->version_ihl & 0xf) * 4);
		f->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		STAT_INC(s, ip4_tx_fragments);
		int r = ip4_output_tail(s, ifc, rt, f);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

/* ---- path MTU (RFC 1191) ------------------------------------------- */

static inline uint32_t pmtu_slot(rte_be32_t dst)
{
	return rte_hash_crc_4byte(dst, 0) & (PMTU_SLOTS - 1);
}

uint16_t pmtu_get(struct tern_stack *s, rte_be32_t dst, uint16_t ifmtu)
{
	if (likely(s->pmtu_live == 0))
		return ifmtu;
	uint64_t now = tern_stack_now(s);
	uint32_t i = pmtu_slot(dst);
	for (unsigned k = 0; k < PMTU_PROBE; k++, i = (i + 1) & (PMTU_SLOTS - 1)) {
		struct pmtu_entry *e = &s->pmtu[i];
		if (e->dst != dst || e->mtu == 0)
			continue;
		if (e->expires_ns <= now) {
			/* RFC 1191 6.3: time to try the larger size again */
			e->mtu = 0;
			s->pmtu_live--;
			return ifmtu;
		}
		return RTE_MIN(e->mtu, ifmtu);
	}
	return ifmtu;
}

int pmtu_update(struct tern_stack *s, rte_be32_t dst, uint32_t mtu)
{
	if (mtu < PMTU_FLOOR)
		mtu = PMTU_FLOOR;
	uint64_t now = tern_stack_now(s);
	uint32_t i = pmtu_slot(dst);
	struct pmtu_entry *e = NULL, *free_e = NULL, *oldest = NULL;
	for (unsigned k = 0; k < PMTU_PROBE; k++, i = (i + 1) & (PMTU_SLOTS - 1)) {
		struct pmtu_entry *c = &s->pmtu[i];
		if (c->mtu != 0 && c->dst == dst) {
			e = c;
			break;
		}
		if (c->mtu == 0) {
			if (free_e == NULL)
				free_e = c;
		} else if (oldest == NULL || c->expires_ns < oldest->expires_ns) {
			oldest = c;
		}
	}
	if (e == NULL) {
		/* a free slot, else the estimate closest to expiry */
		e = free_e != NULL ? free_e : oldest;
		if (free_e != NULL)
			s->pmtu_live++;
		e->dst = dst;
		e->mtu = 0;
	}
	/* RFC 1191 6.3: a report only lowers the estimate. */
	if (e->mtu != 0 && mtu >= e->mtu)
		return 0;
	e->mtu = (uint16_t)RTE_MIN(mtu, (uint32_t)UINT16_MAX);
	e->expires_ns = now + PMTU_EXPIRE_NS;
	s->route_epoch++;	/* cached routes pick the new size up */
	STAT_INC(s, ip4_pmtu_learned);
	return 1;
}
