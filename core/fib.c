/* The route table (see <tern/fib.h>). rte_lpm maps a destination to a
 * route slot; the slot holds the interface and gateway. Several routes may
 * exist for one prefix (two interfaces in one subnet, several interfaces
 * with a default gateway); the LPM points at the preferred one, and when
 * it goes the next one takes over.
 *
 * Readers never lock: the writer fills a slot before the LPM points at it
 * and never changes it while it may be read; a slot the LPM stopped
 * pointing at is reused only after an RCU grace period (when readers run
 * on other threads). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <tern/fib.h>

enum slot_state { SLOT_FREE = 0, SLOT_USED, SLOT_DYING };

struct fib_route {
	uint8_t state;
	uint8_t kind;
	uint8_t plen;
	uint16_t ifindex;
	rte_be32_t prefix;
	rte_be32_t gateway;	/* 0: on-link */
	uint64_t seq;		/* order added: first wins among equals */
};

struct tern_fib {
	struct rte_lpm *lpm;
	struct rte_rcu_qsbr *qsbr;
	uint32_t max;
	uint64_t seq;
	atomic_uint version;
	/* rte_lpm has no depth 0: the default route's slot lives here
	 * (-1: none), used when the LPM misses. */
	atomic_int default_slot;
	bool dying;		/* some slot waits for a grace period */
	struct fib_route *routes;
};

const char *tern_route_kind_name(int kind)
{
	switch (kind) {
	case TERN_ROUTE_CONNECTED: return "connected";
	case TERN_ROUTE_GATEWAY: return "gateway";
	case TERN_ROUTE_STATIC: return "static";
	default: return "?";
	}
}

static rte_be32_t mask4(uint8_t plen)
{
	return plen == 0 || plen > 32 ? 0 : rte_cpu_to_be_32(~0u << (32 - plen));
}

