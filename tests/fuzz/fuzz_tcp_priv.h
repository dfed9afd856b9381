/* What the pieces of the TCP conversation harness share (fuzz_tcp.h is
 * the entry and the input's layout):
 *   fuzz_tcp.c        the run: the stack, the program's decoder and op
 *                     dispatch, the virtual clock, the end and its checks
 *   fuzz_tcp_peer.c   the peer: segments built around the connection's
 *                     sequence numbers, ICMP errors, raw bytes, ARP answers
 *   fuzz_tcp_app.c    the application: its connections (slots), the
 *                     callbacks and the tern_tcp_* calls
 *   fuzz_tcp_sock.c   the application through the socket layer
 *   fuzz_tcp_check.c  the checks (every frame sent, every connection's
 *                     variables) and the trace */
#ifndef TERN_FUZZ_TCP_PRIV_H
#define TERN_FUZZ_TCP_PRIV_H

#include "fuzz_tcp.h"
#include "fuzz_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <tern/sock.h>
#include <tern/stack.h>

#define POOL_SIZE 2000	/* ring room above it (2047): double frees show */
#define FRAME_MAX 8192
#define MAX_OPS 2000
#define NSLOT 8		/* connections the application holds */
#define NLST 2		/* listeners (ports 80 and 81) */
#define NSOCK 8		/* socket descriptors */
#define HOLD_MAX 32	/* received mbufs a connection holds */
#define MAX_CONNS 16	/* the stack's table */
#define SHARED_LEN 1900	/* the buffer send-by-reference clones */
#define PAT2_PERIOD 251

