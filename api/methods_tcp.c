/* tcp.*: minimal TCP services and clients for interoperability, and the
 * connection listing (like `ss -ti`). tcp.c does the worker side. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/dp.h>

#include "events.h"
#include "methods.h"
#include "tcp.h"

#define MAX_CONNS_PER_WORKER 65536
#define LIST_DEFAULT 1000
#define LIST_MAX 1000000

static const char *const svc_kinds[] = { "discard", "echo", "http" };
static const char *const cli_modes[] = { "send", "http_get" };

static void worker_err(struct rpc_error *e, int rc)
{
	rpc_err_errno(e, rc, NULL, rc == -ETIMEDOUT ?
		      "a worker lcore did not answer" : NULL);
}

/* An IPv4 address parameter. 1 set, 0 absent, -1 error. */
static int jp_addr(json_t *p, const char *key, bool required,
		   struct tern_addr *out, struct rpc_error *e)
{
	const char *s;
	int r = jp_str(p, key, required, 64, &s, e);

	if (r <= 0)
		return r;
	if (tern_addr_parse(s, out) < 0 || out->family != TERN_AF_INET ||
	    out->v4 == 0) {
		rpc_err(e, RPC_INVALID_PARAMS, key,
			"not an IPv4 address like 10.0.0.1");
		return -1;
	}
	return 1;
}

static json_t *addr_json(const struct tern_addr *a)
{
	char buf[TERN_ADDR_STRLEN];

	if (!tern_addr_is_set(a))
		return json_null();
	return json_string(tern_addr_fmt(a, buf, sizeof(buf)));
}

/* ---- tcp.service.* ---------------------------------------------------- */

json_t *m_tcp_svc_create(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "kind", "port", "address",
		"bytes", "max_connections", NULL };
	struct tern_tcp_svc_conf c;
	const char *kind, *why = NULL;
	int64_t port, bytes = 0, maxc = 0;
	int has_bytes, err = 0;
	unsigned i;

	memset(&c, 0, sizeof(c));
	if (jp_only(p, allowed, e) < 0 ||
	    jp_str(p, "kind", true, 16, &kind, e) < 0)
		return NULL;
	for (i = 0; i < 3 && strcmp(kind, svc_kinds[i]) != 0; i++)
		;
	if (i == 3) {
		rpc_err(e, RPC_INVALID_PARAMS, "kind",
			"must be \"discard\", \"echo\" or \"http\"");
		return NULL;
	}
	c.kind = (enum tern_tcp_svc_kind)i;
	if (jp_int(p, "port", true, 1, 65535, &port, e) < 0 ||
	    jp_addr(p, "address", false, &c.local, e) < 0 ||
	    (has_bytes = jp_int(p, "bytes", false, 0,
				(int64_t)TERN_TCP_SVC_MAX_BYTES, &bytes, e)) < 0 ||
	    jp_int(p, "max_connections", false, 1, MAX_CONNS_PER_WORKER,
		   &maxc, e) < 0)
		return NULL;
	c.port = (uint16_t)port;
	c.has_bytes = has_bytes > 0;
	c.bytes = (uint64_t)bytes;
	c.max_conns = (uint32_t)maxc;
	if (tern_tcp_svc_conf_check(&c, &why) < 0) {
		rpc_err_why(e, -EINVAL, why, "rejected by the service");
		return NULL;
	}
	struct tcp_svc_obj *o = tcp_svc_new(d, &c, &err);
	if (o == NULL) {
		if (err == -EADDRINUSE)
			rpc_err(e, RPC_CONFLICT, "port", "a TCP listener has "
				"port %u%s already", c.port,
				c.local.family ? " on this address" : "");
		else if (err == -EADDRNOTAVAIL)
			rpc_err(e, RPC_NOT_FOUND, "address",
				"no interface has this address");
		else if (err == -ENOSPC)
			rpc_err(e, RPC_EXHAUSTED, NULL,
				"the TCP listener table is full");
		else
			worker_err(e, err);
		return NULL;
	}
	events_emit(d, "tcp.service.created",
		    json_pack("{sI ss sI}", "id", (json_int_t)o->id,
			      "kind", svc_kinds[c.kind], "port",
			      (json_int_t)c.port));
	return json_pack("{sI}", "id", (json_int_t)o->id);
}

static json_t *svc_json(struct ternd *d, struct tcp_svc_obj *o,
			struct rpc_error *e)
{
	struct tern_tcp_svc_stats t;
	int rc = tcp_svc_stats(d, o, &t);

