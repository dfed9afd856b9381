/* The impairment engine: decisions per packet from seeded PRNG streams,
 * a rate limiter (link serialisation with a bounded queue) and a min-heap
 * of held packets ordered by the time they are due. No clock: callers
 * pass now_ns. Allocates only in tern_impair_create(); copies (duplicate,
 * corruption of a shared mbuf) come from the packet's own mempool. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_malloc.h>

#include <tern/impair.h>
#include <tern/mbuf_cow.h>
#include <tern/offload.h>

/* One stream per impairment, so that turning one on does not change the
 * decisions of another for the packets both see. */
enum stream { S_LOSS, S_GE, S_DELAY, S_REORDER, S_DUP, S_CORRUPT, S_MAX };

struct rng {
	uint64_t s[4];
};

struct held {
	uint64_t due;
	uint64_t ord;		/* insertion order: ties leave in order */
	uint64_t seq;		/* arrival number (a duplicate: its original's) */
	struct rte_mbuf *m;
	uint32_t tag;
};

struct tern_impair {
	struct tern_impair_conf conf;	/* with defaults filled in */
	/* probabilities as 53-bit thresholds: draw < thr */
	uint64_t t_loss, t_ge_p, t_ge_r, t_ge_good, t_ge_bad;
	uint64_t t_reorder, t_dup, t_corrupt;
	uint64_t delay_ns, jitter_ns, reorder_ns;
	struct rng rng[S_MAX];
	bool ge_bad;

	uint64_t seq_in;	/* next arrival number */
	uint64_t max_out;	/* highest arrival number that left */
	bool any_out;
	uint64_t ord;

	/* rate limiter: the link is busy until link_free; rq holds the
	 * start times of the packets still waiting for it (FIFO) */
	uint64_t link_free;
	uint64_t ser_rem;	/* remainder of bit-time divisions */
	uint64_t *rq;
	uint32_t rq_cap, rq_head, rq_n;

	struct held *heap;
	uint32_t cap, n;

	struct tern_impair_stats st;
};

/* ---- PRNG: xoshiro256** seeded with splitmix64 ---------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, unsigned stream)
{
	uint64_t x = seed ^ (0xa0761d6478bd642full * (stream + 1));
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

#define P53 9007199254740992.0	/* 2^53 */

static uint64_t threshold(double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return 1ull << 53;
	return (uint64_t)(p * P53);
}

static inline bool chance(struct tern_impair *imp, enum stream s, uint64_t t)
{
	return (rng_next(&imp->rng[s]) >> 11) < t;
}

__extension__ typedef unsigned __int128 u128;

/* x scaled to [0, n) (Lemire's multiply; the bias is below 2^-64 per
 * unit of n, far under anything a test can see). */
static inline uint64_t scale(uint64_t x, uint64_t n)
{
	return (uint64_t)(((u128)x * n) >> 64);
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t uniform(struct tern_impair *imp, enum stream s,
			       uint64_t n)
{
	return scale(rng_next(&imp->rng[s]), n);
}

/* ---- conf ------------------------------------------------------------ */

static bool bad_prob(double p)
{
	return !isfinite(p) || p < 0 || p > 1;
}

int tern_impair_conf_check(const struct tern_impair_conf *c, const char **why)
{
	const char *r = NULL;
	if (c == NULL)
		r = "conf: missing";
	else if (bad_prob(c->loss))
		r = "loss: must be a probability in [0, 1]";
	else if (bad_prob(c->ge_p))
		r = "ge_p: must be a probability in [0, 1]";
	else if (bad_prob(c->ge_r))
		r = "ge_r: must be a probability in [0, 1]";
	else if (bad_prob(c->ge_loss_good))
		r = "ge_loss_good: must be a probability in [0, 1]";
	else if (bad_prob(c->ge_loss_bad))
		r = "ge_loss_bad: must be a probability in [0, 1]";
	else if (c->ge_p > 0 && c->ge_r <= 0)
		r = "ge_r: must be > 0 when ge_p is set (else the link stays bad)";
	else if (bad_prob(c->reorder))
		r = "reorder: must be a probability in [0, 1]";
	else if (bad_prob(c->duplicate))
		r = "duplicate: must be a probability in [0, 1]";
	else if (bad_prob(c->corrupt))
		r = "corrupt: must be a probability in [0, 1]";
	else if (c->jitter_us > c->delay_us)
		r = "jitter_us: must not exceed delay_us";
	else if (c->limit > TERN_IMPAIR_LIMIT_MAX)
		r = "limit: must be at most 1048576";
	else if (c->rate_queue >
		 (c->limit ? c->limit : TERN_IMPAIR_LIMIT_DEFAULT))
		r = "rate_queue: must not exceed limit (default 1000)";
	if (why != NULL)
		*why = r;
	return r == NULL ? 0 : -EINVAL;
}

const struct tern_impair_conf *tern_impair_conf_get(const struct tern_impair *imp)
{
	return &imp->conf;
}

static void *zalloc(const char *what, size_t size, int socket)
{
	void *p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, socket);
	if (p == NULL && socket != SOCKET_ID_ANY)
		p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE,
				       SOCKET_ID_ANY);
	return p;
}

