/* The TCP conversation fuzz harness shared by the libFuzzer target
 * (tern_fuzz_tcp) and the corpus replay in tern_unit: one input is a
 * program run against one fresh tern stack on the virtual clock whose
 * only peer (10.0.0.99, always resolved) is the input itself. EAL must be
 * running.
 *
 * Byte 0 configures the run:
 *   bits 0-1  congestion control (0 the stack's, 1 NewReno, 2 CUBIC)
 *   bit 2     tcp_no_delack
 *   bit 3     tcp_rto_min 20 ms (else 200)
 *   bit 4     tcp_syn_retries 2, tcp_retries 4 (else 6 and 15)
 *   bit 5     every third transmit burst is refused (segments lost)
 *   bit 6     the peer is not resolved and never answers ARP: frames
 *             wait for ARP and the wait times out (otherwise the peer
 *             starts resolved and answers every ARP request)
 *   bit 7     how the run ends: 0 abort everything; 1 close everything
 *             gracefully and require every connection to go away on its
 *             own while the peer stays silent
 * Then ops, each one byte (% 16) and its arguments (missing bytes read
 * as 0; at most 2000 ops):
 *   0  SEG: a segment from the peer, built around fuzzer-chosen fields:
 *      target t (bit 7 clear and connections exist: the (t & 0x7f)-th
 *      connection of the stack in table order; else the tuple of local
 *      port {80, 81, 82, 9}[t & 3] and peer port 1000 + (t >> 2 & 7)),
 *      flags f (bit 7: raw f & 0x7f; else one of 12 usual sets), seq
 *      selector and delta (base rcv_nxt / rcv_nxt + rcv_wnd / rcv_nxt - 1
 *      / 4 raw bytes; delta (int8) times 1, 64, the MSS or 32768), ack
 *      selector and delta (base snd_una / snd_nxt / snd_max / raw), the
 *      window byte, an options byte (bit 0 timestamps, bit 1 SACK blocks
 *      relative to snd_una, bit 2 SYN options MSS/WS/SACK-permitted,
 *      bit 3 raw option bytes, bit 4 an old timestamp), a length byte
 *      (< 128: bytes; else (l - 127) * 32) and a byte for the frame's
 *      shape (mbuf chain split, bad checksum, RX checksum flag good,
 *      payload of zeros; bit 5: instead, an ICMP error quoting a segment
 *      of ours whose sequence number is the ack value, bits 6-7 picking
 *      fragmentation needed (MTU: the window value), port or host
 *      unreachable, time exceeded). The payload is a pattern of the sequence
 *      number, so what the application receives can be checked.
 *   1  TIME: advance the virtual clock (< 100: ms; < 200: 50 ms steps;
 *      else seconds), running every timer at its time
 *   2  CONNECT: options, callbacks' behaviour, ports
 *   3  LISTEN on 80 or 81: options, behaviour, accept mode, backlog
 *   4  close a listener
 *   5  WRITE: tern_tcp_write of a pattern (up to 128 KiB)
 *   6  SEND by reference: one mbuf, a chain, a clone of a shared buffer
 *      (which must come back unchanged) or an empty mbuf
 *   7  CONSUME: free held received mbufs, tern_tcp_recved
 *   8  shutdown_wr   9 close   10 abort
 *   11 SETOPT: nodelay on/off, keepalive, sndbuf, flush, set_ops
 *   12 RAW TCP bytes behind valid Ethernet/IPv4 headers (checksum fixed
 *      unless bit 7 of the length byte)
 *   13 RAW frame bytes
 *   14 SOCK: the socket layer (socket/bind/listen/accept/connect/recv/
 *      send/shutdown/close/setsockopt/getsockopt/poll/readv/writev)
 *   15 HOG: take mbufs from the pool (or give them all back)
 *
 * Checked as it runs (a failure ends the run with -3 and a message):
 * every frame the stack sends is well formed with correct checksums, and
 * its ACK number and window right edge never go back; data the
 * application receives is the peer's pattern, in order, and all that
 * rcv_nxt took (nothing lost between TCP and the application); data the
 * stack sends is what the application queued, at the right stream
 * offset; callbacks follow the API (nothing after closed(), the FIN once,
 * acked <= queued, closed(0) only after close or shutdown); every
 * connection's sequence variables are ordered; a live handle stays the
 * application's.
 *
 * Returns 0; -1 when mbufs leaked (or were freed twice); -2 when
 * connections remain after the end; -3 when a check failed. The caller
 * aborts or fails. TERN_FUZZ_TRACE=1 in the environment prints each op. */
#ifndef TERN_FUZZ_TCP_H
#define TERN_FUZZ_TCP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int tern_fuzz_tcp_one(const uint8_t *data, size_t len);

/* What the runs since the last reset reached, for the corpus replay to
 * check that the seeds still drive TCP where they should. */
struct tern_fuzz_tcp_stats {
	uint32_t runs;
	uint32_t states_seen;	/* bit (1 << enum tern_tcp_state) */
	uint64_t ops;
	uint64_t segs_in;	/* segments the peer sent */
	uint64_t segs_out;	/* TCP segments the stack sent */
	uint64_t bytes_delivered;	/* to the application, checked */
	uint64_t bytes_acked;	/* the application's, acknowledged */
	uint32_t closed_err[5];	/* closed(): 0, ECONNRESET, ETIMEDOUT,
				 * ECONNREFUSED, an ICMP error's */
};
void tern_fuzz_tcp_stats_get(struct tern_fuzz_tcp_stats *out, int reset);

/* Op codes (the input's op byte % TERN_FUZZ_TCP_NOPS). */
enum {
	TERN_FZ_SEG = 0,
	TERN_FZ_TIME,
	TERN_FZ_CONNECT,
	TERN_FZ_LISTEN,
	TERN_FZ_LISTENER_CLOSE,
	TERN_FZ_WRITE,
	TERN_FZ_SEND_REF,
	TERN_FZ_CONSUME,
	TERN_FZ_SHUTDOWN,
	TERN_FZ_CLOSE,
	TERN_FZ_ABORT,
	TERN_FZ_SETOPT,
	TERN_FZ_RAW_TCP,
	TERN_FZ_RAW_FRAME,
	TERN_FZ_SOCK,
	TERN_FZ_HOG,
	TERN_FUZZ_TCP_NOPS
};

#ifdef __cplusplus
}
#endif
#endif
