/* The neighbour table: RFC 4861 section 7.3 states for ARP now and IPv6
 * Neighbour Discovery later (nothing here knows the family except the
 * solicitation, which goes to the family's wire code).
 *
 * Entries live in slots of two arrays, found through a hash map (hmap.h)
 * keyed by (interface, family, address): hot fields the
 * transmit path reads (MAC, state, generation, last use) and cold ones
 * (timer, queue, LRU links, times). Each entry has one timer for its
 * state. The table is sized from the stack configuration; when it is full
 * the least recently used entry makes room.
 *
 * How ARP maps onto RFC 4861 (as Linux's ARP does): a reply whose target
 * is one of our addresses is a solicited advertisement and confirms
 * reachability; a request to us carries the sender's address like an
 * unsolicited one (STALE when new or changed); any other ARP frame only
 * updates entries we already have. Upper layers confirm reachability with
 * tern_neigh_confirm() (TCP, when new data is acknowledged), so an entry in
 * use goes REACHABLE -> STALE -> DELAY -> REACHABLE without a probe; with
 * no such hint (UDP) it is re-probed by unicast while packets keep flowing
 * with the known address, and is never hard-expired under traffic. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "neigh.h"
#include "stack_priv.h"

/* used_ms and lru_ms count units of 2^20 ns (~1.05 ms): a shift, not a
 * division, on the transmit path. */
#define UNIT_SHIFT 20
/* An entry in use moves to the LRU head at most this often (units). */
#define LRU_TOUCH_UNITS 100

#define NEIGH_MIN_ENTRIES 8

const char *tern_neigh_state_name(int state)
{
	switch (state) {
	case TERN_NEIGH_INCOMPLETE: return "incomplete";
	case TERN_NEIGH_REACHABLE: return "reachable";
	case TERN_NEIGH_STALE: return "stale";
	case TERN_NEIGH_DELAY: return "delay";
	case TERN_NEIGH_PROBE: return "probe";
	default: return "?";
	}
}

static inline uint32_t units(const struct neigh_table *t, uint64_t now)
{
	return (uint32_t)((now - t->epoch_ns) >> UNIT_SHIFT);
}

static void key_make(struct neigh_key *k, uint16_t ifindex,
		     const struct tern_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->ifindex = ifindex;
	if (a->family == TERN_AF_INET)
		memcpy(k->addr, &a->v4, 4);
	else
		memcpy(k->addr, a->v6, 16);
}

/* The map's key: an IPv4 entry packs exactly (family, interface,
 * address); an IPv6 one is a digest, checked against the full key. */
static inline uint64_t key64(const struct neigh_key *k)
{
	if (likely(k->family == TERN_AF_INET)) {
		uint32_t a;
		memcpy(&a, k->addr, 4);
		return (uint64_t)k->family << 56 | (uint64_t)k->ifindex << 32 | a;
	}
	uint64_t lo = rte_hash_crc(k->addr, 16, k->ifindex);
	uint64_t hi = rte_hash_crc(k->addr, 16, 0x5bd1e995u ^ k->ifindex);
	return (uint64_t)k->family << 56 | ((hi << 32 | lo) & ((1ull << 56) - 1));
}

static struct tern_addr key_addr(const struct neigh_key *k)
{
	struct tern_addr a;
	memset(&a, 0, sizeof(a));
	a.family = k->family;
	if (k->family == TERN_AF_INET)
		memcpy(&a.v4, k->addr, 4);
	else
		memcpy(a.v6, k->addr, 16);
	return a;
}

/* ---- LRU list (indices; NEIGH_NONE ends it) -------------------------- */

static void lru_unlink(struct neigh_table *t, uint32_t i)
{
	struct neigh_cold *c = &t->cold[i];
	if (c->lru_prev != NEIGH_NONE)
		t->cold[c->lru_prev].lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next != NEIGH_NONE)
		t->cold[c->lru_next].lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NEIGH_NONE;
}

static void lru_push_head(struct neigh_table *t, uint32_t i, uint32_t now_u)
{
	struct neigh_cold *c = &t->cold[i];
	c->lru_prev = NEIGH_NONE;
	c->lru_next = t->lru_head;
	if (t->lru_head != NEIGH_NONE)
		t->cold[t->lru_head].lru_prev = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
	c->lru_ms = now_u;
}

