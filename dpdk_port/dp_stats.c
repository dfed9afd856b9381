/* Statistics snapshots, control thread side. A worker's counters are
 * written by its lcore only, so they are read on that lcore by a message:
 * one message per worker collects everything it counts (its own counters,
 * its stack's, every interface's), so a stats publication costs one
 * channel call per worker however many interfaces there are. */
#include <errno.h>
#include <string.h>

#include "dp_priv.h"

static int worker_snap_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct tern_worker_snapshot *s = &w->snap;
	(void)msg;

	s->stats = w->st;
	s->stats.tx_held = 0;
	for (unsigned p = 0; p < w->dp->nports; p++)
		s->stats.tx_held += w->tx[p].n;
	tern_stack_stats_get(w->stack, &s->stats.stack);
	/* The data plane numbers interfaces 1..TERN_MAX_IFACES (dp_iface.c);
	 * each lookup is an array index. */
	s->nifaces = 0;
	for (unsigned ifx = 1; ifx <= TERN_MAX_IFACES; ifx++) {
		struct tern_worker_iface_stats *e = &s->ifaces[s->nifaces];
		if (tern_iface_stats_get(w->stack, (uint16_t)ifx, &e->st) < 0)
			continue;
		e->ifindex = (uint16_t)ifx;
		s->nifaces++;
	}
	return 0;
}

int tern_dp_worker_snapshot(struct tern_dp *dp, unsigned w,
			    struct tern_worker_snapshot *out)
{
	if (w >= dp->nworkers || out == NULL)
		return -EINVAL;
	int rc = tern_dp_call(dp, w, worker_snap_fn, NULL);
	if (rc < 0)
		return rc;
	const struct tern_worker_snapshot *s = &dp->workers[w]->snap;
	out->stats = s->stats;
	out->nifaces = s->nifaces;
	memcpy(out->ifaces, s->ifaces, s->nifaces * sizeof(s->ifaces[0]));
	return 0;
}

int tern_dp_worker_stats(struct tern_dp *dp, unsigned w,
			 struct tern_worker_stats *out)
{
	if (w >= dp->nworkers || out == NULL)
		return -EINVAL;
	int rc = tern_dp_call(dp, w, worker_snap_fn, NULL);
	if (rc < 0)
		return rc;
	*out = dp->workers[w]->snap.stats;
	return 0;
}

int tern_dp_iface_stats(struct tern_dp *dp, uint16_t ifindex,
			struct tern_iface_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < dp->nworkers; i++) {
		int rc = tern_dp_call(dp, i, worker_snap_fn, NULL);
		if (rc < 0)
			return rc;
		const struct tern_worker_snapshot *s = &dp->workers[i]->snap;
		for (unsigned k = 0; k < s->nifaces; k++) {
			if (s->ifaces[k].ifindex != ifindex)
				continue;
			out->rx_pkts += s->ifaces[k].st.rx_pkts;
			out->rx_bytes += s->ifaces[k].st.rx_bytes;
			out->tx_pkts += s->ifaces[k].st.tx_pkts;
			out->tx_bytes += s->ifaces[k].st.tx_bytes;
		}
	}
	return 0;
}
