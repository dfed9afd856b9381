/* TCP clients on the raw API (tern/tcp_svc.h): one connection that sends
 * bytes of the pattern and closes, or fetches a body with HTTP/1.1 GET
 * and checksums it (CRC-32) as it arrives, zero copy. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "tcp_body.h"

#define CLI_HDR_MAX 8192	/* response header bytes at most */

struct tern_tcp_cli {
	struct tern_stack *s;
	struct tern_tcp_cli_conf conf;
	struct tern_tcp_conn *c;	/* NULL once closed or aborted */
	struct tern_tcp_cli_stats st;
	struct body_src body;
	uint64_t start_ns, end_ns, conn_ns;
	uint64_t off, left;		/* send: the body still to queue */
	bool shut;			/* send: FIN queued */
	bool stalled;			/* out of mbufs: the poller retries */
	bool hdr_done;			/* http: the body has begun */
	uint16_t hlen;
	uint8_t line;			/* as the server's hdr_take */
	char hdr[CLI_HDR_MAX];
};

int tern_tcp_cli_conf_check(const struct tern_tcp_cli_conf *c,
			    const char **why)
{
	const char *r = NULL;
	size_t pl = strnlen(c->path, sizeof(c->path));
	size_t hl = strnlen(c->host, sizeof(c->host));

	if (c->mode != TERN_TCP_CLI_SEND && c->mode != TERN_TCP_CLI_HTTP_GET)
		r = "mode: must be send or http_get";
	else if (c->remote.family != TERN_AF_INET || c->remote.v4 == 0)
		r = "remote: must be an IPv4 address";
	else if (c->local.family != TERN_AF_NONE &&
		 c->local.family != TERN_AF_INET)
		r = "address: must be an IPv4 address";
	else if (c->port == 0)
		r = "port: must be 1..65535";
	else if (c->has_bytes && c->bytes > TERN_TCP_SVC_MAX_BYTES)
		r = "bytes: at most 2^40";
	else if (c->mode == TERN_TCP_CLI_SEND && !c->has_bytes)
		r = "bytes: a send client needs it";
	else if (pl == sizeof(c->path) || hl == sizeof(c->host))
		r = pl == sizeof(c->path) ? "path: too long" : "host: too long";
	else if (c->mode == TERN_TCP_CLI_SEND && (pl > 0 || hl > 0))
		r = pl > 0 ? "path: only for http_get" : "host: only for http_get";
	else if (c->mode == TERN_TCP_CLI_HTTP_GET && pl == 0 && !c->has_bytes)
		r = "path: needed without bytes (the default is /bytes/<bytes>)";
	else if (pl > 0 && c->path[0] != '/')
		r = "path: must start with /";
	if (r == NULL) {
		/* no CR, LF, space or control byte may reach the request */
		for (size_t i = 0; i < pl && r == NULL; i++)
			if ((unsigned char)c->path[i] <= ' ' ||
			    (unsigned char)c->path[i] == 0x7f)
				r = "path: no spaces or control characters";
		for (size_t i = 0; i < hl && r == NULL; i++)
			if ((unsigned char)c->host[i] <= ' ' ||
			    (unsigned char)c->host[i] == 0x7f)
				r = "host: no spaces or control characters";
	}
	if (why != NULL)
		*why = r;
	return r == NULL ? 0 : -EINVAL;
}

/* ---- outcome --------------------------------------------------------- */

static void cli_end(struct tern_tcp_cli *k, enum tern_tcp_cli_state st,
		    int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cli_end(struct tern_tcp_cli *k, enum tern_tcp_cli_state st,
		    int err, const char *fmt, ...)
{
	va_list ap;

	if (k->st.state == TERN_TCP_CLI_DONE ||
	    k->st.state == TERN_TCP_CLI_FAILED)
		return;
	k->st.state = st;
	k->st.err = err;
	k->end_ns = tern_stack_now(k->s);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(k->st.why, sizeof(k->st.why), fmt, ap);
		va_end(ap);
	}
}

