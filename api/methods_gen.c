/* generator.*: parameters and results; gen.c does the worker side. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tern/dp.h>

#include "events.h"
#include "gen.h"
#include "methods.h"

#define MAX_RATE 1e9		/* pps; far beyond any port, catches typos */
#define MAX_DURATION 1e7	/* s (~115 days); keeps duration_ns exact */

static const char *const client_only[] = { "dst", "dport", "sport", "size",
					   "rate", "count", NULL };
static const char *const server_only[] = { "port", "echo", NULL };

static int reject_role_params(json_t *p, const char *const *others,
			      const char *role, struct rpc_error *e)
{
	for (; *others != NULL; others++)
		if (json_object_get(p, *others) != NULL) {
			rpc_err(e, RPC_INVALID_PARAMS, *others,
				"not a parameter of a %s", role);
			return -1;
		}
	return 0;
}

/* Client fields into c and config. */
static int parse_client(json_t *p, unsigned mtu, struct tern_udp_gen_conf *c,
			json_t *config, struct rpc_error *e)
{
	const char *dst;
	int64_t dport, sport = 0, size = TERN_UDP_GEN_MIN_SIZE, count = 0;
	double rate = 1000;
	char buf[TERN_ADDR_STRLEN];

	if (reject_role_params(p, server_only, "client", e) < 0 ||
	    jp_str(p, "dst", true, 64, &dst, e) < 0)
		return -1;
	if (tern_addr_parse(dst, &c->remote) < 0 ||
	    c->remote.family != TERN_AF_INET) {
		rpc_err(e, RPC_INVALID_PARAMS, "dst",
			"not an IPv4 address like 10.0.0.1");
		return -1;
	}
	if (jp_int(p, "dport", true, 1, 65535, &dport, e) < 0 ||
	    jp_int(p, "sport", false, 1, 65535, &sport, e) < 0 ||
	    jp_int(p, "size", false, TERN_UDP_GEN_MIN_SIZE,
		   (int64_t)mtu + 18, &size, e) < 0 ||
	    jp_num(p, "rate", false, 1, MAX_RATE, &rate, e) < 0 ||
	    jp_int(p, "count", false, 1, INT64_MAX, &count, e) < 0)
		return -1;
	c->remote_port = (uint16_t)dport;
	c->local_port = (uint16_t)sport;
	c->size = (uint32_t)size;
	c->rate_pps = (uint64_t)(rate + 0.5);
	c->count = (uint64_t)count;
	json_object_set_new(config, "dst",
			    json_string(tern_addr_fmt(&c->remote, buf,
						      sizeof(buf))));
	json_object_set_new(config, "dport", json_integer(dport));
	json_object_set_new(config, "sport",
			    sport != 0 ? json_integer(sport) : json_null());
	json_object_set_new(config, "size", json_integer(size));
	json_object_set_new(config, "rate", json_real(rate));
	json_object_set_new(config, "count",
			    count != 0 ? json_integer(count) : json_null());
	return 0;
}

static int parse_server(json_t *p, struct tern_udp_gen_conf *c,
			json_t *config, struct rpc_error *e)
{
	int64_t port;
	bool echo = false;

	if (reject_role_params(p, client_only, "server", e) < 0 ||
	    jp_int(p, "port", true, 1, 65535, &port, e) < 0 ||
	    jp_bool(p, "echo", false, &echo, e) < 0)
		return -1;
	c->local_port = (uint16_t)port;
	c->echo = echo;
	json_object_set_new(config, "port", json_integer(port));
	json_object_set_new(config, "echo", json_boolean(echo));
	return 0;
}

