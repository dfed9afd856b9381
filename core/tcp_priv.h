/* TCP inside core/: the control block, the tables, and what the tcp_*.c
 * files share. Only core sources include this. */
#ifndef TERN_TCP_PRIV_H
#define TERN_TCP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <tern/stack.h>
#include <tern/tcp.h>
#include <tern/timer.h>

#include "hmap.h"
#include "pktq.h"

struct tern_stack;
struct iface;

/* ---- sequence arithmetic (RFC 9293 3.4: modulo 2^32) --------------- */

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* ---- the wire (tcp_wire.c) ------------------------------------------ */

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_MAX_WS 14		/* RFC 7323 2.3 */
#define TCP_MAX_SACK 4		/* blocks in one option (40 bytes) */
#define TCP_SB_MAX 4		/* SACKed ranges a sender keeps */

struct tcp_sack_block {
	uint32_t start, end;
};

/* A received segment, parsed: header fields in host order, the options
 * found, and where the data is. */
struct tcp_seg {
	uint32_t seq, ack;
	uint32_t len;		/* data bytes */
	uint32_t wnd;		/* the raw 16-bit window */
	uint16_t sport, dport;	/* host order */
	uint8_t flags;		/* RTE_TCP_*_FLAG */
	uint8_t hlen;		/* header with options */
	/* options (RFC 9293 3.1, 7323, 2018) */
	bool has_mss, has_ws, sack_perm, has_ts;
	uint8_t ws;
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

/* Parses the options of a header of hlen bytes at th (already pulled up).
 * Malformed options (a length running past the header, a known option
 * of the wrong length) end the parse: what was read so far stands, as
 * Linux and BSD do. */
void tcp_parse_options(const struct rte_tcp_hdr *th, unsigned hlen,
		       struct tcp_seg *seg);

/* What a segment we send carries in its options. */
struct tcp_out_opts {
	bool syn;		/* MSS, and what the SYN offers */
	uint16_t mss;
	bool sack_perm;
	bool ts;
	uint32_t tsval, tsecr;
	bool ws;
	uint8_t wscale;
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

/* Writes the options (padded to 4 bytes) at p, which has room for 40;
 * returns their length. Layout as Linux sends them (many middleboxes and
 * tools expect it): SYN "mss, sackOK, TS, nop, wscale"; others "nop, nop,
 * TS" then "nop, nop, SACK". */
unsigned tcp_write_options(uint8_t *p, const struct tcp_out_opts *o);

/* ---- control block -------------------------------------------------- */

enum {
	TF_ACKNOW = 1 << 0,	/* send an ACK now */
	TF_DELACK = 1 << 1,	/* an ACK is owed (delayed) */
	TF_SHUT_WR = 1 << 2,	/* FIN follows the queued data */
	TF_FIN_SENT = 1 << 3,	/* our FIN has a sequence number */
	TF_FIN_RCVD = 1 << 4,	/* the peer's FIN was taken */
	TF_APP_CLOSED = 1 << 5,	/* the application let go (close) */
	TF_PERSIST = 1 << 6,	/* rto_at is the persist timer */
	TF_TS = 1 << 7,		/* timestamps in use */
	TF_SACK = 1 << 8,	/* SACK in use */
	TF_WS = 1 << 9,		/* window scaling in use */
	TF_NODELAY = 1 << 10,
	TF_RECOVERY = 1 << 11,	/* in fast recovery (RFC 6582) */
	TF_PASSIVE = 1 << 12,	/* opened by a listener */
	TF_NOTIFIED = 1 << 13,	/* closed() was called: no more callbacks */
	TF_MANUAL_WND = 1 << 14,
	TF_RST_CLOSE = 1 << 15,
	TF_QUICKACK = 1 << 16,	/* ACK every segment for a while */
	TF_RTT_TIMING = 1 << 17,	/* rtt_seq is being timed */
	TF_KEEPALIVE = 1 << 18,
	TF_DATA_SEEN = 1 << 19,	/* data has arrived (quick ACKs armed) */
	TF_FREE = 1 << 20,	/* to be freed when the input unwinds */
	TF_ACCEPTED = 1 << 21,	/* given to the listener's accept */
	TF_FIN_TOLD = 1 << 22,	/* recv(NULL) was called */
	TF_SACK_RECOV = 1 << 23,	/* this recovery is SACK-based (RFC 6675) */
	TF_COOKIE = 1 << 24,	/* a SYN cookie's SYN,ACK: options in TSval */
};

/* Per-connection congestion control state, pre-sized (DESIGN: like
 * FreeBSD's cc_algo); it lives in the on-demand block (struct tcp_ext):
 * NewReno has none and CUBIC needs it once slow start is over. */
union tcp_cc_state {
	struct tcp_cubic {
		uint32_t w_max;		/* bytes: window before the last cut */
		uint32_t w_last_max;
		uint32_t k_ms;		/* K (RFC 9438 4.2), ms */
		uint32_t epoch_ms;	/* start of the congestion avoidance
					 * epoch, ms; 0 none */
		uint32_t w_est;		/* Reno-friendly estimate, bytes */
		uint32_t origin;	/* W_max at epoch start, bytes */
	} cubic;
	uint32_t raw[6];
};

/* State only some connections use, in a block taken on demand from a
 * per-stack pool (tern_stack_conf.tcp_ext_blocks) and given back with the
 * connection, or at TIME_WAIT when nothing is held: the out-of-order
 * queue, data held for an application that has no receiver yet,
 * keepalive, the SACK scoreboard and D-SACK, CUBIC's state. Without one
 * (the pool empty: tcp.ext_empty) the connection does without: out-of-
 * order data and data it cannot hold are dropped (tcp.drop_no_ext) and
 * come again, SACK blocks are not kept (recovery is NewReno's), no D-SACK
 * is sent, keepalive stays off, CUBIC grows as Reno. */
struct tcp_ext {
	/* out-of-order segments, sorted, non-overlapping (tcp_input.c) */
	struct pktq ooo;
	struct pktq rcvq;		/* data held for the application */
	uint32_t ooo_bytes;		/* in ooo */
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	uint8_t keep_probes;		/* unanswered keepalive probes */
	uint8_t sb_n;
	uint32_t sack_high;		/* highest end of a SACK block the
					 * peer sent (tcp_input.c) */
	uint32_t dsack_start, dsack_end;	/* a duplicate to report
						 * (RFC 2883); equal: none */
	uint32_t high_rxt;		/* HighRxt: end of the last hole
					 * retransmitted in this recovery */
	/* the sender's SACK scoreboard (RFC 6675, tcp_ack.c) */
	struct tcp_sack_block sb[TCP_SB_MAX];
	union tcp_cc_state cc;
};

/* Everything the established fast path reads or writes per segment;
 * what it does not touch is in struct tcp_cold. */
struct tcp_conn {
	/* identity (a lookup compares these) */
	rte_be32_t laddr, raddr;
	rte_be16_t lport, rport;	/* network order, as on the wire */
	uint8_t family;
	uint8_t state;			/* enum tern_tcp_state */
	uint8_t snd_wscale, rcv_wscale;	/* shift counts in use */
	uint32_t flags;			/* TF_* */
	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t snd_una, snd_nxt, snd_max;	/* snd_max: highest sent */
	uint32_t snd_wnd;		/* bytes (scaled) */
	uint32_t snd_wl1;		/* SEG.SEQ of the last window update
					 * (no WL2: tcp_ack_input) */
	uint32_t cwnd, ssthresh, recover;
	/* receive sequence space */
	uint32_t rcv_nxt;
	uint32_t rcv_adv;		/* right edge we advertised */
	uint32_t ts_recent;		/* RFC 7323 4.3 */
	uint16_t mss;			/* send MSS (payload bytes) */
	uint8_t dupacks;
	uint8_t backoff;		/* RTO doublings (reset by an RTT
					 * sample only: Karn, RFC 6298 5) */
	/* RTT (RFC 6298), microseconds; srtt scaled by 8, rttvar by 4; the
	 * RTO follows from them (tcp_rto_us) */
	uint32_t srtt, rttvar;
	uint32_t rtt_seq;		/* the segment being timed */
	uint32_t rtt_start_us;		/* its send time (low 32 bits) */
	uint8_t unacked_segs;		/* full segments since our last ACK
					 * (saturates; 2 is what counts) */
	uint8_t ops;			/* the application's callbacks: an
					 * index into tcp_state.ops_tab
					 * (tcp_ops), 0 none */
	uint8_t quickacks;		/* segments still ACKed at once */
	uint8_t retries;		/* RTOs in a row without progress */
	uint32_t lsnd_ms;		/* when data last left (RFC 5681 4.1) */
	uint32_t snd_sml;		/* end of the last segment sent
					 * shorter than the MSS (Nagle) */
	/* the send queue: packets the application gave, in order; the head
	 * starts at snd_una - sndq_off ... (the 32-bit fields first, then
	 * the queues and pointers: no holes) */
	uint32_t sndq_off;		/* bytes of the head already acked */
	uint32_t sndq_bytes;		/* bytes queued, from snd_una */
	uint32_t sndbuf;		/* send queue limit, bytes */
	uint32_t rcvq_bytes;		/* received, not yet consumed by the
					 * application (manual window, or no
					 * ops yet) */
	uint32_t ext;			/* its struct tcp_ext: index + 1; 0
					 * none (tcp_ext_of, tcp_ext_get) */
	/* deadlines, 32-bit clock readings (tcp_dl_*): rto_at and dack_at
	 * in microseconds, keep_at in milliseconds; 0 = none. The one timer
	 * below runs at the earliest (DESIGN: one wheel entry per
	 * connection). */
	uint32_t rto_at, dack_at, keep_at;
	struct pktlist sndq;
	/* where the last segment's data was found, a packet of the queue,
	 * so building a segment does not walk the queue from the head; its
	 * offset is a difference of positions (tcp_sndq_push) */
	struct rte_mbuf *sndq_cur;
	struct tern_timer_link timer;	/* the wheel runs tcp_timer_fire
					 * for it (tcp_conn_of_timer) */
	void *arg;
};

/* The listener a passive connection came from, index + 1, until it is
 * accepted; 0 after or for none. Kept in arg: the application has no
 * handle on the connection, and so no arg, before its accept callback
 * (tcp_accepted clears it). */
static inline uint32_t tcp_listener_idx(const struct tcp_conn *c)
{
	return (c->flags & (TF_PASSIVE | TF_ACCEPTED)) == TF_PASSIVE ?
	       (uint32_t)(uintptr_t)c->arg : 0;
}

static inline void tcp_listener_set(struct tcp_conn *c, uint32_t idx)
{
	c->arg = (void *)(uintptr_t)idx;
}

/* Set up once, read on the slow paths. */
struct tcp_cold {
	uint32_t route;			/* its entry in the stack's routes
					 * (tcp_route_of); TCP_NO_ROUTE */
	uint32_t iss, irs;
	uint32_t max_sndwnd;		/* largest window the peer offered */
	uint32_t rcvbuf;
	uint16_t rcv_mss;		/* what we announced */
	uint16_t peer_mss;
	uint8_t peer_wscale;		/* offered in the SYN, 0xff none */
	uint8_t cc_algo;		/* enum tern_tcp_cc */
	uint8_t win_probes;		/* zero-window probes no ACK answered */
	uint8_t syn_retries;
	uint32_t ts_recent_ms;		/* when ts_recent was set (PAWS
					 * 24-day rule, RFC 7323 5.5) */
	uint32_t retransmits;
	/* bytes acked and received: the low 32 bits are the distance of
	 * snd_una and rcv_nxt from the ISNs; these keep 2 * wraps + the
	 * distance's top bit when last seen (tcp_seq_note) */
	uint32_t acked_hi, rcvd_hi;
	/* bytes sent again (saturates at 2^32 - 1); bytes sent for the
	 * first time follow from SND.MAX (tern_tcp_info_get) */
	uint32_t bytes_retrans;
};

/* The memory budget (docs/bench.md "Memory per connection": 256 bytes
 * per connection with the table and the on-demand pool): a field added
 * here must pay for itself elsewhere. */
_Static_assert(sizeof(struct tcp_conn) <= 184, "hot block over budget");
_Static_assert(sizeof(struct tcp_cold) <= 48, "cold block over budget");

/* Notes off, a byte count's low 32 bits, at least every 2^31 bytes: a
 * top bit gone since the last note is a wrap. */
static inline void tcp_seq_note(uint32_t *hi, uint32_t off)
{
	uint32_t top = off >> 31;
	if ((*hi & 1) && !top)
		*hi += 2;
	*hi = (*hi & ~1u) | top;
}

/* The 64-bit count of which off is the low 32 bits now. */
static inline uint64_t tcp_seq_count(uint32_t hi, uint32_t off)
{
	uint64_t wraps = hi >> 1;
	if ((hi & 1) && !(off >> 31))
		wraps++;
	return wraps << 32 | off;
}

#define TCP_NO_ROUTE UINT32_MAX

/* A route connections share: one per (destination, source), kept while
 * a connection uses it (DESIGN: a flow keeps its route; sharing it keeps
 * 92 bytes out of every connection to the same peer). */
struct tcp_route_ent {
	struct tern_route rt;
	uint32_t refs;			/* connections keeping it; 0: free */
	uint32_t next_free;
	uint32_t confirmed;		/* tern_stack_now() >> 30 (about a
					 * second) when an ACK last confirmed
					 * the neighbour (tcp_ack.c) */
};

struct tcp_routes {
	struct tcp_route_ent *ent;	/* cap, grows by doubling */
	uint32_t n, cap;		/* n: entries ever handed out */
	uint32_t free_head;		/* a free list; UINT32_MAX: empty */
	struct hmap map;		/* (dst << 32 | src) -> index; rebuilt
					 * twice the size when full */
};

struct tcp_listener {
	bool used;
	struct tern_addr local;
	uint16_t port;
	uint32_t backlog, pending;
	uint64_t cookie_ns;		/* when it last sent a SYN cookie;
					 * 0 never (tcp_open.c) */
	tern_tcp_accept_fn accept;
	void *arg;
	struct tern_tcp_opts opts;
};

/* Congestion control ops (DESIGN: like FreeBSD's cc_algo). */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tern_stack *s, struct tcp_conn *c);
	/* acked bytes newly acknowledged, outside recovery */
	void (*ack)(struct tern_stack *s, struct tcp_conn *c, uint32_t acked);
	/* a loss was detected by duplicate ACKs or SACK (fast retransmit):
	 * sets ssthresh */
	void (*cong)(struct tern_stack *s, struct tcp_conn *c);
	/* the RTO fired */
	void (*rto)(struct tern_stack *s, struct tcp_conn *c);
	/* the connection was idle for more than an RTO (RFC 5681 4.1) */
	void (*after_idle)(struct tern_stack *s, struct tcp_conn *c);
};

