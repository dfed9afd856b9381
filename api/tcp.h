/* TCP services, clients and the connection listing as the control thread
 * sees them (traffic_gen/tcp_svc.h does the work on the workers): a
 * service is one listener per worker stack, a client one connection on
 * one worker; both are created, read and destroyed by messages run on
 * the workers (DESIGN rule 7). */
#ifndef TERND_TCP_H
#define TERND_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <tern/tcp_svc.h>

#include "ternd.h"

struct tcp_svc_slot {
	struct tern_tcp_svc *v;		/* written on the worker only */
	struct tern_tcp_svc_stats st;	/* last snapshot */
};

struct tcp_svc_obj {
	struct tcp_svc_obj *next;
	uint32_t id;
	struct tern_tcp_svc_conf conf;
	bool stuck;			/* a worker timed out: never freed */
	unsigned nslots;
	struct tcp_svc_slot slot[];
};

struct tcp_cli_obj {
	struct tcp_cli_obj *next;
	uint32_t id;
	unsigned worker;
	struct tern_tcp_cli_conf conf;
	struct tern_tcp_cli *k;		/* written on the worker only */
	struct tern_tcp_cli_stats st;	/* last snapshot */
	bool stuck;
	bool announced;			/* tcp.client.done emitted */
};

/* NULL with *err = -errno (EADDRINUSE, EADDRNOTAVAIL, ENOSPC, ENOMEM,
 * ETIMEDOUT). */
struct tcp_svc_obj *tcp_svc_new(struct ternd *d,
				const struct tern_tcp_svc_conf *conf, int *err);
struct tcp_svc_obj *tcp_svc_find(struct ternd *d, uint32_t id);
/* Snapshots every worker's instance; sum gets the totals. */
int tcp_svc_stats(struct ternd *d, struct tcp_svc_obj *o,
		  struct tern_tcp_svc_stats *sum);
void tcp_svc_free(struct ternd *d, struct tcp_svc_obj *o);

/* Connects from worker (round robin when < 0). NULL with *err. */
struct tcp_cli_obj *tcp_cli_new(struct ternd *d,
				const struct tern_tcp_cli_conf *conf, int *err);
struct tcp_cli_obj *tcp_cli_find(struct ternd *d, uint32_t id);
int tcp_cli_stats(struct ternd *d, struct tcp_cli_obj *o);
void tcp_cli_free(struct ternd *d, struct tcp_cli_obj *o);

/* Connection listing: filters, and what one worker found. */
struct tcp_conn_filter {
	int state;			/* enum tern_tcp_state; -1 any */
	uint16_t port;			/* local or remote; 0 any */
	bool has_addr;
	struct tern_addr addr;		/* local or remote */
	bool count_only;
	uint32_t limit;			/* entries kept at most */
};

struct tcp_conn_list {
	struct tcp_conn_filter f;
	uint32_t matched;		/* connections that pass the filter */
	uint32_t n;			/* entries in info (<= f.limit) */
	struct tern_tcp_info info[];
};

/* Lists worker w's connections into a new list (free() it), or NULL
 * with *err (ETIMEDOUT: the list was left to the late message). */
struct tcp_conn_list *tcp_conns_get(struct ternd *d, unsigned w,
				    const struct tcp_conn_filter *f, int *err);

#endif