/* Names the field a conf_check reason is about; "params" if none. */
static const char *guess_field(const char *why, enum tern_gen_role role)
{
	static const struct { const char *word, *client, *server; } map[] = {
		{ "size", "size", "size" }, { "rate", "rate", "rate" },
		{ "count", "count", "count" },
		{ "duration", "duration", "duration" },
		/* longest words first: "remote_port" must not match "remote" */
		{ "local_port", "sport", "port" },
		{ "remote_port", "dport", "dport" },
		{ "remote", "dst", "dst" }, { "dst", "dst", "dst" },
		{ "port", "dport", "port" },
		{ "local", "interface", "interface" },
	};
	size_t i;

	for (i = 0; why != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(why, map[i].word) != NULL)
			return role == TERN_GEN_CLIENT ? map[i].client :
							 map[i].server;
	return "params";
}

static json_t *parse_create(struct ternd *d, json_t *p,
			    struct tern_udp_gen_conf *c, uint16_t *ifindex,
			    struct rpc_error *e)
{
	static const char *const allowed[] = { "kind", "role", "interface",
		"dst", "dport", "sport", "port", "echo", "size", "rate",
		"duration", "count", NULL };
	struct tern_dp_iface_info ii;
	struct tern_port_info pi;
	const char *kind, *role = "client", *why = NULL;
	int64_t ifx;
	double duration = 0;
	unsigned mtu;
	json_t *config;
	int r;

	memset(c, 0, sizeof(*c));
	if (jp_only(p, allowed, e) < 0 ||
	    jp_str(p, "kind", true, 16, &kind, e) < 0)
		return NULL;
	if (strcmp(kind, "udp") != 0) {
		rpc_err(e, RPC_INVALID_PARAMS, "kind",
			"unsupported kind, only \"udp\"");
		return NULL;
	}
	if (jp_str(p, "role", false, 16, &role, e) < 0)
		return NULL;
	if (strcmp(role, "client") != 0 && strcmp(role, "server") != 0) {
		rpc_err(e, RPC_INVALID_PARAMS, "role",
			"must be \"client\" or \"server\"");
		return NULL;
	}
	c->role = role[0] == 'c' ? TERN_GEN_CLIENT : TERN_GEN_SERVER;
	if (jp_int(p, "interface", true, 1, UINT16_MAX, &ifx, e) < 0 ||
	    jp_num(p, "duration", false, 1e-6, MAX_DURATION, &duration, e) < 0)
		return NULL;
	/* Syntax before lookups: all -32602 come before any -32000. */
	config = json_pack("{ss ss sI}", "kind", "udp", "role", role,
			   "interface", (json_int_t)ifx);
	mtu = 9000;
	if (tern_dp_iface_get(d->dp, (uint16_t)ifx, &ii) == 0) {
		mtu = ii.conf.mtu;
		if (mtu == 0 && tern_dp_port_by_id(d->dp, ii.conf.port_id,
						   &pi) == 0)
			mtu = pi.mtu;
	}
	r = c->role == TERN_GEN_CLIENT ?
		parse_client(p, mtu, c, config, e) :
		parse_server(p, c, config, e);
	if (r < 0)
		goto fail;
	json_object_set_new(config, "duration",
			    duration > 0 ? json_real(duration) : json_null());
	c->duration_ns = (uint64_t)(duration * 1e9 + 0.5);
	if (tern_dp_iface_get(d->dp, (uint16_t)ifx, &ii) < 0) {
		rpc_err(e, RPC_NOT_FOUND, "interface", "no interface %lld",
			(long long)ifx);
		goto fail;
	}
	/* Source address: the interface's. */
	c->local = ii.conf.addr;
	if (tern_udp_gen_conf_check(c, &why) < 0) {
		rpc_err(e, RPC_INVALID_PARAMS, guess_field(why, c->role), "%s",
			why != NULL ? why : "rejected by the generator");
		goto fail;
	}
	*ifindex = (uint16_t)ifx;
	return config;
fail:
	json_decref(config);
	return NULL;
}