/* Closes once done (FIN, or RST when it failed). */
static void cli_finish(struct tern_tcp_cli *k)
{
	struct tern_tcp_conn *c = k->c;

	if (c == NULL)
		return;
	if (k->st.state == TERN_TCP_CLI_FAILED) {
		k->c = NULL;
		tern_tcp_abort(k->s, c);
	} else {
		tern_tcp_close(k->s, c);	/* closed() follows */
	}
}

/* ---- send ------------------------------------------------------------ */

static void send_run(struct tern_tcp_cli *k)
{
	int rc = body_push(k->s, k->c, &k->body, NULL, &k->off, &k->left,
			   &k->st.tx_bytes);

	if (rc == -ENOBUFS) {
		k->stalled = true;
		return;
	}
	if (rc < 0) {
		cli_end(k, TERN_TCP_CLI_FAILED, -rc, "send failed: %s",
			strerror(-rc));
		cli_finish(k);
		return;
	}
	if (k->left == 0 && !k->shut) {
		/* the FIN follows the data; sent() keeps counting */
		k->shut = true;
		tern_tcp_shutdown_wr(k->s, k->c);
	}
	if (k->shut && k->st.acked >= k->conf.bytes) {
		cli_end(k, TERN_TCP_CLI_DONE, 0, NULL);
		cli_finish(k);
	}
}

/* ---- HTTP GET -------------------------------------------------------- */

static int http_request(struct tern_tcp_cli *k)
{
	char buf[TERN_TCP_CLI_PATH_MAX + TERN_TCP_CLI_HOST_MAX + 128];
	char host[TERN_TCP_CLI_HOST_MAX], path[48];
	const char *p = k->conf.path;
	int n;

	if (k->conf.host[0] != '\0') {
		snprintf(host, sizeof(host), "%s", k->conf.host);
	} else {
		char a[TERN_ADDR_STRLEN];
		tern_addr_fmt(&k->conf.remote, a, sizeof(a));
		if (k->conf.port == 80)
			snprintf(host, sizeof(host), "%s", a);
		else
			snprintf(host, sizeof(host), "%s:%u", a, k->conf.port);
	}
	if (p[0] == '\0') {
		snprintf(path, sizeof(path), "/bytes/%" PRIu64, k->conf.bytes);
		p = path;
	}
	n = snprintf(buf, sizeof(buf),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tern\r\n"
		     "Accept: */*\r\nConnection: close\r\n\r\n", p, host);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	int rc = tern_tcp_write(k->s, k->c, buf, (uint32_t)n);
	if (rc < 0)
		return rc;
	if (rc != n)
		return -ENOBUFS;	/* an empty queue takes 256 KiB */
	k->st.tx_bytes += (uint64_t)n;
	return 0;
}

/* Parses the response header in k->hdr; fails k when it must. */
static void http_head(struct tern_tcp_cli *k)
{
	const char *h = k->hdr, *end = k->hdr + k->hlen;
	const char *eol = memchr(h, '\n', k->hlen);
	unsigned status = 0;

	/* status-line = HTTP-version SP status-code SP [reason-phrase] */
	if (eol - h < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ' ||
	    sscanf(h + 9, "%3u", &status) != 1 || status < 100) {
		cli_end(k, TERN_TCP_CLI_FAILED, EPROTO, "not an HTTP/1.x response");
		return;
	}
	k->st.http_status = (int)status;
	for (const char *l = eol + 1; l < end;) {
		const char *le = memchr(l, '\n', (size_t)(end - l));
		const char *colon = le ? memchr(l, ':', (size_t)(le - l)) : NULL;
		if (le == NULL)
			break;
		if (colon != NULL) {
			size_t nl = (size_t)(colon - l);
			const char *val = colon + 1;
			while (val < le && (*val == ' ' || *val == '\t'))
				val++;
			if (nl == 14 && strncasecmp(l, "Content-Length", nl) == 0) {
				char *e;
				unsigned long long v = strtoull(val, &e, 10);
				if (e == val || v > INT64_MAX) {
					cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
						"bad Content-Length");
					return;
				}
				k->st.content_length = (int64_t)v;
			} else if (nl == 17 &&
				   strncasecmp(l, "Transfer-Encoding", nl) == 0) {
				cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
					"transfer codings (chunked) are not supported");
				return;
			}
		}
		l = le + 1;
	}
	if (status != 200) {
		cli_end(k, TERN_TCP_CLI_FAILED, EPROTO, "HTTP status %u", status);
		return;
	}
	if (k->conf.has_bytes && k->st.content_length >= 0 &&
	    (uint64_t)k->st.content_length != k->conf.bytes)
		cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
			"Content-Length %" PRId64 ", expected %" PRIu64,
			k->st.content_length, k->conf.bytes);
}