/* RFC 6928: IW = min(10 MSS, max(2 MSS, 14600)); also the restart
 * window after idle (RFC 5681 4.1). */
static inline uint32_t tcp_initial_window(uint32_t mss)
{
	uint32_t two = 2 * mss > 14600u ? 2 * mss : 14600u;
	return 10 * mss < two ? 10 * mss : two;
}

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

#define TCP_OPS_MAX 255	/* callback tables per stack */

struct tcp_state {
	/* the callback tables connections use, by index (tcp_conn.ops): a
	 * byte of every block instead of a pointer; 0 is none */
	const struct tern_tcp_ops *ops_tab[TCP_OPS_MAX + 1];
	uint32_t ops_n;
	struct tcp_conn *conns;		/* max + 1: the last is the scratch
					 * block (tcp_conn_scratch) */
	struct tcp_cold *cold;		/* max + 1 */
	uint32_t max;
	/* free blocks, a stack linked through the blocks themselves
	 * (tcp_table.c: next_free); index + 1, 0 none */
	uint32_t free_head;
	uint32_t nfree;
	/* connection table: open addressing (linear probing) on 32-bit
	 * slots: index + 1 in the low bits (tab_lo), then the entry's
	 * distance from its home slot (tab_dmask, at tab_dshift; the
	 * largest value means "that or more": the home is then worked out
	 * from the block), the hash's high bits above (tab_tag). The
	 * distance lets a deletion shift entries back without reading
	 * their blocks, each a cache miss in a table of millions. */
	uint32_t *tab;
	uint32_t tab_mask;
	uint32_t tab_lo;
	uint32_t tab_tag;
	uint32_t tab_dmask;
	uint32_t tab_dmax;
	uint8_t tab_dshift;
	uint32_t *lport_refs;		/* 65536: blocks using each local port */
	/* listeners */
	struct tcp_listener *lst;
	uint32_t lst_max;
	struct hmap lst_map;		/* (address << 16 | port) -> index;
					 * address 0 is the wildcard */
	struct tcp_routes routes;
	/* connections to free when the current input or timer unwinds */
	uint32_t busy;			/* nesting of input/timer work */
	uint32_t nreap;			/* how many; linked as the free ones */
	uint32_t reap_head;
	/* ISNs (RFC 6528): the secret of F() */
	uint64_t isn_key[2];
	uint32_t isn_offset;		/* tern_tcp_set_isn_offset (tests) */
	/* arrival order of out-of-order segments (the first SACK block is
	 * the latest, RFC 2018 4), kept in each segment's m->hash.fdir.hi */
	uint32_t ooo_stamp;
	/* the on-demand blocks (struct tcp_ext): ext_max of them, free
	 * indices on a stack */
	struct tcp_ext *ext;
	uint32_t *ext_free;
	uint32_t ext_max, ext_nfree;
	/* configuration */
	uint64_t msl_ns, delack_ns, fin_timeout_ns;
	uint32_t rto_min_us, rto_init_us, rto_max_us;
	uint32_t tick_us;		/* the wheel's tick: G of RFC 6298 */
	uint8_t syn_retries, retries;
	uint8_t cc_default;
	bool no_delack;
	uint8_t syncookies;		/* tern_stack_conf.tcp_syncookies */
};

