/* Network impairment: a seeded engine that loses (independently, and in
 * bursts by a Gilbert-Elliott model), delays with jitter, reorders,
 * duplicates, corrupts one byte and rate-limits packets. The kernel here
 * has no netem; this is how tests make a bad link.
 *
 * The engine is pure logic with no clock of its own: every call takes
 * now_ns. It is used in two places: on the in-memory wire (core/wire.c,
 * tern_wire_set_impair) under the virtual clock, and as a hook on a
 * stack's chain (tern_impair_hook_*, below) in ternd.
 *
 * Decisions come from the engine's own PRNG (xoshiro256**), one stream
 * per impairment, all derived from conf.seed: the same seed, conf and
 * sequence of packets give the same decisions; another seed, others.
 *
 * Accounting is exact. At any time
 *   seen + duplicated == passed + drop_loss + drop_burst + drop_rate
 *                        + drop_limit + drop_nomem + flushed + held
 * and `reordered` counts the packets that left after a packet that came
 * in later had already left: what a receiver numbering the packets in
 * the order they reached the engine sees as "lower than the highest so
 * far" (a duplicate has its original's number). */
#ifndef TERN_IMPAIR_H
#define TERN_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <tern/hooks.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_IMPAIR_LIMIT_DEFAULT 1000
#define TERN_IMPAIR_LIMIT_MAX (1u << 20)
#define TERN_IMPAIR_REORDER_US_DEFAULT 1000

/* Probabilities are in [0, 1]; times in microseconds. Zero turns an
 * impairment off. */
struct tern_impair_conf {
	uint64_t seed;
	double loss;		/* independent loss */
	/* Gilbert-Elliott (on when ge_p > 0): per packet, the loss
	 * probability of the current state applies, then the state moves
	 * good->bad with ge_p, bad->good with ge_r. Mean loss is
	 * (ge_r * ge_loss_good + ge_p * ge_loss_bad) / (ge_p + ge_r); a
	 * bad period lasts 1 / ge_r packets on average. */
	double ge_p;
	double ge_r;
	double ge_loss_good;	/* usually 0 */
	double ge_loss_bad;	/* usually 1 */
	uint32_t delay_us;	/* every packet */
	uint32_t jitter_us;	/* delay uniform in delay +- jitter; <= delay */
	double reorder;		/* a packet is held back ... */
	uint32_t reorder_us;	/* ... this much longer (0: 1000 us) */
	double duplicate;	/* a copy leaves right after the packet */
	double corrupt;		/* one byte changed (never to itself) */
	uint64_t rate_bps;	/* link rate, bits of frame per second */
	uint32_t rate_queue;	/* packets waiting for the link (0: limit) */
	uint32_t limit;		/* packets held at once (0: 1000) */
};

struct tern_impair_stats {
	uint64_t seen;		/* offered */
	uint64_t passed;	/* left (duplicates included) */
	uint64_t drop_loss;	/* independent loss */
	uint64_t drop_burst;	/* Gilbert-Elliott loss */
	uint64_t drop_rate;	/* the rate limiter's queue was full */
	uint64_t drop_limit;	/* `limit` packets were held already */
	uint64_t drop_nomem;	/* no mbuf for the copy corruption needed */
	uint64_t flushed;	/* held packets freed by a flush */
	uint64_t duplicated;	/* copies made */
	uint64_t dup_nomem;	/* copies not made: no mbuf */
	uint64_t corrupted;
	uint64_t delayed;	/* packets held rather than passed at once */
	uint64_t reordered;	/* left after a later packet (see above) */
	uint64_t held;		/* held now */
};

/* What the engine needs to know about an offered packet. */
struct tern_impair_pkt {
	uint32_t tag;		/* handed back with the packet on release */
	uint32_t corrupt_off;	/* corruption changes a byte at or after this
				 * offset from the data start (e.g. past the
				 * Ethernet header) */
	uint16_t l2_len;	/* bytes before the IPv4 header (14 on a
				 * frame, 0 at IP points): where pending TX
				 * checksums are finished before corrupting */
};

struct tern_impair;

/* Checks conf; -EINVAL with *why (when why is not NULL) naming the field
 * as "field: reason" (the names of struct tern_impair_conf, which ternd's
 * API uses too). */
