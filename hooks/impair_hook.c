/* The impairment engine as a hook: filters one link or interface, offers
 * its packets to the engine and resumes held ones right after itself
 * (tern_hook_resume), so the hooks after it (a capture) see a delayed
 * packet when it really leaves. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_malloc.h>

#include <tern/impair.h>

#define RESUME_BURST 32

struct tern_impair_hook {
	struct tern_impair *imp;
	struct tern_hooks *h;		/* the chain it is in; NULL: none */
	enum tern_hook_point point;
	uint16_t link, ifindex;
	unsigned lcore;			/* from the last ctx seen */
	uint64_t (*now)(void *);
	void *now_arg;
	char name[sizeof(((struct tern_hook_entry *)0)->name)];
};

/* A held packet's tag keeps the part of its context that varies. */
static inline uint32_t tag_of(const struct tern_hook_ctx *ctx)
{
	return (uint32_t)ctx->link << 16 | ctx->ifindex;
}

struct tern_impair_hook *
tern_impair_hook_create(struct tern_impair *imp,
			const struct tern_impair_hook_conf *conf, int socket)
{
	if (imp == NULL || conf == NULL || conf->now == NULL ||
	    conf->name == NULL || conf->name[0] == '\0' ||
	    strlen(conf->name) >= sizeof(((struct tern_impair_hook *)0)->name) ||
	    (unsigned)conf->point >= TERN_HOOK_POINT_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_impair_hook *ih = rte_zmalloc_socket(
		"tern_impair_hook", sizeof(*ih), RTE_CACHE_LINE_SIZE, socket);
	if (ih == NULL)
		ih = rte_zmalloc("tern_impair_hook", sizeof(*ih),
				 RTE_CACHE_LINE_SIZE);
	if (ih == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ih->imp = imp;
	ih->point = conf->point;
	ih->link = conf->link;
	ih->ifindex = conf->ifindex;
	ih->now = conf->now;
	ih->now_arg = conf->now_arg;
	snprintf(ih->name, sizeof(ih->name), "%s", conf->name);
	return ih;
}

void tern_impair_hook_free(struct tern_impair_hook *ih)
{
	if (ih == NULL)
		return;
	tern_impair_hook_detach(ih);
	rte_free(ih);
}

int tern_impair_hook_attach(struct tern_impair_hook *ih, struct tern_hooks *h)
{
	if (ih == NULL || h == NULL)
		return -EINVAL;
	if (ih->h != NULL)
		return -EEXIST;
	/* without a continuation a held packet could never go on */
	if (!tern_hooks_can_hold(h, ih->point))
		return -ENOTSUP;
	int rc = tern_hook_add(h, ih->point, ih->name, tern_impair_hook_fn, ih);
	if (rc == 0)
		ih->h = h;
	return rc;
}

void tern_impair_hook_detach(struct tern_impair_hook *ih)
{
	if (ih == NULL)
		return;
	if (ih->h != NULL)
		tern_hook_del(ih->h, ih->point, ih->name);
	ih->h = NULL;
	tern_impair_flush(ih->imp);
}

static void resume(struct tern_impair_hook *ih, struct rte_mbuf *m,
		   const struct tern_hook_ctx *ctx)
{
	/* -ENOTSUP cannot happen (attach checked the continuation); if
	 * the stack unregistered it anyway, the packet cannot go on. */
	if (tern_hook_resume(ih->h, tern_impair_hook_fn, ih, m, ctx) == -ENOTSUP)
		rte_pktmbuf_free(m);
}

/* Resumes everything due at now, in order. */
static unsigned resume_due(struct tern_impair_hook *ih, uint64_t now)
{
	struct rte_mbuf *pkts[RESUME_BURST];
	uint32_t tags[RESUME_BURST];
	unsigned total = 0, n;
	do {
		n = tern_impair_release(ih->imp, now, pkts, tags, RESUME_BURST);
		for (unsigned i = 0; i < n; i++) {
			struct tern_hook_ctx ctx = {
				.point = ih->point,
				.link = (uint16_t)(tags[i] >> 16),
				.ifindex = (uint16_t)tags[i],
				.lcore = ih->lcore,
			};
			resume(ih, pkts[i], &ctx);
		}
		total += n;
	} while (n == RESUME_BURST);
	return total;
}

unsigned tern_impair_hook_poll(struct tern_impair_hook *ih)
{
	if (ih->h == NULL)
		return 0;
	uint64_t next = tern_impair_next_due(ih->imp);
	if (next == UINT64_MAX)
		return 0;
	uint64_t now = ih->now(ih->now_arg);
	if (next > now)
		return 0;
	return resume_due(ih, now);
}

enum tern_verdict tern_impair_hook_fn(void *arg, struct rte_mbuf *m,
				      const struct tern_hook_ctx *ctx)
{
	struct tern_impair_hook *ih = arg;
	if ((ih->link != UINT16_MAX && ctx->link != ih->link) ||
	    (ih->ifindex != UINT16_MAX && ctx->ifindex != ih->ifindex))
		return TERN_HOOK_CONTINUE;
	uint64_t now = ih->now(ih->now_arg);
	ih->lcore = ctx->lcore;
	/* Packets already due go first: this one must not overtake them. */
	if (tern_impair_next_due(ih->imp) <= now)
		resume_due(ih, now);
	struct tern_impair_pkt pi = {.tag = tag_of(ctx)};
	switch (ctx->point) {
	case TERN_HOOK_IP_INPUT:
		/* the IPv4 header was verified already: the L4 checksum
		 * must be the one to find the damage */
		pi.corrupt_off = m->l3_len;
		break;
	case TERN_HOOK_IP_OUTPUT:
		break;
	default:
		/* Spare the Ethernet header: a real link's FCS would have
		 * caught a bad MAC; we want the receiver's checksums to. */
		pi.corrupt_off = sizeof(struct rte_ether_hdr);
		pi.l2_len = sizeof(struct rte_ether_hdr);
		break;
	}
	struct rte_mbuf *out[2];
	int k = tern_impair_offer(ih->imp, m, now, &pi, out);
	if (k < 0)
		return TERN_HOOK_DROP;	/* the stack frees and counts it */
	if (k == 1 && out[0] == m)
		return TERN_HOOK_CONTINUE;
	for (int i = 0; i < k; i++)
		resume(ih, out[i], ctx);
	return TERN_HOOK_CONSUMED;
}
