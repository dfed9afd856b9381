/* TCP tables: control blocks (hot and cold arrays, a free stack), the
 * connection table (4-tuple -> block, open addressing with the hash kept
 * in the slot), and the listeners. Nothing on the packet path scans. */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_prefetch.h>

#include "stack_priv.h"

#define TCP_DEFAULT_CONNS 16384
#define TCP_DEFAULT_LISTENERS 64
/* the default pool of on-demand blocks: one per this many connections */
#define TCP_EXT_SHARE 16

/* A free block (and one released, waiting to be reaped) keeps the next
 * one (index + 1, 0 none) in a field nothing reads once the block is
 * released (TF_FREE clears TF_RTT_TIMING); tcp_conn_new zeroes it. */
static inline uint32_t *next_free(struct tcp_conn *c)
{
	return &c->rtt_start_us;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

int tcp_init(struct tern_stack *s, const struct tern_stack_conf *c)
{
	struct tcp_state *t = &s->tcp;
	t->max = c->tcp_max_conns ? c->tcp_max_conns : TCP_DEFAULT_CONNS;
	t->lst_max = c->tcp_max_listeners ? c->tcp_max_listeners :
					    TCP_DEFAULT_LISTENERS;
	/* load at most one half: short probe runs */
	uint32_t slots = pow2_at_least(t->max * 2);
	/* slot: the hash's high bits over index + 1 (<= max) */
	unsigned ib = 1;
	while (ib < 32 && (t->max >> ib) != 0)
		ib++;
	t->tab_lo = ib >= 32 ? UINT32_MAX : (1u << ib) - 1;
	/* up to 4 bits of distance from home, keeping 6 or more of the
	 * hash to tell entries apart without reading their blocks */
	unsigned db = ib + 4 + 6 <= 32 ? 4 : ib + 6 < 32 ? 32 - 6 - ib : 0;
	t->tab_dshift = (uint8_t)(ib < 32 ? ib : 0);
	t->tab_dmax = (1u << db) - 1;
	t->tab_dmask = t->tab_dmax << t->tab_dshift;
	t->tab_tag = ~(t->tab_lo | t->tab_dmask);
	/* one more than max: the scratch block (tcp_conn_scratch) */
	t->conns = stack_zalloc(s, "tern_tcp_conns", ((size_t)t->max + 1) * sizeof(*t->conns));
	t->cold = stack_zalloc(s, "tern_tcp_cold", ((size_t)t->max + 1) * sizeof(*t->cold));
	t->tab = stack_zalloc(s, "tern_tcp_tab", (size_t)slots * sizeof(*t->tab));
	t->ext_max = c->tcp_ext_blocks;
	if (t->ext_max == 0)
		t->ext_max = RTE_MAX(t->max / TCP_EXT_SHARE, 64u);
	if (t->ext_max > t->max)
		t->ext_max = t->max;
	t->ext = stack_zalloc(s, "tern_tcp_ext", (size_t)t->ext_max * sizeof(*t->ext));
	t->ext_free = stack_zalloc(s, "tern_tcp_ext_free",
				   (size_t)t->ext_max * sizeof(*t->ext_free));
	t->lst = stack_zalloc(s, "tern_tcp_lst", (size_t)t->lst_max * sizeof(*t->lst));
	t->lport_refs = stack_zalloc(s, "tern_tcp_lports", 65536 * sizeof(uint32_t));
	if (!t->conns || !t->cold || !t->tab || !t->lst ||
	    !t->ext || !t->ext_free ||
	    !t->lport_refs ||
	    hmap_init(&t->lst_map, s, "tern_tcp_lst", t->lst_max) != 0)
		return -ENOMEM;
	t->tab_mask = slots - 1;
	t->routes.free_head = UINT32_MAX;
	if (hmap_init(&t->routes.map, s, "tern_tcp_routes", 64) != 0)
		return -ENOMEM;
	/* free: 0, 1, 2, ... in that order */
	for (uint32_t i = 0; i < t->max; i++)
		*next_free(&t->conns[i]) = i + 1 < t->max ? i + 2 : 0;
	t->free_head = t->max ? 1 : 0;
	t->nfree = t->max;
	for (uint32_t i = 0; i < t->ext_max; i++)
		t->ext_free[i] = t->ext_max - 1 - i;
	t->ext_nfree = t->ext_max;

	t->msl_ns = (uint64_t)(c->tcp_msl_ms ? c->tcp_msl_ms : 30000) * TERN_NS_PER_MS;
	t->fin_timeout_ns = (uint64_t)(c->tcp_fin_timeout_ms ? c->tcp_fin_timeout_ms :
				       60000) * TERN_NS_PER_MS;
	t->delack_ns = (uint64_t)(c->tcp_delack_ms ? c->tcp_delack_ms : 40) *
		       TERN_NS_PER_MS;
	t->no_delack = c->tcp_no_delack;
	t->syncookies = c->tcp_syncookies;
	t->rto_min_us = (c->tcp_rto_min_ms ? c->tcp_rto_min_ms : 200) * 1000u;
	t->rto_init_us = (c->tcp_rto_init_ms ? c->tcp_rto_init_ms : 1000) * 1000u;
	/* at most 1,000 s: a retransmission deadline is a 32-bit count of
	 * microseconds (tcp_dl_at) */
	t->rto_max_us = RTE_MIN(c->tcp_rto_max_ms ? c->tcp_rto_max_ms : 120000,
				1000000u) * 1000u;
	if (t->rto_min_us > t->rto_max_us)
		t->rto_min_us = t->rto_max_us;
	t->tick_us = (c->timer_tick_ns ? c->timer_tick_ns : 100000) / 1000u;
	t->syn_retries = c->tcp_syn_retries ? c->tcp_syn_retries : 6;
	t->retries = c->tcp_retries ? c->tcp_retries : 15;
	t->cc_default = c->tcp_cc ? c->tcp_cc : TERN_TCP_CC_CUBIC;
	/* RFC 6528: the secret of F() (and of SYN cookies) must be
	 * unpredictable: from the kernel's random source unless the conf
	 * seeds the stack (tests, which want reproducible ISNs). */
	if (c->seed != 0) {
		t->isn_key[0] = stack_rand(s);
		t->isn_key[1] = stack_rand(s);
	} else if (getrandom(t->isn_key, sizeof(t->isn_key), 0) !=
		   (ssize_t)sizeof(t->isn_key)) {
		t->isn_key[0] = stack_rand(s) ^ rte_rdtsc();
		t->isn_key[1] = stack_rand(s) ^ (rte_rdtsc() << 17);
	}
	return 0;
}

/* ---- the on-demand blocks -------------------------------------------- */

struct tcp_ext *tcp_ext_take(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_state *t = &s->tcp;
	if (c->ext != 0)
		return &t->ext[c->ext - 1];
	if (t->ext_nfree == 0) {
		STAT_INC(s, tcp_ext_empty);
		return NULL;
	}
	uint32_t i = t->ext_free[--t->ext_nfree];
	struct tcp_ext *x = &t->ext[i];
	memset(x, 0, sizeof(*x));
	pktq_init(&x->ooo);
	pktq_init(&x->rcvq);
	c->ext = i + 1;
	return x;
}

static void ext_put(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_state *t = &s->tcp;
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x == NULL)
		return;
	pktq_purge(s->pkt_next_off, &x->ooo);
	pktq_purge(s->pkt_next_off, &x->rcvq);
	t->ext_free[t->ext_nfree++] = c->ext - 1;
	c->ext = 0;
}

