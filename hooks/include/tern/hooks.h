/* Named hook points with per-stack chains (DESIGN "Hooks"). A hook sees
 * one packet and returns a verdict. An empty chain costs one predictable
 * branch: callers test tern_hooks_empty() before calling tern_hooks_run().
 * This module depends on nothing of ours. */
#ifndef TERN_HOOKS_H
#define TERN_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tern_hook_point {
	TERN_HOOK_ETH_INPUT = 0,  /* every received frame, before demux */
	TERN_HOOK_ETH_OUTPUT,	  /* every frame, just before transmit */
	TERN_HOOK_IP_INPUT,	  /* valid IPv4 packets addressed to us */
	TERN_HOOK_IP_OUTPUT,	  /* IPv4 packets before neighbour resolution */
	TERN_HOOK_POINT_MAX
};

enum tern_verdict {
	TERN_HOOK_CONTINUE = 0,	/* pass to the next hook / the stack */
	TERN_HOOK_CONSUMED,	/* the hook now owns the mbuf */
	TERN_HOOK_DROP,		/* caller frees it and counts the drop */
};

struct tern_hook_ctx {
	enum tern_hook_point point;
	uint16_t link;		/* port id in ternd */
	uint16_t ifindex;	/* UINT16_MAX when not known yet */
	unsigned lcore;
};

typedef enum tern_verdict (*tern_hook_fn)(void *arg, struct rte_mbuf *m,
					  const struct tern_hook_ctx *ctx);

#define TERN_HOOK_CHAIN_MAX 8

struct tern_hook_entry {
	tern_hook_fn fn;
	void *arg;
	char name[24];
};

struct tern_hook_chain {
	uint32_t n;
	struct tern_hook_entry e[TERN_HOOK_CHAIN_MAX];
};

struct tern_hooks {
	struct tern_hook_chain chain[TERN_HOOK_POINT_MAX];
};

void tern_hooks_init(struct tern_hooks *h);
/* Appends fn to point's chain. -EINVAL bad point/fn, -EEXIST same name,
 * -ENOSPC chain full. */
int tern_hook_add(struct tern_hooks *h, enum tern_hook_point point,
		  const char *name, tern_hook_fn fn, void *arg);
/* Removes the entry named name. -ENOENT. */
int tern_hook_del(struct tern_hooks *h, enum tern_hook_point point,
		  const char *name);
const char *tern_hook_point_name(enum tern_hook_point point);

static inline bool tern_hooks_empty(const struct tern_hooks *h,
				    enum tern_hook_point point)
{
	return likely(h->chain[point].n == 0);
}

/* Runs the chain; stops at the first verdict other than CONTINUE. */
static inline enum tern_verdict
tern_hooks_run(const struct tern_hooks *h, struct rte_mbuf *m,
	       const struct tern_hook_ctx *ctx)
{
	const struct tern_hook_chain *c = &h->chain[ctx->point];
	for (uint32_t i = 0; i < c->n; i++) {
		enum tern_verdict v = c->e[i].fn(c->e[i].arg, m, ctx);
		if (v != TERN_HOOK_CONTINUE)
			return v;
	}
	return TERN_HOOK_CONTINUE;
}

#ifdef __cplusplus
}
#endif
#endif