/* tcp_table.c */
int tcp_init(struct tern_stack *s, const struct tern_stack_conf *conf);
void tcp_fini(struct tern_stack *s);
uint32_t tcp_hash4(rte_be32_t laddr, rte_be32_t raddr, rte_be16_t lport,
		   rte_be16_t rport);
struct tcp_conn *tcp_lookup(struct tern_stack *s, rte_be32_t laddr,
			    rte_be32_t raddr, rte_be16_t lport,
			    rte_be16_t rport);
/* Starts loading the table slot a lookup of this tuple would read first
 * (the ephemeral port allocator, for the port it will try next). */
void tcp_lookup_prefetch(struct tern_stack *s, rte_be32_t laddr,
			 rte_be32_t raddr, rte_be16_t lport, rte_be16_t rport);

/* tcp_lookup with h = tcp_hash4 of the tuple already known. */
struct tcp_conn *tcp_lookup_h(struct tern_stack *s, uint32_t h,
			      rte_be32_t laddr, rte_be32_t raddr,
			      rte_be16_t lport, rte_be16_t rport);
/* The table hash of a TCP/IPv4 frame of an RX burst, worked out before
 * the burst is input (DESIGN: lookups in bulk per RX burst). tuple as
 * tcp_lookup takes it: a frame whose tuple is no longer this when TCP
 * sees it (a hook rewrote it) is hashed again. */
