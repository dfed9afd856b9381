/* The `udp` generator on the core raw UDP API.
 *
 * Payload layout (big-endian, so a capture or a foreign peer reads it):
 *   0  uint64 seq     top 16 bits GEN_MAGIC, low 48 bits the sequence
 *   8  uint64 tx_ns   stack clock when sent (a fresh reading, not the
 *                     loop's cached time, so RTTs stay precise)
 * then zeros up to the frame size. The magic rides in seq because the
 * smallest frame (64 bytes) leaves only 18 bytes of payload. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <tern/neigh.h>
#include <tern/rss.h>
#include <tern/udp_gen.h>

#define GEN_BURST 32		/* packets sent per poll at most */
/* Fallen further behind than this (a stall, a slow lcore): forgive the
 * rest rather than bursting to catch up, which would distort the rate
 * the peer sees. */
#define GEN_MAX_BACKLOG (4 * GEN_BURST)
#define GEN_HDR_LEN 16
#define GEN_MAGIC 0x7e6eull
#define GEN_SEQ_BITS 48
#define GEN_SEQ_MASK ((1ull << GEN_SEQ_BITS) - 1)
#define GEN_MAX_SIZE 9018	/* 9000-byte jumbo MTU + 14 + 4 */
#define GEN_MAX_RATE 1000000000ull
/* A run's first datagram asks for the next hop's address; the rest wait
 * for the answer this long at most (three ARP probes, one a second) and
 * then go at rate whatever happened, counted where they are lost. */
#define GEN_RESOLVE_WAIT_NS (3 * TERN_NS_PER_S)

struct tern_udp_gen {
	struct tern_stack *s;
	struct tern_udp_pcb *pcb;
	struct tern_udp_gen_conf conf;
	struct tern_udp_gen_stats st;
	uint32_t payload_len;
	uint64_t seq;		 /* next sequence number (never reset) */
	uint64_t run_sent;	 /* send attempts since the last start */
	uint64_t pace_base_ns;	 /* pacing origin */
	uint64_t pace_sent;	 /* attempts accounted since pace_base_ns */
	uint64_t rx_max_seq;	 /* highest echoed sequence seen */
	bool rx_any;
	bool resolving;		 /* the first datagram waits for its next hop */
	uint64_t resolve_until_ns;
	uint64_t prior_ns;	 /* running time of the runs before this one */
};

/* Ends the current run at now, in state st. */
static void run_end(struct tern_udp_gen *g, enum tern_gen_state st,
		    uint64_t now)
{
	g->st.state = st;
	g->st.end_ns = now;
	g->prior_ns += now - g->st.start_ns;
}

int tern_udp_gen_conf_check(const struct tern_udp_gen_conf *c,
			    const char **why)
{
	const char *r = NULL;

	if (c->role != TERN_GEN_CLIENT && c->role != TERN_GEN_SERVER)
		r = "role: must be client or server";
	else if (c->local.family != TERN_AF_NONE &&
		 c->local.family != TERN_AF_INET)
		r = "local: must be an IPv4 address";
	else if (c->role == TERN_GEN_SERVER && c->local_port == 0)
		r = "local_port: must be 1..65535 for a server";
	else if (c->role == TERN_GEN_CLIENT) {
		if (c->remote.family != TERN_AF_INET || c->remote.v4 == 0)
			r = "remote: must be an IPv4 address";
		else if (c->remote_port == 0)
			r = "remote_port: must be 1..65535";
		else if (c->size < TERN_UDP_GEN_MIN_SIZE ||
			 c->size > GEN_MAX_SIZE)
			r = "size: must be 64..9018";
		else if (c->rate_pps == 0 || c->rate_pps > GEN_MAX_RATE)
			r = "rate_pps: must be 1..1000000000";
	}
	if (why != NULL)
		*why = r;
	return r == NULL ? 0 : -EINVAL;
}

/* ---- receive ------------------------------------------------------- */

