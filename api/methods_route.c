/* route.add / route.list / route.delete, neighbour.list / neighbour.flush. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tern/dp.h>

#include "events.h"
#include "methods.h"

static int parse_prefix(json_t *p, struct tern_addr *a, uint8_t *plen,
			struct rpc_error *e)
{
	const char *s;
	if (jp_str(p, "prefix", true, 64, &s, e) < 0)
		return -1;
	if (strcmp(s, "default") == 0) {
		*a = tern_addr_v4(0);
		*plen = 0;
		return 0;
	}
	if (tern_addr_parse_prefix(s, a, plen) < 0 || a->family != TERN_AF_INET) {
		rpc_err(e, RPC_INVALID_PARAMS, "prefix",
			"not an IPv4 prefix like 192.168.0.0/16 (or \"default\")");
		return -1;
	}
	return 0;
}

static json_t *route_json(const struct tern_route_info *r)
{
	char pfx[TERN_ADDR_STRLEN + 8], gw[TERN_ADDR_STRLEN];
	size_t n;
	tern_addr_fmt(&r->prefix, pfx, TERN_ADDR_STRLEN);
	n = strlen(pfx);
	snprintf(pfx + n, sizeof(pfx) - n, "/%u", r->plen);
	return json_pack("{ss so sI ss sb}", "prefix", pfx,
		"gateway", tern_addr_is_set(&r->gateway) ?
			json_string(tern_addr_fmt(&r->gateway, gw, sizeof(gw))) :
			json_null(),
		"ifindex", (json_int_t)r->ifindex,
		"kind", tern_route_kind_name(r->kind), "active", r->active);
}

/* route.add {prefix, gateway?, ifindex?} */
json_t *m_route_add(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "prefix", "gateway", "ifindex",
					       NULL };
	struct tern_addr prefix, gw;
	uint8_t plen;
	int64_t ifindex = 0;
	const char *s, *why = NULL;
	int r, rc;

	memset(&gw, 0, sizeof(gw));
	if (jp_only(p, allowed, e) < 0 || parse_prefix(p, &prefix, &plen, e) < 0 ||
	    (r = jp_str(p, "gateway", false, 64, &s, e)) < 0 ||
	    jp_int(p, "ifindex", false, 1, UINT16_MAX, &ifindex, e) < 0)
		return NULL;
	if (r > 0 && (tern_addr_parse(s, &gw) < 0 || gw.family != TERN_AF_INET)) {
		rpc_err(e, RPC_INVALID_PARAMS, "gateway",
			"not an IPv4 address like 10.0.0.1");
		return NULL;
	}
	rc = tern_dp_route_add(d->dp, &prefix, plen, r > 0 ? &gw : NULL,
			       (uint16_t)ifindex, &why);
	if (rc < 0) {
		rpc_err_why(e, rc, why, "cannot add the route");
		return NULL;
	}
	struct tern_route_info ri = {
		.prefix = prefix, .plen = plen, .kind = TERN_ROUTE_STATIC,
		.ifindex = (uint16_t)ifindex, .gateway = gw, .active = true,
	};
	/* the interface the gateway is on, as the table has it */
	struct tern_route_info all[TERN_MAX_IFACES * TERN_IFACE_MAX_ADDRS + 64];
	unsigned n = tern_dp_route_list(d->dp, all, RTE_DIM(all));
	for (unsigned i = 0; i < n && i < RTE_DIM(all); i++)
		if (all[i].kind == TERN_ROUTE_STATIC && all[i].plen == plen &&
		    tern_addr_eq(&all[i].prefix, &prefix))
			ri = all[i];
	events_emit(d, "route.added", route_json(&ri));
	return route_json(&ri);
}

/* route.delete {prefix}: static routes only */
json_t *m_route_delete(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "prefix", NULL };
	struct tern_addr prefix;
	uint8_t plen;
	int rc;

	if (jp_only(p, allowed, e) < 0 || parse_prefix(p, &prefix, &plen, e) < 0)
		return NULL;
	rc = tern_dp_route_del(d->dp, &prefix, plen);
	if (rc == -EPERM) {
		rpc_err(e, RPC_CONFLICT, "prefix",
			"a connected or gateway route: it follows an interface's "
			"addresses or gateway (change those instead)");
		return NULL;
	}
	if (rc < 0) {
		rpc_err_errno(e, rc, "prefix", rc == -ENOENT ?
			      "no static route for that prefix" :
			      "cannot delete the route");
		return NULL;
	}
	json_t *ev = json_object();
	json_object_set(ev, "prefix", json_object_get(p, "prefix"));
	events_emit(d, "route.deleted", ev);
	return json_object();
}