struct tcp_rx_hint {
	const struct rte_mbuf *m;	/* NULL: not TCP/IPv4 */
	uint32_t hash;
	rte_be32_t laddr, raddr;
	rte_be16_t lport, rport;
};
/* Fills hint[i] for pkts[i] (frames at the Ethernet header) and
 * prefetches their table slots, then, if blocks, the blocks those slots
 * name (which waits for the slots). */
void tcp_rx_hints(struct tern_stack *s, struct rte_mbuf *const *pkts,
		  unsigned n, struct tcp_rx_hint *hint, bool blocks);
/* A new block in CLOSED with its identity set and inserted in the table;
 * NULL when the table is full. */
struct tcp_conn *tcp_conn_new(struct tern_stack *s, rte_be32_t laddr,
			      rte_be32_t raddr, rte_be16_t lport,
			      rte_be16_t rport);
/* Leaves the table and frees every queued mbuf; the slot is reused
 * after the current input or timer work unwinds. */
void tcp_conn_release(struct tern_stack *s, struct tcp_conn *c);
/* The scratch block, set up as tcp_conn_new would, but never in the
 * table nor counted: a SYN cookie's SYN,ACK is built on it, so answering
 * a flood costs no table insert and removal, and works with the table
 * full. tcp_conn_scratch_done gives back what it held (its route). */