void tcp_ext_trim(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_ext *x = tcp_ext_of(s, c);
	if (x == NULL || x->ooo.n > 0 || x->rcvq.n > 0 ||
	    (c->flags & TF_KEEPALIVE))
		return;
	ext_put(s, c);
}

static void conn_purge(struct tern_stack *s, struct tcp_conn *c)
{
	pktlist_purge(s->pkt_next_off, &c->sndq);
	c->sndq_cur = NULL;
	ext_put(s, c);
	c->sndq_bytes = c->rcvq_bytes = 0;
}

void tcp_fini(struct tern_stack *s)
{
	struct tcp_state *t = &s->tcp;
	if (t->conns != NULL && t->cold != NULL) {
		for (uint32_t i = 0; i < t->max; i++) {
			struct tcp_conn *c = &t->conns[i];
			if (c->state != TERN_TCP_CLOSED || c->sndq.head ||
			    c->ext) {
				tw_cancel(s, &c->timer);
				conn_purge(s, c);
			}
		}
	}
	hmap_fini(&t->lst_map);
	hmap_fini(&t->routes.map);
	rte_free(t->routes.ent);
	rte_free(t->conns);
	rte_free(t->cold);
	rte_free(t->tab);
	rte_free(t->ext);
	rte_free(t->ext_free);
	rte_free(t->lst);
	rte_free(t->lport_refs);
	memset(t, 0, sizeof(*t));
}