struct tern_impair *tern_impair_create(const struct tern_impair_conf *conf,
				       int socket)
{
	if (tern_impair_conf_check(conf, NULL) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_impair *imp = zalloc("tern_impair", sizeof(*imp), socket);
	if (imp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	struct tern_impair_conf *c = &imp->conf;
	*c = *conf;
	if (c->limit == 0)
		c->limit = TERN_IMPAIR_LIMIT_DEFAULT;
	if (c->rate_queue == 0)
		c->rate_queue = c->limit;
	if (c->reorder > 0 && c->reorder_us == 0)
		c->reorder_us = TERN_IMPAIR_REORDER_US_DEFAULT;

	imp->t_loss = threshold(c->loss);
	imp->t_ge_p = threshold(c->ge_p);
	imp->t_ge_r = threshold(c->ge_r);
	imp->t_ge_good = threshold(c->ge_loss_good);
	imp->t_ge_bad = threshold(c->ge_loss_bad);
	imp->t_reorder = threshold(c->reorder);
	imp->t_dup = threshold(c->duplicate);
	imp->t_corrupt = threshold(c->corrupt);
	imp->delay_ns = (uint64_t)c->delay_us * 1000;
	imp->jitter_ns = (uint64_t)c->jitter_us * 1000;
	imp->reorder_ns = (uint64_t)c->reorder_us * 1000;
	for (unsigned s = 0; s < S_MAX; s++)
		rng_seed(&imp->rng[s], c->seed, s);

	imp->cap = c->limit;
	imp->heap = zalloc("tern_impair_heap", sizeof(imp->heap[0]) * imp->cap,
			   socket);
	if (c->rate_bps > 0) {
		imp->rq_cap = c->rate_queue;
		imp->rq = zalloc("tern_impair_rq", sizeof(imp->rq[0]) * imp->rq_cap,
				 socket);
	}
	if (imp->heap == NULL || (c->rate_bps > 0 && imp->rq == NULL)) {
		tern_impair_destroy(imp);
		rte_errno = ENOMEM;
		return NULL;
	}
	return imp;
}

void tern_impair_destroy(struct tern_impair *imp)
{
	if (imp == NULL)
		return;
	tern_impair_flush(imp);
	rte_free(imp->heap);
	rte_free(imp->rq);
	rte_free(imp);
}

void tern_impair_stats_get(const struct tern_impair *imp,
			   struct tern_impair_stats *out)
{
	*out = imp->st;
	out->held = imp->n;
}

/* ---- held packets: a binary min-heap on (due, ord) -------------------- */

static inline bool before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->ord < b->ord);
}

static void heap_push(struct tern_impair *imp, const struct held *e)
{
	uint32_t i = imp->n++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(e, &imp->heap[p]))
			break;
		imp->heap[i] = imp->heap[p];
		i = p;
	}
	imp->heap[i] = *e;
}

static void heap_pop(struct tern_impair *imp, struct held *out)
{
	*out = imp->heap[0];
	struct held last = imp->heap[--imp->n];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct held *best = &last;
		if (l < imp->n && before(&imp->heap[l], best)) {
			m = l;
			best = &imp->heap[l];
		}
		if (r < imp->n && before(&imp->heap[r], best))
			m = r;
		if (m == i)
			break;
		imp->heap[i] = imp->heap[m];
		i = m;
	}
	if (imp->n > 0)
		imp->heap[i] = last;
}