/* Marks use: the hot stamp always, the LRU position now and then. */
static inline void mark_used(struct neigh_table *t, uint32_t i, uint64_t now)
{
	uint32_t u = units(t, now);
	t->hot[i].used_ms = u;
	if (unlikely(u - t->cold[i].lru_ms >= LRU_TOUCH_UNITS) &&
	    t->lru_head != i) {
		lru_unlink(t, i);
		lru_push_head(t, i, u);
	}
}

/* ---- life cycle ---------------------------------------------------- */

static void neigh_timer(struct tern_stack *s, struct tern_timer *tm);
static void reachable_roll(struct tern_stack *s);

int neigh_init(struct tern_stack *s, const struct tern_stack_conf *c)
{
	struct neigh_table *t = &s->neigh;

	memset(t, 0, sizeof(*t));
	t->cap = c->neigh_max ? c->neigh_max : 4096;
	if (t->cap < NEIGH_MIN_ENTRIES)
		t->cap = NEIGH_MIN_ENTRIES;
	t->reachable_ns = (c->neigh_reachable_ms ? c->neigh_reachable_ms : 30000) *
			  TERN_NS_PER_MS;
	t->retrans_ns = (c->neigh_retrans_ms ? c->neigh_retrans_ms : 1000) *
			TERN_NS_PER_MS;
	t->delay_ns = (c->neigh_delay_ms ? c->neigh_delay_ms : 5000) *
		      TERN_NS_PER_MS;
	t->mcast_probes = c->neigh_mcast_probes ? c->neigh_mcast_probes : 3;
	t->ucast_probes = c->neigh_ucast_probes ? c->neigh_ucast_probes : 3;
	t->queue_len = c->neigh_queue_len ? c->neigh_queue_len : 8;
	t->pending_max = c->neigh_pending_max ? c->neigh_pending_max : 4096;
	t->epoch_ns = tern_stack_now(s);
	t->lru_head = t->lru_tail = NEIGH_NONE;
	t->next_off = s->pkt_next_off;
	reachable_roll(s);

	t->hot = stack_zalloc(s, "tern_neigh_hot", t->cap * sizeof(*t->hot));
	t->cold = stack_zalloc(s, "tern_neigh_cold", t->cap * sizeof(*t->cold));
	t->free = stack_zalloc(s, "tern_neigh_free", t->cap * sizeof(*t->free));
	if (t->hot == NULL || t->cold == NULL || t->free == NULL ||
	    hmap_init(&t->map, s, "tern_neigh_map", t->cap) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++)
		t->free[i] = t->cap - 1 - i;
	t->nfree = t->cap;
	for (uint32_t i = 0; i < t->cap; i++) {
		t->cold[i].lru_prev = t->cold[i].lru_next = NEIGH_NONE;
		tern_timer_init(&t->cold[i].timer, neigh_timer,
				(void *)(uintptr_t)i);
	}
	return 0;
}

static void slot_free(struct tern_stack *s, uint32_t i, uint64_t *drops);

void neigh_fini(struct tern_stack *s)
{
	struct neigh_table *t = &s->neigh;
	if (t->hot != NULL && t->cold != NULL && t->free != NULL &&
	    t->map.slot != NULL)
		for (uint32_t i = 0; i < t->cap; i++)
			if (t->hot[i].state != NEIGH_FREE)
				slot_free(s, i, &s->st.neigh_drop_flushed);
	hmap_fini(&t->map);
	rte_free(t->hot);
	rte_free(t->cold);
	rte_free(t->free);
	t->hot = NULL;
	t->cold = NULL;
	t->free = NULL;
}

/* Frees slot i: its queue (counted in *drops), timer, key, LRU place.
 * The generation moves on, so a route cached on it sees it is gone. */
static void slot_free(struct tern_stack *s, uint32_t i, uint64_t *drops)
{
	struct neigh_table *t = &s->neigh;
	struct neigh_cold *c = &t->cold[i];
	uint32_t n = pktq_purge(t->next_off, &c->q);
	*drops += n;
	t->pending -= n;
	tern_timer_cancel(s, &c->timer);
	hmap_del(&t->map, key64(&c->key));
	lru_unlink(t, i);
	t->hot[i].state = NEIGH_FREE;
	t->hot[i].gen++;
	t->n--;
	t->free[t->nfree++] = i;
}

