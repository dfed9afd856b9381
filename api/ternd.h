/* The daemon's state, owned by the main (control) thread. It reaches the
 * workers only through tern_dp_* calls and messages (DESIGN rule 7). */
#ifndef TERND_H
#define TERND_H

#include <stdbool.h>
#include <stdint.h>

struct tern_dp;
struct gen;
struct tcp_svc_obj;
struct tcp_cli_obj;

struct ternd {
	struct tern_dp *dp;
	void *zctx;
	void *router;		/* JSON-RPC requests */
	void *pub;		/* stats and events */
	struct gen *gens;	/* generators, newest first */
	uint32_t next_gen_id;
	struct tcp_svc_obj *tcp_svcs;	/* TCP services, newest first */
	struct tcp_cli_obj *tcp_clis;	/* TCP clients, newest first */
	uint32_t next_tcp_svc_id, next_tcp_cli_id;
	unsigned next_tcp_worker;	/* the next client's worker */
	bool quit;		/* system.shutdown or a signal */
};

#endif