	if (rc < 0) {
		worker_err(e, rc);
		return NULL;
	}
	return json_pack("{sI ss sI so so sI s{so so so so so so so so so so}}",
		"id", (json_int_t)o->id, "kind", svc_kinds[o->conf.kind],
		"port", (json_int_t)o->conf.port,
		"address", addr_json(&o->conf.local),
		"bytes", o->conf.has_bytes ? ju_u64(o->conf.bytes) : json_null(),
		"max_connections", (json_int_t)(o->conf.max_conns ?
						o->conf.max_conns : 1024),
		"stats",
		"accepted", ju_u64(t.accepted), "active", ju_u64(t.active),
		"refused", ju_u64(t.refused), "closed", ju_u64(t.closed),
		"failed", ju_u64(t.failed), "rx_bytes", ju_u64(t.rx_bytes),
		"tx_bytes", ju_u64(t.tx_bytes), "requests", ju_u64(t.requests),
		"responses_2xx", ju_u64(t.responses_2xx),
		"responses_4xx", ju_u64(t.responses_4xx));
}

static struct tcp_svc_obj *get_svc(struct ternd *d, json_t *p, bool required,
				   struct rpc_error *e, int *present)
{
	int64_t id;
	int r = jp_int(p, "id", required, 1, UINT32_MAX, &id, e);
	struct tcp_svc_obj *o;

	*present = r;
	if (r <= 0)
		return NULL;
	o = tcp_svc_find(d, (uint32_t)id);
	if (o == NULL) {
		rpc_err(e, RPC_NOT_FOUND, "id", "no TCP service %lld",
			(long long)id);
		*present = -1;
	}
	return o;
}

json_t *m_tcp_svc_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "id", NULL };
	struct tcp_svc_obj *one, *o;
	json_t *out;
	int r;

	if (jp_only(p, allowed, e) < 0)
		return NULL;
	one = get_svc(d, p, false, e, &r);
	if (r < 0)
		return NULL;
	out = json_array();
	for (o = d->tcp_svcs; o != NULL; o = o->next) {
		if (one != NULL && o != one)
			continue;
		json_t *j = svc_json(d, o, e);
		if (j == NULL) {
			json_decref(out);
			return NULL;
		}
		json_array_insert_new(out, 0, j);	/* oldest first */
	}
	return out;
}

json_t *m_tcp_svc_delete(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "id", NULL };
	struct tcp_svc_obj *o;
	uint32_t id;
	int r;

	if (jp_only(p, allowed, e) < 0)
		return NULL;
	o = get_svc(d, p, true, e, &r);
	if (o == NULL)
		return NULL;
	id = o->id;
	tcp_svc_free(d, o);
	events_emit(d, "tcp.service.deleted",
		    json_pack("{sI}", "id", (json_int_t)id));
	return json_object();
}

/* ---- tcp.client.* ------------------------------------------------------ */

static int copy_str(json_t *p, const char *key, char *dst, size_t size,
		    struct rpc_error *e)
{
	const char *s;
	int r = jp_str(p, key, false, size - 1, &s, e);

	if (r > 0)
		snprintf(dst, size, "%s", s);
	return r;
}

