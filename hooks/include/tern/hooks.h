/* Named hook points with per-stack chains (DESIGN "Hooks"). A hook sees
 * one packet and returns a verdict. An empty chain costs one predictable
 * branch: callers test tern_hooks_empty() before calling tern_hooks_run().
 *
 * Hold and resume: a hook may keep a packet (CONSUMED) and put it back
 * later with tern_hook_resume(), which runs the hooks after it and then
 * the stack's continuation of that point (the code that runs after the
 * chain), registered by the stack with tern_hooks_set_cont(). That is
 * how the impairment hook delays and reorders packets for real.
 *
 * The chains depend on nothing of ours; the impairment engine in this
 * folder uses offload/ to finish checksums before it corrupts a byte. */
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

/* The stack's path after a point's chain, for packets put back by
 * tern_hook_resume(). v is TERN_HOOK_CONTINUE (carry on with m) or
 * TERN_HOOK_DROP (a hook dropped m: free it and count the point's hook
 * drop). Always consumes m. */
typedef void (*tern_hook_cont_fn)(void *owner, struct rte_mbuf *m,
				  const struct tern_hook_ctx *ctx,
				  enum tern_verdict v);

struct tern_hook_chain {
	uint32_t n;
	struct tern_hook_entry e[TERN_HOOK_CHAIN_MAX];
	tern_hook_cont_fn cont;	/* NULL: packets cannot be held here */
	void *cont_owner;
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

/* The stack registers how each point continues (fn NULL: holding at that
 * point is not possible). -EINVAL bad point. */
int tern_hooks_set_cont(struct tern_hooks *h, enum tern_hook_point point,
			tern_hook_cont_fn fn, void *owner);
/* Whether a hook at point may hold packets and resume them. */
bool tern_hooks_can_hold(const struct tern_hooks *h,
			 enum tern_hook_point point);
/* Puts m, which the hook (self, self_arg) at ctx->point took earlier (or
 * is taking now), back into the path right after that hook: the hooks
 * after it run, then the point's continuation. ctx is the context m had
 * when the hook took it. Returns 0 when m went on (into the stack or to
 * a later hook that consumed it); -EPERM when a later hook dropped it and
 * -ENOENT when the hook is no longer in the chain (both: m freed and
 * counted as the point's hook drop by the continuation); -ENOTSUP when
 * the point has no continuation, and then m is NOT consumed; -EINVAL. */
int tern_hook_resume(struct tern_hooks *h, tern_hook_fn self, void *self_arg,
		     struct rte_mbuf *m, const struct tern_hook_ctx *ctx);

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