static void client_rx(struct tern_udp_gen *g, struct rte_mbuf *m)
{
	uint64_t hdr[2];
	const uint64_t *h = NULL;

	if (rte_pktmbuf_pkt_len(m) >= GEN_HDR_LEN)
		h = rte_pktmbuf_read(m, 0, GEN_HDR_LEN, hdr);
	if (h != NULL) {
		uint64_t seq = rte_be_to_cpu_64(h[0]);
		uint64_t tx_ns = rte_be_to_cpu_64(h[1]);
		uint64_t now = tern_clock_read(tern_stack_clock(g->s));
		if ((seq >> GEN_SEQ_BITS) == GEN_MAGIC && tx_ns <= now) {
			seq &= GEN_SEQ_MASK;
			g->st.rx_echoes++;
			if (g->rx_any && seq < g->rx_max_seq)
				g->st.rx_out_of_order++;
			else
				g->rx_max_seq = seq;
			g->rx_any = true;
			uint64_t rtt = now - tx_ns;
			g->st.rtt_count++;
			g->st.rtt_sum_ns += rtt;
			if (rtt < g->st.rtt_min_ns)
				g->st.rtt_min_ns = rtt;
			if (rtt > g->st.rtt_max_ns)
				g->st.rtt_max_ns = rtt;
		}
	}
	rte_pktmbuf_free(m);
}

static void server_rx(struct tern_udp_gen *g, struct rte_mbuf *m,
		      const struct tern_addr *src, uint16_t sport)
{
	if (!g->conf.echo) {
		rte_pktmbuf_free(m);
		return;
	}
	uint32_t frame = rte_pktmbuf_pkt_len(m) + TERN_UDP_GEN_HDR_OVERHEAD;
	/* Zero copy: the mbuf already points at the payload; sendto resets
	 * its RX flags (tern_ol_reset). */
	if (tern_udp_sendto(g->s, g->pcb, src, sport, m) == 0) {
		g->st.tx_pkts++;
		g->st.tx_bytes += frame;
	} else {
		g->st.tx_fail++;
	}
}

static void gen_recv(void *arg, struct tern_udp_pcb *pcb, struct rte_mbuf *m,
		     const struct tern_addr *src, uint16_t sport,
		     const struct tern_addr *dst)
{
	struct tern_udp_gen *g = arg;
	(void)pcb;
	(void)dst;

	/* A stopped server keeps its port but serves nobody; a client
	 * still counts echoes of what it sent before it finished. */
	if (g->conf.role == TERN_GEN_SERVER &&
	    g->st.state != TERN_GEN_RUNNING) {
		rte_pktmbuf_free(m);
		return;
	}
	g->st.rx_pkts++;
	g->st.rx_bytes += rte_pktmbuf_pkt_len(m) + TERN_UDP_GEN_HDR_OVERHEAD;
	if (g->conf.role == TERN_GEN_CLIENT)
		client_rx(g, m);
	else
		server_rx(g, m, src, sport);
}

/* ---- send ---------------------------------------------------------- */

/* Appends len zeroed bytes, chaining segments when one is too small
 * (jumbo frames). Returns the first byte or NULL. */
static uint8_t *gen_append(struct tern_stack *s, struct rte_mbuf *m,
			   uint32_t len)
{
	uint8_t *first = NULL;
	struct rte_mbuf *last = rte_pktmbuf_lastseg(m);

	while (len > 0) {
		uint32_t room = rte_pktmbuf_tailroom(last);
		if (room == 0) {
			struct rte_mbuf *seg = tern_stack_alloc(s);
			if (seg == NULL)
				return NULL;
			/* Only the first segment carries headers. */
			seg->data_off = 0;
			if (rte_pktmbuf_chain(m, seg) < 0) {
				rte_pktmbuf_free(seg);
				return NULL;
			}
			last = seg;
			continue;
		}
		uint16_t n = (uint16_t)RTE_MIN(room, len);
		uint8_t *p = (uint8_t *)rte_pktmbuf_mtod(last, uint8_t *) +
			     last->data_len;
		memset(p, 0, n);
		last->data_len += n;
		m->pkt_len += n;
		if (first == NULL)
			first = p;
		len -= n;
	}
	return first;
}