int tern_impair_conf_check(const struct tern_impair_conf *conf,
			   const char **why);
/* Allocates the engine (held-packet storage for conf->limit packets) on
 * socket (SOCKET_ID_ANY ok). NULL with rte_errno (EINVAL, ENOMEM). */
struct tern_impair *tern_impair_create(const struct tern_impair_conf *conf,
				       int socket);
/* Frees held packets, then the engine. */
void tern_impair_destroy(struct tern_impair *imp);
const struct tern_impair_conf *tern_impair_conf_get(const struct tern_impair *imp);

/* Offers m at now_ns. Returns -1 when the engine drops m (counted): the
 * caller frees m, which is then still the mbuf it offered. Otherwise
 * returns how many packets leave now, in order, in out[] (0, 1 or 2: the
 * packet and its duplicate); the rest are held. The engine may have put
 * a copy of m in out[] instead of m (a corruption of a shared mbuf) and
 * freed m. Call tern_impair_release() with the same now_ns first, so
 * that packets already due leave before this one. */
int tern_impair_offer(struct tern_impair *imp, struct rte_mbuf *m,
		      uint64_t now_ns, const struct tern_impair_pkt *pi,
		      struct rte_mbuf *out[2]);
/* Up to n held packets due at now_ns, in the order they leave, with
 * their tags (tags may be NULL). Returns how many. */
unsigned tern_impair_release(struct tern_impair *imp, uint64_t now_ns,
			     struct rte_mbuf **out, uint32_t *tags,
			     unsigned n);
/* When the next held packet is due; UINT64_MAX when none is held. */
uint64_t tern_impair_next_due(const struct tern_impair *imp);
/* Frees every held packet (counted as flushed) and forgets the link's
 * backlog. */
void tern_impair_flush(struct tern_impair *imp);
void tern_impair_stats_get(const struct tern_impair *imp,
			   struct tern_impair_stats *out);

/* ---- the engine as a hook ------------------------------------------ */

/* The hook takes the packets of one link or interface at one point,
 * offers them to its engine and, when the engine holds them, puts them
 * back right after itself (tern_hook_resume) when they are due: from the
 * hook itself (before the packet it is looking at) and from
 * tern_impair_hook_poll(), which the owner calls often (ternd: a poller
 * on the worker). Any point whose stack registered a continuation:
 * ETH_INPUT and ETH_OUTPUT (corruption spares the Ethernet header),
 * IP_INPUT (after IPv4 validation: corruption spares the IPv4 header,
 * which was checked already, so that the L4 checksum finds it),
 * IP_OUTPUT (before neighbour resolution). */
struct tern_impair_hook_conf {
	enum tern_hook_point point;
	uint16_t link;		/* only this link's packets; UINT16_MAX: any */
	uint16_t ifindex;	/* only this interface's; UINT16_MAX: any */
	const char *name;	/* the chain entry's name (unique per point) */
	/* The clock of the stack whose chain the hook joins. */
	uint64_t (*now)(void *now_arg);
	void *now_arg;
};

struct tern_impair_hook;

/* imp is not owned. NULL with rte_errno EINVAL or ENOMEM. */
struct tern_impair_hook *
tern_impair_hook_create(struct tern_impair *imp,
			const struct tern_impair_hook_conf *conf, int socket);
/* Adds the hook to h's chain of its point. -ENOTSUP when the point cannot
 * hold packets (no continuation); tern_hook_add's errors. */
int tern_impair_hook_attach(struct tern_impair_hook *ih, struct tern_hooks *h);
/* Removes the hook from its chain and flushes the engine: held packets
 * are freed (counted as flushed). Idempotent. */
void tern_impair_hook_detach(struct tern_impair_hook *ih);
/* Resumes the held packets that are due; returns how many. Cheap when
 * nothing is held (no clock read). */
unsigned tern_impair_hook_poll(struct tern_impair_hook *ih);
/* Call after detach. Does not destroy the engine. */
void tern_impair_hook_free(struct tern_impair_hook *ih);
/* The hook function (arg: the tern_impair_hook). */
enum tern_verdict tern_impair_hook_fn(void *arg, struct rte_mbuf *m,
				      const struct tern_hook_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