/* ---- the connection table -------------------------------------------- */

uint32_t tcp_hash4(rte_be32_t laddr, rte_be32_t raddr, rte_be16_t lport,
		   rte_be16_t rport)
{
	uint32_t h = rte_hash_crc_4byte(laddr, 0x7ee1f00d);
	h = rte_hash_crc_4byte(raddr, h);
	h = rte_hash_crc_4byte((uint32_t)lport << 16 | rport, h);
	return h;
}

static inline bool conn_is(const struct tcp_conn *c, rte_be32_t laddr,
			   rte_be32_t raddr, rte_be16_t lport, rte_be16_t rport)
{
	return c->laddr == laddr && c->raddr == raddr && c->lport == lport &&
	       c->rport == rport;
}

struct tcp_conn *tcp_lookup(struct tern_stack *s, rte_be32_t laddr,
			    rte_be32_t raddr, rte_be16_t lport,
			    rte_be16_t rport)
{
	return tcp_lookup_h(s, tcp_hash4(laddr, raddr, lport, rport), laddr,
			    raddr, lport, rport);
}

void tcp_lookup_prefetch(struct tern_stack *s, rte_be32_t laddr,
			 rte_be32_t raddr, rte_be16_t lport, rte_be16_t rport)
{
	struct tcp_state *t = &s->tcp;
	if (t->tab != NULL)
		rte_prefetch0(&t->tab[tcp_hash4(laddr, raddr, lport, rport) &
				      t->tab_mask]);
}

struct tcp_conn *tcp_lookup_h(struct tern_stack *s, uint32_t h,
			      rte_be32_t laddr, rte_be32_t raddr,
			      rte_be16_t lport, rte_be16_t rport)
{
	struct tcp_state *t = &s->tcp;
	for (uint32_t i = h & t->tab_mask;; i = (i + 1) & t->tab_mask) {
		uint32_t e = t->tab[i];
		if (e == 0)
			return NULL;
		if ((e ^ h) & t->tab_tag)
			continue;	/* the hash's high bits differ */
		struct tcp_conn *c = &t->conns[(e & t->tab_lo) - 1];
		if (conn_is(c, laddr, raddr, lport, rport))
			return c;
	}
}

/* Two passes, so the loads of a burst's slots, then of its blocks, are
 * in flight together instead of one miss after another (a large table
 * misses the caches on every new tuple). */
