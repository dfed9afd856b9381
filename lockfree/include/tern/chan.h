/* Cross-lcore message channels (DESIGN rule 7). Each lcore owns one
 * channel, a multi-producer (RTS: a descheduled producer stalls no other)
 * single-consumer rte_ring of fixed-size messages: the control thread (or another lcore) posts a function to run
 * on that lcore, optionally waiting for its completion. The receiving
 * lcore runs messages between bursts, so it never shares state. */
#ifndef TERN_CHAN_H
#define TERN_CHAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_chan;
struct tern_msg;

/* Runs on the receiving lcore with that lcore's context (the one given to
 * tern_chan_drain) and the message; its return value completes a call. */
typedef int (*tern_msg_fn)(void *lcore_ctx, struct tern_msg *msg);

#define TERN_MSG_DATA 40

struct tern_completion;

struct tern_msg {
	tern_msg_fn fn;
	void *arg;
	struct tern_completion *done;	/* NULL for posts */
	uint8_t data[TERN_MSG_DATA];	/* small payload carried by value */
};

/* size: ring slots (rounded up to a power of two). NULL with rte_errno. */
struct tern_chan *tern_chan_create(const char *name, unsigned size,
				   int socket);
/* Runs nothing; pending messages are dropped. */
void tern_chan_free(struct tern_chan *c);

/* Fire and forget: copies msg into the ring. -ENOBUFS when full (the
 * caller counts it). Safe from any thread. */
int tern_chan_post(struct tern_chan *c, const struct tern_msg *msg);

/* Runs fn(lcore_ctx, msg) on the channel's lcore and waits up to
 * timeout_ms for it to finish: returns fn's result, -ENOBUFS when the ring
 * is full (or every completion of the channel's pool is in flight: ring
 * size + 64), -ETIMEDOUT when the lcore did not answer (the message may
 * still run later; its arg must then stay valid, so callers pass
 * long-lived args or wait). Control thread only: it sleeps while waiting. */
int tern_chan_call(struct tern_chan *c, tern_msg_fn fn, void *arg,
		   unsigned timeout_ms);
/* tern_chan_call() with len (<= TERN_MSG_DATA, else -EINVAL) bytes of
 * data copied into the message: a request that needs nothing else stays
 * valid however late the lcore runs it. */
int tern_chan_call_data(struct tern_chan *c, tern_msg_fn fn, void *arg,
			const void *data, size_t len, unsigned timeout_ms);

/* Receiving lcore: runs up to max pending messages; returns how many. */
unsigned tern_chan_drain(struct tern_chan *c, void *lcore_ctx, unsigned max);

/* Completions not yet returned to the channel's pool: calls being waited
 * for plus timed-out calls whose message has not run yet. 0 when idle;
 * tests use it as a leak check. */
unsigned tern_chan_calls_in_flight(const struct tern_chan *c);

#ifdef __cplusplus
}
#endif
#endif