struct tcp_conn *tcp_conn_scratch(struct tern_stack *s, rte_be32_t laddr,
				  rte_be32_t raddr, rte_be16_t lport,
				  rte_be16_t rport);
void tcp_conn_scratch_done(struct tern_stack *s, struct tcp_conn *c);
/* Frees what was released during the work that is ending. */
void tcp_reap(struct tern_stack *s);
struct tcp_listener *tcp_listener_find(struct tern_stack *s, rte_be32_t addr,
				       uint16_t port);
bool tcp_port_busy(struct tern_stack *s, const struct tern_addr *local,
		   uint16_t port);
/* Gives c the shared entry of rt's destination and source (made from rt
 * when there is none); the source is kept when the route is looked up
 * again (a connection's address does not change). 0 or -ENOMEM. */
int tcp_route_hold(struct tern_stack *s, struct tcp_conn *c,
		   const struct tern_route *rt);

/* tcp_idx() and tcp_cold_of() are in stack_priv.h. */

/* tcp_input.c: segments in, per state (RFC 9293 3.10.7) */
void tcp_input(struct tern_stack *s, struct iface *ifc, struct rte_mbuf *m,
	       unsigned hlen);
/* An ICMP error about a segment we sent (RFC 5927, RFC 1122 4.2.3.9). */
int tcp_err4(struct tern_stack *s, const struct rte_ipv4_hdr *in,
	     const uint8_t *l4, int err, uint32_t info);
