/* TCP's connection table checked against a plain list, from C because it
 * needs the core's private functions (tcp_conn_new, tcp_conn_release,
 * tcp_lookup) and fields (the slots). TcpTable.* in test_tcp.cc runs it. */
#include <stdio.h>
#include <stdlib.h>

#include "stack_priv.h"
#include "tcp_table_check.h"

struct tuple {
	struct tcp_conn *c;
	rte_be32_t l, r;
	rte_be16_t lp, rp;
};

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void pick(uint64_t *x, struct tuple *t)
{
	uint64_t v = rnd(x);
	t->l = rte_cpu_to_be_32(0x0a000000u | (uint32_t)(v & 0xffff));
	t->r = rte_cpu_to_be_32(0xc0a80001u + (uint32_t)((v >> 16) & 3));
	t->lp = rte_cpu_to_be_16((uint16_t)(1024 + ((v >> 18) % 60000)));
	t->rp = rte_cpu_to_be_16((uint16_t)(80 + ((v >> 40) & 7)));
}

static int fail(char *err, size_t n, const char *what, uint64_t a, uint64_t b)
{
	snprintf(err, n, "%s (%llu, %llu)", what, (unsigned long long)a,
		 (unsigned long long)b);
	return -1;
}

static int whole(struct tern_stack *s, const struct tuple *live, uint32_t nlive,
		 const struct tuple *gone, uint32_t ngone,
		 struct tcp_table_check_result *res, char *err, size_t n)
{
	struct tcp_state *t = &s->tcp;
	res->checks++;
	for (uint32_t k = 0; k < nlive; k++)
		if (tcp_lookup(s, live[k].l, live[k].r, live[k].lp, live[k].rp) !=
		    live[k].c)
			return fail(err, n, "a live tuple is not found", k, nlive);
	for (uint32_t k = 0; k < ngone; k++)
		if (tcp_lookup(s, gone[k].l, gone[k].r, gone[k].lp, gone[k].rp) != NULL)
			return fail(err, n, "a deleted tuple is found", k, ngone);
	uint32_t used = 0;
	for (uint32_t i = 0; i <= t->tab_mask; i++) {
		uint32_t e = t->tab[i];
		if (e == 0)
			continue;
		used++;
		const struct tcp_conn *c = &t->conns[(e & t->tab_lo) - 1];
		uint32_t home = tcp_hash4(c->laddr, c->raddr, c->lport, c->rport) &
				t->tab_mask;
		uint32_t dist = (i - home) & t->tab_mask;
		uint32_t d = (e & t->tab_dmask) >> t->tab_dshift;
		if (d != RTE_MIN(dist, t->tab_dmax))
			return fail(err, n, "a slot's distance field is wrong", d, dist);
		/* no empty slot between home and the entry (linear probing) */
		for (uint32_t j = home; j != i; j = (j + 1) & t->tab_mask)
			if (t->tab[j] == 0)
				return fail(err, n, "an entry lies past an empty slot", i, j);
		res->max_dist = RTE_MAX(res->max_dist, dist);
		if (dist >= t->tab_dmax)
			res->far++;
	}
	if (used != nlive)
		return fail(err, n, "the table holds another count", used, nlive);
	return 0;
}

int tcp_table_check(struct tern_stack *s, uint64_t seed, unsigned rounds,
		    struct tcp_table_check_result *res, char *err, size_t n)
{
	struct tcp_state *t = &s->tcp;
	uint32_t max = t->max;
	enum { GONE = 64 };
	struct tuple *live = calloc(max, sizeof(*live));
	struct tuple gone[GONE] = {{0}};
	uint32_t nlive = 0, ngone = 0;
	uint64_t x = seed | 1;
	int rc = 0;
	memset(res, 0, sizeof(*res));
	res->dmax = t->tab_dmax;
	if (live == NULL)
		return fail(err, n, "no memory", max, 0);
	for (uint64_t op = 0; rc == 0 && op < (uint64_t)max + 2ull * rounds; op++) {
		bool insert = nlive < max && (op < max || (op - max) % 2 == 1);
		if (insert) {
			struct tuple tp;
			do
				pick(&x, &tp);
			while (tcp_lookup(s, tp.l, tp.r, tp.lp, tp.rp) != NULL);
			tp.c = tcp_conn_new(s, tp.l, tp.r, tp.lp, tp.rp);
			if (tp.c == NULL) {
				rc = fail(err, n, "tcp_conn_new refused below max", nlive, max);
				break;
			}
			live[nlive++] = tp;
		} else {
			uint32_t k = (uint32_t)(rnd(&x) % nlive);
			tcp_conn_release(s, live[k].c);
			gone[ngone++ % GONE] = live[k];
			live[k] = live[--nlive];
		}
		res->ops++;
		if (op == max - 1 || (op >= max && (op - max) % 20000 == 0))
			rc = whole(s, live, nlive, gone, RTE_MIN(ngone, (uint32_t)GONE),
				   res, err, n);
	}
	if (rc == 0)
		rc = whole(s, live, nlive, gone, RTE_MIN(ngone, (uint32_t)GONE),
			   res, err, n);
	while (nlive > 0)
		tcp_conn_release(s, live[--nlive].c);
	if (rc == 0 && tern_tcp_count(s) != 0)
		rc = fail(err, n, "blocks left after releasing all", tern_tcp_count(s), 0);
	free(live);
	return rc;
}
