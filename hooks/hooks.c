/* Hook chains: registration only; running is inline in hooks.h. */
#include <errno.h>
#include <string.h>

#include <tern/hooks.h>

static const char *const point_names[TERN_HOOK_POINT_MAX] = {
	[TERN_HOOK_ETH_INPUT] = "ETH_INPUT",
	[TERN_HOOK_ETH_OUTPUT] = "ETH_OUTPUT",
	[TERN_HOOK_IP_INPUT] = "IP_INPUT",
	[TERN_HOOK_IP_OUTPUT] = "IP_OUTPUT",
};

void tern_hooks_init(struct tern_hooks *h)
{
	memset(h, 0, sizeof(*h));
}

const char *tern_hook_point_name(enum tern_hook_point point)
{
	if ((unsigned)point >= TERN_HOOK_POINT_MAX)
		return "?";
	return point_names[point];
}

static int find(const struct tern_hook_chain *c, const char *name)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (strncmp(c->e[i].name, name, sizeof(c->e[i].name)) == 0)
			return (int)i;
	return -1;
}

int tern_hook_add(struct tern_hooks *h, enum tern_hook_point point,
		  const char *name, tern_hook_fn fn, void *arg)
{
	if (h == NULL || (unsigned)point >= TERN_HOOK_POINT_MAX ||
	    fn == NULL || name == NULL || name[0] == '\0' ||
	    strlen(name) >= sizeof(h->chain[0].e[0].name))
		return -EINVAL;
	struct tern_hook_chain *c = &h->chain[point];
	if (find(c, name) >= 0)
		return -EEXIST;
	if (c->n == TERN_HOOK_CHAIN_MAX)
		return -ENOSPC;
	struct tern_hook_entry *e = &c->e[c->n];
	e->fn = fn;
	e->arg = arg;
	strcpy(e->name, name);
	c->n++;
	return 0;
}

int tern_hook_del(struct tern_hooks *h, enum tern_hook_point point,
		  const char *name)
{
	if (h == NULL || (unsigned)point >= TERN_HOOK_POINT_MAX || name == NULL)
		return -EINVAL;
	struct tern_hook_chain *c = &h->chain[point];
	int i = find(c, name);
	if (i < 0)
		return -ENOENT;
	memmove(&c->e[i], &c->e[i + 1], (c->n - (uint32_t)i - 1) * sizeof(c->e[0]));
	c->n--;
	return 0;
}

int tern_hooks_set_cont(struct tern_hooks *h, enum tern_hook_point point,
			tern_hook_cont_fn fn, void *owner)
{
	if (h == NULL || (unsigned)point >= TERN_HOOK_POINT_MAX)
		return -EINVAL;
	h->chain[point].cont = fn;
	h->chain[point].cont_owner = owner;
	return 0;
}

bool tern_hooks_can_hold(const struct tern_hooks *h, enum tern_hook_point point)
{
	return h != NULL && (unsigned)point < TERN_HOOK_POINT_MAX &&
	       h->chain[point].cont != NULL;
}

int tern_hook_resume(struct tern_hooks *h, tern_hook_fn self, void *self_arg,
		     struct rte_mbuf *m, const struct tern_hook_ctx *ctx)
{
	if (h == NULL || m == NULL || ctx == NULL ||
	    (unsigned)ctx->point >= TERN_HOOK_POINT_MAX)
		return -EINVAL;
	const struct tern_hook_chain *c = &h->chain[ctx->point];
	if (c->cont == NULL)
		return -ENOTSUP;
	/* The holder is found by identity, not by index: hooks before it
	 * may have been removed since it took the packet. */
	uint32_t i = 0;
	while (i < c->n && !(c->e[i].fn == self && c->e[i].arg == self_arg))
		i++;
	if (i == c->n) {
		c->cont(c->cont_owner, m, ctx, TERN_HOOK_DROP);
		return -ENOENT;
	}
	for (i++; i < c->n; i++) {
		enum tern_verdict v = c->e[i].fn(c->e[i].arg, m, ctx);
		if (v == TERN_HOOK_CONSUMED)
			return 0;
		if (v == TERN_HOOK_DROP) {
			c->cont(c->cont_owner, m, ctx, TERN_HOOK_DROP);
			return -EPERM;
		}
	}
	c->cont(c->cont_owner, m, ctx, TERN_HOOK_CONTINUE);
	return 0;
}
