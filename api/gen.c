/* Generator instances on the workers (see gen.h). The message functions
 * run on the worker lcore; the control thread reads the slots only after
 * tern_dp_call(_all) returned, i.e. after the worker finished with them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include <tern/dp.h>

#include "gen.h"

static struct gen_slot *my_slot(void *lcore_ctx, struct tern_msg *msg)
{
	struct gen *g = msg->arg;
	unsigned w = tern_worker_index(lcore_ctx);

	return w < g->nslots ? &g->slot[w] : NULL;
}

static unsigned w_poll(struct tern_worker *w, void *arg)
{
	(void)w;
	return tern_udp_gen_poll(arg);
}

static int w_create(void *ctx, struct tern_msg *msg)
{
	struct gen_slot *s = my_slot(ctx, msg);
	int rc;

	if (s == NULL || !s->active || s->g != NULL)
		return 0;
	s->g = tern_udp_gen_create(tern_worker_stack(ctx), &s->conf);
	if (s->g == NULL)
		return rte_errno > 0 ? -rte_errno : -ENOMEM;
	rc = tern_worker_poller_add(ctx, w_poll, s->g);
	if (rc < 0) {
		tern_udp_gen_destroy(s->g);
		s->g = NULL;
	}
	return rc;
}

static int w_destroy(void *ctx, struct tern_msg *msg)
{
	struct gen_slot *s = my_slot(ctx, msg);

	if (s == NULL || s->g == NULL)
		return 0;
	tern_worker_poller_del(ctx, w_poll, s->g);
	tern_udp_gen_destroy(s->g);
	s->g = NULL;
	return 0;
}

static int w_start(void *ctx, struct tern_msg *msg)
{
	struct gen_slot *s = my_slot(ctx, msg);

	return s == NULL || s->g == NULL ? 0 : tern_udp_gen_start(s->g);
}

static int w_stop(void *ctx, struct tern_msg *msg)
{
	struct gen_slot *s = my_slot(ctx, msg);

	/* Stopping a finished instance is not an error for the whole. */
	if (s != NULL && s->g != NULL)
		tern_udp_gen_stop(s->g);
	return 0;
}

static int w_stats(void *ctx, struct tern_msg *msg)
{
	struct gen_slot *s = my_slot(ctx, msg);

	if (s == NULL || s->g == NULL)
		return 0;
	tern_udp_gen_stats_get(s->g, &s->st);
	return 0;
}

/* A timed-out message may still run later and touch the gen, so the gen
 * must then never be freed (tern_chan_call's contract). */
static int call_all(struct ternd *d, struct gen *g, tern_msg_fn fn)
{
	int rc = tern_dp_call_all(d->dp, fn, g);

	if (rc == -ETIMEDOUT)
		g->stuck = true;
	return rc;
}

/* Share of total for worker w of n: equal parts, remainder to worker 0. */
static uint64_t share(uint64_t total, unsigned w, unsigned n)
{
	return total / n + (w == 0 ? total % n : 0);
}

static void split(struct gen *g, const struct tern_udp_gen_conf *conf)
{
	unsigned w, n = g->nslots;

	if (conf->role == TERN_GEN_CLIENT) {
		/* Each active worker needs at least 1 pps and, with a count,
		 * at least one packet. */
		if (conf->rate_pps < n)
			n = (unsigned)conf->rate_pps;
		if (conf->count != 0 && conf->count < n)
			n = (unsigned)conf->count;
	}
	for (w = 0; w < g->nslots; w++) {
		struct gen_slot *s = &g->slot[w];

		s->conf = *conf;
		s->active = w < n;
		if (!s->active || conf->role != TERN_GEN_CLIENT)
			continue;
		s->conf.rate_pps = share(conf->rate_pps, w, n);
		if (conf->count != 0)
			s->conf.count = share(conf->count, w, n);
	}
}

