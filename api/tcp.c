/* TCP services and clients on the workers (see tcp.h). The message
 * functions run on the worker lcores; the control thread reads what they
 * wrote only after tern_dp_call(_all) returned. A call that timed out may
 * still run later, so its object is then never freed ("stuck"), as for
 * the generators. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include <tern/dp.h>

#include "tcp.h"

/* ---- services: one instance per worker -------------------------------- */

static unsigned svc_poll(struct tern_worker *w, void *arg)
{
	(void)w;
	return tern_tcp_svc_poll(arg);
}

static struct tcp_svc_slot *svc_slot(void *ctx, struct tern_msg *msg)
{
	struct tcp_svc_obj *o = msg->arg;
	unsigned w = tern_worker_index(ctx);

	return w < o->nslots ? &o->slot[w] : NULL;
}

static int w_svc_create(void *ctx, struct tern_msg *msg)
{
	struct tcp_svc_obj *o = msg->arg;
	struct tcp_svc_slot *s = svc_slot(ctx, msg);
	int rc;

	if (s == NULL || s->v != NULL)
		return 0;
	s->v = tern_tcp_svc_create(tern_worker_stack(ctx), &o->conf);
	if (s->v == NULL)
		return rte_errno > 0 ? -rte_errno : -ENOMEM;
	rc = tern_worker_poller_add(ctx, svc_poll, s->v);
	if (rc < 0) {
		tern_tcp_svc_destroy(s->v);
		s->v = NULL;
	}
	return rc;
}

static int w_svc_destroy(void *ctx, struct tern_msg *msg)
{
	struct tcp_svc_slot *s = svc_slot(ctx, msg);

	if (s == NULL || s->v == NULL)
		return 0;
	tern_worker_poller_del(ctx, svc_poll, s->v);
	tern_tcp_svc_destroy(s->v);
	s->v = NULL;
	return 0;
}

static int w_svc_stats(void *ctx, struct tern_msg *msg)
{
	struct tcp_svc_slot *s = svc_slot(ctx, msg);

	if (s != NULL && s->v != NULL)
		tern_tcp_svc_stats_get(s->v, &s->st);
	return 0;
}

static int svc_call_all(struct ternd *d, struct tcp_svc_obj *o, tern_msg_fn fn)
{
	int rc = tern_dp_call_all(d->dp, fn, o);

	if (rc == -ETIMEDOUT)
		o->stuck = true;
	return rc;
}

