/* The JSON-RPC methods. A method returns its result (a new reference) or
 * NULL after filling e. params is an object, never NULL. */
#ifndef TERND_METHODS_H
#define TERND_METHODS_H

#include <jansson.h>

#include "json_util.h"
#include "ternd.h"

typedef json_t *(*rpc_method_fn)(struct ternd *d, json_t *params,
				 struct rpc_error *e);

struct rpc_method {
	const char *name;
	rpc_method_fn fn;
};

json_t *m_system_version(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_system_shutdown(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_port_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_iface_create(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_iface_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_iface_delete(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_iface_addr_add(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_iface_addr_del(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_route_add(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_route_delete(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_route_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_neigh_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_neigh_flush(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_stats_get(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_capture_start(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_capture_stop(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_impair_set(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_impair_get(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_impair_clear(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_gen_create(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_gen_start(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_gen_stop(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_gen_delete(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_gen_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_gen_stats(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_svc_create(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_svc_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_svc_delete(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_cli_create(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_cli_status(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_cli_list(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_cli_delete(struct ternd *d, json_t *p, struct rpc_error *e);
json_t *m_tcp_connections(struct ternd *d, json_t *p, struct rpc_error *e);

/* Shared with the periodic publisher in ternd.c. */
json_t *stats_build(struct ternd *d, struct rpc_error *e);
/* Array of generator.stats results for every generator. */
json_t *gen_stats_all(struct ternd *d);
/* Emits generator.done for generators that finished since the last call. */
void gen_watch(struct ternd *d);
/* Stops and frees every generator (shutdown). */
void gen_delete_all(struct ternd *d);
/* Emits tcp.client.done for clients that finished since the last call. */
void tcp_watch(struct ternd *d);
/* Resets and frees every TCP client and service (shutdown). */
void tcp_delete_all(struct ternd *d);

#endif