uint64_t tern_impair_next_due(const struct tern_impair *imp)
{
	return imp->n ? imp->heap[0].due : UINT64_MAX;
}

void tern_impair_flush(struct tern_impair *imp)
{
	for (uint32_t i = 0; i < imp->n; i++)
		rte_pktmbuf_free(imp->heap[i].m);
	imp->st.flushed += imp->n;
	imp->n = 0;
	imp->rq_n = 0;
	imp->rq_head = 0;
	imp->link_free = 0;
	imp->ser_rem = 0;
}

/* ---- leaving ----------------------------------------------------------- */

static inline void leave(struct tern_impair *imp, uint64_t seq)
{
	imp->st.passed++;
	if (imp->any_out && seq < imp->max_out) {
		imp->st.reordered++;
	} else {
		imp->max_out = seq;
		imp->any_out = true;
	}
}

unsigned tern_impair_release(struct tern_impair *imp, uint64_t now_ns,
			     struct rte_mbuf **out, uint32_t *tags, unsigned n)
{
	unsigned k = 0;
	while (k < n && imp->n > 0 && imp->heap[0].due <= now_ns) {
		struct held e;
		heap_pop(imp, &e);
		leave(imp, e.seq);
		out[k] = e.m;
		if (tags != NULL)
			tags[k] = e.tag;
		k++;
	}
	return k;
}

/* Leaves now (1, in *out) or is held until due (0). Room was checked. */
static int place(struct tern_impair *imp, struct rte_mbuf *m, uint64_t seq,
		 uint64_t due, uint64_t now, uint32_t tag, struct rte_mbuf **out)
{
	if (due <= now) {
		leave(imp, seq);
		*out = m;
		return 1;
	}
	struct held e = {due, imp->ord++, seq, m, tag};
	heap_push(imp, &e);
	imp->st.delayed++;
	return 0;
}

/* ---- rate limiter ------------------------------------------------------ */

/* When a packet offered now starts on the link; false when rate_queue
 * packets are waiting for it already. */
static bool rate_admit(struct tern_impair *imp, uint64_t now, uint64_t *start)
{
	if (imp->conf.rate_bps == 0) {
		*start = now;
		return true;
	}
	while (imp->rq_n > 0 && imp->rq[imp->rq_head] <= now) {
		imp->rq_head = (imp->rq_head + 1) % imp->rq_cap;
		imp->rq_n--;
	}
	uint64_t s = imp->link_free > now ? imp->link_free : now;
	if (s > now && imp->rq_n >= imp->rq_cap)
		return false;
	*start = s;
	return true;
}

/* The link is busy for len bytes from start. */
static void rate_commit(struct tern_impair *imp, uint64_t now, uint64_t start,
			uint32_t len)
{
	if (imp->conf.rate_bps == 0)
		return;
	/* bits * 1e9 / rate, carrying the remainder so that a long run of
	 * packets adds up to the exact rate */
	uint64_t num = (uint64_t)len * 8 * 1000000000ull + imp->ser_rem;
	imp->link_free = start + num / imp->conf.rate_bps;
	imp->ser_rem = num % imp->conf.rate_bps;
	if (start > now) {
		imp->rq[(imp->rq_head + imp->rq_n) % imp->rq_cap] = start;
		imp->rq_n++;
	}
}

/* ---- corruption -------------------------------------------------------- */

/* Whether every segment's bytes are ours to write (DESIGN: shared mbufs
 * are never written in place; tern_mbuf_writable decides). */
static bool writable(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (!tern_mbuf_writable(m))
			return false;
	return true;
}

static uint8_t *byte_at(struct rte_mbuf *m, uint32_t off)
{
	struct rte_mbuf *s = m;
	while (s != NULL && off >= s->data_len) {
		off -= s->data_len;
		s = s->next;
	}
	return s ? rte_pktmbuf_mtod_offset(s, uint8_t *, off) : NULL;
}

/* Changes one byte of m at or after pi->corrupt_off. Returns the packet
 * to send (m, or a private copy when m was shared; m is then freed), or
 * NULL when no copy could be made (m untouched). */
