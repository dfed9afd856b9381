/* TCP: the raw callback API on one stack (mbufs in, mbufs out), what
 * generators and the socket layer build on. Included by <tern/stack.h>.
 *
 * A connection is a handle into the stack's table (struct tern_tcp_conn
 * is opaque). The application learns what happens through a small ops
 * table shared by many connections (one per generator, say) and a per-
 * connection argument:
 *
 * - connected: an active open reached ESTABLISHED;
 * - recv: in-order data, as an mbuf chain the callback owns (data only,
 *   no headers); m == NULL once, when the peer's FIN arrives (end of
 *   stream: no more recv after it);
 * - sent: the peer acknowledged bytes; send space grew;
 * - closed: the connection left the application, err 0 after a close the
 *   application asked for (the last callback; the handle is then
 *   invalid), or ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE when it
 *   failed (also final); a RST in CLOSE-WAIT (the peer had finished
 *   sending) is EPIPE, as Linux reports it; EHOSTUNREACH or ENETUNREACH
 *   when an ICMP error ends a connection attempt (RFC 1122 4.2.3.9, as
 *   Linux).
 *
 * Passive opens: a listener's accept callback is given each connection
 * when its handshake completes (RFC 9293 3.5: SYN-RECEIVED -> ESTABLISHED)
 * and sets the connection's ops with tern_tcp_set_ops(); until it does,
 * data that arrives is queued (and the window shrinks), never lost.
 *
 * Errors follow the project's convention: int functions return 0 or
 * -errno; constructors return NULL and set rte_errno. */
#ifndef TERN_TCP_H
#define TERN_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <tern/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;
struct tern_tcp_conn;
struct tern_tcp_listener;

/* RFC 9293 3.3.2, in the order of the state diagram. */
enum tern_tcp_state {
	TERN_TCP_CLOSED = 0,
	TERN_TCP_LISTEN,
	TERN_TCP_SYN_SENT,
	TERN_TCP_SYN_RECEIVED,
	TERN_TCP_ESTABLISHED,
	TERN_TCP_FIN_WAIT_1,
	TERN_TCP_FIN_WAIT_2,
	TERN_TCP_CLOSE_WAIT,
	TERN_TCP_CLOSING,
	TERN_TCP_LAST_ACK,
	TERN_TCP_TIME_WAIT,
	TERN_TCP_NSTATES
};

/* "ESTABLISHED", ... */
const char *tern_tcp_state_name(enum tern_tcp_state st);

struct tern_tcp_ops {
	void (*connected)(void *arg, struct tern_tcp_conn *c);
	void (*recv)(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m);
	void (*sent)(void *arg, struct tern_tcp_conn *c, uint32_t acked);
	void (*closed)(void *arg, struct tern_tcp_conn *c, int err);
};

/* Per-connection options; zero means the stack's default. */
struct tern_tcp_opts {
	uint32_t sndbuf;	/* bytes queued unacknowledged at most;
				 * 0 = 256 KiB */
	uint32_t rcvbuf;	/* receive window (and out-of-order bytes
				 * kept); 0 = 256 KiB */
	uint16_t mss;		/* clamp of the MSS we announce; 0 = the
				 * interface MTU's */
	bool nodelay;		/* Nagle off (RFC 896 / 1122 4.2.3.4) */
	bool no_sack;		/* do not offer SACK */
	bool no_wscale;		/* do not offer window scaling */
	bool no_timestamps;	/* do not offer timestamps */
	bool manual_window;	/* the receive window opens only when the
				 * application calls tern_tcp_recved() */
	bool rst_on_close;	/* close() aborts with RST, as traffic
				 * generators do: no FIN, no TIME_WAIT */
	uint8_t cc;		/* enum tern_tcp_cc; 0 = the stack's */
	uint8_t syn_retries;	/* SYN (or SYN-ACK) retransmissions before
				 * giving up; 0 = the stack's */
	/* Keepalive (RFC 1122 4.2.3.6): off when keepidle_s is 0. */
	uint32_t keepidle_s;
	uint32_t keepintvl_s;	/* 0 = 75 */
	uint32_t keepcnt;	/* 0 = 9 */
};