static const uint8_t mac_us[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_peer[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint32_t ip_us = 0x0a000001;   /* 10.0.0.1 */
static const uint32_t ip_peer = 0x0a000063; /* 10.0.0.99 */

enum {
	BEH_RX_FREE = 0,
	BEH_RX_HOLD = 1,
	BEH_RX_ECHO = 2,
	BEH_RX_REPLY = 3,
	BEH_CLOSE_ON_FIN = 1 << 2,
	BEH_SHUT_ON_FIN = 1 << 3,
	BEH_ABORT_ON_DATA = 1 << 4,
	BEH_WRITE_ON_SENT = 1 << 5,
	BEH_CLOSE_AT_START = 1 << 6,
	BEH_CLOSE_ON_DATA = 1 << 7,
};

struct fz;

/* A connection the application holds. */
struct slot {
	struct fz *z;
	struct tern_tcp_conn *c;	/* NULL: free */
	uint8_t beh;
	bool deferred;		/* accepted, ops without recv until set_ops */
	bool rx_base_known, fin_told, app_closed, shut;
	uint16_t lport, pport;	/* the tuple's ports */
	bool tx_unchecked;	/* sent data is not the pattern (echo) */
	uint32_t rx_base, rx_got;	/* seq of stream offset 0, bytes got */
	uint32_t tx_base, tx_queued;	/* seq of stream offset 0, bytes
					 * the application queued */
	uint32_t tx_pending;	/* being queued by the call under way
				 * (which may send some at once) */
	bool sent_any;		/* the stack sent an ACK on it: */
	uint32_t sent_ack;	/* the highest ACK number */
	uint32_t sent_edge;	/* the right edge of the highest window */
	uint64_t acked;
	struct rte_mbuf *held[HOLD_MAX];
	unsigned nheld;
};

struct lst {
	struct fz *z;
	struct tern_tcp_listener *l;
	uint8_t beh, accept_mode;
};

struct fz {
	struct tern_stack *s;
	struct rte_mempool *mp;
	struct tern_clock clk;
	struct tern_socks *socks;
	const uint8_t *p;
	size_t n;
	bool trace;
	bool refuse;
	unsigned bursts;
	bool tainted;		/* raw bytes went in: data checks are off */
	bool arp_silent;	/* the peer never answers ARP */
	bool arp_due;		/* the stack asked for the peer's MAC */
	int fail;		/* first failed check, 0 none */
	struct slot slot[NSLOT];
	struct lst lst[NLST];
	uint32_t pisn[8];	/* the peer's ISN per peer port */
	uint32_t peer_ts;	/* the peer's timestamp clock */
	uint32_t last_tsval;	/* the stack's latest TSval */
	struct rte_mbuf *shared;	/* cloned by send-by-reference */
	struct rte_mbuf **hog;
	unsigned nhog;
	struct tern_tcp_conn *list[MAX_CONNS * 2];
	unsigned nlist;
};

/* What the runs reached (fuzz_tcp.c; tern_fuzz_tcp_stats_get). */
extern struct tern_fuzz_tcp_stats fz_stats;

/* ---- input ------------------------------------------------------------- */

static inline uint8_t get8(struct fz *z)
{
	if (z->n == 0)
		return 0;
	z->n--;
	return *z->p++;
}

static inline uint32_t get32(struct fz *z)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | get8(z);
	return v;
}

/* A length byte: < 64 bytes, < 128 64-byte steps, else KiB steps. */
static inline uint32_t len_big(uint8_t l)
{
	return l < 0x40 ? l : l < 0x80 ? (uint32_t)(l - 0x3f) * 64 :
	       (uint32_t)(l - 0x7f) * 1024;
}

/* ---- patterns ---------------------------------------------------------- */

/* The peer's data: the byte at sequence number seq. */
static inline uint8_t pat1(uint32_t seq)
{
	return (uint8_t)((seq % 241u) ^ 0x5c);
}

/* The application's data: the byte at stream offset off. */
static inline uint8_t pat2(uint32_t off)
{
	return (uint8_t)(off % PAT2_PERIOD);
}

static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* ---- fuzz_tcp_check.c: checks and trace -------------------------------- */

/* A failed check: the first one's message, and the run ends with -3. */
void fz_fail(struct fz *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line of the trace (TERN_FUZZ_TRACE=1), stamped with the clock. */
void fz_trace(struct fz *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* With the trace on: the stack's counters that moved. */
void fz_trace_counters(struct fz *z);
/* The interface's transmit: every frame checked, then freed. */
uint16_t fz_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n);
/* The stack's connections into z->list, in table order. */
void fz_list_conns(struct fz *z);
/* After every op: every connection's variables, every slot's. */
void fz_check_all(struct fz *z);

/* ---- fuzz_tcp_peer.c: the peer ----------------------------------------- */

/* The answer to the stack's ARP request for the peer, if one is due
 * (outside the transmit callback: the stack is not re-entered). */
void fz_arp_answer(struct fz *z);
/* SEG, RAW_TCP, RAW_FRAME (fuzz_tcp.h has their arguments). */
void fz_op_seg(struct fz *z);
void fz_op_raw_tcp(struct fz *z);
void fz_op_raw_frame(struct fz *z);

/* ---- fuzz_tcp_app.c: the application ----------------------------------- */

/* The callbacks of a slot whose application reads. */
extern const struct tern_tcp_ops fz_ops_full;
/* Frees the received mbufs the slot holds. */
void fz_slot_drop_held(struct slot *sl);
/* The slot is over: closed() came or the application aborted. */
void fz_slot_end(struct slot *sl);
/* tern_tcp_shutdown_wr, tern_tcp_close, tern_tcp_abort on the slot's
 * connection (the ops SHUTDOWN, CLOSE, ABORT and the end). */
void fz_shut_conn(struct fz *z, struct slot *sl);
void fz_close_conn(struct fz *z, struct slot *sl);
void fz_abort_conn(struct fz *z, struct slot *sl);
/* CONNECT, LISTEN, LISTENER_CLOSE, WRITE, SEND_REF, CONSUME, SETOPT;
 * fz_op_on_slot reads a slot byte and calls fn on that slot. */
void fz_op_connect(struct fz *z);
void fz_op_listen(struct fz *z);
void fz_op_listener_close(struct fz *z);
void fz_op_write(struct fz *z);
void fz_op_send_ref(struct fz *z);
void fz_op_consume(struct fz *z);
void fz_op_on_slot(struct fz *z, const char *name,
		   void (*fn)(struct fz *, struct slot *));
void fz_op_setopt(struct fz *z);

/* ---- fuzz_tcp_sock.c: the socket layer --------------------------------- */

/* SOCK: one call of the socket layer on one of NSOCK descriptors. */
void fz_op_sock(struct fz *z);

#endif
