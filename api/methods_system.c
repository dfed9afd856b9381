/* system.version and system.shutdown. */
#include <rte_lcore.h>
#include <rte_version.h>

#include <tern/dp.h>

#include "events.h"
#include "methods.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

json_t *m_system_version(struct ternd *d, json_t *p, struct rpc_error *e)
{
	json_t *lcores;
	unsigned lc, n = 0, workers;

	if (jp_none(p, e) < 0)
		return NULL;
	workers = tern_dp_worker_count(d->dp);
	lcores = json_array();
	/* The data plane runs one worker per EAL worker lcore, in order. */
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (n++ >= workers)
			break;
		json_array_append_new(lcores, json_integer(lc));
	}
	return json_pack("{ss ss sI so ss}", "version", TERN_VERSION,
			 "dpdk", rte_version(), "workers", (json_int_t)workers,
			 "lcores", lcores, "api", "2.0");
}

json_t *m_system_shutdown(struct ternd *d, json_t *p, struct rpc_error *e)
{
	if (jp_none(p, e) < 0)
		return NULL;
	/* The main loop sends this reply, then leaves and cleans up. */
	d->quit = true;
	return json_object();
}