/* A new slot for key, evicting the least recently used entry when the
 * table is full; NEIGH_NONE (counted) when none can be had. */
static uint32_t slot_new(struct tern_stack *s, const struct neigh_key *k,
			 uint64_t now)
{
	struct neigh_table *t = &s->neigh;
	if (t->n >= t->cap && t->lru_tail != NEIGH_NONE) {
		STAT_INC(s, neigh_evicted);
		slot_free(s, t->lru_tail, &s->st.neigh_drop_evicted);
	}
	if (t->nfree == 0 ||
	    hmap_put(&t->map, key64(k), t->free[t->nfree - 1]) != 0) {
		/* full; or an IPv6 key whose 64-bit digest another holds */
		STAT_INC(s, neigh_drop_table_full);
		return NEIGH_NONE;
	}
	uint32_t i = t->free[--t->nfree];
	struct neigh_hot *h = &t->hot[i];
	struct neigh_cold *c = &t->cold[i];
	memset(&h->mac, 0, sizeof(h->mac));
	h->gen++;
	h->used_ms = units(t, now);
	c->key = *k;
	c->probes = 0;
	c->updated_ns = now;
	c->confirmed_ns = 0;
	pktq_init(&c->q);
	lru_push_head(t, i, units(t, now));
	t->n++;
	STAT_INC(s, neigh_created);
	return i;
}

/* The slot of k, or NEIGH_NONE. An IPv6 key's digest may match another
 * key's: the full key in the cold array decides. */
static inline uint32_t lookup(const struct neigh_table *t,
			      const struct neigh_key *k)
{
	uint32_t i;
	if (hmap_get(&t->map, key64(k), &i) != 0)
		return NEIGH_NONE;
	if (unlikely(k->family != TERN_AF_INET) &&
	    memcmp(&t->cold[i].key, k, sizeof(*k)) != 0)
		return NEIGH_NONE;
	return i;
}

/* lookup() for IPv4 without building the whole key (transmit path). */
static inline uint32_t lookup4(const struct neigh_table *t, uint16_t ifindex,
			       rte_be32_t ip)
{
	uint32_t i;
	uint64_t k = (uint64_t)TERN_AF_INET << 56 | (uint64_t)ifindex << 32 |
		     (uint32_t)ip;
	return hmap_get(&t->map, k, &i) == 0 ? i : NEIGH_NONE;
}

uint32_t neigh_find(const struct tern_stack *s, uint16_t ifindex,
		    const struct tern_addr *ip)
{
	if (likely(ip->family == TERN_AF_INET))
		return lookup4(&s->neigh, ifindex, ip->v4);
	struct neigh_key k;
	key_make(&k, ifindex, ip);
	return lookup(&s->neigh, &k);
}

/* ---- states -------------------------------------------------------- */

/* RFC 4861 6.3.2: ReachableTime is BaseReachableTime times a random
 * factor in [0.5, 1.5), drawn again now and then so that entries do not
 * expire in lockstep; here each time an entry goes STALE. */
static void reachable_roll(struct tern_stack *s)
{
	uint64_t base = s->neigh.reachable_ns;
	s->neigh.reach_cur_ns = base / 2 + stack_rand(s) % (base ? base : 1);
}

static void set_state(struct tern_stack *s, uint32_t i, uint8_t state,
		      uint64_t now)
{
	struct neigh_table *t = &s->neigh;
	t->hot[i].state = state;
	t->cold[i].updated_ns = now;
	t->cold[i].probes = 0;
	switch (state) {
	case TERN_NEIGH_REACHABLE:
		tern_timer_arm(s, &t->cold[i].timer, now + t->reach_cur_ns);
		break;
	case TERN_NEIGH_DELAY:
		tern_timer_arm(s, &t->cold[i].timer, now + t->delay_ns);
		break;
	case TERN_NEIGH_STALE:
		/* nothing happens until traffic uses it (7.3.3) */
		tern_timer_cancel(s, &t->cold[i].timer);
		break;
	default:
		break;	/* INCOMPLETE and PROBE arm as they solicit */
	}
}