json_t *m_gen_create(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct tern_udp_gen_conf c;
	uint16_t ifindex;
	json_t *config;
	struct gen *g;
	int err = 0;

	config = parse_create(d, p, &c, &ifindex, e);
	if (config == NULL)
		return NULL;
	g = gen_new(d, &c, ifindex, config, &err);
	json_decref(config);
	if (g == NULL) {
		const char *port = c.role == TERN_GEN_SERVER ? "port" : "sport";

		rpc_err_errno(e, err, err == -EADDRINUSE || err == -EEXIST ?
			      port : NULL,
			      err == -EADDRINUSE || err == -EEXIST ?
			      "UDP port already taken on this stack" :
			      err == -EINVAL ? "rejected by the generator" :
			      NULL);
		return NULL;
	}
	events_emit(d, "generator.created",
		    json_pack("{sI sI}", "id", (json_int_t)g->id, "interface",
			      (json_int_t)ifindex));
	return json_pack("{sI}", "id", (json_int_t)g->id);
}

static struct gen *get_gen(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "id", NULL };
	struct gen *g;
	int64_t id;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "id", true, 1, UINT32_MAX, &id, e) < 0)
		return NULL;
	g = gen_find(d, (uint32_t)id);
	if (g == NULL)
		rpc_err(e, RPC_NOT_FOUND, "id", "no generator %lld",
			(long long)id);
	return g;
}

static void worker_err(struct rpc_error *e, int rc)
{
	rpc_err_errno(e, rc, NULL, rc == -ETIMEDOUT ?
		      "a worker lcore did not answer" : NULL);
}

static json_t *stats_json(const struct gen *g, const struct gen_totals *t)
{
	const struct tern_udp_gen_stats *s = &t->sum;
	uint64_t lost = 0;
	json_t *rtt = json_null();

	if (g->role == TERN_GEN_CLIENT && s->tx_pkts > s->rx_echoes)
		lost = s->tx_pkts - s->rx_echoes;
	if (s->rtt_count != 0)
		rtt = json_pack("{sf sf sf}",
			"min", (double)s->rtt_min_ns / 1e3,
			"avg", (double)s->rtt_sum_ns / (double)s->rtt_count / 1e3,
			"max", (double)s->rtt_max_ns / 1e3);
	return json_pack("{sI ss so so so so so so so so sf sf sf so}",
		"id", (json_int_t)g->id, "state", gen_state_name(t->state),
		"tx_pkts", ju_u64(s->tx_pkts), "tx_bytes", ju_u64(s->tx_bytes),
		"tx_fail", ju_u64(s->tx_fail), "rx_pkts", ju_u64(s->rx_pkts),
		"rx_bytes", ju_u64(s->rx_bytes),
		"rx_echoes", ju_u64(s->rx_echoes),
		"rx_out_of_order", ju_u64(s->rx_out_of_order),
		"lost", ju_u64(lost), "elapsed_s", t->elapsed_s,
		"tx_pps", t->elapsed_s > 0 ? (double)s->tx_pkts / t->elapsed_s : 0.0,
		"rx_pps", t->elapsed_s > 0 ? (double)s->rx_pkts / t->elapsed_s : 0.0,
		"rtt_us", rtt);
}

/* generator.done once per run, whoever noticed the end first. */
static void announce(struct ternd *d, struct gen *g, json_t *stats)
{
	if (g->state != TERN_GEN_DONE || g->announced)
		return;
	g->announced = true;
	events_emit(d, "generator.done",
		    json_pack("{sI sO}", "id", (json_int_t)g->id,
			      "stats", stats));
}

/* Each worker's instance: its own local port (DESIGN rule 8) and what
 * it sent and got back, from the snapshot gen_totals just took. */
static json_t *workers_json(const struct gen *g)
{
	json_t *out = json_array();

	for (unsigned w = 0; w < g->nslots; w++) {
		const struct tern_udp_gen_stats *st = &g->slot[w].st;

		if (g->slot[w].g == NULL)
			continue;
		json_array_append_new(out, json_pack("{sI sI so so so so}",
			"worker", (json_int_t)w,
			"local_port", (json_int_t)st->local_port,
			"tx_pkts", ju_u64(st->tx_pkts),
			"rx_pkts", ju_u64(st->rx_pkts),
			"rx_echoes", ju_u64(st->rx_echoes),
			"tx_fail", ju_u64(st->tx_fail)));
	}
	return out;
}

