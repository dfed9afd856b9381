/* The stack's ephemeral range, what each link's RSS looks like from this
 * stack, and the choice of local ports for active opens: in this stack's
 * own part of the range (so a frame's destination port names the worker
 * that owns the flow) and, when the link has RSS, one whose return
 * traffic hashes to the queue this stack reads (DESIGN rule 8). */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include <tern/rss.h>

#include "stack_priv.h"

#define EPH_MAX_LINKS 16

struct eph_link {
	uint16_t link;
	struct tern_rss_steer *st;
};

struct eph_state {
	uint16_t lo, hi;
	uint16_t next;		/* plain choice: next candidate */
	uint32_t cursor;	/* steered choice: tern_rss_steer_port's */
	unsigned nlinks;
	struct eph_link links[EPH_MAX_LINKS];
};

/* 0/0 (the default range) or 1 <= lo <= hi. */
bool eph_conf_valid(const struct tern_stack_conf *conf)
{
	uint16_t lo = conf->ephemeral_lo, hi = conf->ephemeral_hi;
	return (lo == 0 && hi == 0) || (lo != 0 && lo <= hi);
}

int eph_init(struct tern_stack *s, const struct tern_stack_conf *conf)
{
	uint16_t lo = conf->ephemeral_lo, hi = conf->ephemeral_hi;
	if (!eph_conf_valid(conf))
		return -EINVAL;
	if (lo == 0 && hi == 0) {
		lo = TERN_EPHEMERAL_LO;
		hi = TERN_EPHEMERAL_HI;
	}
	s->eph = rte_zmalloc("tern_eph", sizeof(*s->eph), 0);
	if (s->eph == NULL)
		return -ENOMEM;
	s->eph->lo = lo;
	s->eph->hi = hi;
	s->eph->next = lo;
	return 0;
}

void eph_fini(struct tern_stack *s)
{
	if (s->eph == NULL)
		return;
	for (unsigned i = 0; i < s->eph->nlinks; i++)
		tern_rss_steer_free(s->eph->links[i].st);
	rte_free(s->eph);
	s->eph = NULL;
}

void tern_stack_ephemeral_range(const struct tern_stack *s, uint16_t *lo,
				uint16_t *hi)
{
	*lo = s->eph->lo;
	*hi = s->eph->hi;
}

static struct eph_link *link_find(struct eph_state *e, uint16_t link)
{
	for (unsigned i = 0; i < e->nlinks; i++)
		if (e->links[i].link == link)
			return &e->links[i];
	return NULL;
}

int tern_stack_set_link_rss(struct tern_stack *s, uint16_t link,
			    const struct tern_rss_conf *c)
{
	struct eph_state *e = s->eph;
	struct eph_link *l = link_find(e, link);

	if (c == NULL) {
		if (l == NULL)
			return 0;
		tern_rss_steer_free(l->st);
		*l = e->links[--e->nlinks];
		return 0;
	}
	if (l == NULL && e->nlinks == EPH_MAX_LINKS)
		return -ENOSPC;
	struct tern_rss_steer *st = tern_rss_steer_create(c);
	if (st == NULL)
		return -rte_errno;
	if (l == NULL) {
		l = &e->links[e->nlinks++];
		l->link = link;
	} else {
		tern_rss_steer_free(l->st);
	}
	l->st = st;
	return 0;
}

struct busy_arg {
	struct tern_stack *s;
	const struct tern_addr *local;
	/* an active open: the 4-tuple decides (src 0: no remote known) */
	rte_be32_t src, dst;
	uint16_t rport;
};

static bool udp_busy(void *arg, uint16_t port)
{
	const struct busy_arg *b = arg;
	return udp_port_busy(b->s, b->local, port);
}

/* For TCP a port is busy for an active open when its 4-tuple is taken
 * or a listener holds it; without a remote, when anything uses it. */