/* Sends a solicitation for slot i: broadcast while INCOMPLETE, unicast to
 * the known address in PROBE (7.3.3), and arms the retransmit. */
static void solicit(struct tern_stack *s, uint32_t i, uint64_t now)
{
	struct neigh_table *t = &s->neigh;
	struct neigh_cold *c = &t->cold[i];
	struct iface *ifc = iface_get(s, c->key.ifindex);
	c->probes++;
	tern_timer_arm(s, &c->timer, now + t->retrans_ns);
	if (ifc == NULL)
		return;
	bool ucast = t->hot[i].state == TERN_NEIGH_PROBE;
	if (c->key.family == TERN_AF_INET) {
		rte_be32_t tip;
		memcpy(&tip, c->key.addr, 4);
		arp_solicit(s, ifc, tip, ucast ? &t->hot[i].mac : NULL,
			    c->q.head);
	}
}

/* Sends what waited in slot i's queue, now that its address is known. */
static void release(struct tern_stack *s, uint32_t i)
{
	struct neigh_table *t = &s->neigh;
	struct neigh_cold *c = &t->cold[i];
	struct iface *ifc = iface_get(s, c->key.ifindex);
	struct rte_mbuf *m;
	while ((m = pktq_pop(t->next_off, &c->q)) != NULL) {
		t->pending--;
		if (ifc == NULL) {
			STAT_INC(s, neigh_drop_unresolved);
			drop(m);
			continue;
		}
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m,
						struct rte_ether_hdr *);
		rte_ether_addr_copy(&t->hot[i].mac, &eh->dst_addr);
		eth_xmit(s, ifc, m);
	}
}

static void fail(struct tern_stack *s, uint32_t i)
{
	STAT_INC(s, neigh_failed);
	slot_free(s, i, &s->st.neigh_drop_unresolved);
}

static void neigh_timer(struct tern_stack *s, struct tern_timer *tm)
{
	struct neigh_table *t = &s->neigh;
	uint32_t i = (uint32_t)(uintptr_t)tm->arg;
	struct neigh_cold *c = &t->cold[i];
	uint64_t now = tern_stack_now(s);

	switch (t->hot[i].state) {
	case TERN_NEIGH_INCOMPLETE:
	case TERN_NEIGH_PROBE:
		/* 7.2.2: MAX_MULTICAST_SOLICIT solicitations, then the queued
		 * packets go (an ICMP error is optional; a generator sees its
		 * tx counters instead). 7.3.3: MAX_UNICAST_SOLICIT unanswered
		 * probes, then the entry goes and the next packet resolves it
		 * afresh by broadcast. */
		if (c->probes >= (t->hot[i].state == TERN_NEIGH_PROBE ?
				  t->ucast_probes : t->mcast_probes))
			fail(s, i);
		else
			solicit(s, i, now);
		break;
	case TERN_NEIGH_REACHABLE:
		/* 7.3.3: ReachableTime since the last confirmation. A
		 * confirmation only stamps confirmed_ns (it may come with
		 * every ACK), so look again before going STALE. */
		if (c->confirmed_ns + t->reach_cur_ns > now) {
			tern_timer_arm(s, &c->timer,
				       c->confirmed_ns + t->reach_cur_ns);
			break;
		}
		set_state(s, i, TERN_NEIGH_STALE, now);
		reachable_roll(s);
		break;
	case TERN_NEIGH_DELAY:
		/* 7.3.3: confirmed meanwhile by an upper layer: reachable
		 * again without a probe; else probe by unicast. */
		if (c->confirmed_ns >= c->updated_ns) {
			set_state(s, i, TERN_NEIGH_REACHABLE, now);
			break;
		}
		set_state(s, i, TERN_NEIGH_PROBE, now);
		solicit(s, i, now);
		break;
	default:
		break;
	}
}

/* ---- transmit ------------------------------------------------------ */