void tcp_rx_hints(struct tern_stack *s, struct rte_mbuf *const *pkts,
		  unsigned n, struct tcp_rx_hint *hint, bool blocks)
{
	struct tcp_state *t = &s->tcp;
	const uint32_t l2 = sizeof(struct rte_ether_hdr);
	for (unsigned i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		hint[i].m = NULL;
		if (m->data_len < l2 + sizeof(struct rte_ipv4_hdr) + 4)
			continue;
		const struct rte_ether_hdr *eh =
			rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
		if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		    ip->next_proto_id != IPPROTO_TCP ||
		    (ip->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
			continue;
		uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
		if (ihl < sizeof(*ip) || m->data_len < l2 + ihl + 4)
			continue;
		const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)
			((const uint8_t *)ip + ihl);
		struct tcp_rx_hint *x = &hint[i];
		x->m = m;
		x->laddr = ip->dst_addr;
		x->raddr = ip->src_addr;
		x->lport = th->dst_port;
		x->rport = th->src_port;
		x->hash = tcp_hash4(x->laddr, x->raddr, x->lport, x->rport);
		rte_prefetch0(&t->tab[x->hash & t->tab_mask]);
	}
	if (!blocks)
		return;
	for (unsigned i = 0; i < n; i++) {
		if (hint[i].m == NULL)
			continue;
		uint32_t e = t->tab[hint[i].hash & t->tab_mask];
		if (e != 0 && !((e ^ hint[i].hash) & t->tab_tag)) {
			const char *c = (const char *)&t->conns[(e & t->tab_lo) - 1];
			rte_prefetch0(c);
			rte_prefetch0(c + RTE_CACHE_LINE_SIZE);
		}
	}
}

/* e, moved to slot i of an entry whose home is home: its distance
 * field set again. */
static uint32_t tab_at(const struct tcp_state *t, uint32_t e, uint32_t i,
		       uint32_t home)
{
	uint32_t d = RTE_MIN((i - home) & t->tab_mask, t->tab_dmax);
	return (e & ~t->tab_dmask) | (d << t->tab_dshift);
}

static void tab_insert(struct tcp_state *t, uint32_t h, uint32_t idx)
{
	uint32_t home = h & t->tab_mask, i = home;
	while (t->tab[i] != 0)
		i = (i + 1) & t->tab_mask;
	t->tab[i] = tab_at(t, (h & t->tab_tag) | (idx + 1), i, home);
}

/* The home slot of the entry e in slot i: from its distance, or, past
 * what the distance field holds, from its block's 4-tuple. */
static uint32_t tab_home(const struct tcp_state *t, uint32_t e, uint32_t i)
{
	uint32_t d = (e & t->tab_dmask) >> t->tab_dshift;
	if (likely(d < t->tab_dmax))
		return (i - d) & t->tab_mask;
	const struct tcp_conn *c = &t->conns[(e & t->tab_lo) - 1];
	return tcp_hash4(c->laddr, c->raddr, c->lport, c->rport) & t->tab_mask;
}

/* Backward-shift deletion (no tombstones): entries after the hole that
 * may move into it do. */
static void tab_remove(struct tcp_state *t, uint32_t h, uint32_t idx)
{
	uint32_t i = h & t->tab_mask;
	while ((t->tab[i] & t->tab_lo) != idx + 1) {
		if (t->tab[i] == 0)
			return;
		i = (i + 1) & t->tab_mask;
	}
	uint32_t j = i;
	for (;;) {
		t->tab[i] = 0;
		uint32_t home;
		for (;;) {
			j = (j + 1) & t->tab_mask;
			if (t->tab[j] == 0)
				return;
			home = tab_home(t, t->tab[j], j);
			/* j's entry may fill i when its home is not in (i, j] */
			bool stays = i <= j ? (i < home && home <= j) :
					      (i < home || home <= j);
			if (!stays)
				break;
		}
		t->tab[i] = tab_at(t, t->tab[j], i, home);
		i = j;
	}
}

/* ---- the routes connections share ------------------------------------ */

static inline uint64_t route_key(const struct tern_route *rt)
{
	return (uint64_t)rt->dst.v4 << 32 | rt->src.v4;
}

/* The map, rebuilt twice as large (it cannot grow in place). */
static int routes_map_grow(struct tern_stack *s, struct tcp_routes *r)
{
	struct hmap bigger;
	if (hmap_init(&bigger, s, "tern_tcp_routes", r->map.cap * 2) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->ent[i].refs != 0 &&
		    hmap_put(&bigger, route_key(&r->ent[i].rt), i) != 0) {
			hmap_fini(&bigger);
			return -ENOMEM;
		}
	hmap_fini(&r->map);
	r->map = bigger;
	return 0;
}

