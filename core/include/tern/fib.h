/* The route table of one host: connected prefixes, interface default
 * gateways and static routes, looked up with rte_lpm.
 *
 * A fib may be shared by the stacks of one host (the data plane gives
 * every worker lcore the same one: routes are configuration every lcore
 * needs, DESIGN rule 7). Then one thread writes it (the control thread)
 * while the lcores read it lock-free; tbl8 groups and route slots are
 * reclaimed after an RCU grace period when the fib was created with a QSBR
 * variable that every reading lcore reports to. A stack created without a
 * fib makes and owns its own, and then adds and removes the connected and
 * gateway routes of its interfaces itself (unit tests, single-lcore use). */
#ifndef TERN_FIB_H
#define TERN_FIB_H

#include <stdbool.h>
#include <stdint.h>

#include <tern/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_fib;
struct rte_rcu_qsbr;

struct tern_fib_conf {
	const char *name;		/* for the LPM's name; may be NULL */
	int socket;			/* NUMA socket (SOCKET_ID_ANY: any) */
	uint32_t max_routes;		/* 0 = 1024 */
	struct rte_rcu_qsbr *qsbr;	/* readers on other threads: NULL when
					 * the writer is the only reader */
};

/* NULL with rte_errno (EINVAL, ENOMEM). The LPM takes 64 MiB (rte_lpm's
 * tbl24), which is why the data plane shares one fib. */
struct tern_fib *tern_fib_create(const struct tern_fib_conf *conf);
void tern_fib_destroy(struct tern_fib *fib);

enum tern_route_kind {
	TERN_ROUTE_CONNECTED = 1,	/* an interface address's prefix */
	TERN_ROUTE_GATEWAY,		/* an interface's default gateway */
	TERN_ROUTE_STATIC,		/* added by the user */
};

const char *tern_route_kind_name(int kind);

struct tern_route_info {
	struct tern_addr prefix;	/* host bits zero */
	uint8_t plen;
	uint8_t kind;			/* enum tern_route_kind */
	bool active;			/* (list) the one lookups use among
					 * routes for the same prefix */
	uint16_t ifindex;
	struct tern_addr gateway;	/* family NONE: on-link */
};

/* Writer only. Among routes for the same prefix, a static one wins over
 * a connected one, which wins over a gateway one; among equals the first
 * added. -EINVAL (bad prefix: host bits set, bad family or plen),
 * -EEXIST (the same route, or a static route for the same prefix),
 * -ENOSPC (table full). */
int tern_fib_add(struct tern_fib *fib, const struct tern_route_info *r);
/* Removes the route matching prefix/plen, kind and ifindex (ifindex 0:
 * any). -ENOENT. */
int tern_fib_del(struct tern_fib *fib, const struct tern_addr *prefix,
		 uint8_t plen, uint8_t kind, uint16_t ifindex);
/* Removes every route of ifindex; returns how many. */
unsigned tern_fib_del_ifindex(struct tern_fib *fib, uint16_t ifindex);
/* True when some route (of any kind) is for prefix/plen. */
bool tern_fib_has(const struct tern_fib *fib, const struct tern_addr *prefix,
		  uint8_t plen);
/* Fills up to max routes (sorted by prefix length, longest first);
 * returns how many there are. */
unsigned tern_fib_list(const struct tern_fib *fib,
		       struct tern_route_info *out, unsigned max);
/* Changes with every add or delete: a cached route from an older version
 * must be looked up again. */
uint32_t tern_fib_version(const struct tern_fib *fib);

/* Readers: the interface and next hop (gateway, or 0 for on-link) of the
 * route dst takes. 0, or -ENOENT. */
int tern_fib_lookup4(const struct tern_fib *fib, rte_be32_t dst,
		     uint16_t *ifindex, rte_be32_t *gateway);

#ifdef __cplusplus
}
#endif
#endif