enum tern_tcp_cc {
	TERN_TCP_CC_DEFAULT = 0,
	TERN_TCP_CC_NEWRENO,
	TERN_TCP_CC_CUBIC,
};

struct tern_tcp_connect_conf {
	struct tern_addr local;	/* family NONE: the route's source */
	uint16_t lport;		/* 0: an ephemeral port whose replies hash
				 * to this stack's queue (tern/rss.h) */
	struct tern_addr remote;
	uint16_t rport;
	const struct tern_tcp_ops *ops;
	void *arg;
	struct tern_tcp_opts opts;
};

/* Active open (RFC 9293 3.10.1): sends a SYN. NULL with rte_errno
 * EINVAL (bad conf), EADDRNOTAVAIL (local is not ours), EADDRINUSE (the
 * 4-tuple is taken, or no ephemeral port left), EHOSTUNREACH (no route),
 * ENOSPC (connection table full). */
struct tern_tcp_conn *tern_tcp_connect(struct tern_stack *s,
				       const struct tern_tcp_connect_conf *cc);

/* A new connection completed its handshake on l; the callback sets its
 * ops (tern_tcp_set_ops) or closes it. */
typedef void (*tern_tcp_accept_fn)(void *arg, struct tern_tcp_listener *l,
				   struct tern_tcp_conn *c);

struct tern_tcp_listen_conf {
	struct tern_addr local;	/* family NONE: every address of ours */
	uint16_t port;
	uint32_t backlog;	/* handshakes in progress at most; 0 = 1024 */
	tern_tcp_accept_fn accept;
	void *arg;
	struct tern_tcp_opts opts;	/* given to accepted connections */
};

/* NULL with rte_errno EINVAL, EADDRINUSE, ENOSPC. */
struct tern_tcp_listener *tern_tcp_listen(struct tern_stack *s,
					  const struct tern_tcp_listen_conf *lc);
/* Stops listening; handshakes in progress are reset, accepted
 * connections live on. */
void tern_tcp_listener_close(struct tern_stack *s, struct tern_tcp_listener *l);

/* Data (and the FIN) that arrived before the ops were set is handed to
 * ops->recv now. 0, -EINVAL (no such connection), or -ENOSPC: a stack
 * keeps up to 255 distinct ops tables (a connection holds a one-byte
 * index, not a pointer; tables are meant to be static), and this one
 * would be the 256th. tern_tcp_connect fails the same way, rte_errno
 * ENOSPC. */
int tern_tcp_set_ops(struct tern_stack *s, struct tern_tcp_conn *c,
		     const struct tern_tcp_ops *ops, void *arg);
void *tern_tcp_arg(const struct tern_tcp_conn *c);

/* Queues m (a chain of data; direct, indirect or external mbufs, which
 * the stack never writes: it sends clones) for sending. Takes m and
 * returns 0, or returns -EAGAIN (not enough send space: m is not taken),
 * -ENOTCONN (not yet or no longer able to send: m is not taken), -EPIPE
 * (the write side is shut). Sends when the window allows. */
int tern_tcp_send(struct tern_stack *s, struct tern_tcp_conn *c,
		  struct rte_mbuf *m);
/* Copies up to len bytes into mbufs of the stack's pool and queues them;
 * returns the bytes taken (0 when no space), or -errno as above
 * (-ENOBUFS when no mbuf). */
int tern_tcp_write(struct tern_stack *s, struct tern_tcp_conn *c,
		   const void *buf, uint32_t len);
/* Bytes tern_tcp_send() would take now. */
uint32_t tern_tcp_send_space(const struct tern_tcp_conn *c);
/* Sends what is queued now, Nagle aside (a "push"). */
void tern_tcp_flush(struct tern_stack *s, struct tern_tcp_conn *c);
/* With manual_window: the application consumed len bytes. */
void tern_tcp_recved(struct tern_stack *s, struct tern_tcp_conn *c,
		     uint32_t len);

