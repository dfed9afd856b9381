/* impairment.set / impairment.get / impairment.clear: a bad link on a port
 * or an interface, per direction (hooks/impair.h, dpdk_port/dp_impair.c).
 * This file only parses; what a conf means is checked by the engine
 * (tern_impair_conf_check), whose reasons name the same fields. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tern/dp.h>
#include <tern/impair.h>

#include "events.h"
#include "methods.h"

#define US_MAX 60000000		/* a minute of delay is plenty */
#define RATE_MAX 400000000000ll	/* 400 Gbit/s */

/* {"port": N} or {"ifindex": N}, and "direction": "in" | "out". */
static int parse_target(json_t *p, struct tern_dp_impair_target *t,
			struct rpc_error *e)
{
	int64_t port = -1, ifindex = -1;
	const char *dir;

	if (jp_int(p, "port", false, 0, UINT16_MAX - 1, &port, e) < 0 ||
	    jp_int(p, "ifindex", false, 1, UINT16_MAX - 1, &ifindex, e) < 0)
		return -1;
	if ((port < 0) == (ifindex < 0)) {
		rpc_err(e, RPC_INVALID_PARAMS, port < 0 ? "port" : "ifindex",
			"give exactly one of port and ifindex");
		return -1;
	}
	if (jp_str(p, "direction", true, 3, &dir, e) < 0)
		return -1;
	if (strcmp(dir, "in") == 0) {
		t->dir = TERN_DP_IMPAIR_IN;
	} else if (strcmp(dir, "out") == 0) {
		t->dir = TERN_DP_IMPAIR_OUT;
	} else {
		rpc_err(e, RPC_INVALID_PARAMS, "direction", "must be \"in\" or \"out\"");
		return -1;
	}
	t->iface = ifindex >= 0;
	t->id = (uint16_t)(t->iface ? ifindex : port);
	return 0;
}

static int parse_conf(json_t *p, struct tern_impair_conf *c,
		      struct rpc_error *e)
{
	int64_t seed = 1, delay = 0, jitter = 0, reorder_us = 0, rate = 0,
		rate_queue = 0, limit = 0;
	double ge_loss_bad = 1;

	memset(c, 0, sizeof(*c));
	if (jp_int(p, "seed", false, 0, INT64_MAX, &seed, e) < 0 ||
	    jp_num(p, "loss", false, 0, 1, &c->loss, e) < 0 ||
	    jp_num(p, "ge_p", false, 0, 1, &c->ge_p, e) < 0 ||
	    jp_num(p, "ge_r", false, 0, 1, &c->ge_r, e) < 0 ||
	    jp_num(p, "ge_loss_good", false, 0, 1, &c->ge_loss_good, e) < 0 ||
	    jp_num(p, "ge_loss_bad", false, 0, 1, &ge_loss_bad, e) < 0 ||
	    jp_int(p, "delay_us", false, 0, US_MAX, &delay, e) < 0 ||
	    jp_int(p, "jitter_us", false, 0, US_MAX, &jitter, e) < 0 ||
	    jp_num(p, "reorder", false, 0, 1, &c->reorder, e) < 0 ||
	    jp_int(p, "reorder_us", false, 1, US_MAX, &reorder_us, e) < 0 ||
	    jp_num(p, "duplicate", false, 0, 1, &c->duplicate, e) < 0 ||
	    jp_num(p, "corrupt", false, 0, 1, &c->corrupt, e) < 0 ||
	    jp_int(p, "rate_bps", false, 0, RATE_MAX, &rate, e) < 0 ||
	    jp_int(p, "rate_queue", false, 1, TERN_IMPAIR_LIMIT_MAX,
		   &rate_queue, e) < 0 ||
	    jp_int(p, "limit", false, 1, TERN_IMPAIR_LIMIT_MAX, &limit, e) < 0)
		return -1;
	c->seed = (uint64_t)seed;
	c->ge_loss_bad = ge_loss_bad;	/* the bad state loses all by default */
	c->delay_us = (uint32_t)delay;
	c->jitter_us = (uint32_t)jitter;
	c->reorder_us = (uint32_t)reorder_us;
	c->rate_bps = (uint64_t)rate;
	c->rate_queue = (uint32_t)rate_queue;
	c->limit = (uint32_t)limit;
	return 0;
}

static const char *dir_name(enum tern_dp_impair_dir d)
{
	return d == TERN_DP_IMPAIR_IN ? "in" : "out";
}

static json_t *conf_json(const struct tern_impair_conf *c)
{
	return json_pack("{sI sf sf sf sf sf sI sI sf sI sf sf sI sI sI}",
			 "seed", (json_int_t)c->seed,
			 "loss", c->loss, "ge_p", c->ge_p, "ge_r", c->ge_r,
			 "ge_loss_good", c->ge_loss_good,
			 "ge_loss_bad", c->ge_loss_bad,
			 "delay_us", (json_int_t)c->delay_us,
			 "jitter_us", (json_int_t)c->jitter_us,
			 "reorder", c->reorder,
			 "reorder_us", (json_int_t)c->reorder_us,
			 "duplicate", c->duplicate, "corrupt", c->corrupt,
			 "rate_bps", (json_int_t)c->rate_bps,
			 "rate_queue", (json_int_t)c->rate_queue,
			 "limit", (json_int_t)c->limit);
}

