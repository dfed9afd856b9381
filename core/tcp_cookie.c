/* SYN cookies (RFC 4987 3.6): when a listener's SYN backlog is full (or
 * always, tern_stack_conf.tcp_syncookies), a SYN is answered with a
 * SYN,ACK whose ISN encodes what the connection needs, and nothing is
 * kept; the ACK that completes the handshake brings it back.
 *
 * The ISN: | t (5 bits) | MSS index (3 bits) | hash (24 bits) |
 *   t:    a counter of 64-second steps (its low 5 bits); a cookie is
 *         good for the step it was made in and the next (64-128 s);
 *   hash: SipHash-2-4 under a per-stack secret of the 4-tuple, the
 *         peer's ISN and the full counter, so a cookie cannot be made
 *         without the secret nor reused for another tuple or SYN.
 * With timestamps, TSval's low 5 bits carry the peer's window scale
 * (0-14, 15 = none) and SACK-permitted, and the peer echoes them in
 * TSecr, as Linux does; without timestamps a cookie connection has
 * neither (RFC 4987 3.6 says so of every cookie scheme). */
#include "stack_priv.h"

#define COOKIE_STEP_S 64
static const uint16_t cookie_mss[8] = {536, 1200, 1300, 1400, 1440, 1460, 4312, 8960};

static uint32_t counter_now(const struct tern_stack *s)
{
	return (uint32_t)(tern_stack_now(s) / TERN_NS_PER_S / COOKIE_STEP_S);
}

static uint32_t cookie_hash(const struct tern_stack *s, rte_be32_t laddr,
			    rte_be32_t raddr, rte_be16_t lport, rte_be16_t rport,
			    uint32_t irs, uint32_t t)
{
	/* a key apart from the ISNs' (the same secret, tweaked) */
	uint64_t key[2] = {s->tcp.isn_key[0] ^ 0x636f6f6b69657321ull,
			   s->tcp.isn_key[1]};
	uint64_t h = tcp_siphash_2w(key, (uint64_t)laddr << 32 | raddr,
				    (uint64_t)lport << 48 | (uint64_t)rport << 32 |
				    ((uint64_t)irs ^ ((uint64_t)t << 32)));
	return (uint32_t)(h ^ (h >> 32)) & 0xffffffu;
}

uint32_t tcp_cookie_make(struct tern_stack *s, const struct tcp_conn *c,
			 uint32_t irs, uint16_t peer_mss)
{
	/* the largest table MSS not above the peer's */
	uint32_t idx = 0;
	for (uint32_t i = 0; i < RTE_DIM(cookie_mss); i++)
		if (cookie_mss[i] <= peer_mss)
			idx = i;
	uint32_t t = counter_now(s);
	return (t & 31u) << 27 | idx << 24 |
	       cookie_hash(s, c->laddr, c->raddr, c->lport, c->rport, irs, t);
}

bool tcp_cookie_check(struct tern_stack *s, rte_be32_t laddr, rte_be32_t raddr,
		      rte_be16_t lport, rte_be16_t rport, uint32_t irs,
		      uint32_t cookie, uint16_t *mss)
{
	uint32_t now = counter_now(s);
	uint32_t age = ((now & 31u) - (cookie >> 27)) & 31u;
	if (age > 1 || age > now)
		return false;
	uint32_t t = now - age;
	if ((cookie & 0xffffffu) != cookie_hash(s, laddr, raddr, lport, rport, irs, t))
		return false;
	*mss = cookie_mss[(cookie >> 24) & 7u];
	return true;
}

uint32_t tcp_cookie_tsval(uint32_t now_ms, const struct tcp_conn *c)
{
	uint32_t opts = ((c->flags & TF_WS) ? (uint32_t)(c->snd_wscale & 15u) : 15u) |
			((c->flags & TF_SACK) ? 16u : 0u);
	uint32_t ts = (now_ms & ~31u) | opts;
	/* never ahead of the clock (RFC 7323 5.4: monotonic) */
	return ts > now_ms ? ts - 32u : ts;
}

void tcp_cookie_ts_opts(uint32_t tsecr, uint8_t *wscale, bool *sack)
{
	*wscale = (uint8_t)(tsecr & 15u);
	*sack = (tsecr & 16u) != 0;
}