json_t *m_tcp_cli_create(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "mode", "remote", "port",
		"bytes", "path", "host", "address", NULL };
	struct tern_tcp_cli_conf c;
	const char *mode, *why = NULL;
	int64_t port, bytes = 0;
	int has_bytes, err = 0;
	unsigned i;

	memset(&c, 0, sizeof(c));
	if (jp_only(p, allowed, e) < 0 ||
	    jp_str(p, "mode", true, 16, &mode, e) < 0)
		return NULL;
	for (i = 0; i < 2 && strcmp(mode, cli_modes[i]) != 0; i++)
		;
	if (i == 2) {
		rpc_err(e, RPC_INVALID_PARAMS, "mode",
			"must be \"send\" or \"http_get\"");
		return NULL;
	}
	c.mode = (enum tern_tcp_cli_mode)i;
	if (jp_addr(p, "remote", true, &c.remote, e) < 0 ||
	    jp_int(p, "port", true, 1, 65535, &port, e) < 0 ||
	    (has_bytes = jp_int(p, "bytes", false, 0,
				(int64_t)TERN_TCP_SVC_MAX_BYTES, &bytes, e)) < 0 ||
	    copy_str(p, "path", c.path, sizeof(c.path), e) < 0 ||
	    copy_str(p, "host", c.host, sizeof(c.host), e) < 0 ||
	    jp_addr(p, "address", false, &c.local, e) < 0)
		return NULL;
	c.port = (uint16_t)port;
	c.has_bytes = has_bytes > 0;
	c.bytes = (uint64_t)bytes;
	if (tern_tcp_cli_conf_check(&c, &why) < 0) {
		rpc_err_why(e, -EINVAL, why, "rejected by the client");
		return NULL;
	}
	struct tcp_cli_obj *o = tcp_cli_new(d, &c, &err);
	if (o == NULL) {
		if (err == -EHOSTUNREACH)
			rpc_err(e, RPC_NOT_FOUND, "remote", "no route to it");
		else if (err == -EADDRNOTAVAIL)
			rpc_err(e, RPC_NOT_FOUND, "address",
				"no interface has this address");
		else if (err == -EADDRINUSE)
			rpc_err(e, RPC_EXHAUSTED, NULL,
				"no free source port towards it");
		else if (err == -ENOSPC)
			rpc_err(e, RPC_EXHAUSTED, NULL,
				"the TCP connection table is full");
		else if (err == -EINVAL)
			rpc_err(e, RPC_INVALID_PARAMS, "remote",
				"not a unicast destination");
		else
			worker_err(e, err);
		return NULL;
	}
	events_emit(d, "tcp.client.created",
		    json_pack("{sI ss}", "id", (json_int_t)o->id,
			      "mode", cli_modes[c.mode]));
	return json_pack("{sI sI sI}", "id", (json_int_t)o->id,
			 "worker", (json_int_t)o->worker,
			 "local_port", (json_int_t)o->st.local_port);
}

static const char *cli_state_name(enum tern_tcp_cli_state s)
{
	switch (s) {
	case TERN_TCP_CLI_CONNECTING: return "connecting";
	case TERN_TCP_CLI_RUNNING: return "running";
	case TERN_TCP_CLI_DONE: return "done";
	case TERN_TCP_CLI_FAILED: return "failed";
	}
	return "unknown";
}

static json_t *cli_json(const struct tcp_cli_obj *o)
{
	const struct tern_tcp_cli_stats *s = &o->st;
	const struct tern_tcp_cli_conf *c = &o->conf;
	double elapsed = (double)s->elapsed_ns / 1e9;
	double xfer_s = (double)(s->elapsed_ns - s->connect_ns) / 1e9;
	uint64_t moved = c->mode == TERN_TCP_CLI_SEND ? s->acked : s->body_bytes;
	json_t *progress = json_null(), *total = json_null();
	char path[TERN_TCP_CLI_PATH_MAX + 32];

	if (c->mode == TERN_TCP_CLI_SEND && c->bytes > 0)
		progress = json_real(RTE_MIN((double)s->acked / (double)c->bytes, 1.0));
	else if (c->mode == TERN_TCP_CLI_SEND)
		progress = json_real(s->state == TERN_TCP_CLI_DONE ? 1.0 : 0.0);
	else if (s->content_length > 0)
		progress = json_real((double)s->body_bytes /
				     (double)s->content_length);
	else if (s->content_length == 0 && s->http_status != 0)
		progress = json_real(1.0);
	if (c->mode == TERN_TCP_CLI_SEND)
		total = ju_u64(c->bytes);
	else if (s->content_length >= 0)
		total = ju_u64((uint64_t)s->content_length);
	if (c->mode == TERN_TCP_CLI_HTTP_GET && c->path[0] == '\0')
		snprintf(path, sizeof(path), "/bytes/%llu",
			 (unsigned long long)c->bytes);
	else
		snprintf(path, sizeof(path), "%s", c->path);
	json_t *j = json_pack(
		"{sI ss ss so sI sI sI so so so so so so so so so so sf so so so}",
		"id", (json_int_t)o->id, "mode", cli_modes[c->mode],
		"state", cli_state_name(s->state),
		"remote", addr_json(&c->remote), "port", (json_int_t)c->port,
		"local_port", (json_int_t)s->local_port,
		"worker", (json_int_t)o->worker,
		"bytes", c->has_bytes ? ju_u64(c->bytes) : json_null(),
		"total", total, "progress", progress,
		"tx_bytes", ju_u64(s->tx_bytes), "acked", ju_u64(s->acked),
		"rx_bytes", ju_u64(s->rx_bytes),
		"body_bytes", ju_u64(s->body_bytes),
		"http_status", s->http_status ? json_integer(s->http_status) :
						json_null(),
		"content_length", s->content_length >= 0 ?
			json_integer(s->content_length) : json_null(),
		"crc32", c->mode == TERN_TCP_CLI_HTTP_GET ?
			json_integer(s->crc32) : json_null(),
		"elapsed_s", elapsed,
		"connect_ms", s->connect_ns ?
			json_real((double)s->connect_ns / 1e6) : json_null(),
		"throughput_mbps", s->connect_ns && xfer_s > 0 ?
			json_real((double)moved * 8 / xfer_s / 1e6) : json_null(),
		"error", s->state == TERN_TCP_CLI_FAILED ?
			json_string(s->why[0] ? s->why : "failed") : json_null());
	json_object_set_new(j, "errno", s->state == TERN_TCP_CLI_FAILED ?
			    json_integer(s->err) : json_null());
	if (c->mode == TERN_TCP_CLI_HTTP_GET)
		json_object_set_new(j, "path", json_string(path));
	return j;
}