struct tern_fib *tern_fib_create(const struct tern_fib_conf *conf)
{
	char name[RTE_LPM_NAMESIZE];
	if (conf == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_fib *f = rte_zmalloc_socket("tern_fib", sizeof(*f), 0,
						conf->socket);
	if (f == NULL)
		f = rte_zmalloc("tern_fib", sizeof(*f), 0);
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	f->max = conf->max_routes ? conf->max_routes : 1024;
	f->qsbr = conf->qsbr;
	atomic_init(&f->version, 1);
	atomic_init(&f->default_slot, -1);
	f->routes = rte_zmalloc_socket("tern_fib_routes",
				       f->max * sizeof(*f->routes), 0,
				       conf->socket);
	if (f->routes == NULL)
		f->routes = rte_zmalloc("tern_fib_routes",
					f->max * sizeof(*f->routes), 0);
	snprintf(name, sizeof(name), "fib_%p", (void *)f);
	struct rte_lpm_config lc = {
		.max_rules = f->max,
		/* a tbl8 group per prefix longer than /24 */
		.number_tbl8s = RTE_MIN(f->max, 4096u),
	};
	f->lpm = rte_lpm_create(name, conf->socket, &lc);
	if (f->lpm == NULL && conf->socket != SOCKET_ID_ANY)
		f->lpm = rte_lpm_create(name, SOCKET_ID_ANY, &lc);
	if (f->routes == NULL || f->lpm == NULL) {
		tern_fib_destroy(f);
		rte_errno = ENOMEM;
		return NULL;
	}
	if (f->qsbr != NULL) {
		/* tbl8 groups freed by a delete are reused after a grace
		 * period; the writer waits for it (control thread only). */
		struct rte_lpm_rcu_config rc = {
			.v = f->qsbr,
			.mode = RTE_LPM_QSBR_MODE_SYNC,
		};
		if (rte_lpm_rcu_qsbr_add(f->lpm, &rc) != 0) {
			int err = rte_errno;
			tern_fib_destroy(f);
			rte_errno = err;
			return NULL;
		}
	}
	return f;
}

void tern_fib_destroy(struct tern_fib *f)
{
	if (f == NULL)
		return;
	rte_lpm_free(f->lpm);
	rte_free(f->routes);
	rte_free(f);
}

uint32_t tern_fib_version(const struct tern_fib *f)
{
	return atomic_load_explicit(&f->version, memory_order_acquire);
}

static void bump(struct tern_fib *f)
{
	atomic_fetch_add_explicit(&f->version, 1, memory_order_release);
}

/* Lower is preferred. */
static int prio(uint8_t kind)
{
	return kind == TERN_ROUTE_STATIC ? 0 :
	       kind == TERN_ROUTE_CONNECTED ? 1 : 2;
}

/* The preferred used route for prefix/plen, or -1. */
static int best_for(const struct tern_fib *f, rte_be32_t prefix,
		    uint8_t plen)
{
	int best = -1;
	for (uint32_t i = 0; i < f->max; i++) {
		const struct fib_route *r = &f->routes[i];
		if (r->state != SLOT_USED || r->plen != plen ||
		    r->prefix != prefix)
			continue;
		if (best < 0 || prio(r->kind) < prio(f->routes[best].kind) ||
		    (prio(r->kind) == prio(f->routes[best].kind) &&
		     r->seq < f->routes[best].seq))
			best = (int)i;
	}
	return best;
}

/* Points the LPM at the preferred route for prefix/plen, or removes the
 * rule when none is left. */
static int lpm_sync(struct tern_fib *f, rte_be32_t prefix, uint8_t plen)
{
	int best = best_for(f, prefix, plen);
	uint32_t ip = rte_be_to_cpu_32(prefix);
	if (plen == 0) {
		atomic_store_explicit(&f->default_slot, best,
				      memory_order_release);
		return 0;
	}
	if (best >= 0)
		return rte_lpm_add(f->lpm, ip, plen, (uint32_t)best);
	uint32_t nh;
	if (rte_lpm_is_rule_present(f->lpm, ip, plen, &nh) == 1)
		return rte_lpm_delete(f->lpm, ip, plen);
	return 0;
}

/* Slots the LPM no longer points at become free once no reader can hold
 * them any more. */
static void reclaim(struct tern_fib *f)
{
	if (!f->dying)
		return;
	if (f->qsbr != NULL)
		rte_rcu_qsbr_synchronize(f->qsbr, RTE_QSBR_THRID_INVALID);
	for (uint32_t i = 0; i < f->max; i++)
		if (f->routes[i].state == SLOT_DYING)
			memset(&f->routes[i], 0, sizeof(f->routes[i]));
	f->dying = false;
}

int tern_fib_add(struct tern_fib *f, const struct tern_route_info *r)
{
	if (r == NULL || r->prefix.family != TERN_AF_INET || r->plen > 32 ||
	    (r->prefix.v4 & ~mask4(r->plen)) != 0 ||
	    (r->kind != TERN_ROUTE_CONNECTED && r->kind != TERN_ROUTE_GATEWAY &&
	     r->kind != TERN_ROUTE_STATIC) || r->ifindex == 0 ||
	    (r->gateway.family != TERN_AF_NONE &&
	     r->gateway.family != TERN_AF_INET))
		return -EINVAL;
	rte_be32_t gw = r->gateway.family == TERN_AF_INET ? r->gateway.v4 : 0;
	int free_slot = -1;
	for (uint32_t i = 0; i < f->max; i++) {
		const struct fib_route *o = &f->routes[i];
		if (o->state == SLOT_FREE) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (o->state != SLOT_USED || o->prefix != r->prefix.v4 ||
		    o->plen != r->plen)
			continue;
		if ((o->kind == r->kind && o->ifindex == r->ifindex &&
		     o->gateway == gw) ||
		    (o->kind == TERN_ROUTE_STATIC && r->kind == TERN_ROUTE_STATIC))
			return -EEXIST;
	}
	if (free_slot < 0) {
		reclaim(f);
		for (uint32_t i = 0; i < f->max && free_slot < 0; i++)
			if (f->routes[i].state == SLOT_FREE)
				free_slot = (int)i;
		if (free_slot < 0)
			return -ENOSPC;
	}
	struct fib_route *n = &f->routes[free_slot];
	n->kind = r->kind;
	n->plen = r->plen;
	n->ifindex = r->ifindex;
	n->prefix = r->prefix.v4;
	n->gateway = gw;
	n->seq = ++f->seq;
	n->state = SLOT_USED;	/* filled before the LPM can point here */
	int rc = lpm_sync(f, n->prefix, n->plen);
	if (rc < 0) {
		memset(n, 0, sizeof(*n));
		return rc == -ENOSPC ? -ENOSPC : rc;
	}
	bump(f);
	return 0;
}

static void unlink_slot(struct tern_fib *f, uint32_t i)
{
	struct fib_route *r = &f->routes[i];
	r->state = SLOT_DYING;
	f->dying = true;
	lpm_sync(f, r->prefix, r->plen);
}

int tern_fib_del(struct tern_fib *f, const struct tern_addr *prefix,
		 uint8_t plen, uint8_t kind, uint16_t ifindex)
{
	if (prefix == NULL || prefix->family != TERN_AF_INET || plen > 32)
		return -ENOENT;
	for (uint32_t i = 0; i < f->max; i++) {
		const struct fib_route *r = &f->routes[i];
		if (r->state != SLOT_USED || r->prefix != prefix->v4 ||
		    r->plen != plen || r->kind != kind ||
		    (ifindex != 0 && r->ifindex != ifindex))
			continue;
		unlink_slot(f, i);
		bump(f);
		reclaim(f);
		return 0;
	}
	return -ENOENT;
}

unsigned tern_fib_del_ifindex(struct tern_fib *f, uint16_t ifindex)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < f->max; i++) {
		if (f->routes[i].state != SLOT_USED ||
		    f->routes[i].ifindex != ifindex)
			continue;
		unlink_slot(f, i);
		n++;
	}
	if (n > 0) {
		bump(f);
		reclaim(f);
	}
	return n;
}