/* route.list: every route, longest prefix first */
json_t *m_route_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	if (jp_none(p, e) < 0)
		return NULL;
	unsigned n = tern_dp_route_list(d->dp, NULL, 0);
	struct tern_route_info *all = calloc(n ? n : 1, sizeof(*all));
	if (all == NULL) {
		rpc_err_errno(e, -ENOMEM, NULL, NULL);
		return NULL;
	}
	n = tern_dp_route_list(d->dp, all, n);
	json_t *out = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(out, route_json(&all[i]));
	free(all);
	return out;
}

/* ---- neighbours ---------------------------------------------------- */

struct neigh_out {
	json_t *arr;
	uint64_t count;
	int state;		/* filter; 0: any */
	bool count_only;
};

static double ms_ago(uint64_t ns)
{
	return ns == UINT64_MAX ? -1.0 : (double)ns / 1e6;
}

static void neigh_add_json(void *arg, unsigned worker,
			   const struct tern_neigh_info *in)
{
	struct neigh_out *o = arg;
	char ip[TERN_ADDR_STRLEN], mac[18];
	if (o->state != 0 && in->state != o->state)
		return;
	o->count++;
	if (o->count_only)
		return;
	tern_addr_fmt(&in->ip, ip, sizeof(ip));
	ju_fmt_mac(in->mac.addr_bytes, mac);
	json_array_append_new(o->arr, json_pack(
		"{sI sI ss so ss sI sI sf sf sf}",
		"worker", (json_int_t)worker, "ifindex", (json_int_t)in->ifindex,
		"address", ip,
		"mac", in->state == TERN_NEIGH_INCOMPLETE ? json_null() :
							    json_string(mac),
		"state", tern_neigh_state_name(in->state),
		"probes", (json_int_t)in->probes, "queued", (json_int_t)in->queued,
		"updated_ms_ago", ms_ago(in->updated_ago_ns),
		"confirmed_ms_ago", ms_ago(in->confirmed_ago_ns),
		"used_ms_ago", ms_ago(in->used_ago_ns)));
}

static int parse_state(const char *s)
{
	for (int st = TERN_NEIGH_INCOMPLETE; st <= TERN_NEIGH_PROBE; st++)
		if (strcmp(s, tern_neigh_state_name(st)) == 0)
			return st;
	return -1;
}

/* neighbour.list {worker?, ifindex?, state?, count_only?} */
json_t *m_neigh_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "worker", "ifindex", "state",
					       "count_only", NULL };
	int64_t worker = -1, ifindex = 0;
	const char *st = NULL;
	struct neigh_out o = { 0 };
	int r, rc;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "worker", false, 0, (int64_t)tern_dp_worker_count(d->dp) - 1,
		   &worker, e) < 0 ||
	    jp_int(p, "ifindex", false, 1, UINT16_MAX, &ifindex, e) < 0 ||
	    (r = jp_str(p, "state", false, 16, &st, e)) < 0 ||
	    jp_bool(p, "count_only", false, &o.count_only, e) < 0)
		return NULL;
	if (r > 0 && (o.state = parse_state(st)) < 0) {
		rpc_err(e, RPC_INVALID_PARAMS, "state",
			"one of incomplete, reachable, stale, delay, probe");
		return NULL;
	}
	o.arr = json_array();
	rc = tern_dp_neigh_list(d->dp, (int)worker, (uint16_t)ifindex,
				neigh_add_json, &o);
	if (rc < 0) {
		json_decref(o.arr);
		rpc_err_errno(e, rc, NULL, rc == -ETIMEDOUT ?
			      "a worker lcore did not answer" :
			      "cannot list neighbours");
		return NULL;
	}
	json_t *out = json_pack("{so}", "count", ju_u64(o.count));
	if (o.count_only)
		json_decref(o.arr);
	else
		json_object_set_new(out, "neighbours", o.arr);
	return out;
}

/* neighbour.flush {ifindex?} */
json_t *m_neigh_flush(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "ifindex", NULL };
	int64_t ifindex = 0;
	unsigned n = 0;
	int rc;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "ifindex", false, 1, UINT16_MAX, &ifindex, e) < 0)
		return NULL;
	if (ifindex != 0 && tern_dp_iface_get(d->dp, (uint16_t)ifindex, NULL) < 0) {
		rpc_err(e, RPC_NOT_FOUND, "ifindex", "no such interface");
		return NULL;
	}
	rc = tern_dp_neigh_flush(d->dp, (uint16_t)ifindex, &n);
	if (rc < 0) {
		rpc_err_errno(e, rc, NULL, "a worker lcore did not answer");
		return NULL;
	}
	return json_pack("{sI}", "flushed", (json_int_t)n);
}