static json_t *stats_json(const struct tern_impair_stats *s)
{
	json_t *o = json_object();
#define PUT(name) json_object_set_new(o, #name, ju_u64(s->name))
	PUT(seen);
	PUT(passed);
	PUT(drop_loss);
	PUT(drop_burst);
	PUT(drop_rate);
	PUT(drop_limit);
	PUT(drop_nomem);
	PUT(flushed);
	PUT(duplicated);
	PUT(dup_nomem);
	PUT(corrupted);
	PUT(delayed);
	PUT(reordered);
	PUT(held);
#undef PUT
	return o;
}

static void err_rc(struct rpc_error *e, int rc, const char *why)
{
	char field[24] = "";
	const char *colon = why != NULL ? strchr(why, ':') : NULL;

	/* why is "field: reason" for what names a field */
	if (colon != NULL && (size_t)(colon - why) < sizeof(field) &&
	    strchr(why, ' ') > colon) {
		memcpy(field, why, (size_t)(colon - why));
		field[colon - why] = '\0';
		why = colon + 2;
	}
	if (rc == -ENOENT) {
		rpc_err(e, RPC_NOT_FOUND, NULL, "no impairment there");
		return;
	}
	rpc_err_errno(e, rc, field[0] != '\0' ? field : NULL, why);
}

static json_t *target_json(const struct tern_dp_impair_target *t)
{
	return json_pack("{sI ss}", t->iface ? "ifindex" : "port",
			 (json_int_t)t->id, "direction", dir_name(t->dir));
}

/* The get result for one target: conf, summed counters, per worker. */
static json_t *impair_json(struct ternd *d, const struct tern_dp_impair_target *t,
			   struct rpc_error *e)
{
	unsigned nw = tern_dp_worker_count(d->dp);
	struct tern_impair_stats per[TERN_DP_MAX_WORKERS], sum;
	struct tern_impair_conf c;
	int rc = tern_dp_impair_get(d->dp, t, &c, &sum, per);

	if (rc < 0) {
		err_rc(e, rc, NULL);
		return NULL;
	}
	json_t *o = target_json(t);
	json_t *workers = json_array();
	for (unsigned i = 0; i < nw; i++)
		json_array_append_new(workers,
			json_pack("{sI so}", "worker", (json_int_t)i,
				  "counters", stats_json(&per[i])));
	json_object_set_new(o, "conf", conf_json(&c));
	json_object_set_new(o, "counters", stats_json(&sum));
	json_object_set_new(o, "workers", workers);
	return o;
}

json_t *m_impair_set(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = {
		"port", "ifindex", "direction", "seed", "loss", "ge_p", "ge_r",
		"ge_loss_good", "ge_loss_bad", "delay_us", "jitter_us",
		"reorder", "reorder_us", "duplicate", "corrupt", "rate_bps",
		"rate_queue", "limit", NULL };
	struct tern_dp_impair_target t;
	struct tern_impair_conf c;
	const char *why = NULL;

	if (jp_only(p, allowed, e) < 0 || parse_target(p, &t, e) < 0 ||
	    parse_conf(p, &c, e) < 0)
		return NULL;
	int rc = tern_dp_impair_set(d->dp, &t, &c, &why);
	if (rc < 0) {
		err_rc(e, rc, why);
		return NULL;
	}
	json_t *r = impair_json(d, &t, e);
	if (r != NULL)
		events_emit(d, "impairment.set", target_json(&t));
	return r;
}

json_t *m_impair_get(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "port", "ifindex", "direction",
					       NULL };
	struct tern_dp_impair_target t;

	if (jp_only(p, allowed, e) < 0)
		return NULL;
	if (json_object_size(p) > 0) {
		if (parse_target(p, &t, e) < 0)
			return NULL;
		return impair_json(d, &t, e);
	}
	/* no target: every impairment */
	struct tern_dp_impair_target all[TERN_DP_MAX_IMPAIRS];
	unsigned n = tern_dp_impair_list(d->dp, all, TERN_DP_MAX_IMPAIRS);
	json_t *arr = json_array();
	for (unsigned i = 0; i < n && i < TERN_DP_MAX_IMPAIRS; i++) {
		json_t *o = impair_json(d, &all[i], e);
		if (o == NULL) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, o);
	}
	return json_pack("{so}", "impairments", arr);
}

json_t *m_impair_clear(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "port", "ifindex", "direction",
					       NULL };
	struct tern_dp_impair_target t;

	if (jp_only(p, allowed, e) < 0 || parse_target(p, &t, e) < 0)
		return NULL;
	/* the final counts go back to the caller */
	json_t *last = impair_json(d, &t, e);
	if (last == NULL)
		return NULL;
	int rc = tern_dp_impair_clear(d->dp, &t);
	if (rc < 0) {
		json_decref(last);
		err_rc(e, rc, NULL);
		return NULL;
	}
	events_emit(d, "impairment.cleared", target_json(&t));
	return last;
}