static int enqueue(struct tern_stack *s, uint32_t i, struct rte_mbuf *m)
{
	struct neigh_table *t = &s->neigh;
	struct pktq *q = &t->cold[i].q;
	if (t->pending >= t->pending_max) {
		STAT_INC(s, neigh_drop_queue_full);
		drop(m);
		return -ENOBUFS;
	}
	if (q->n >= t->queue_len) {
		/* 7.2.2: when the queue overflows, the new arrival SHOULD
		 * replace the oldest entry. */
		STAT_INC(s, neigh_drop_queue_full);
		drop(pktq_pop(t->next_off, q));
		t->pending--;
	}
	pktq_push(t->next_off, q, m);
	t->pending++;
	return 0;
}

/* m goes to the resolved entry i's MAC; a STALE entry that traffic uses
 * starts its DELAY (7.3.3). */
static int send_resolved(struct tern_stack *s, struct iface *ifc, uint32_t i,
			 uint64_t now, struct rte_mbuf *m)
{
	struct neigh_table *t = &s->neigh;
	struct neigh_hot *h = &t->hot[i];
	if (unlikely(h->state == TERN_NEIGH_STALE))
		set_state(s, i, TERN_NEIGH_DELAY, now);
	mark_used(t, i, now);
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&h->mac, &eh->dst_addr);
	eth_xmit(s, ifc, m);
	return 0;
}

int neigh_output(struct tern_stack *s, struct iface *ifc,
		 const struct tern_addr *nexthop, struct rte_mbuf *m)
{
	struct neigh_table *t = &s->neigh;
	struct neigh_key k;
	uint64_t now = tern_stack_now(s);

	uint32_t pos = neigh_find(s, ifc->conf.ifindex, nexthop);
	if (likely(pos != NEIGH_NONE)) {
		uint32_t i = pos;
		if (unlikely(t->hot[i].state == TERN_NEIGH_INCOMPLETE))
			return enqueue(s, i, m);
		return send_resolved(s, ifc, i, now, m);
	}
	key_make(&k, ifc->conf.ifindex, nexthop);
	uint32_t i = slot_new(s, &k, now);
	if (i == NEIGH_NONE) {
		drop(m);
		return -EHOSTUNREACH;
	}
	t->hot[i].state = TERN_NEIGH_INCOMPLETE;
	int rc = enqueue(s, i, m);
	solicit(s, i, now);	/* the queued frame lends its source */
	return rc;
}

/* ---- what the wire says -------------------------------------------- */

void neigh_input(struct tern_stack *s, struct iface *ifc,
		 const struct tern_addr *ip, const struct rte_ether_addr *mac,
		 unsigned flags, bool share)
{
	struct neigh_table *t = &s->neigh;
	struct neigh_key k;
	uint64_t now = tern_stack_now(s);
	bool confirmed = flags & TERN_NEIGH_F_CONFIRMED;

	key_make(&k, ifc->conf.ifindex, ip);
	uint32_t i = lookup(t, &k);
	bool tell;
	if (i == NEIGH_NONE) {
		if (!(flags & TERN_NEIGH_F_CREATE))
			return;
		i = slot_new(s, &k, now);
		if (i == NEIGH_NONE)
			return;
		rte_ether_addr_copy(mac, &t->hot[i].mac);
		if (confirmed)
			t->cold[i].confirmed_ns = now;
		set_state(s, i, confirmed ? TERN_NEIGH_REACHABLE :
					    TERN_NEIGH_STALE, now);
		STAT_INC(s, neigh_learned);
		tell = true;
	} else {
		struct neigh_hot *h = &t->hot[i];
		bool incomplete = h->state == TERN_NEIGH_INCOMPLETE;
		bool changed = incomplete || !rte_is_same_ether_addr(&h->mac, mac);
		if (changed) {
			rte_ether_addr_copy(mac, &h->mac);
			h->gen++;
			STAT_INC(s, neigh_learned);
		}
		if (confirmed) {
			/* Appendix C: a solicited advertisement (ARP: a
			 * reply to us, which always overrides) makes any
			 * entry REACHABLE with its address. */
			t->cold[i].confirmed_ns = now;
			STAT_INC(s, neigh_confirmed);
			set_state(s, i, TERN_NEIGH_REACHABLE, now);
		} else if (changed) {
			/* Unsolicited with a new address: STALE (7.2.3,
			 * 7.2.5); with the same one nothing changes. */
			set_state(s, i, TERN_NEIGH_STALE, now);
		}
		if (incomplete && t->cold[i].q.n > 0) {
			release(s, i);
			/* 7.3.3: sending on a STALE entry moves it to DELAY */
			if (h->state == TERN_NEIGH_STALE)
				set_state(s, i, TERN_NEIGH_DELAY, now);
		}
		tell = confirmed || changed;
	}
	if (share && tell && t->learn_cb != NULL)
		t->learn_cb(t->learn_arg, ifc->conf.ifindex, ip, mac, flags);
}

