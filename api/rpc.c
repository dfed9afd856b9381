/* JSON-RPC 2.0 request handling. Everything that arrives is untrusted:
 * invalid UTF-8, duplicate keys, deep nesting (jansson stops at 2048
 * levels), huge numbers all end as error replies, never as a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "rpc.h"

static const struct rpc_method methods[] = {
	{ "system.version", m_system_version },
	{ "system.shutdown", m_system_shutdown },
	{ "port.list", m_port_list },
	{ "interface.create", m_iface_create },
	{ "interface.list", m_iface_list },
	{ "interface.delete", m_iface_delete },
	{ "interface.address.add", m_iface_addr_add },
	{ "interface.address.delete", m_iface_addr_del },
	{ "route.add", m_route_add },
	{ "route.delete", m_route_delete },
	{ "route.list", m_route_list },
	{ "neighbour.list", m_neigh_list },
	{ "neighbour.flush", m_neigh_flush },
	{ "stats.get", m_stats_get },
	{ "capture.start", m_capture_start },
	{ "capture.stop", m_capture_stop },
	{ "impairment.set", m_impair_set },
	{ "impairment.get", m_impair_get },
	{ "impairment.clear", m_impair_clear },
	{ "generator.create", m_gen_create },
	{ "generator.start", m_gen_start },
	{ "generator.stop", m_gen_stop },
	{ "generator.delete", m_gen_delete },
	{ "generator.list", m_gen_list },
	{ "generator.stats", m_gen_stats },
	{ "tcp.service.create", m_tcp_svc_create },
	{ "tcp.service.list", m_tcp_svc_list },
	{ "tcp.service.delete", m_tcp_svc_delete },
	{ "tcp.client.create", m_tcp_cli_create },
	{ "tcp.client.status", m_tcp_cli_status },
	{ "tcp.client.list", m_tcp_cli_list },
	{ "tcp.client.delete", m_tcp_cli_delete },
	{ "tcp.connections", m_tcp_connections },
};

static json_t *error_response(json_t *id, struct rpc_error *e)
{
	json_t *err = json_object();
	json_t *resp = json_object();

	json_object_set_new(err, "code", json_integer(e->code));
	json_object_set_new(err, "message", json_string(e->message));
	if (e->data != NULL) {
		json_object_set_new(err, "data", e->data);
		e->data = NULL;
	}
	json_object_set_new(resp, "jsonrpc", json_string("2.0"));
	json_object_set_new(resp, "error", err);
	json_object_set(resp, "id", id != NULL ? id : json_null());
	return resp;
}

static json_t *result_response(json_t *id, json_t *result)
{
	json_t *resp = json_object();

	json_object_set_new(resp, "jsonrpc", json_string("2.0"));
	json_object_set_new(resp, "result", result);
	json_object_set(resp, "id", id);
	return resp;
}

static const struct rpc_method *find_method(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

/* Checks the envelope; on failure fills e and returns -1. *id is set to
 * the request id when it is usable for the reply. */
static int check_envelope(json_t *req, json_t **id, bool *notification,
			  struct rpc_error *e)
{
	static const char *const members[] = { "jsonrpc", "method", "params",
					       "id", NULL };
	json_t *v;
	const char *key;

	*id = NULL;
	*notification = false;
	if (!json_is_object(req)) {
		rpc_err(e, RPC_INVALID_REQUEST, NULL, "request is not an object");
		return -1;
	}
	v = json_object_get(req, "id");
	if (v == NULL) {
		*notification = true;
	} else if (json_is_string(v) || json_is_number(v) || json_is_null(v)) {
		*id = v;
	} else {
		rpc_err(e, RPC_INVALID_REQUEST, "id",
			"must be a string, a number or null");
		return -1;
	}
	json_object_foreach(req, key, v) {
		const char *const *m;
		bool ok = false;

		for (m = members; *m != NULL; m++)
			if (strcmp(*m, key) == 0)
				ok = true;
		if (!ok) {
			char name[64];

			snprintf(name, sizeof(name), "%s", key);
			rpc_err(e, RPC_INVALID_REQUEST, name,
				"unknown request member");
			return -1;
		}
	}
	v = json_object_get(req, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		rpc_err(e, RPC_INVALID_REQUEST, "jsonrpc", "must be \"2.0\"");
		return -1;
	}
	v = json_object_get(req, "method");
	if (!json_is_string(v)) {
		rpc_err(e, RPC_INVALID_REQUEST, "method",
			v == NULL ? "missing" : "must be a string");
		return -1;
	}
	v = json_object_get(req, "params");
	if (v != NULL && !json_is_object(v) && !json_is_null(v)) {
		rpc_err(e, RPC_INVALID_REQUEST, "params",
			"must be an object (named parameters)");
		return -1;
	}
	return 0;
}

/* One request: the response object, or NULL for a notification. */
static json_t *handle_one(struct ternd *d, json_t *req)
{
	struct rpc_error e = { 0 };
	const struct rpc_method *m;
	json_t *id, *params, *result, *empty = NULL;
	bool notification;
	const char *name;

	if (check_envelope(req, &id, &notification, &e) < 0)
		/* JSON-RPC 2.0 §5: an invalid request is answered, with id
		 * null when it could not be read, notification or not. */
		return error_response(id, &e);
	name = json_string_value(json_object_get(req, "method"));
	m = find_method(name);
	if (m == NULL) {
		char shown[80];

		snprintf(shown, sizeof(shown), "%s", name);
		rpc_err(&e, RPC_METHOD_NOT_FOUND, NULL, "%s", shown);
		json_decref(e.data);
		e.data = json_pack("{ss}", "method", shown);
		result = NULL;
	} else {
		params = json_object_get(req, "params");
		if (params == NULL || json_is_null(params))
			params = empty = json_object();
		result = m->fn(d, params, &e);
		json_decref(empty);
		if (result == NULL && e.code == 0)
			rpc_err(&e, RPC_INTERNAL_ERROR, NULL,
				"method failed without a reason");
	}
	if (notification) {
		json_decref(result);
		rpc_err_clear(&e);
		return NULL;
	}
	if (result == NULL)
		return error_response(id, &e);
	return result_response(id, result);
}

static char *dump(json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);

	json_decref(resp);
	return text;
}

char *rpc_reject_frame(int code, const char *reason)
{
	struct rpc_error e = { 0 };

	rpc_err(&e, code, NULL, "%s", reason);
	return dump(error_response(NULL, &e));
}

char *rpc_handle_frame(struct ternd *d, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *req, *resp;

	/* Duplicate keys would make "which value counts" ambiguous; any
	 * JSON value parses, so that "42" is an invalid request (-32600),
	 * not a parse error. */
	req = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			 &jerr);
	if (req == NULL) {
		struct rpc_error e = { 0 };

		rpc_err(&e, RPC_PARSE_ERROR, NULL, "%s at position %d",
			jerr.text, jerr.position);
		return dump(error_response(NULL, &e));
	}
	if (json_is_array(req)) {
		size_t i;
		json_t *item;

		if (json_array_size(req) == 0) {
			json_decref(req);
			return rpc_reject_frame(RPC_INVALID_REQUEST,
						"empty batch");
		}
		resp = json_array();
		json_array_foreach(req, i, item) {
			json_t *r = handle_one(d, item);

			if (r != NULL)
				json_array_append_new(resp, r);
		}
		if (json_array_size(resp) == 0) {
			/* A batch of notifications gets no reply at all. */
			json_decref(resp);
			resp = NULL;
		}
	} else {
		resp = handle_one(d, req);
	}
	json_decref(req);
	return resp != NULL ? dump(resp) : NULL;
}