/* A segment for a synchronized connection (and SYN-RECEIVED): 3.10.7.4
 * step by step. Takes m. */
void tcp_established_input(struct tern_stack *s, struct tcp_conn *c,
			   const struct tcp_seg *g, struct rte_mbuf *m);
/* Counts a segment that is not acceptable, drops it and, unless it is a
 * RST, answers with an ACK (3.10.7.4 first check). */
void tcp_ack_and_drop(struct tern_stack *s, struct tcp_conn *c,
		      const struct tcp_seg *g, struct rte_mbuf *m,
		      uint64_t *counter);

/* tcp_open.c: LISTEN and SYN-SENT (3.10.7.2, 3.10.7.3), SYN cookies */
void tcp_listen_input(struct tern_stack *s, struct tcp_listener *l,
		      const struct rte_ipv4_hdr *ip, const struct tcp_seg *g,
		      struct rte_mbuf *m);
void tcp_syn_sent_input(struct tern_stack *s, struct tcp_conn *c,
			const struct rte_ipv4_hdr *ip, const struct tcp_seg *g,
			struct rte_mbuf *m);
/* A SYN for a tuple in TIME-WAIT that cannot be an old duplicate (RFC
 * 6191, RFC 1122 4.2.2.13): it may open a new connection. */
bool tcp_time_wait_reusable(const struct tcp_conn *c, const struct tcp_seg *g);

