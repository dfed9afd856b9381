/* The `udp` traffic generator, on the core raw API. One instance runs on
 * one stack (one lcore); the control plane creates one per worker and
 * splits the rate. A client sends frames of `size` bytes at `rate_pps`,
 * each carrying a sequence number and its send time, and counts what
 * comes back (from an echoing peer) with round-trip times. A server
 * counts what it receives and, with `echo`, sends it back. */
#ifndef TERN_UDP_GEN_H
#define TERN_UDP_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include <tern/addr.h>
#include <tern/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tern_gen_role { TERN_GEN_CLIENT = 0, TERN_GEN_SERVER = 1 };

enum tern_gen_state {
	TERN_GEN_CREATED = 0,
	TERN_GEN_RUNNING,
	TERN_GEN_DONE,		/* count or duration reached */
	TERN_GEN_STOPPED,	/* stopped by request */
};

/* Bytes of the frame (Ethernet header to end of payload, plus the 4-byte
 * FCS the wire adds) smallest/largest accepted. */
#define TERN_UDP_GEN_MIN_SIZE 64
#define TERN_UDP_GEN_HDR_OVERHEAD (14 + 20 + 8 + 4)

struct tern_udp_gen_conf {
	enum tern_gen_role role;
	struct tern_addr local;		/* source address (an interface's) */
	uint16_t local_port;		/* 0: ephemeral (client only) */
	struct tern_addr remote;	/* client: destination */
	uint16_t remote_port;		/* client: destination port */
	uint32_t size;			/* client: frame size incl. FCS */
	uint64_t rate_pps;		/* client: packets per second (> 0) */
	uint64_t count;			/* client: stop after count; 0 = no limit */
	uint64_t duration_ns;		/* stop after this; 0 = no limit */
	bool echo;			/* server: send back what it receives */
};

struct tern_udp_gen_stats {
	uint64_t tx_pkts;
	uint64_t tx_bytes;		/* frame bytes incl. FCS */
	uint64_t tx_fail;		/* no mbuf, no route, unresolved... */
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t rx_echoes;		/* client: our own packets back */
	uint64_t rx_out_of_order;	/* client: sequence went backwards */
	uint64_t rtt_count;
	uint64_t rtt_sum_ns;
	uint64_t rtt_min_ns;		/* UINT64_MAX when none */
	uint64_t rtt_max_ns;
	uint64_t start_ns;		/* stack clock when started, 0 before */
	uint64_t end_ns;		/* when it finished, 0 while running */
	uint64_t active_ns;		/* running time over every run so far
					 * (restarts add up; pauses don't) */
	enum tern_gen_state state;
	uint16_t local_port;		/* the port it sends from / listens on */
};

struct tern_udp_gen;

/* Validates conf (-EINVAL via rte_errno on NULL return) and opens its UDP
 * pcb (EADDRINUSE). Created stopped. Runs on the stack's lcore. */
struct tern_udp_gen *tern_udp_gen_create(struct tern_stack *s,
					 const struct tern_udp_gen_conf *conf);
void tern_udp_gen_destroy(struct tern_udp_gen *g);
/* Starts (or restarts, keeping counters) at the stack clock's now. */
int tern_udp_gen_start(struct tern_udp_gen *g);
int tern_udp_gen_stop(struct tern_udp_gen *g);
/* Sends what is due now (at most a burst); returns packets sent. */
unsigned tern_udp_gen_poll(struct tern_udp_gen *g);
void tern_udp_gen_stats_get(const struct tern_udp_gen *g,
			    struct tern_udp_gen_stats *out);
/* -EINVAL with a reason in *why when conf is bad (stack not needed). */
int tern_udp_gen_conf_check(const struct tern_udp_gen_conf *conf,
			    const char **why);

#ifdef __cplusplus
}
#endif
#endif