void neigh_iface_gone(struct tern_stack *s, uint16_t ifindex)
{
	tern_neigh_flush(s, ifindex);
}

/* ---- public API ---------------------------------------------------- */

void tern_stack_set_neigh_cb(struct tern_stack *s, tern_neigh_learn_fn fn,
			     void *arg)
{
	s->neigh.learn_cb = fn;
	s->neigh.learn_arg = arg;
}

static bool host_addr_ok(const struct tern_addr *ip)
{
	if (ip == NULL || ip->family != TERN_AF_INET)
		return false;
	return ip->v4 != 0 && !ip4_is_limited_bcast(ip->v4) &&
	       !ip4_is_multicast(ip->v4) && !ip4_is_loopback(ip->v4);
}

int tern_neigh_update(struct tern_stack *s, uint16_t ifindex,
		      const struct tern_addr *ip,
		      const struct rte_ether_addr *mac, unsigned flags)
{
	if (!host_addr_ok(ip) || mac == NULL ||
	    !rte_is_valid_assigned_ether_addr(mac))
		return -EINVAL;
	struct iface *ifc = iface_get(s, ifindex);
	if (ifc == NULL)
		return -ENOENT;
	neigh_input(s, ifc, ip, mac, flags, false);
	if ((flags & TERN_NEIGH_F_CREATE) &&
	    neigh_find(s, ifindex, ip) == NEIGH_NONE)
		return -ENOSPC;
	return 0;
}

int tern_neigh_add(struct tern_stack *s, uint16_t ifindex,
		   const struct tern_addr *ip, const struct rte_ether_addr *mac)
{
	return tern_neigh_update(s, ifindex, ip, mac,
				 TERN_NEIGH_F_CONFIRMED | TERN_NEIGH_F_CREATE);
}

int tern_neigh_lookup(const struct tern_stack *s, uint16_t ifindex,
		      const struct tern_addr *ip, struct rte_ether_addr *mac)
{
	if (ip == NULL || ip->family != TERN_AF_INET)
		return -ENOENT;
	uint32_t i = neigh_find(s, ifindex, ip);
	if (i == NEIGH_NONE || s->neigh.hot[i].state == TERN_NEIGH_INCOMPLETE)
		return -ENOENT;
	if (mac != NULL)
		*mac = s->neigh.hot[i].mac;
	return 0;
}

static void confirm(struct tern_stack *s, uint32_t i)
{
	struct neigh_table *t = &s->neigh;
	uint64_t now = tern_stack_now(s);
	t->cold[i].confirmed_ns = now;
	/* A REACHABLE entry only needs the stamp (its timer looks at it);
	 * the others become REACHABLE again (7.3.1). */
	if (t->hot[i].state != TERN_NEIGH_REACHABLE)
		set_state(s, i, TERN_NEIGH_REACHABLE, now);
}

int tern_neigh_confirm(struct tern_stack *s, uint16_t ifindex,
		       const struct tern_addr *ip)
{
	if (ip == NULL || ip->family != TERN_AF_INET)
		return -ENOENT;
	uint32_t i = neigh_find(s, ifindex, ip);
	if (i == NEIGH_NONE || s->neigh.hot[i].state == TERN_NEIGH_INCOMPLETE)
		return -ENOENT;
	confirm(s, i);
	return 0;
}

void neigh_confirm_cached(struct tern_stack *s, uint32_t slot, uint32_t gen)
{
	const struct neigh_table *t = &s->neigh;
	if (slot < t->cap && t->hot[slot].gen == gen &&
	    t->hot[slot].state >= TERN_NEIGH_REACHABLE)
		confirm(s, slot);
}

