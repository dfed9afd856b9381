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
