/* Impairments in the data plane: one engine per worker for each (port or
 * interface, direction), its hook on that worker's stack and a poller
 * that resumes held packets when they are due. The control thread builds
 * them and reaches the workers only by message (DESIGN rule 7).
 *
 * Where the hook sits:
 *   port, out       ETH_OUTPUT, frames of that link (ARP included)
 *   port, in        ETH_INPUT, frames received on that link
 *   interface, out  ETH_OUTPUT, frames the interface sends
 *   interface, in   IP_INPUT, IPv4 packets addressed to the interface,
 *                   after validation (at ETH_INPUT the interface is not
 *                   known yet: the demux picks it)
 * Worker w's engine gets seed + w * 0x9e3779b97f4a7c15, so worker 0
 * makes exactly the decisions of an engine with the given seed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include <tern/impair.h>

#include "dp_priv.h"

struct dp_impair_w {
	struct tern_impair *eng;
	struct tern_impair_hook *hook;
	bool attached;
	/* Written by the worker in a snapshot message; here rather than in
	 * the caller's frame so a message that runs after its call timed
	 * out still writes into memory that exists. */
	struct tern_impair_stats snap;
};

struct dp_impair {
	struct tern_dp_impair_target t;
	struct tern_impair_conf conf;	/* as given (seed of worker 0) */
	unsigned nw;
	struct dp_impair_w w[];
};

static uint64_t worker_now(void *stack)
{
	return tern_stack_now(stack);
}

static unsigned impair_poll(struct tern_worker *w, void *arg)
{
	(void)w;
	return tern_impair_hook_poll(arg);
}

/* ---- on the worker -------------------------------------------------- */

static int attach_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct dp_impair_w *iw = msg->arg;
	int rc = tern_impair_hook_attach(iw->hook, tern_stack_hooks(w->stack));
	if (rc < 0)
		return rc;
	rc = tern_worker_poller_add(w, impair_poll, iw->hook);
	if (rc < 0) {
		tern_impair_hook_detach(iw->hook);
		return rc;
	}
	iw->attached = true;
	return 0;
}

static int detach_fn(void *ctx, struct tern_msg *msg)
{
	struct tern_worker *w = ctx;
	struct dp_impair_w *iw = msg->arg;
	tern_worker_poller_del(w, impair_poll, iw->hook);
	/* takes the hook out of the chain and frees what it held */
	tern_impair_hook_detach(iw->hook);
	iw->attached = false;
	return 0;
}

static int snap_fn(void *ctx, struct tern_msg *msg)
{
	struct dp_impair_w *iw = msg->arg;
	(void)ctx;
	tern_impair_stats_get(iw->eng, &iw->snap);
	return 0;
}

/* ---- control thread ------------------------------------------------- */

static bool same_target(const struct tern_dp_impair_target *a,
			const struct tern_dp_impair_target *b)
{
	return a->iface == b->iface && a->id == b->id && a->dir == b->dir;
}

static int find(const struct tern_dp *dp, const struct tern_dp_impair_target *t)
{
	for (int i = 0; i < TERN_DP_MAX_IMPAIRS; i++)
		if (dp->impairs[i] != NULL && same_target(&dp->impairs[i]->t, t))
			return i;
	return -1;
}

static void impair_free(struct dp_impair *di)
{
	for (unsigned i = 0; i < di->nw; i++) {
		tern_impair_hook_free(di->w[i].hook);
		tern_impair_destroy(di->w[i].eng);
	}
	rte_free(di);
}

/* Takes the hooks off every worker that has them. The first error (a
 * worker that did not answer) means a hook may still run there: then
 * nothing may be freed. */
static int detach_all(struct tern_dp *dp, struct dp_impair *di)
{
	int first = 0;
	for (unsigned i = 0; i < di->nw; i++) {
		if (!di->w[i].attached)
			continue;
		int rc = tern_dp_call(dp, i, detach_fn, &di->w[i]);
		if (rc < 0 && first == 0)
			first = rc;
	}
	return first;
}

static int check_target(struct tern_dp *dp, const struct tern_dp_impair_target *t,
			const char **why)
{
	if (t->dir != TERN_DP_IMPAIR_IN && t->dir != TERN_DP_IMPAIR_OUT) {
		*why = "direction: must be in or out";
		return -EINVAL;
	}
	if (!t->iface && dp_port_slot(dp, t->id) == DP_NO_SLOT) {
		*why = "port: no such port (see port.list)";
		return -ENODEV;
	}
	struct tern_dp_iface_info info;
	if (t->iface && tern_dp_iface_get(dp, t->id, &info) < 0) {
		*why = "ifindex: no such interface (see interface.list)";
		return -ENODEV;
	}
	return 0;
}