int tcp_route_hold(struct tern_stack *s, struct tcp_conn *c,
		   const struct tern_route *rt)
{
	struct tcp_routes *r = &s->tcp.routes;
	struct tcp_cold *cold = tcp_cold_of(s, c);
	uint64_t key = route_key(rt);
	uint32_t i;
	if (hmap_get(&r->map, key, &i) == 0) {
		r->ent[i].refs++;
		cold->route = i;
		return 0;
	}
	if (r->map.n == r->map.cap && routes_map_grow(s, r) != 0)
		return -ENOMEM;
	if (r->free_head != UINT32_MAX) {
		i = r->free_head;
		r->free_head = r->ent[i].next_free;
	} else {
		if (r->n == r->cap) {
			uint32_t cap = r->cap ? r->cap * 2 : 64;
			void *p = rte_realloc_socket(r->ent, (size_t)cap *
						     sizeof(*r->ent), 0,
						     s->socket);
			if (p == NULL)
				return -ENOMEM;
			r->ent = p;
			r->cap = cap;
		}
		i = r->n++;
	}
	struct tcp_route_ent *e = &r->ent[i];
	e->rt = *rt;
	e->rt.src_given = true;	/* the connection's address stays */
	e->refs = 1;
	e->next_free = UINT32_MAX;
	if (hmap_put(&r->map, key, i) != 0) {	/* cannot: room was made */
		e->refs = 0;
		e->next_free = r->free_head;
		r->free_head = i;
		return -ENOMEM;
	}
	cold->route = i;
	return 0;
}

static void route_put(struct tern_stack *s, struct tcp_cold *cold)
{
	struct tcp_routes *r = &s->tcp.routes;
	uint32_t i = cold->route;
	if (i == TCP_NO_ROUTE)
		return;
	cold->route = TCP_NO_ROUTE;
	struct tcp_route_ent *e = &r->ent[i];
	if (--e->refs != 0)
		return;
	hmap_del(&r->map, route_key(&e->rt));
	e->next_free = r->free_head;
	r->free_head = i;
}

/* Block idx zeroed, in CLOSED, with its identity. */
static struct tcp_conn *conn_setup(struct tcp_state *t, uint32_t idx,
				   rte_be32_t laddr, rte_be32_t raddr,
				   rte_be16_t lport, rte_be16_t rport)
{
	struct tcp_conn *c = &t->conns[idx];
	struct tcp_cold *cold = &t->cold[idx];
	memset(c, 0, sizeof(*c));
	memset(cold, 0, sizeof(*cold));
	cold->route = TCP_NO_ROUTE;
	c->laddr = laddr;
	c->raddr = raddr;
	c->lport = lport;
	c->rport = rport;
	c->family = TERN_AF_INET;
	c->state = TERN_TCP_CLOSED;
	return c;
}

struct tcp_conn *tcp_conn_new(struct tern_stack *s, rte_be32_t laddr,
			      rte_be32_t raddr, rte_be16_t lport,
			      rte_be16_t rport)
{
	struct tcp_state *t = &s->tcp;
	if (t->nfree == 0)
		return NULL;
	uint32_t idx = t->free_head - 1;
	t->free_head = *next_free(&t->conns[idx]);
	t->nfree--;
	struct tcp_conn *c = conn_setup(t, idx, laddr, raddr, lport, rport);
	tab_insert(t, tcp_hash4(laddr, raddr, lport, rport), idx);
	t->lport_refs[rte_be_to_cpu_16(lport)]++;
	return c;
}