static struct tcp_cli_obj *get_cli(struct ternd *d, json_t *p,
				   struct rpc_error *e)
{
	static const char *const allowed[] = { "id", NULL };
	struct tcp_cli_obj *o;
	int64_t id;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "id", true, 1, UINT32_MAX, &id, e) < 0)
		return NULL;
	o = tcp_cli_find(d, (uint32_t)id);
	if (o == NULL)
		rpc_err(e, RPC_NOT_FOUND, "id", "no TCP client %lld",
			(long long)id);
	return o;
}

static void cli_announce(struct ternd *d, struct tcp_cli_obj *o, json_t *j)
{
	if (o->announced || (o->st.state != TERN_TCP_CLI_DONE &&
			     o->st.state != TERN_TCP_CLI_FAILED))
		return;
	o->announced = true;
	events_emit(d, "tcp.client.done",
		    json_pack("{sI sO}", "id", (json_int_t)o->id, "status", j));
}

static json_t *cli_status(struct ternd *d, struct tcp_cli_obj *o,
			  struct rpc_error *e)
{
	int rc = tcp_cli_stats(d, o);
	json_t *j;

	if (rc < 0) {
		worker_err(e, rc);
		return NULL;
	}
	j = cli_json(o);
	cli_announce(d, o, j);
	return j;
}

json_t *m_tcp_cli_status(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct tcp_cli_obj *o = get_cli(d, p, e);

	return o == NULL ? NULL : cli_status(d, o, e);
}

json_t *m_tcp_cli_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	json_t *out;

	if (jp_none(p, e) < 0)
		return NULL;
	out = json_array();
	for (struct tcp_cli_obj *o = d->tcp_clis; o != NULL; o = o->next) {
		json_t *j = cli_status(d, o, e);
		if (j == NULL) {
			json_decref(out);
			return NULL;
		}
		json_array_insert_new(out, 0, j);
	}
	return out;
}

json_t *m_tcp_cli_delete(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct tcp_cli_obj *o = get_cli(d, p, e);
	uint32_t id;

	if (o == NULL)
		return NULL;
	id = o->id;
	tcp_cli_free(d, o);
	events_emit(d, "tcp.client.deleted",
		    json_pack("{sI}", "id", (json_int_t)id));
	return json_object();
}

/* ---- tcp.connections ---------------------------------------------------- */

static int parse_state(const char *s)
{
	char name[16];

	for (int st = 0; st < TERN_TCP_NSTATES; st++) {
		const char *n = tern_tcp_state_name((enum tern_tcp_state)st);
		size_t i;
		for (i = 0; n[i] != '\0' && i < sizeof(name) - 1; i++)
			name[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ?
					 n[i] - 'A' + 'a' : n[i]);
		name[i] = '\0';
		if (strcmp(name, s) == 0)
			return st;
	}
	return -1;
}

static json_t *state_json(uint8_t st)
{
	char name[16];
	const char *n = tern_tcp_state_name((enum tern_tcp_state)st);
	size_t i;

	for (i = 0; n[i] != '\0' && i < sizeof(name) - 1; i++)
		name[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' :
				 n[i]);
	name[i] = '\0';
	return json_string(name);
}