static struct dp_impair *impair_build(struct tern_dp *dp,
				      const struct tern_dp_impair_target *t,
				      const struct tern_impair_conf *conf)
{
	struct dp_impair *di = rte_zmalloc("tern_dp_impair", sizeof(*di) +
					   dp->nworkers * sizeof(di->w[0]), 0);
	if (di == NULL)
		return NULL;
	di->t = *t;
	di->conf = *conf;
	char name[24];
	snprintf(name, sizeof(name), "impair-%s%u-%s", t->iface ? "if" : "p",
		 t->id, t->dir == TERN_DP_IMPAIR_IN ? "in" : "out");
	struct tern_impair_hook_conf hc = {
		.point = t->dir == TERN_DP_IMPAIR_OUT ? TERN_HOOK_ETH_OUTPUT :
			 t->iface ? TERN_HOOK_IP_INPUT : TERN_HOOK_ETH_INPUT,
		.link = t->iface ? UINT16_MAX : t->id,
		.ifindex = t->iface ? t->id : UINT16_MAX,
		.name = name,
		.now = worker_now,
	};
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct tern_worker *w = dp->workers[i];
		struct tern_impair_conf c = *conf;
		c.seed = conf->seed + i * 0x9e3779b97f4a7c15ull;
		di->nw = i + 1;
		di->w[i].eng = tern_impair_create(&c, (int)w->socket);
		hc.now_arg = w->stack;
		if (di->w[i].eng != NULL)
			di->w[i].hook = tern_impair_hook_create(di->w[i].eng, &hc,
								(int)w->socket);
		if (di->w[i].hook == NULL) {
			impair_free(di);
			return NULL;
		}
	}
	return di;
}

int tern_dp_impair_set(struct tern_dp *dp, const struct tern_dp_impair_target *t,
		       const struct tern_impair_conf *conf, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	int rc = check_target(dp, t, why);
	if (rc < 0)
		return rc;
	if (tern_impair_conf_check(conf, why) < 0)
		return -EINVAL;
	/* A new conf replaces the old one (and what it held). */
	int slot = find(dp, t);
	if (slot >= 0) {
		rc = tern_dp_impair_clear(dp, t);
		if (rc < 0)
			return rc;
	}
	for (slot = 0; slot < TERN_DP_MAX_IMPAIRS; slot++)
		if (dp->impairs[slot] == NULL)
			break;
	if (slot == TERN_DP_MAX_IMPAIRS) {
		*why = "too many impairments (16)";
		return -ENOSPC;
	}
	struct dp_impair *di = impair_build(dp, t, conf);
	if (di == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < di->nw; i++) {
		rc = tern_dp_call(dp, i, attach_fn, &di->w[i]);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		if (rc == -ENOSPC)
			*why = "a worker's hook chain or poller list is full";
		if (detach_all(dp, di) < 0 || rc == -ETIMEDOUT) {
			/* A worker may still run the hook (or attach it
			 * late): keep it registered so clear can retry,
			 * rather than free it under that worker. */
			dp->impairs[slot] = di;
			return rc;
		}
		impair_free(di);
		return rc;
	}
	dp->impairs[slot] = di;
	return 0;
}

int tern_dp_impair_clear(struct tern_dp *dp, const struct tern_dp_impair_target *t)
{
	int slot = find(dp, t);
	if (slot < 0)
		return -ENOENT;
	struct dp_impair *di = dp->impairs[slot];
	int rc = detach_all(dp, di);
	if (rc < 0)
		return rc;
	impair_free(di);
	dp->impairs[slot] = NULL;
	return 0;
}

int tern_dp_impair_get(struct tern_dp *dp, const struct tern_dp_impair_target *t,
		       struct tern_impair_conf *conf, struct tern_impair_stats *sum,
		       struct tern_impair_stats *per_worker)
{
	int slot = find(dp, t);
	if (slot < 0)
		return -ENOENT;
	struct dp_impair *di = dp->impairs[slot];
	if (conf != NULL) {
		/* the defaults the engine filled in, with the seed given */
		*conf = *tern_impair_conf_get(di->w[0].eng);
		conf->seed = di->conf.seed;
	}
	struct tern_impair_stats total;
	memset(&total, 0, sizeof(total));
	for (unsigned i = 0; i < di->nw; i++) {
		int rc = tern_dp_call(dp, i, snap_fn, &di->w[i]);
		if (rc < 0)
			return rc;
		const struct tern_impair_stats *s = &di->w[i].snap;
		if (per_worker != NULL)
			per_worker[i] = *s;
		total.seen += s->seen;
		total.passed += s->passed;
		total.drop_loss += s->drop_loss;
		total.drop_burst += s->drop_burst;
		total.drop_rate += s->drop_rate;
		total.drop_limit += s->drop_limit;
		total.drop_nomem += s->drop_nomem;
		total.flushed += s->flushed;
		total.duplicated += s->duplicated;
		total.dup_nomem += s->dup_nomem;
		total.corrupted += s->corrupted;
		total.delayed += s->delayed;
		total.reordered += s->reordered;
		total.held += s->held;
	}
	if (sum != NULL)
		*sum = total;
	return 0;
}

unsigned tern_dp_impair_list(const struct tern_dp *dp,
			     struct tern_dp_impair_target *out, unsigned max)
{
	unsigned n = 0;
	for (int i = 0; i < TERN_DP_MAX_IMPAIRS; i++) {
		if (dp->impairs[i] == NULL)
			continue;
		if (n < max)
			out[n] = dp->impairs[i]->t;
		n++;
	}
	return n;
}

void dp_impair_free_all(struct tern_dp *dp)
{
	/* The loops are stopped: nothing runs the hooks; take them out of
	 * the chains (stacks may still send on their way out) and free what
	 * they hold before the stacks and pools go. */
	for (int i = 0; i < TERN_DP_MAX_IMPAIRS; i++) {
		struct dp_impair *di = dp->impairs[i];
		if (di == NULL)
			continue;
		impair_free(di);
		dp->impairs[i] = NULL;
	}
}