struct gen *gen_new(struct ternd *d, const struct tern_udp_gen_conf *conf,
		    uint16_t ifindex, json_t *config, int *err)
{
	unsigned n = tern_dp_worker_count(d->dp);
	struct gen *g;
	int rc;

	g = calloc(1, sizeof(*g) + n * sizeof(g->slot[0]));
	if (g == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	g->nslots = n;
	g->ifindex = ifindex;
	g->role = conf->role;
	g->state = TERN_GEN_CREATED;
	split(g, conf);
	rc = call_all(d, g, w_create);
	if (rc < 0) {
		/* Undo the workers that succeeded before the failing one. */
		if (!g->stuck)
			call_all(d, g, w_destroy);
		if (!g->stuck)
			free(g);
		*err = rc;
		return NULL;
	}
	tern_dp_iface_ref(d->dp, ifindex, 1);
	g->id = ++d->next_gen_id;
	g->config = json_incref(config);
	g->next = d->gens;
	d->gens = g;
	return g;
}

struct gen *gen_find(struct ternd *d, uint32_t id)
{
	struct gen *g;

	for (g = d->gens; g != NULL; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

int gen_start(struct ternd *d, struct gen *g)
{
	int rc = call_all(d, g, w_start);

	if (rc == 0) {
		g->state = TERN_GEN_RUNNING;
		g->announced = false;
	}
	return rc;
}

int gen_stop(struct ternd *d, struct gen *g)
{
	int rc = call_all(d, g, w_stop);

	if (rc == 0 && g->state == TERN_GEN_RUNNING)
		g->state = TERN_GEN_STOPPED;
	return rc;
}

void gen_free(struct ternd *d, struct gen *g)
{
	struct gen **pp;

	for (pp = &d->gens; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	if (!g->stuck)
		call_all(d, g, w_stop);
	if (!g->stuck)
		call_all(d, g, w_destroy);
	tern_dp_iface_ref(d->dp, g->ifindex, -1);
	json_decref(g->config);
	g->config = NULL;
	if (!g->stuck)
		free(g);
}

/* running while any worker runs; done when every instance is done;
 * stopped when none runs and one was stopped; created before any start. */
static enum tern_gen_state combine_state(const struct gen *g)
{
	bool any_running = false, any_stopped = false, all_created = true;
	bool all_done = true;
	unsigned w;

	for (w = 0; w < g->nslots; w++) {
		const struct gen_slot *s = &g->slot[w];

		if (s->g == NULL)
			continue;
		switch (s->st.state) {
		case TERN_GEN_RUNNING: any_running = true; break;
		case TERN_GEN_STOPPED: any_stopped = true; break;
		default: break;
		}
		if (s->st.state != TERN_GEN_CREATED)
			all_created = false;
		if (s->st.state != TERN_GEN_DONE)
			all_done = false;
	}
	if (any_running)
		return TERN_GEN_RUNNING;
	if (all_created)
		return TERN_GEN_CREATED;
	if (all_done)
		return TERN_GEN_DONE;
	(void)any_stopped;
	return TERN_GEN_STOPPED;
}

int gen_totals(struct ternd *d, struct gen *g, struct gen_totals *t)
{
	struct tern_udp_gen_stats *sum = &t->sum;
	uint64_t active = 0;
	unsigned w;
	int rc;

	memset(t, 0, sizeof(*t));
	sum->rtt_min_ns = UINT64_MAX;
	rc = call_all(d, g, w_stats);
	if (rc < 0)
		return rc;
	for (w = 0; w < g->nslots; w++) {
		const struct tern_udp_gen_stats *st = &g->slot[w].st;

		if (g->slot[w].g == NULL)
			continue;
		sum->tx_pkts += st->tx_pkts;
		sum->tx_bytes += st->tx_bytes;
		sum->tx_fail += st->tx_fail;
		sum->rx_pkts += st->rx_pkts;
		sum->rx_bytes += st->rx_bytes;
		sum->rx_echoes += st->rx_echoes;
		sum->rx_out_of_order += st->rx_out_of_order;
		/* RTT: counts and sums add; the average is sum/count over
		 * all workers, not the mean of per-worker averages. */
		sum->rtt_count += st->rtt_count;
		sum->rtt_sum_ns += st->rtt_sum_ns;
		if (st->rtt_count != 0 && st->rtt_min_ns < sum->rtt_min_ns)
			sum->rtt_min_ns = st->rtt_min_ns;
		if (st->rtt_count != 0 && st->rtt_max_ns > sum->rtt_max_ns)
			sum->rtt_max_ns = st->rtt_max_ns;
		/* workers run side by side: the longest is the run time */
		if (st->active_ns > active)
			active = st->active_ns;
	}
	t->elapsed_s = (double)active / 1e9;
	t->state = combine_state(g);
	g->state = t->state;
	return 0;
}

const char *gen_state_name(enum tern_gen_state s)
{
	switch (s) {
	case TERN_GEN_CREATED: return "created";
	case TERN_GEN_RUNNING: return "running";
	case TERN_GEN_DONE: return "done";
	case TERN_GEN_STOPPED: return "stopped";
	}
	return "unknown";
}
