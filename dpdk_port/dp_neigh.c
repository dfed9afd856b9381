/* Neighbours over the control API: every worker has its own table (its
 * lcore's traffic resolves there), so a listing asks each worker in
 * chunks from a cursor, and a flush empties every table. */
#include <errno.h>
#include <string.h>

#include "dp_priv.h"

struct neigh_req {
	uint32_t cursor;
	uint16_t ifindex;
};

/* On the worker: the next chunk of entries (of ifindex) from the cursor,
 * into w->neigh_chunk; w->neigh_next is where the next chunk starts
 * (UINT32_MAX: the end). The request is copied into the message. */
static int neigh_chunk_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct neigh_req req;
	memcpy(&req, msg->data, sizeof(req));
	uint32_t cur = req.cursor;
	unsigned n = 0;
	struct tern_neigh_info info;
	while (n < DP_NEIGH_CHUNK &&
	       tern_neigh_next(w->stack, &cur, &info) == 0) {
		if (req.ifindex != 0 && info.ifindex != req.ifindex)
			continue;
		w->neigh_chunk[n++] = info;
	}
	w->neigh_n = n;
	w->neigh_next = n < DP_NEIGH_CHUNK ? UINT32_MAX : cur;
	return 0;
}

/* Requests travel inside the message, so a run after a timed-out call
 * reads nothing freed. */
static int call_with(struct tern_dp *dp, unsigned w, tern_msg_fn fn,
		     const void *data, size_t len)
{
	return tern_chan_call_data(dp->workers[w]->chan, fn, NULL, data, len,
				   DP_CALL_TIMEOUT_MS);
}

int tern_dp_neigh_list(struct tern_dp *dp, int w, uint16_t ifindex,
		       tern_dp_neigh_fn fn, void *arg)
{
	if (w >= (int)dp->nworkers || fn == NULL)
		return -EINVAL;
	unsigned first = w < 0 ? 0 : (unsigned)w;
	unsigned last = w < 0 ? dp->nworkers : (unsigned)w + 1;
	for (unsigned i = first; i < last; i++) {
		struct neigh_req req = {.cursor = 0, .ifindex = ifindex};
		for (;;) {
			int rc = call_with(dp, i, neigh_chunk_fn, &req,
					   sizeof(req));
			if (rc < 0)
				return rc;
			const struct tern_worker *wk = dp->workers[i];
			for (unsigned k = 0; k < wk->neigh_n; k++)
				fn(arg, i, &wk->neigh_chunk[k]);
			if (wk->neigh_next == UINT32_MAX)
				break;
			req.cursor = wk->neigh_next;
		}
	}
	return 0;
}

static int neigh_flush_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	uint16_t ifindex;
	memcpy(&ifindex, msg->data, sizeof(ifindex));
	return (int)tern_neigh_flush(w->stack, ifindex);
}

int tern_dp_neigh_flush(struct tern_dp *dp, uint16_t ifindex,
			unsigned *flushed)
{
	unsigned total = 0;
	for (unsigned i = 0; i < dp->nworkers; i++) {
		int rc = call_with(dp, i, neigh_flush_fn, &ifindex,
				   sizeof(ifindex));
		if (rc < 0)
			return rc;
		total += (unsigned)rc;
	}
	if (flushed != NULL)
		*flushed = total;
	return 0;
}
