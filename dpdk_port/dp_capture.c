/* pcapng capture across workers: the capture hook (hooks/capture.h) is
 * added to every worker's ETH_INPUT and ETH_OUTPUT chains by message; the
 * control thread drains the copies into the file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "dp_priv.h"

#define CAP_HOOK_NAME "capture"

static int cap_hooks_add_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct tern_hooks *h = tern_stack_hooks(w->stack);
	int rc = tern_hook_add(h, TERN_HOOK_ETH_INPUT, CAP_HOOK_NAME,
			       tern_capture_hook, msg->arg);
	if (rc < 0)
		return rc;
	rc = tern_hook_add(h, TERN_HOOK_ETH_OUTPUT, CAP_HOOK_NAME,
			   tern_capture_hook, msg->arg);
	if (rc < 0)
		tern_hook_del(h, TERN_HOOK_ETH_INPUT, CAP_HOOK_NAME);
	return rc;
}

static int cap_hooks_del_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct tern_hooks *h = tern_stack_hooks(w->stack);
	(void)msg;
	/* -ENOENT is fine: removal is idempotent (rollback after a
	 * partial start). */
	tern_hook_del(h, TERN_HOOK_ETH_INPUT, CAP_HOOK_NAME);
	tern_hook_del(h, TERN_HOOK_ETH_OUTPUT, CAP_HOOK_NAME);
	return 0;
}

/* Removes the hook everywhere; the first error (a worker that did not
 * answer) means the hook may still run there. */
static int cap_hooks_del_all(struct tern_dp *dp)
{
	int first = 0;
	for (unsigned i = 0; i < dp->nworkers; i++) {
		int rc = tern_dp_call(dp, i, cap_hooks_del_fn, NULL);
		if (rc < 0 && first == 0)
			first = rc;
	}
	return first;
}

int tern_dp_capture_start(struct tern_dp *dp, const char *path,
			  uint16_t port_id, uint32_t snaplen)
{
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(dp->cap_path))
		return -EINVAL;
	if (dp->cap != NULL)
		return -EBUSY;
	if (port_id != UINT16_MAX && dp_port_slot(dp, port_id) == DP_NO_SLOT)
		return -ENODEV;

	struct tern_capture *cap = tern_capture_open(path, port_id, snaplen);
	if (cap == NULL)
		return rte_errno ? -rte_errno : -EIO;

	int rc = tern_dp_call_all(dp, cap_hooks_add_fn, cap);
	if (rc < 0) {
		if (cap_hooks_del_all(dp) < 0) {
			/* A worker may still run the hook: keep the capture
			 * alive (stop retries) rather than free it under
			 * that worker. */
			dp->cap = cap;
			snprintf(dp->cap_path, sizeof(dp->cap_path), "%s",
				 path);
			return rc;
		}
		tern_capture_close(cap);
		return rc;
	}
	dp->cap = cap;
	snprintf(dp->cap_path, sizeof(dp->cap_path), "%s", path);
	return 0;
}

void tern_dp_capture_poll(struct tern_dp *dp)
{
	if (dp->cap == NULL)
		return;
	int rc = tern_capture_drain(dp->cap);
	if (rc < 0)
		DP_LOG(WARNING, "capture %s: write failed: %s", dp->cap_path,
		       strerror(-rc));
}

int tern_dp_capture_stop(struct tern_dp *dp, uint64_t *written,
			 uint64_t *missed)
{
	if (dp->cap == NULL)
		return -ENOENT;
	int rc = cap_hooks_del_all(dp);
	if (rc < 0)
		return rc;	/* still hooked somewhere: cannot free yet */

	/* Each worker answered the removal between two bursts, so no hook
	 * runs any more and, after this drain, the ring is empty: these
	 * counts are final. */
	struct tern_capture_stats st;
	int drc;
	while ((drc = tern_capture_drain(dp->cap)) > 0)
		;
	if (drc < 0)
		DP_LOG(WARNING, "capture %s: write failed: %s", dp->cap_path,
		       strerror(-drc));
	tern_capture_stats_get(dp->cap, &st);
	tern_capture_close(dp->cap);
	dp->cap = NULL;
	dp->cap_path[0] = '\0';
	if (written != NULL)
		*written = st.written;
	if (missed != NULL)
		*missed = st.missed;
	return 0;
}

bool tern_dp_capture_running(const struct tern_dp *dp, char *path,
			     unsigned pathlen)
{
	if (dp->cap == NULL)
		return false;
	if (path != NULL && pathlen > 0)
		snprintf(path, pathlen, "%s", dp->cap_path);
	return true;
}

int tern_dp_capture_stats(const struct tern_dp *dp,
			  struct tern_capture_stats *out)
{
	if (dp->cap == NULL)
		return -ENOENT;
	tern_capture_stats_get(dp->cap, out);
	return 0;
}