int tern_neigh_del(struct tern_stack *s, uint16_t ifindex,
		   const struct tern_addr *ip)
{
	if (ip == NULL || (ip->family != TERN_AF_INET &&
			   ip->family != TERN_AF_INET6))
		return -ENOENT;
	uint32_t i = neigh_find(s, ifindex, ip);
	if (i == NEIGH_NONE)
		return -ENOENT;
	slot_free(s, i, &s->st.neigh_drop_flushed);
	return 0;
}

unsigned tern_neigh_flush(struct tern_stack *s, uint16_t ifindex)
{
	struct neigh_table *t = &s->neigh;
	unsigned n = 0;
	for (uint32_t i = 0; i < t->cap; i++) {
		if (t->hot[i].state == NEIGH_FREE ||
		    (ifindex != 0 && t->cold[i].key.ifindex != ifindex))
			continue;
		slot_free(s, i, &s->st.neigh_drop_flushed);
		n++;
	}
	return n;
}

static uint64_t ago(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : 0;
}

static void info_of(const struct tern_stack *s, uint32_t i,
		    struct tern_neigh_info *info)
{
	const struct neigh_table *t = &s->neigh;
	const struct neigh_hot *h = &t->hot[i];
	const struct neigh_cold *c = &t->cold[i];
	uint64_t now = tern_stack_now(s);
	memset(info, 0, sizeof(*info));
	info->ifindex = c->key.ifindex;
	info->state = h->state;
	info->probes = c->probes;
	info->ip = key_addr(&c->key);
	if (h->state != TERN_NEIGH_INCOMPLETE)
		info->mac = h->mac;
	info->queued = c->q.n;
	info->updated_ago_ns = ago(now, c->updated_ns);
	info->confirmed_ago_ns = c->confirmed_ns ?
		ago(now, c->confirmed_ns) : UINT64_MAX;
	info->used_ago_ns = (uint64_t)(units(t, now) - h->used_ms) << UNIT_SHIFT;
}

unsigned tern_neigh_walk(const struct tern_stack *s, uint16_t ifindex,
			 tern_neigh_walk_fn fn, void *arg)
{
	const struct neigh_table *t = &s->neigh;
	unsigned n = 0;
	for (uint32_t i = 0; i < t->cap; i++) {
		if (t->hot[i].state == NEIGH_FREE ||
		    (ifindex != 0 && t->cold[i].key.ifindex != ifindex))
			continue;
		if (fn != NULL) {
			struct tern_neigh_info info;
			info_of(s, i, &info);
			fn(arg, &info);
		}
		n++;
	}
	return n;
}

int tern_neigh_next(const struct tern_stack *s, uint32_t *cursor,
		    struct tern_neigh_info *out)
{
	const struct neigh_table *t = &s->neigh;
	for (uint32_t i = *cursor; i < t->cap; i++) {
		if (t->hot[i].state == NEIGH_FREE)
			continue;
		info_of(s, i, out);
		*cursor = i + 1;
		return 0;
	}
	*cursor = t->cap;
	return -ENOENT;
}

unsigned tern_neigh_count(const struct tern_stack *s, unsigned *capacity)
{
	if (capacity != NULL)
		*capacity = s->neigh.cap;
	return s->neigh.n;
}

int neigh_output_cached(struct tern_stack *s, struct iface *ifc,
			const struct tern_addr *nexthop, struct rte_mbuf *m,
			uint32_t *slot, uint32_t *gen)
{
	struct neigh_table *t = &s->neigh;
	uint32_t i = *slot;
	/* The generation moves whenever the slot is freed, reused or its
	 * address changes, so a match is this very entry, address known
	 * unless it is still INCOMPLETE. */
	if (likely(i < t->cap && t->hot[i].gen == *gen &&
		   t->hot[i].state >= TERN_NEIGH_REACHABLE)) {
		return send_resolved(s, ifc, i, tern_stack_now(s), m);
	}
	int rc = neigh_output(s, ifc, nexthop, m);
	i = neigh_find(s, ifc->conf.ifindex, nexthop);
	*slot = i;
	*gen = i == NEIGH_NONE ? 0 : t->hot[i].gen;
	return rc;
}