/* tcp_ack.c: the ACK step (3.10.7.4 fifth), recovery, SACK scoreboard */
/* false when the segment went (dropped, or the connection did). */
bool tcp_ack_input(struct tern_stack *s, struct tcp_conn *c,
		   const struct tcp_seg *g, struct rte_mbuf *m);
/* g acknowledges new data: frees it, samples the RTT, grows the window or
 * handles recovery, re-arms the timer, tells the application. */
void tcp_ack_advance(struct tern_stack *s, struct tcp_conn *c,
		     const struct tcp_seg *g);

/* tcp_output.c */
/* Sends what the windows allow, the FIN when due, an ACK when owed. */
void tcp_output(struct tern_stack *s, struct tcp_conn *c);
/* tcp_output() from an API call: holds the state, re-arms the timer. */
void tcp_push(struct tern_stack *s, struct tcp_conn *c);
/* A segment of the connection: seq, len data bytes from the send queue
 * (0 none), flags. 0 or -errno. */
int tcp_send_seg(struct tern_stack *s, struct tcp_conn *c, uint32_t seq,
		 uint32_t len, uint8_t flags);
void tcp_send_ack(struct tern_stack *s, struct tcp_conn *c);
/* A RST of the connection (RFC 9293 3.10.5 abort, 3.10.7 resets). */
void tcp_send_rst(struct tern_stack *s, struct tcp_conn *c);
/* A RST answering the segment (RFC 9293 3.10.7.1) from ip/th. */
void tcp_send_rst_reply(struct tern_stack *s, const struct rte_ipv4_hdr *ip,
			const struct tcp_seg *seg);
/* Frees what the peer acknowledged from the send queue. */
void tcp_sndq_acked(struct tern_stack *s, struct tcp_conn *c, uint32_t acked);
/* Looks the connection's route up again when it went stale (a path MTU
 * learned, a route or address changed) and keeps the send MSS within its
 * MTU, as Linux's tcp_current_mss. */
void tcp_route_sync(struct tern_stack *s, struct tcp_conn *c);
/* The window we advertise now (bytes, before scaling). */
uint32_t tcp_rcv_window(struct tern_stack *s, struct tcp_conn *c);
uint32_t tcp_isn(struct tern_stack *s, const struct tcp_conn *c);
/* The timestamp clock (ms, RFC 7323 5.4). */
uint32_t tcp_ts_now(const struct tern_stack *s);

/* tcp_timer.c */
/* A connection's deadlines are 32-bit readings of the stack's clock in a
 * unit (TCP_DL_US for the retransmission and delayed-ACK deadlines,
 * TCP_DL_MS for keepalive, TIME_WAIT and FIN-WAIT-2), compared modulo
 * 2^32: 12 bytes where three absolute nanosecond times took 24. A delay
 * is rounded up to the unit (never early; a whole number of them keeps
 * its place on a millisecond clock) and at most 2^30 units: 17 minutes
 * in microseconds (the RTO is capped by tcp_rto_max, at most that), 12
 * days in milliseconds. */