static void body_bytes(struct tern_tcp_cli *k, const char *p, uint32_t n)
{
	if (k->st.content_length >= 0) {
		uint64_t room = (uint64_t)k->st.content_length - k->st.body_bytes;
		if (n > room)
			n = (uint32_t)room;	/* more than announced: ignored */
	}
	k->st.crc32 = tern_tcp_crc32(k->st.crc32, p, n);
	k->st.body_bytes += n;
}

/* Header bytes to k->hdr, then the body through the checksum. */
static void http_rx(struct tern_tcp_cli *k, struct rte_mbuf *m)
{
	for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		const char *p = rte_pktmbuf_mtod(seg, const char *);
		uint32_t n = seg->data_len, i = 0;

		for (; !k->hdr_done && i < n; i++) {
			char ch = p[i];
			if (k->hlen == CLI_HDR_MAX) {
				cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
					"response header longer than %u bytes",
					CLI_HDR_MAX);
				return;
			}
			k->hdr[k->hlen++] = ch;
			if (ch == '\n') {
				if (k->line < 2) {
					k->hdr_done = true;
					http_head(k);
					if (k->st.state == TERN_TCP_CLI_FAILED)
						return;
				}
				k->line = 0;
			} else {
				k->line = k->line == 0 && ch == '\r' ? 1 : 2;
			}
		}
		if (k->hdr_done && i < n)
			body_bytes(k, p + i, n - i);
	}
	if (k->hdr_done && k->st.content_length >= 0 &&
	    k->st.body_bytes == (uint64_t)k->st.content_length)
		cli_end(k, TERN_TCP_CLI_DONE, 0, NULL);
}

/* ---- callbacks ------------------------------------------------------- */

static void cli_connected(void *arg, struct tern_tcp_conn *c)
{
	struct tern_tcp_cli *k = arg;

	(void)c;
	k->st.state = TERN_TCP_CLI_RUNNING;
	k->conn_ns = tern_stack_now(k->s);
	if (k->conf.mode == TERN_TCP_CLI_SEND) {
		send_run(k);
		return;
	}
	int rc = http_request(k);
	if (rc < 0) {
		cli_end(k, TERN_TCP_CLI_FAILED, -rc, "cannot send the request: %s",
			strerror(-rc));
		cli_finish(k);
	}
}

static void cli_recv(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m)
{
	struct tern_tcp_cli *k = arg;
	bool running = k->st.state == TERN_TCP_CLI_RUNNING;

	(void)c;
	if (m == NULL) {
		/* the peer's FIN */
		if (!running)
			return;
		if (k->conf.mode == TERN_TCP_CLI_SEND)
			return;		/* it may still read what we send */
		if (!k->hdr_done)
			cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
				"closed by the peer before a response");
		else if (k->st.content_length < 0)
			cli_end(k, TERN_TCP_CLI_DONE, 0, NULL);	/* EOF ends it */
		else
			cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
				"closed by the peer after %" PRIu64 " of %" PRId64
				" body bytes", k->st.body_bytes,
				k->st.content_length);
		cli_finish(k);
		return;
	}
	k->st.rx_bytes += m->pkt_len;
	if (running && k->conf.mode == TERN_TCP_CLI_HTTP_GET) {
		http_rx(k, m);
		if (k->st.state != TERN_TCP_CLI_RUNNING)
			cli_finish(k);
	}
	rte_pktmbuf_free(m);
}