static struct rte_mbuf *corrupt(struct tern_impair *imp, struct rte_mbuf *m,
				const struct tern_impair_pkt *pi)
{
	static const struct tern_ol_caps none;
	/* draws first, so that decisions do not depend on the mbuf's state */
	uint64_t pos = rng_next(&imp->rng[S_CORRUPT]);
	uint8_t flip = (uint8_t)(1 + uniform(imp, S_CORRUPT, 255));
	if (m->pkt_len <= pi->corrupt_off ||
	    (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG))
		return m;	/* nothing to change (or TSO: not ours to) */
	if (!writable(m)) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
		if (c == NULL)
			return NULL;
		rte_pktmbuf_free(m);
		m = c;
	}
	/* A checksum the port would compute after us would cover the bad
	 * byte: finish every checksum in software first, so the receiver
	 * sees the damage (l3_len is set on output; the header is l2_len
	 * from the data start). */
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		uint64_t l2 = m->l2_len;
		m->l2_len = pi->l2_len;
		tern_ol_tx_finish(m, &none);
		m->l2_len = l2;
	}
	/* On input the port may have said GOOD already: make the stack
	 * verify again. */
	m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	uint32_t span = m->pkt_len - pi->corrupt_off;
	uint32_t off = pi->corrupt_off + (uint32_t)scale(pos, span);
	uint8_t *b = byte_at(m, off);
	if (b != NULL) {
		*b ^= flip;	/* flip != 0: never a no-op */
		imp->st.corrupted++;
	}
	return m;
}

/* ---- offer ------------------------------------------------------------- */

int tern_impair_offer(struct tern_impair *imp, struct rte_mbuf *m,
		      uint64_t now, const struct tern_impair_pkt *pi,
		      struct rte_mbuf *out[2])
{
	imp->st.seen++;
	uint64_t seq = imp->seq_in++;

	if (imp->t_loss && chance(imp, S_LOSS, imp->t_loss)) {
		imp->st.drop_loss++;
		return -1;
	}
	if (imp->t_ge_p) {
		/* loss by the current state, then the transition */
		bool bad = imp->ge_bad;
		bool lost = chance(imp, S_GE, bad ? imp->t_ge_bad : imp->t_ge_good);
		if (chance(imp, S_GE, bad ? imp->t_ge_r : imp->t_ge_p))
			imp->ge_bad = !bad;
		if (lost) {
			imp->st.drop_burst++;
			return -1;
		}
	}
	bool dup = imp->t_dup && chance(imp, S_DUP, imp->t_dup);
	bool cor = imp->t_corrupt && chance(imp, S_CORRUPT, imp->t_corrupt);
	uint64_t off = imp->delay_ns;
	if (imp->jitter_ns)
		off = off - imp->jitter_ns +
		      uniform(imp, S_DELAY, 2 * imp->jitter_ns + 1);
	if (imp->t_reorder && chance(imp, S_REORDER, imp->t_reorder))
		off += imp->reorder_ns;

	uint64_t start;
	if (!rate_admit(imp, now, &start)) {
		imp->st.drop_rate++;
		return -1;
	}
	uint64_t due = start + off;
	if (due > now && imp->n >= imp->cap) {
		imp->st.drop_limit++;
		return -1;
	}
	struct rte_mbuf *d = NULL;
	if (dup) {
		/* a deep copy: the stack may write into either one later */
		d = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
		if (d == NULL)
			imp->st.dup_nomem++;
	}
	if (cor) {
		struct rte_mbuf *c = corrupt(imp, m, pi);
		if (c == NULL) {
			rte_pktmbuf_free(d);
			imp->st.drop_nomem++;
			return -1;
		}
		m = c;
	}
	rate_commit(imp, now, start, m->pkt_len);
	int k = place(imp, m, seq, due, now, pi->tag, &out[0]);
	if (d != NULL) {
		/* The copy follows the packet onto the link, with the same
		 * delay: it leaves right after it. */
		imp->st.duplicated++;
		if (!rate_admit(imp, now, &start)) {
			imp->st.drop_rate++;
			rte_pktmbuf_free(d);
		} else if ((due = start + off) > now && imp->n >= imp->cap) {
			imp->st.drop_limit++;
			rte_pktmbuf_free(d);
		} else {
			rate_commit(imp, now, start, d->pkt_len);
			k += place(imp, d, seq, due, now, pi->tag, &out[k]);
		}
	}
	return k;
}