void tcp_conn_release(struct tern_stack *s, struct tcp_conn *c)
{
	struct tcp_state *t = &s->tcp;
	if (c->flags & TF_FREE)
		return;
	uint32_t idx = tcp_idx(s, c);
	tw_cancel(s, &c->timer);
	/* every block not yet freed is in the table */
	tab_remove(t, tcp_hash4(c->laddr, c->raddr, c->lport, c->rport), idx);
	t->lport_refs[rte_be_to_cpu_16(c->lport)]--;
	struct tcp_cold *cold = tcp_cold_of(s, c);
	uint32_t li = tcp_listener_idx(c);
	if (li != 0) {
		struct tcp_listener *l = &t->lst[li - 1];
		if (l->used && l->pending > 0 && c->state == TERN_TCP_SYN_RECEIVED)
			l->pending--;
	}
	conn_purge(s, c);
	route_put(s, cold);
	c->state = TERN_TCP_CLOSED;
	c->flags = TF_FREE;
	c->ops = 0;
	c->arg = NULL;
	if (t->busy > 0) {	/* input or a timer holds c */
		*next_free(c) = t->reap_head;
		t->reap_head = idx + 1;
		t->nreap++;
	} else {
		*next_free(c) = t->free_head;
		t->free_head = idx + 1;
		t->nfree++;
	}
}

struct tcp_conn *tcp_conn_scratch(struct tern_stack *s, rte_be32_t laddr,
				  rte_be32_t raddr, rte_be16_t lport,
				  rte_be16_t rport)
{
	return conn_setup(&s->tcp, s->tcp.max, laddr, raddr, lport, rport);
}

void tcp_conn_scratch_done(struct tern_stack *s, struct tcp_conn *c)
{
	RTE_ASSERT(c == &s->tcp.conns[s->tcp.max]);
	tw_cancel(s, &c->timer);
	conn_purge(s, c);
	route_put(s, tcp_cold_of(s, c));
	c->state = TERN_TCP_CLOSED;
	c->flags = TF_FREE;
	c->arg = NULL;
}

int tcp_ops_ref(struct tern_stack *s, const struct tern_tcp_ops *ops)
{
	struct tcp_state *t = &s->tcp;
	if (ops == NULL)
		return 0;
	for (uint32_t i = t->ops_n; i >= 1; i--)	/* newest first */
		if (t->ops_tab[i] == ops)
			return (int)i;
	if (t->ops_n >= TCP_OPS_MAX)
		return -1;
	t->ops_tab[++t->ops_n] = ops;
	return (int)t->ops_n;
}

void tcp_reap(struct tern_stack *s)
{
	struct tcp_state *t = &s->tcp;
	if (t->busy > 0)
		return;
	while (t->reap_head != 0) {
		struct tcp_conn *c = &t->conns[t->reap_head - 1];
		uint32_t next = *next_free(c);
		c->flags = 0;
		*next_free(c) = t->free_head;
		t->free_head = t->reap_head;
		t->reap_head = next;
		t->nreap--;
		t->nfree++;
	}
}

uint32_t tern_tcp_count(const struct tern_stack *s)
{
	return s->tcp.max - s->tcp.nfree - s->tcp.nreap;
}

void tern_tcp_mem_get(const struct tern_stack *s, struct tern_tcp_mem *o)
{
	const struct tcp_state *t = &s->tcp;
	o->slots = t->max;
	o->hot = sizeof(*t->conns);
	o->cold = sizeof(*t->cold);
	o->tab_slots = t->tab_mask + 1;
	o->ext = sizeof(*t->ext);
	o->ext_blocks = t->ext_max;
	o->ext_used = t->ext_max - t->ext_nfree;
	o->bytes = ((uint64_t)t->max + 1) * (sizeof(*t->conns) + sizeof(*t->cold)) +
		   (uint64_t)o->tab_slots * sizeof(*t->tab) +
		   (uint64_t)t->ext_max * (sizeof(*t->ext) + sizeof(*t->ext_free));
	o->routes = t->routes.map.n;
}

uint32_t tern_tcp_foreach(struct tern_stack *s,
			  int (*fn)(void *arg, struct tern_tcp_conn *c),
			  void *arg)
{
	uint32_t n = 0;
	tcp_hold(s);
	for (uint32_t i = 0; i < s->tcp.max; i++) {
		struct tcp_conn *c = &s->tcp.conns[i];
		if (c->state == TERN_TCP_CLOSED)
			continue;
		n++;
		if (fn(arg, (struct tern_tcp_conn *)c) != 0)
			break;
	}
	tcp_unhold(s);
	return n;
}