/* Half-close: FIN after what is queued (RFC 9293 3.10.4). -ENOTCONN. */
int tern_tcp_shutdown_wr(struct tern_stack *s, struct tern_tcp_conn *c);
/* Close: the application is done with c. FIN after what is queued (or a
 * RST with rst_on_close, or when received data was left unread, RFC 1122
 * 4.2.2.13); the stack finishes the close on its own and calls closed(0)
 * when it is done (or closed(err) if it fails first). */
int tern_tcp_close(struct tern_stack *s, struct tern_tcp_conn *c);
/* Sends a RST and frees c now; no callback follows. */
void tern_tcp_abort(struct tern_stack *s, struct tern_tcp_conn *c);

/* Options that change on a live connection. */
void tern_tcp_set_nodelay(struct tern_stack *s, struct tern_tcp_conn *c,
			  bool on);
/* idle_s 0: keepalive off. intvl_s/cnt 0: 75 s / 9 probes. */
void tern_tcp_set_keepalive(struct tern_stack *s, struct tern_tcp_conn *c,
			    uint32_t idle_s, uint32_t intvl_s, uint32_t cnt);
void tern_tcp_set_sndbuf(struct tern_tcp_conn *c, uint32_t bytes);

struct tern_tcp_info {
	uint8_t state;		/* enum tern_tcp_state */
	struct tern_addr local, remote;
	uint16_t lport, rport;
	uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
	uint32_t cwnd, ssthresh;	/* bytes */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint16_t mss;		/* the send MSS */
	uint8_t snd_wscale, rcv_wscale;	/* 0xff: not negotiated */
	bool sack, timestamps;
	uint8_t cc;		/* enum tern_tcp_cc */
	uint32_t send_queued;	/* bytes queued, unacknowledged included */
	/* bytes_sent: data bytes put on the wire, sent again included
	 * (Linux's tcpi_bytes_sent); bytes_retrans: those sent again
	 * (saturates at 2^32 - 1) */
	uint64_t bytes_sent, bytes_acked, bytes_received;
	uint32_t bytes_retrans;
	uint32_t retransmits;	/* segments sent again, in total */
	uint32_t backoff;	/* consecutive RTO expiries */
	uint16_t rcv_mss;	/* the MSS we announced */
	uint32_t unacked;	/* bytes in flight (snd_max - snd_una) */
};

int tern_tcp_info_get(const struct tern_stack *s, const struct tern_tcp_conn *c,
		      struct tern_tcp_info *out);
enum tern_tcp_state tern_tcp_state(const struct tern_tcp_conn *c);

/* Walks every connection (listeners aside) in table order; fn returns
 * non-zero to stop. Returns how many were visited. */
uint32_t tern_tcp_foreach(struct tern_stack *s,
			  int (*fn)(void *arg, struct tern_tcp_conn *c),
			  void *arg);
/* Connections in use (every state but CLOSED). */
uint32_t tern_tcp_count(const struct tern_stack *s);

/* For tests: every ISN the stack picks from now on is RFC 6528's
 * M + F(4-tuple, secret) plus offset (0: none, the default). A test reads
 * the ISN a tuple gets at an instant, then sets the offset that moves it
 * where it wants it, e.g. just below 2^32 to send across the wrap. */
void tern_tcp_set_isn_offset(struct tern_stack *s, uint32_t offset);

/* What TCP set aside for connections when the stack was made: every one
 * of tcp_max_conns slots is allocated up front (a control block in two
 * parts, a share of the 4-tuple table, the pool of on-demand blocks), so holding
 * a connection allocates nothing more (data in flight aside). */
struct tern_tcp_mem {
	uint32_t slots;		/* tcp_max_conns */
	uint32_t hot, cold;	/* bytes of a block's two parts */
	uint32_t tab_slots;	/* 4-tuple table entries (4 bytes each) */
	uint64_t bytes;		/* all of the above, for every slot */
	uint32_t routes;	/* route entries in use: connections to one
				 * destination (from one source) share one */
	uint32_t ext;		/* bytes of an on-demand block */
	uint32_t ext_blocks;	/* the pool (tern_stack_conf.tcp_ext_blocks) */
	uint32_t ext_used;	/* blocks connections hold now */
};
void tern_tcp_mem_get(const struct tern_stack *s, struct tern_tcp_mem *out);

#ifdef __cplusplus
}
#endif
#endif