/* Totals and their JSON; NULL after filling e. */
static json_t *gen_stats_json(struct ternd *d, struct gen *g,
			      struct rpc_error *e)
{
	struct gen_totals t;
	json_t *out;
	int rc = gen_totals(d, g, &t);

	if (rc < 0) {
		worker_err(e, rc);
		return NULL;
	}
	out = stats_json(g, &t);
	json_object_set_new(out, "workers", workers_json(g));
	announce(d, g, out);
	return out;
}

json_t *m_gen_start(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct gen *g = get_gen(d, p, e);
	struct gen_totals t;
	int rc;

	if (g == NULL)
		return NULL;
	/* The cached state may lag (it ends by itself): ask the workers. */
	rc = gen_totals(d, g, &t);
	if (rc == 0 && t.state == TERN_GEN_RUNNING) {
		rpc_err(e, RPC_BUSY, NULL, "generator %u is running", g->id);
		return NULL;
	}
	if (rc == 0)
		rc = gen_start(d, g);
	if (rc < 0) {
		worker_err(e, rc);
		return NULL;
	}
	events_emit(d, "generator.started",
		    json_pack("{sI}", "id", (json_int_t)g->id));
	return json_object();
}

json_t *m_gen_stop(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct gen *g = get_gen(d, p, e);
	bool was_running;
	int rc;

	if (g == NULL)
		return NULL;
	was_running = g->state == TERN_GEN_RUNNING;
	rc = gen_stop(d, g);
	if (rc < 0) {
		worker_err(e, rc);
		return NULL;
	}
	if (was_running)
		events_emit(d, "generator.stopped",
			    json_pack("{sI}", "id", (json_int_t)g->id));
	return json_object();
}

json_t *m_gen_delete(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct gen *g = get_gen(d, p, e);
	uint32_t id;

	if (g == NULL)
		return NULL;
	id = g->id;
	gen_free(d, g);
	events_emit(d, "generator.deleted",
		    json_pack("{sI}", "id", (json_int_t)id));
	return json_object();
}

json_t *m_gen_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	json_t *out;
	struct gen *g;

	if (jp_none(p, e) < 0)
		return NULL;
	out = json_array();
	for (g = d->gens; g != NULL; g = g->next) {
		struct gen_totals t;
		enum tern_gen_state st = g->state;

		if (gen_totals(d, g, &t) == 0)
			st = t.state;
		/* Newest first in the list; oldest first in the reply. */
		json_array_insert_new(out, 0, json_pack(
			"{sI ss ss ss sI sO}", "id", (json_int_t)g->id,
			"kind", "udp", "role",
			g->role == TERN_GEN_CLIENT ? "client" : "server",
			"state", gen_state_name(st),
			"interface", (json_int_t)g->ifindex,
			"config", g->config));
	}
	return out;
}

json_t *m_gen_stats(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct gen *g = get_gen(d, p, e);

	return g == NULL ? NULL : gen_stats_json(d, g, e);
}

json_t *gen_stats_all(struct ternd *d)
{
	json_t *out = json_array();
	struct gen *g;

	for (g = d->gens; g != NULL; g = g->next) {
		struct rpc_error e = { 0 };
		json_t *s = gen_stats_json(d, g, &e);

		rpc_err_clear(&e);
		if (s != NULL)
			json_array_insert_new(out, 0, s);
	}
	return out;
}

void gen_watch(struct ternd *d)
{
	struct gen *g;

	for (g = d->gens; g != NULL; g = g->next) {
		struct rpc_error e = { 0 };
		json_t *s;

		if (g->state != TERN_GEN_RUNNING)
			continue;
		s = gen_stats_json(d, g, &e);
		rpc_err_clear(&e);
		json_decref(s);
	}
}

void gen_delete_all(struct ternd *d)
{
	while (d->gens != NULL)
		gen_free(d, d->gens);
}