static int gen_send_one(struct tern_udp_gen *g, uint64_t stamp)
{
	struct rte_mbuf *m = tern_stack_alloc(g->s);
	if (m == NULL)
		return -ENOBUFS;
	uint8_t *p = gen_append(g->s, m, g->payload_len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	/* payload_len >= 18, and the first segment holds it whole. */
	uint64_t hdr[2] = {
		rte_cpu_to_be_64((GEN_MAGIC << GEN_SEQ_BITS) |
				 (g->seq & GEN_SEQ_MASK)),
		rte_cpu_to_be_64(stamp),
	};
	memcpy(p, hdr, sizeof(hdr));
	g->seq++;
	return tern_udp_sendto(g->s, g->pcb, &g->conf.remote,
			       g->conf.remote_port, m);
}

/* floor(ns * rate / 1e9) without overflowing 64 bits (rate <= 1e9). */
static uint64_t pkts_in(uint64_t ns, uint64_t rate)
{
	return (ns / TERN_NS_PER_S) * rate +
	       ((ns % TERN_NS_PER_S) * rate) / TERN_NS_PER_S;
}

/* True when a datagram to the remote would leave at once: its next hop's
 * link address is known, or none is needed, or there is no route (the
 * send fails and counts as tx_fail). */
static bool path_ready(struct tern_udp_gen *g)
{
	struct tern_route rt;
	struct rte_ether_addr mac;
	const struct tern_addr *local =
		tern_addr_is_set(&g->conf.local) ? &g->conf.local : NULL;

	if (tern_route_get(g->s, &g->conf.remote, local, &rt) < 0 || rt.bcast)
		return true;
	return tern_neigh_lookup(g->s, rt.ifindex, &rt.nexthop, &mac) == 0;
}

/* A run starts paced once the path is ready. Until then only its first
 * datagram goes (it starts the resolution and waits in the neighbour's
 * queue): at rate, the queue (neigh_queue_len) would overflow while the
 * answer is on its way, and a slow loop would lose the start of every
 * run. Returns true while the run still waits. */
static bool client_wait_path(struct tern_udp_gen *g, uint64_t now)
{
	if (path_ready(g) || now >= g->resolve_until_ns) {
		g->resolving = false;
		g->pace_base_ns = now;
		g->pace_sent = 0;
		return false;
	}
	return g->run_sent > 0;
}

static unsigned client_poll(struct tern_udp_gen *g, uint64_t now)
{
	if (unlikely(g->resolving) && client_wait_path(g, now))
		return 0;
	/* The first packet goes at start, then one per 1/rate. */
	uint64_t target = pkts_in(now - g->pace_base_ns, g->conf.rate_pps) + 1;
	uint64_t due = target > g->pace_sent ? target - g->pace_sent : 0;
	if (due > GEN_MAX_BACKLOG) {
		g->pace_sent = target - GEN_MAX_BACKLOG;
		due = GEN_MAX_BACKLOG;
	}
	if (due > GEN_BURST)
		due = GEN_BURST;
	if (g->resolving && due > 1)
		due = 1;
	if (g->conf.count > 0 && due > g->conf.count - g->run_sent)
		due = g->conf.count - g->run_sent;

	unsigned sent = 0;
	/* Pacing works on the loop's cached time; the RTT stamp is read
	 * once per burst (the burst leaves together at the loop's flush). */
	uint64_t stamp = due ? tern_clock_read(tern_stack_clock(g->s)) : 0;
	for (uint64_t i = 0; i < due; i++) {
		int rc = gen_send_one(g, stamp);
		/* A failed attempt still uses its slot: retrying at once
		 * would turn a missing route into a busy loop. */
		g->pace_sent++;
		g->run_sent++;
		if (rc == 0) {
			g->st.tx_pkts++;
			g->st.tx_bytes += g->conf.size;
			sent++;
		} else {
			g->st.tx_fail++;
		}
	}
	if (g->conf.count > 0 && g->run_sent >= g->conf.count)
		run_end(g, TERN_GEN_DONE, now);
	return sent;
}

unsigned tern_udp_gen_poll(struct tern_udp_gen *g)
{
	if (g->st.state != TERN_GEN_RUNNING)
		return 0;
	uint64_t now = tern_stack_now(g->s);
	if (g->conf.duration_ns > 0 &&
	    now - g->st.start_ns >= g->conf.duration_ns) {
		run_end(g, TERN_GEN_DONE, now);
		return 0;
	}
	if (g->conf.role != TERN_GEN_CLIENT)
		return 0;
	return client_poll(g, now);
}

/* ---- life cycle ---------------------------------------------------- */

struct tern_udp_gen *tern_udp_gen_create(struct tern_stack *s,
					 const struct tern_udp_gen_conf *conf)
{
	if (s == NULL || conf == NULL ||
	    tern_udp_gen_conf_check(conf, NULL) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_udp_gen *g = rte_zmalloc("tern_udp_gen", sizeof(*g), 0);
	if (g == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	g->s = s;
	g->conf = *conf;
	if (conf->role == TERN_GEN_CLIENT)
		g->payload_len = conf->size - TERN_UDP_GEN_HDR_OVERHEAD;
	g->st.rtt_min_ns = UINT64_MAX;
	g->st.state = TERN_GEN_CREATED;

	const struct tern_addr *local =
		tern_addr_is_set(&conf->local) ? &conf->local : NULL;
	struct tern_addr any;
	memset(&any, 0, sizeof(any));
	uint16_t port = conf->local_port;
	if (conf->role == TERN_GEN_CLIENT && port == 0) {
		/* This stack's own port, one whose echoes the NIC steers
		 * back to this lcore (DESIGN rule 8): without it every
		 * worker's client sent from the same 5-tuple. */
		int rc = tern_stack_pick_port(s, IPPROTO_UDP, local,
					      &conf->remote, conf->remote_port,
					      &port);
		if (rc < 0) {
			rte_free(g);
			rte_errno = -rc;
			return NULL;
		}
	}
	g->pcb = tern_udp_open(s, local ? local : &any, port, gen_recv, g);
	if (g->pcb == NULL) {
		int err = rte_errno;
		rte_free(g);
		rte_errno = err;
		return NULL;
	}
	return g;
}

void tern_udp_gen_destroy(struct tern_udp_gen *g)
{
	if (g == NULL)
		return;
	tern_udp_close(g->s, g->pcb);
	rte_free(g);
}

int tern_udp_gen_start(struct tern_udp_gen *g)
{
	if (g->st.state == TERN_GEN_RUNNING)
		return -EBUSY;
	uint64_t now = tern_stack_now(g->s);
	g->st.state = TERN_GEN_RUNNING;
	g->st.start_ns = now;
	g->st.end_ns = 0;
	g->pace_base_ns = now;
	g->pace_sent = 0;
	g->run_sent = 0;
	g->resolving = g->conf.role == TERN_GEN_CLIENT;
	g->resolve_until_ns = now + GEN_RESOLVE_WAIT_NS;
	return 0;
}

int tern_udp_gen_stop(struct tern_udp_gen *g)
{
	if (g->st.state != TERN_GEN_RUNNING)
		return 0;
	run_end(g, TERN_GEN_STOPPED, tern_stack_now(g->s));
	return 0;
}

void tern_udp_gen_stats_get(const struct tern_udp_gen *g,
			    struct tern_udp_gen_stats *out)
{
	*out = g->st;
	out->local_port = tern_udp_local_port(g->pcb);
	out->active_ns = g->prior_ns;
	if (g->st.state == TERN_GEN_RUNNING)
		out->active_ns += tern_stack_now(g->s) - g->st.start_ns;
}