static json_t *conn_json(unsigned w, const struct tern_tcp_info *i)
{
	static const char *const cc[] = { "default", "newreno", "cubic" };

	return json_pack("{sI so so sI so sI sI so so sI sI sI sI sI sI so so "
			 "so so sb sb so so sI sI ss}",
		"worker", (json_int_t)w, "state", state_json(i->state),
		"local", addr_json(&i->local), "lport", (json_int_t)i->lport,
		"remote", addr_json(&i->remote), "rport", (json_int_t)i->rport,
		"mss", (json_int_t)i->mss,
		"cwnd", ju_u64(i->cwnd),
		"ssthresh", i->ssthresh == UINT32_MAX ? json_null() :
			    ju_u64(i->ssthresh),
		"srtt_us", (json_int_t)i->srtt_us,
		"rttvar_us", (json_int_t)i->rttvar_us,
		"rto_us", (json_int_t)i->rto_us,
		"snd_wnd", (json_int_t)i->snd_wnd,
		"rcv_wnd", (json_int_t)i->rcv_wnd,
		"send_queued", (json_int_t)i->send_queued,
		"bytes_sent", ju_u64(i->bytes_sent),
		"bytes_acked", ju_u64(i->bytes_acked),
		"bytes_received", ju_u64(i->bytes_received),
		"bytes_retrans", ju_u64(i->bytes_retrans),
		"sack", i->sack, "timestamps", i->timestamps,
		"snd_wscale", i->snd_wscale == 0xff ? json_null() :
			      json_integer(i->snd_wscale),
		"rcv_wscale", i->rcv_wscale == 0xff ? json_null() :
			      json_integer(i->rcv_wscale),
		"retransmits", (json_int_t)i->retransmits,
		"backoff", (json_int_t)i->backoff,
		"cc", i->cc < 3 ? cc[i->cc] : "?");
}

json_t *m_tcp_connections(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "state", "port", "address",
		"worker", "count", "limit", NULL };
	struct tcp_conn_filter f;
	const char *st = NULL;
	int64_t port = 0, worker = -1, limit = LIST_DEFAULT;
	uint64_t total = 0;
	unsigned nw = tern_dp_worker_count(d->dp);
	json_t *arr;
	int r;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	if (jp_only(p, allowed, e) < 0 ||
	    (r = jp_str(p, "state", false, 16, &st, e)) < 0)
		return NULL;
	if (r > 0 && (f.state = parse_state(st)) < 0) {
		rpc_err(e, RPC_INVALID_PARAMS, "state",
			"one of syn_sent, syn_received, established, "
			"fin_wait_1, fin_wait_2, close_wait, closing, "
			"last_ack, time_wait");
		return NULL;
	}
	if (jp_int(p, "port", false, 1, 65535, &port, e) < 0 ||
	    (r = jp_addr(p, "address", false, &f.addr, e)) < 0 ||
	    jp_int(p, "worker", false, 0, (int64_t)nw - 1, &worker, e) < 0 ||
	    jp_bool(p, "count", false, &f.count_only, e) < 0 ||
	    jp_int(p, "limit", false, 1, LIST_MAX, &limit, e) < 0)
		return NULL;
	f.port = (uint16_t)port;
	f.has_addr = r > 0;
	f.limit = (uint32_t)limit;
	arr = json_array();
	for (unsigned w = 0; w < nw; w++) {
		struct tcp_conn_list *l;
		int err = 0;

		if (worker >= 0 && (unsigned)worker != w)
			continue;
		l = tcp_conns_get(d, w, &f, &err);
		if (l == NULL) {
			json_decref(arr);
			worker_err(e, err);
			return NULL;
		}
		total += l->matched;
		for (uint32_t i = 0; i < l->n && json_array_size(arr) < f.limit;
		     i++)
			json_array_append_new(arr, conn_json(w, &l->info[i]));
		free(l);
	}
	json_t *out = json_pack("{so}", "count", ju_u64(total));
	if (f.count_only) {
		json_decref(arr);
	} else {
		json_object_set_new(out, "truncated",
				    json_boolean(total > json_array_size(arr)));
		json_object_set_new(out, "connections", arr);
	}
	return out;
}

/* ---- ternd's loop and shutdown ---------------------------------------------- */

void tcp_watch(struct ternd *d)
{
	for (struct tcp_cli_obj *o = d->tcp_clis; o != NULL; o = o->next) {
		struct rpc_error e = { 0 };
		json_t *j;

		if (o->announced || o->stuck)
			continue;
		j = cli_status(d, o, &e);
		rpc_err_clear(&e);
		json_decref(j);
	}
}

void tcp_delete_all(struct ternd *d)
{
	while (d->tcp_clis != NULL)
		tcp_cli_free(d, d->tcp_clis);
	while (d->tcp_svcs != NULL)
		tcp_svc_free(d, d->tcp_svcs);
}