bool tern_fib_has(const struct tern_fib *f, const struct tern_addr *prefix,
		  uint8_t plen)
{
	if (prefix == NULL || prefix->family != TERN_AF_INET)
		return false;
	return best_for(f, prefix->v4, plen) >= 0;
}

static int cmp_info(const void *a, const void *b)
{
	const struct tern_route_info *x = a, *y = b;
	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	uint32_t px = rte_be_to_cpu_32(x->prefix.v4);
	uint32_t py = rte_be_to_cpu_32(y->prefix.v4);
	if (px != py)
		return px < py ? -1 : 1;
	return x->active == y->active ? 0 : x->active ? -1 : 1;
}

unsigned tern_fib_list(const struct tern_fib *f, struct tern_route_info *out,
		       unsigned max)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < f->max; i++) {
		const struct fib_route *r = &f->routes[i];
		if (r->state != SLOT_USED)
			continue;
		if (out != NULL && n < max) {
			struct tern_route_info *o = &out[n];
			memset(o, 0, sizeof(*o));
			o->prefix = tern_addr_v4(r->prefix);
			o->plen = r->plen;
			o->kind = r->kind;
			o->ifindex = r->ifindex;
			if (r->gateway != 0)
				o->gateway = tern_addr_v4(r->gateway);
			o->active = best_for(f, r->prefix, r->plen) == (int)i;
		}
		n++;
	}
	if (out != NULL)
		qsort(out, RTE_MIN(n, max), sizeof(*out), cmp_info);
	return n;
}

int tern_fib_lookup4(const struct tern_fib *f, rte_be32_t dst,
		     uint16_t *ifindex, rte_be32_t *gateway)
{
	uint32_t nh;
	if (rte_lpm_lookup(f->lpm, rte_be_to_cpu_32(dst), &nh) != 0) {
		int d = atomic_load_explicit(&f->default_slot,
					     memory_order_acquire);
		if (d < 0)
			return -ENOENT;
		nh = (uint32_t)d;
	}
	const struct fib_route *r = &f->routes[nh];
	*ifindex = r->ifindex;
	*gateway = r->gateway;
	return 0;
}