static void cli_sent(void *arg, struct tern_tcp_conn *c, uint32_t acked)
{
	struct tern_tcp_cli *k = arg;

	(void)c;
	k->st.acked += acked;
	if (k->st.state == TERN_TCP_CLI_RUNNING &&
	    k->conf.mode == TERN_TCP_CLI_SEND)
		send_run(k);
}

static const char *err_text(int err)
{
	switch (err) {
	case ECONNREFUSED: return "connection refused";
	case ECONNRESET: return "connection reset by the peer";
	case ETIMEDOUT: return "timed out";
	case EPIPE: return "broken pipe";
	}
	return strerror(err);
}

static void cli_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct tern_tcp_cli *k = arg;

	(void)c;
	k->c = NULL;
	if (err != 0)
		cli_end(k, TERN_TCP_CLI_FAILED, err, "%s", err_text(err));
	else
		cli_end(k, TERN_TCP_CLI_FAILED, EPROTO,
			"closed before the transfer completed");
}

static const struct tern_tcp_ops cli_ops = {
	.connected = cli_connected,
	.recv = cli_recv,
	.sent = cli_sent,
	.closed = cli_closed,
};

/* ---- life cycle ------------------------------------------------------ */

struct tern_tcp_cli *tern_tcp_cli_create(struct tern_stack *s,
					 const struct tern_tcp_cli_conf *conf)
{
	if (s == NULL || conf == NULL ||
	    tern_tcp_cli_conf_check(conf, NULL) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_tcp_cli *k = rte_zmalloc("tern_tcp_cli", sizeof(*k), 0);
	if (k == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	k->s = s;
	k->conf = *conf;
	k->st.state = TERN_TCP_CLI_CONNECTING;
	k->st.content_length = -1;
	k->start_ns = tern_stack_now(s);
	if (conf->mode == TERN_TCP_CLI_SEND) {
		k->left = conf->bytes;
		if (body_src_init(&k->body) < 0) {
			rte_free(k);
			rte_errno = ENOMEM;
			return NULL;
		}
	}

	struct tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	cc.local = conf->local;
	cc.remote = conf->remote;
	cc.rport = conf->port;
	cc.ops = &cli_ops;
	cc.arg = k;
	k->c = tern_tcp_connect(s, &cc);
	if (k->c == NULL) {
		int err = rte_errno;
		body_src_release(&k->body);
		rte_free(k);
		rte_errno = err;
		return NULL;
	}
	struct tern_tcp_info ti;
	if (tern_tcp_info_get(s, k->c, &ti) == 0)
		k->st.local_port = ti.lport;
	return k;
}

void tern_tcp_cli_destroy(struct tern_tcp_cli *k)
{
	if (k == NULL)
		return;
	if (k->c != NULL)
		tern_tcp_abort(k->s, k->c);
	body_src_release(&k->body);
	rte_free(k);
}

unsigned tern_tcp_cli_poll(struct tern_tcp_cli *k)
{
	if (!k->stalled || k->c == NULL)
		return 0;
	k->stalled = false;
	send_run(k);
	return 1;
}

void tern_tcp_cli_stats_get(const struct tern_tcp_cli *k,
			    struct tern_tcp_cli_stats *out)
{
	*out = k->st;
	uint64_t end = k->end_ns ? k->end_ns : tern_stack_now(k->s);
	out->elapsed_ns = end - k->start_ns;
	out->connect_ns = k->conn_ns ? k->conn_ns - k->start_ns : 0;
}