struct tcp_svc_obj *tcp_svc_new(struct ternd *d,
				const struct tern_tcp_svc_conf *conf, int *err)
{
	unsigned n = tern_dp_worker_count(d->dp);
	struct tcp_svc_obj *o = calloc(1, sizeof(*o) + n * sizeof(o->slot[0]));
	int rc;

	if (o == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	o->nslots = n;
	o->conf = *conf;
	rc = svc_call_all(d, o, w_svc_create);
	if (rc < 0) {
		/* undo the workers that succeeded before the failing one */
		if (!o->stuck)
			svc_call_all(d, o, w_svc_destroy);
		if (!o->stuck)
			free(o);
		*err = rc;
		return NULL;
	}
	o->id = ++d->next_tcp_svc_id;
	o->next = d->tcp_svcs;
	d->tcp_svcs = o;
	return o;
}

struct tcp_svc_obj *tcp_svc_find(struct ternd *d, uint32_t id)
{
	for (struct tcp_svc_obj *o = d->tcp_svcs; o != NULL; o = o->next)
		if (o->id == id)
			return o;
	return NULL;
}

int tcp_svc_stats(struct ternd *d, struct tcp_svc_obj *o,
		  struct tern_tcp_svc_stats *sum)
{
	int rc = svc_call_all(d, o, w_svc_stats);

	memset(sum, 0, sizeof(*sum));
	if (rc < 0)
		return rc;
	for (unsigned w = 0; w < o->nslots; w++) {
		const struct tern_tcp_svc_stats *st = &o->slot[w].st;
		sum->accepted += st->accepted;
		sum->refused += st->refused;
		sum->closed += st->closed;
		sum->failed += st->failed;
		sum->active += st->active;
		sum->rx_bytes += st->rx_bytes;
		sum->tx_bytes += st->tx_bytes;
		sum->requests += st->requests;
		sum->responses_2xx += st->responses_2xx;
		sum->responses_4xx += st->responses_4xx;
	}
	return 0;
}

void tcp_svc_free(struct ternd *d, struct tcp_svc_obj *o)
{
	for (struct tcp_svc_obj **pp = &d->tcp_svcs; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (!o->stuck)
		svc_call_all(d, o, w_svc_destroy);
	if (!o->stuck)
		free(o);
}

/* ---- clients: one connection on one worker ---------------------------- */

static unsigned cli_poll(struct tern_worker *w, void *arg)
{
	(void)w;
	return tern_tcp_cli_poll(arg);
}

static int w_cli_create(void *ctx, struct tern_msg *msg)
{
	struct tcp_cli_obj *o = msg->arg;
	int rc;

	if (o->k != NULL)
		return 0;
	o->k = tern_tcp_cli_create(tern_worker_stack(ctx), &o->conf);
	if (o->k == NULL)
		return rte_errno > 0 ? -rte_errno : -ENOMEM;
	rc = tern_worker_poller_add(ctx, cli_poll, o->k);
	if (rc < 0) {
		tern_tcp_cli_destroy(o->k);
		o->k = NULL;
		return rc;
	}
	tern_tcp_cli_stats_get(o->k, &o->st);
	return 0;
}

static int w_cli_destroy(void *ctx, struct tern_msg *msg)
{
	struct tcp_cli_obj *o = msg->arg;

	if (o->k == NULL)
		return 0;
	tern_worker_poller_del(ctx, cli_poll, o->k);
	tern_tcp_cli_destroy(o->k);
	o->k = NULL;
	return 0;
}

static int w_cli_stats(void *ctx, struct tern_msg *msg)
{
	struct tcp_cli_obj *o = msg->arg;

	(void)ctx;
	if (o->k != NULL)
		tern_tcp_cli_stats_get(o->k, &o->st);
	return 0;
}

static int cli_call(struct ternd *d, struct tcp_cli_obj *o, tern_msg_fn fn)
{
	int rc = tern_dp_call(d->dp, o->worker, fn, o);

	if (rc == -ETIMEDOUT)
		o->stuck = true;
	return rc;
}

struct tcp_cli_obj *tcp_cli_new(struct ternd *d,
				const struct tern_tcp_cli_conf *conf, int *err)
{
	struct tcp_cli_obj *o = calloc(1, sizeof(*o));
	int rc;

	if (o == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	o->conf = *conf;
	/* Clients take the workers in turn; each picks a source port whose
	 * replies the NIC steers back to it (DESIGN rule 8). */
	o->worker = d->next_tcp_worker++ % tern_dp_worker_count(d->dp);
	rc = cli_call(d, o, w_cli_create);
	if (rc < 0) {
		if (!o->stuck)
			free(o);
		*err = rc;
		return NULL;
	}
	o->id = ++d->next_tcp_cli_id;
	o->next = d->tcp_clis;
	d->tcp_clis = o;
	return o;
}

struct tcp_cli_obj *tcp_cli_find(struct ternd *d, uint32_t id)
{
	for (struct tcp_cli_obj *o = d->tcp_clis; o != NULL; o = o->next)
		if (o->id == id)
			return o;
	return NULL;
}

int tcp_cli_stats(struct ternd *d, struct tcp_cli_obj *o)
{
	return cli_call(d, o, w_cli_stats);
}

void tcp_cli_free(struct ternd *d, struct tcp_cli_obj *o)
{
	for (struct tcp_cli_obj **pp = &d->tcp_clis; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (!o->stuck)
		cli_call(d, o, w_cli_destroy);
	if (!o->stuck)
		free(o);
}

/* ---- the connection listing -------------------------------------------- */

static bool conn_match(const struct tcp_conn_filter *f,
		       const struct tern_tcp_info *i)
{
	if (f->state >= 0 && i->state != f->state)
		return false;
	if (f->port != 0 && i->lport != f->port && i->rport != f->port)
		return false;
	if (f->has_addr && !tern_addr_eq(&i->local, &f->addr) &&
	    !tern_addr_eq(&i->remote, &f->addr))
		return false;
	return true;
}

struct conn_walk {
	struct tern_stack *s;
	struct tcp_conn_list *l;
};

static int conn_visit(void *arg, struct tern_tcp_conn *c)
{
	struct conn_walk *cw = arg;
	struct tcp_conn_list *l = cw->l;
	struct tern_tcp_info i;

	if (tern_tcp_info_get(cw->s, c, &i) < 0 || !conn_match(&l->f, &i))
		return 0;
	l->matched++;
	if (!l->f.count_only && l->n < l->f.limit)
		l->info[l->n++] = i;
	return 0;
}

static int w_conns(void *ctx, struct tern_msg *msg)
{
	struct conn_walk cw = { tern_worker_stack(ctx), msg->arg };

	cw.l->matched = 0;
	cw.l->n = 0;
	tern_tcp_foreach(cw.s, conn_visit, &cw);
	return 0;
}

struct tcp_conn_list *tcp_conns_get(struct ternd *d, unsigned w,
				    const struct tcp_conn_filter *f, int *err)
{
	size_t n = f->count_only ? 0 : f->limit;
	struct tcp_conn_list *l = malloc(sizeof(*l) + n * sizeof(l->info[0]));
	int rc;

	if (l == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	l->f = *f;
	l->n = l->matched = 0;
	rc = tern_dp_call(d->dp, w, w_conns, l);
	if (rc < 0) {
		/* a timed-out message may still write l: leave it to it */
		if (rc != -ETIMEDOUT)
			free(l);
		*err = rc;
		return NULL;
	}
	return l;
}