#define TCP_DL_US 1000u
#define TCP_DL_MS 1000000u
static inline uint32_t tcp_dl_at(const struct tern_stack *s,
				 uint64_t delay_ns, uint32_t unit)
{
	uint64_t d = (delay_ns + unit - 1) / unit;
	if (d > (1u << 30))
		d = 1u << 30;
	uint64_t now = tern_stack_now(s);
	uint32_t at = (uint32_t)((now + unit - 1) / unit + d);
	return at != 0 ? at : 1;	/* 0 is none */
}
/* Whether deadline at (not 0) has come. */
static inline bool tcp_dl_due(const struct tern_stack *s, uint32_t at,
			      uint32_t unit)
{
	return (int32_t)(at - (uint32_t)(tern_stack_now(s) / unit)) <= 0;
}
/* Deadline at as absolute nanoseconds. */
static inline uint64_t tcp_dl_ns(const struct tern_stack *s, uint32_t at,
				 uint32_t unit)
{
	uint64_t now = tern_stack_now(s) / unit;
	return (uint64_t)((int64_t)now + (int32_t)(at - (uint32_t)now)) * unit;
}
/* RFC 6298: the RTO before backoff, microseconds. */
uint32_t tcp_rto_us(const struct tern_stack *s, const struct tcp_conn *c);
/* Arms the connection's one timer at its earliest deadline. */
void tcp_timer_update(struct tern_stack *s, struct tcp_conn *c);
void tcp_timer_fire(struct tern_stack *s, struct tcp_conn *c);
/* tcp_conn_of_timer() is in stack_priv.h. */
/* The index of ops in the stack's table, added there the first time;
 * 0 for NULL, -1 when the table is full (TCP_OPS_MAX tables). */
int tcp_ops_ref(struct tern_stack *s, const struct tern_tcp_ops *ops);
/* RFC 6298 2.2/2.3: a new RTT sample. */
void tcp_rtt_sample(struct tern_stack *s, struct tcp_conn *c, uint32_t rtt_us);
void tcp_rto_arm(struct tern_stack *s, struct tcp_conn *c);
/* Traffic from the peer: the keepalive idle time starts again. */
void tcp_keepalive_touch(struct tern_stack *s, struct tcp_conn *c);
uint32_t tcp_now_us(const struct tern_stack *s);
uint64_t tcp_siphash_2w(const uint64_t key[2], uint64_t a, uint64_t b);

/* tcp_cookie.c: SYN cookies (RFC 4987 3.6). The ISN of the SYN,ACK
 * carries a keyed hash of the 4-tuple and the peer's ISN, a 64-second
 * counter and the MSS (one of 8); with timestamps, the low 5 bits of our
 * TSval carry the peer's window scale and SACK-permitted. */
uint32_t tcp_cookie_make(struct tern_stack *s, const struct tcp_conn *c,
			 uint32_t irs, uint16_t peer_mss);
/* The ACK completing a cookie handshake: true when ack - 1 is a cookie
 * this stack made within the last two counter steps; *mss the MSS it
 * carries. */
bool tcp_cookie_check(struct tern_stack *s, rte_be32_t laddr, rte_be32_t raddr,
		      rte_be16_t lport, rte_be16_t rport, uint32_t irs,
		      uint32_t cookie, uint16_t *mss);
uint32_t tcp_cookie_tsval(uint32_t now_ms, const struct tcp_conn *c);
void tcp_cookie_ts_opts(uint32_t tsecr, uint8_t *wscale, bool *sack);

/* tcp.c: state changes that reach the application */
void tcp_set_state(struct tern_stack *s, struct tcp_conn *c, uint8_t st);
/* The connection failed (err) or finished: the application hears it
 * once; the block goes unless it waits in TIME_WAIT. */
void tcp_conn_done(struct tern_stack *s, struct tcp_conn *c, int err);
void tcp_enter_time_wait(struct tern_stack *s, struct tcp_conn *c);
/* In-order data for the application (m data only). */
void tcp_deliver(struct tern_stack *s, struct tcp_conn *c, struct rte_mbuf *m);
void tcp_deliver_fin(struct tern_stack *s, struct tcp_conn *c);
/* The handshake of a passive open completed. */
void tcp_accepted(struct tern_stack *s, struct tcp_conn *c);
void tcp_connected(struct tern_stack *s, struct tcp_conn *c);
const struct tcp_cc_ops *tcp_cc_of(const struct tcp_cold *cold);
/* The route the connection keeps; NULL when there is none any more. */
void tcp_conn_opts_apply(struct tern_stack *s, struct tcp_conn *c,
			 const struct tern_tcp_opts *o);

#endif
