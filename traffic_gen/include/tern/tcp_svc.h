/* Minimal TCP services on the core raw API, for interoperability tests
 * against other stacks: servers that discard, echo, or answer HTTP/1.1
 * GET with a body of N bytes, and clients that send N bytes or fetch a
 * body over HTTP/1.1 and checksum it. One instance runs on one stack
 * (one lcore); the control plane creates a server on every worker and a
 * client on one.
 *
 * Bodies (what the HTTP server answers, what the send client sends) are
 * a deterministic pattern, so a peer can check them: byte i of a body is
 *
 *     k = i mod 65521;  byte = ((k * 2654435761) mod 2^32) >> 24
 *
 * (tern_tcp_pattern_byte). 65521 is prime, so no segment or chunk size
 * lines up with the period. The bytes are sent by reference from one
 * read-only buffer per instance (DESIGN: a connection owns no send
 * buffer); receivers checksum with CRC-32 (zlib's crc32(), the same as
 * Python's zlib.crc32 and gzip's trailer). */
#ifndef TERN_TCP_SVC_H
#define TERN_TCP_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tern/addr.h>
#include <tern/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_TCP_PATTERN_PERIOD 65521u
/* The largest body a service serves or a client sends (2^40 bytes). */
#define TERN_TCP_SVC_MAX_BYTES (1ull << 40)

/* Byte off of every body. */
uint8_t tern_tcp_pattern_byte(uint64_t off);
/* dst gets the len bytes of the pattern from off. */
void tern_tcp_pattern_fill(void *dst, uint64_t off, size_t len);
/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32(): start with 0). */
uint32_t tern_tcp_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- servers --------------------------------------------------------- */

enum tern_tcp_svc_kind {
	TERN_TCP_SVC_DISCARD = 0,	/* reads and drops (RFC 863) */
	TERN_TCP_SVC_ECHO,		/* sends back what it reads (RFC 862) */
	TERN_TCP_SVC_HTTP,		/* HTTP/1.1 GET/HEAD, keep-alive */
};

struct tern_tcp_svc_conf {
	enum tern_tcp_svc_kind kind;
	struct tern_addr local;		/* family NONE: every address of ours */
	uint16_t port;
	/* http: the body length of any path but /bytes/N (which asks for N
	 * bytes); without it such paths are 404 */
	bool has_bytes;
	uint64_t bytes;
	uint32_t max_conns;		/* open at once; 0 = 1024 */
};

struct tern_tcp_svc_stats {
	uint64_t accepted;		/* connections taken */
	uint64_t refused;		/* reset at once: max_conns open */
	uint64_t closed;		/* ended by a close */
	uint64_t failed;		/* ended by a reset or a timeout */
	uint64_t active;		/* open now */
	uint64_t rx_bytes;		/* data read */
	uint64_t tx_bytes;		/* data queued for sending */
	uint64_t requests;		/* http: requests parsed */
	uint64_t responses_2xx;
	uint64_t responses_4xx;		/* bad request, not found, ... */
};

struct tern_tcp_svc;

/* -EINVAL with a reason ("field: ...") in *why when conf is bad. */
int tern_tcp_svc_conf_check(const struct tern_tcp_svc_conf *conf,
			    const char **why);
/* Listens (on the stack's lcore). NULL with rte_errno: EINVAL, EADDRINUSE
 * (a listener has the port), ENOSPC (listener table full), ENOMEM. */
struct tern_tcp_svc *tern_tcp_svc_create(struct tern_stack *s,
					 const struct tern_tcp_svc_conf *conf);
/* Stops listening and resets every connection it has open. */
void tern_tcp_svc_destroy(struct tern_tcp_svc *v);
/* Retries connections that could not get an mbuf; returns work done. */
unsigned tern_tcp_svc_poll(struct tern_tcp_svc *v);
void tern_tcp_svc_stats_get(const struct tern_tcp_svc *v,
			    struct tern_tcp_svc_stats *out);

/* ---- clients --------------------------------------------------------- */

enum tern_tcp_cli_mode {
	TERN_TCP_CLI_SEND = 0,		/* send bytes, then close */
	TERN_TCP_CLI_HTTP_GET,		/* GET path, checksum the body */
};

enum tern_tcp_cli_state {
	TERN_TCP_CLI_CONNECTING = 0,	/* SYN sent */
	TERN_TCP_CLI_RUNNING,		/* connected, transferring */
	TERN_TCP_CLI_DONE,		/* every byte acknowledged / the
					 * whole body received */
	TERN_TCP_CLI_FAILED,		/* see err and why */
};

#define TERN_TCP_CLI_PATH_MAX 1024	/* with the NUL */
#define TERN_TCP_CLI_HOST_MAX 256

struct tern_tcp_cli_conf {
	enum tern_tcp_cli_mode mode;
	struct tern_addr local;		/* family NONE: the route's source */
	struct tern_addr remote;
	uint16_t port;
	/* send: the bytes to send; http_get: the body length expected
	 * (a different Content-Length fails), and the default path */
	bool has_bytes;
	uint64_t bytes;
	char path[TERN_TCP_CLI_PATH_MAX];	/* "" = /bytes/<bytes> */
	char host[TERN_TCP_CLI_HOST_MAX];	/* "" = remote[:port] */
};

struct tern_tcp_cli_stats {
	enum tern_tcp_cli_state state;
	int err;			/* errno of a failure, 0 */
	char why[96];			/* what failed, "" */
	uint16_t local_port;
	uint64_t tx_bytes;		/* data queued (request included) */
	uint64_t acked;			/* data the peer acknowledged */
	uint64_t rx_bytes;		/* data received (headers included) */
	uint64_t body_bytes;		/* http: body bytes received */
	int64_t content_length;		/* http: -1 when not (yet) known */
	int http_status;		/* 0 until the status line came */
	uint32_t crc32;			/* of the body so far */
	uint64_t elapsed_ns;		/* start to done/failed, or to now */
	uint64_t connect_ns;		/* start to connected, 0 before */
};

struct tern_tcp_cli;

int tern_tcp_cli_conf_check(const struct tern_tcp_cli_conf *conf,
			    const char **why);
/* Connects at once (on the stack's lcore). NULL with rte_errno: EINVAL,
 * EHOSTUNREACH (no route), EADDRNOTAVAIL, EADDRINUSE (no port left),
 * ENOSPC (connection table full), ENOMEM. */
struct tern_tcp_cli *tern_tcp_cli_create(struct tern_stack *s,
					 const struct tern_tcp_cli_conf *conf);
/* Resets the connection when it is still open. */
void tern_tcp_cli_destroy(struct tern_tcp_cli *c);
unsigned tern_tcp_cli_poll(struct tern_tcp_cli *c);
void tern_tcp_cli_stats_get(const struct tern_tcp_cli *c,
			    struct tern_tcp_cli_stats *out);

#ifdef __cplusplus
}
#endif
#endif