/* ---- listeners --------------------------------------------------------- */

static inline uint64_t lst_key(rte_be32_t addr, uint16_t port)
{
	return (uint64_t)addr << 16 | port;
}

struct tcp_listener *tcp_listener_find(struct tern_stack *s, rte_be32_t addr,
				       uint16_t port)
{
	uint32_t v;
	if (hmap_get(&s->tcp.lst_map, lst_key(addr, port), &v) == 0 ||
	    hmap_get(&s->tcp.lst_map, lst_key(0, port), &v) == 0)
		return &s->tcp.lst[v];
	return NULL;
}

bool tcp_port_busy(struct tern_stack *s, const struct tern_addr *local,
		   uint16_t port)
{
	rte_be32_t a = local != NULL && local->family == TERN_AF_INET ? local->v4 : 0;
	uint32_t v;
	if (hmap_get(&s->tcp.lst_map, lst_key(0, port), &v) == 0)
		return true;
	if (a != 0 && hmap_get(&s->tcp.lst_map, lst_key(a, port), &v) == 0)
		return true;
	/* any address: a bind with port 0 must not meet a connection */
	return s->tcp.lport_refs[port] != 0;
}

struct tern_tcp_listener *tern_tcp_listen(struct tern_stack *s,
					  const struct tern_tcp_listen_conf *lc)
{
	if (s == NULL || lc == NULL || lc->port == 0 || lc->accept == NULL ||
	    (lc->local.family != TERN_AF_NONE && lc->local.family != TERN_AF_INET)) {
		rte_errno = EINVAL;
		return NULL;
	}
	rte_be32_t a = lc->local.family == TERN_AF_INET ? lc->local.v4 : 0;
	if (a != 0 && local_range(s, a, NULL, NULL) == NULL) {
		rte_errno = EADDRNOTAVAIL;
		return NULL;
	}
	uint32_t v;
	/* Connections on the port do not stop a listener (SO_REUSEADDR
	 * semantics, what servers restarting over TIME_WAIT need). */
	if (hmap_get(&s->tcp.lst_map, lst_key(a, lc->port), &v) == 0) {
		rte_errno = EADDRINUSE;
		return NULL;
	}
	uint32_t i;
	for (i = 0; i < s->tcp.lst_max && s->tcp.lst[i].used; i++)
		;
	if (i == s->tcp.lst_max ||
	    hmap_put(&s->tcp.lst_map, lst_key(a, lc->port), i) != 0) {
		rte_errno = ENOSPC;
		return NULL;
	}
	struct tcp_listener *l = &s->tcp.lst[i];
	memset(l, 0, sizeof(*l));
	l->used = true;
	l->local = lc->local;
	l->port = lc->port;
	l->backlog = lc->backlog ? lc->backlog : 1024;
	l->accept = lc->accept;
	l->arg = lc->arg;
	l->opts = lc->opts;
	return (struct tern_tcp_listener *)l;
}

void tern_tcp_listener_close(struct tern_stack *s, struct tern_tcp_listener *tl)
{
	struct tcp_listener *l = (struct tcp_listener *)tl;
	if (s == NULL || l == NULL || !l->used)
		return;
	uint32_t li = (uint32_t)(l - s->tcp.lst);
	rte_be32_t a = l->local.family == TERN_AF_INET ? l->local.v4 : 0;
	hmap_del(&s->tcp.lst_map, lst_key(a, l->port));
	tcp_hold(s);
	for (uint32_t i = 0; i < s->tcp.max; i++) {
		struct tcp_conn *c = &s->tcp.conns[i];
		if (c->state == TERN_TCP_CLOSED || tcp_listener_idx(c) != li + 1)
			continue;
		/* not yet accepted: reset (RFC 9293 3.10.7.2 has no rule;
		 * BSD and Linux reset what the application never saw) */
		tern_tcp_abort(s, (struct tern_tcp_conn *)c);
	}
	tcp_unhold(s);
	memset(l, 0, sizeof(*l));
}