static bool tcp_busy(void *arg, uint16_t port)
{
	const struct busy_arg *b = arg;
	if (b->src == 0)
		return tcp_port_busy(b->s, b->local, port);
	return tcp_lookup(b->s, b->src, b->dst, rte_cpu_to_be_16(port),
			  rte_cpu_to_be_16(b->rport)) != NULL ||
	       tcp_listener_find(b->s, b->src, port) != NULL;
}

static tern_port_busy_fn busy_fn(uint8_t proto)
{
	return proto == IPPROTO_UDP ? udp_busy :
	       proto == IPPROTO_TCP ? tcp_busy : NULL;
}

/* The next port of the range, from a rotating start, that is not busy
 * for proto; src 0: no remote known (a bind, not an active open). */
static int eph_pick_tuple(struct tern_stack *s, uint8_t proto,
			  const struct tern_addr *local, rte_be32_t src,
			  rte_be32_t dst, uint16_t rport, uint16_t *port)
{
	struct eph_state *e = s->eph;
	struct busy_arg b = {s, local, src, dst, rport};
	tern_port_busy_fn busy = busy_fn(proto);
	unsigned span = (unsigned)(e->hi - e->lo) + 1;

	for (unsigned i = 0; i < span; i++) {
		uint16_t cand = e->next;
		e->next = cand == e->hi ? e->lo : (uint16_t)(cand + 1);
		if (!busy(&b, cand)) {
			*port = cand;
			/* the next active open to the same peer will try
			 * e->next first: its table slot is a cache miss in a
			 * table sized for millions, which can be on its way
			 * while this connection is made (docs/bench.md) */
			if (proto == IPPROTO_TCP && src != 0)
				tcp_lookup_prefetch(s, src, dst,
						    rte_cpu_to_be_16(e->next),
						    rte_cpu_to_be_16(rport));
			return 0;
		}
	}
	return -EADDRINUSE;
}

int eph_pick_plain(struct tern_stack *s, uint8_t proto,
		   const struct tern_addr *local, uint16_t *port)
{
	if (busy_fn(proto) == NULL)
		return -EPROTONOSUPPORT;
	return eph_pick_tuple(s, proto, local, 0, 0, 0, port);
}

int tern_stack_pick_port(struct tern_stack *s, uint8_t proto,
			 const struct tern_addr *local,
			 const struct tern_addr *remote, uint16_t rport,
			 uint16_t *port)
{
	struct tern_addr any;
	memset(&any, 0, sizeof(any));
	if (local == NULL)
		local = &any;
	if (s == NULL || port == NULL || remote == NULL ||
	    remote->family != TERN_AF_INET ||
	    (local->family != TERN_AF_NONE && local->family != TERN_AF_INET))
		return -EINVAL;
	if (busy_fn(proto) == NULL)
		return -EPROTONOSUPPORT;

	/* The link the flow will use and the source it will have: what
	 * the output path will choose (ip4_output with this local). */
	struct iface *ifc;
	rte_be32_t nexthop;
	rte_be32_t src = local->family == TERN_AF_INET ? local->v4 : 0;
	struct eph_link *l = NULL;
	if (route_lookup(s, remote->v4, src, &ifc, &nexthop) == 0) {
		l = link_find(s->eph, ifc->conf.link);
		if (src == 0)
			src = iface_src_for(ifc, remote->v4);
	}
	if (l != NULL) {
		struct busy_arg b = {s, local, src, remote->v4, rport};
		int rc = tern_rss_steer_port(l->st, proto, src, remote->v4,
					     rport, s->eph->lo, s->eph->hi,
					     &s->eph->cursor, busy_fn(proto),
					     &b, port);
		/* -EOPNOTSUPP/-ENOENT: every port lands alike, none can do
		 * better than another. */
		if (rc != -EOPNOTSUPP && rc != -ENOENT)
			return rc;
	}
	return eph_pick_tuple(s, proto, local, src, remote->v4, rport, port);
}
