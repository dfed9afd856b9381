/* TCP servers on the raw API: discard, echo, and HTTP/1.1 with bodies of
 * the pattern (tern/tcp_svc.h).
 *
 * Echo and HTTP read with a manual window (tern_tcp_recved): what arrives
 * waits in the connection's byte queue until it is consumed, so a peer
 * that sends faster than we can answer (a pipelining HTTP client, an echo
 * peer that does not read) meets a closed window, never a growing
 * buffer. An HTTP response is queued piece by piece as send space opens
 * (the sent callback), and the next request is read only once the
 * previous response is queued. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "tcp_body.h"

#define SVC_DEFAULT_CONNS 1024
#define SVC_HDR_MAX 2048	/* request header bytes at most */

enum http_phase {
	P_HDR = 0,	/* reading a request header */
	P_RESP,		/* queueing a response */
	P_SKIP,		/* dropping the request's body */
};

struct tern_tcp_svc;

struct svc_conn {
	struct tern_tcp_svc *v;
	struct tern_tcp_conn *c;	/* NULL: free */
	uint32_t next_free;
	uint8_t phase;
	bool peer_fin;			/* recv(NULL) came */
	bool closing;			/* we called close */
	bool keep_alive;		/* after this response */
	bool stalled;			/* out of mbufs: the poller retries */
	struct segq rq;			/* read, not consumed */
	uint64_t consumed;		/* consumed, not yet tern_tcp_recved */
	uint64_t body_off, body_left;	/* the response being queued */
	uint64_t skip;			/* request body still to drop */
	struct rte_mbuf *head;		/* response header not yet queued */
	uint16_t hlen;			/* header bytes in hdr */
	uint8_t line;			/* see hdr_take */
	char *hdr;			/* http: SVC_HDR_MAX bytes */
};

struct tern_tcp_svc {
	struct tern_stack *s;
	struct tern_tcp_svc_conf conf;
	struct tern_tcp_listener *l;
	struct tern_tcp_svc_stats st;
	struct body_src body;
	uint32_t nconns;
	uint32_t free_head;		/* index + 1; 0 = none */
	uint32_t nstalled;
	char *hdrs;
	struct svc_conn conns[];
};

static const struct tern_tcp_ops svc_ops;

int tern_tcp_svc_conf_check(const struct tern_tcp_svc_conf *c,
			    const char **why)
{
	const char *r = NULL;

	if (c->kind != TERN_TCP_SVC_DISCARD && c->kind != TERN_TCP_SVC_ECHO &&
	    c->kind != TERN_TCP_SVC_HTTP)
		r = "kind: must be discard, echo or http";
	else if (c->port == 0)
		r = "port: must be 1..65535";
	else if (c->local.family != TERN_AF_NONE &&
		 c->local.family != TERN_AF_INET)
		r = "address: must be an IPv4 address";
	else if (c->has_bytes && c->kind != TERN_TCP_SVC_HTTP)
		r = "bytes: only an http service has a body";
	else if (c->has_bytes && c->bytes > TERN_TCP_SVC_MAX_BYTES)
		r = "bytes: at most 2^40";
	if (why != NULL)
		*why = r;
	return r == NULL ? 0 : -EINVAL;
}

/* ---- connection contexts --------------------------------------------- */

static struct svc_conn *conn_get(struct tern_tcp_svc *v)
{
	if (v->free_head == 0)
		return NULL;
	struct svc_conn *k = &v->conns[v->free_head - 1];
	v->free_head = k->next_free;
	return k;
}

static void conn_put(struct tern_tcp_svc *v, struct svc_conn *k)
{
	uint32_t idx = (uint32_t)(k - v->conns);
	char *hdr = k->hdr;
	struct tern_tcp_svc *owner = k->v;

	segq_purge(&k->rq);
	rte_pktmbuf_free(k->head);
	if (k->stalled)
		v->nstalled--;
	memset(k, 0, sizeof(*k));
	k->hdr = hdr;
	k->v = owner;
	k->next_free = v->free_head;
	v->free_head = idx + 1;
	v->st.active--;
}

/* Hands consumed bytes back to the window (manual window). */
static void conn_recved(struct tern_tcp_svc *v, struct svc_conn *k)
{
	if (k->consumed > 0 && k->c != NULL) {
		uint64_t n = k->consumed;
		k->consumed = 0;
		while (n > 0) {
			uint32_t part = (uint32_t)RTE_MIN(n, (uint64_t)UINT32_MAX);
			tern_tcp_recved(v->s, k->c, part);
			n -= part;
		}
	}
}

/* Closes with a FIN after what is queued. Unread data would turn it into
 * a RST (RFC 1122 4.2.2.13), so whatever is left is consumed first. The
 * closed callback may run inside: the caller must not touch k after. */
static void conn_close(struct tern_tcp_svc *v, struct svc_conn *k)
{
	k->consumed += segq_drop(&k->rq, k->rq.bytes);
	conn_recved(v, k);
	k->closing = true;
	tern_tcp_close(v->s, k->c);
}

/* Resets the connection and frees k (no callback follows an abort). */
static void conn_abort(struct tern_tcp_svc *v, struct svc_conn *k)
{
	tern_tcp_abort(v->s, k->c);
	v->st.failed++;
	conn_put(v, k);
}

static void conn_stall(struct tern_tcp_svc *v, struct svc_conn *k)
{
	if (!k->stalled) {
		k->stalled = true;
		v->nstalled++;
	}
}

/* ---- echo ------------------------------------------------------------ */

static void echo_run(struct tern_tcp_svc *v, struct svc_conn *k)
{
	while (k->rq.bytes > 0) {
		struct rte_mbuf *m = segq_take(&k->rq,
					       tern_tcp_send_space(k->c));
		if (m == NULL)
			break;	/* the sent callback brings us back */
		uint32_t n = m->pkt_len;
		/* zero copy: the segments we read go back out */
		int rc = tern_tcp_send(v->s, k->c, m);
		if (rc < 0) {
			rte_pktmbuf_free(m);
			conn_abort(v, k);
			return;
		}
		v->st.tx_bytes += n;
		k->consumed += n;
	}
	conn_recved(v, k);
	if (k->peer_fin && k->rq.bytes == 0)
		conn_close(v, k);
}

/* ---- HTTP ------------------------------------------------------------- */

/* Moves request header bytes from the queue into k->hdr up to the empty
 * line that ends it. 1: a whole header; 0: more to come; -1: too long.
 * k->line: 0 at the start of a line, 1 after a lone CR there, 2 inside
 * a line. */
static int hdr_take(struct svc_conn *k)
{
	while (k->rq.head != NULL) {
		struct rte_mbuf *seg = k->rq.head;
		const char *p = rte_pktmbuf_mtod_offset(seg, const char *,
							k->rq.off);
		uint32_t avail = seg->data_len - k->rq.off, i;

		for (i = 0; i < avail; i++) {
			char ch = p[i];
			/* RFC 9112 2.2: empty lines before a request line
			 * are skipped; a bare LF ends a line too */
			if (k->hlen == 0 && (ch == '\r' || ch == '\n'))
				continue;
			if (k->hlen == SVC_HDR_MAX) {
				k->consumed += segq_drop(&k->rq, i);
				return -1;
			}
			k->hdr[k->hlen++] = ch;
			if (ch == '\n') {
				if (k->line < 2) {
					k->consumed += segq_drop(&k->rq, i + 1);
					return 1;
				}
				k->line = 0;
			} else {
				k->line = k->line == 0 && ch == '\r' ? 1 : 2;
			}
		}
		k->consumed += segq_drop(&k->rq, avail);
	}
	return 0;
}

struct http_req {
	bool head;		/* HEAD: no body */
	bool v10;		/* HTTP/1.0 */
	bool keep_alive;
	int status;		/* 0: serve the body */
	uint64_t bytes;
	uint64_t skip;		/* request body (Content-Length) */
};

static bool token_eq(const char *p, size_t n, const char *tok)
{
	return strlen(tok) == n && strncasecmp(p, tok, n) == 0;
}

/* Decimal without sign, at most max; -1 otherwise. */
static int parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
			  (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* The path's body length: /bytes/N, else the service's own. */
static int http_target(const struct tern_tcp_svc *v, const char *t, size_t n,
		       struct http_req *r)
{
	static const char pre[] = "/bytes/";
	size_t q;

	/* absolute-form (RFC 9112 3.2.2): skip scheme and authority */
	if (n > 7 && strncasecmp(t, "http://", 7) == 0) {
		size_t i = 7;
		while (i < n && t[i] != '/')
			i++;
		t += i;
		n -= i;
	}
	for (q = 0; q < n && t[q] != '?' && t[q] != '#'; q++)
		;
	if (q > sizeof(pre) - 1 && strncmp(t, pre, sizeof(pre) - 1) == 0) {
		const char *d = t + sizeof(pre) - 1;
		size_t dn = q - (sizeof(pre) - 1);
		if (dn > 0 && d[dn - 1] == '/')
			dn--;
		if (parse_u64(d, dn, TERN_TCP_SVC_MAX_BYTES, &r->bytes) < 0)
			return 400;
		return 0;
	}
	if (n == 0 || t[0] != '/')
		return 400;
	if (!v->conf.has_bytes)
		return 404;
	r->bytes = v->conf.bytes;
	return 0;
}

/* Parses k->hdr (a whole header, lines ending in \n). */
static void http_parse(const struct tern_tcp_svc *v, const struct svc_conn *k,
		       struct http_req *r)
{
	const char *h = k->hdr, *end = k->hdr + k->hlen;
	const char *eol = memchr(h, '\n', k->hlen);
	bool conn_close = false, conn_keep = false;

	memset(r, 0, sizeof(*r));
	/* request-line = method SP request-target SP HTTP-version */
	const char *sp1 = memchr(h, ' ', (size_t)(eol - h));
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL) {
		r->status = 400;
		return;
	}
	const char *ver = sp2 + 1;
	size_t vn = (size_t)(eol - ver);
	if (vn > 0 && ver[vn - 1] == '\r')
		vn--;
	if (token_eq(ver, vn, "HTTP/1.0"))
		r->v10 = true;
	else if (!token_eq(ver, vn, "HTTP/1.1")) {
		r->status = vn >= 5 && strncmp(ver, "HTTP/", 5) == 0 ? 505 : 400;
		return;
	}
	bool get = (size_t)(sp1 - h) == 3 && memcmp(h, "GET", 3) == 0;
	r->head = (size_t)(sp1 - h) == 4 && memcmp(h, "HEAD", 4) == 0;
	/* header fields */
	for (const char *l = eol + 1; l < end;) {
		const char *le = memchr(l, '\n', (size_t)(end - l));
		if (le == NULL)
			le = end;
		const char *colon = memchr(l, ':', (size_t)(le - l));
		if (colon != NULL) {
			const char *val = colon + 1;
			size_t vl = (size_t)(le - val), nl = (size_t)(colon - l);
			trim(&val, &vl);
			if (token_eq(l, nl, "Connection")) {
				/* a comma-separated list of options */
				for (size_t i = 0; i < vl;) {
					size_t j = i;
					while (j < vl && val[j] != ',')
						j++;
					const char *o = val + i;
					size_t on = j - i;
					trim(&o, &on);
					conn_close |= token_eq(o, on, "close");
					conn_keep |= token_eq(o, on, "keep-alive");
					i = j + 1;
				}
			} else if (token_eq(l, nl, "Content-Length")) {
				if (parse_u64(val, vl, UINT64_MAX / 2, &r->skip) < 0) {
					r->status = 400;
					return;
				}
			} else if (token_eq(l, nl, "Transfer-Encoding")) {
				/* a chunked request body: not for a GET server */
				r->status = 501;
				return;
			}
		} else if (le - l > 1) {
			r->status = 400;	/* a line that is no field */
			return;
		}
		l = le + 1;
	}
	r->keep_alive = r->v10 ? conn_keep && !conn_close : !conn_close;
	if (!get && !r->head) {
		r->status = 405;
		return;
	}
	r->status = http_target(v, sp1 + 1, (size_t)(sp2 - sp1 - 1), r);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

/* Builds the response header (and a short error body) into an mbuf. */
static struct rte_mbuf *http_head(struct tern_tcp_svc *v, int status,
				  uint64_t len, bool head_only,
				  bool keep_alive, bool v10_keep)
{
	struct rte_mbuf *m = tern_stack_alloc(v->s);
	char buf[512];
	int n;

	if (m == NULL)
		return NULL;
	if (status == 200)
		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 200 OK\r\nServer: tern\r\n"
			     "Content-Type: application/octet-stream\r\n"
			     "Content-Length: %" PRIu64 "\r\n%s\r\n", len,
			     !keep_alive ? "Connection: close\r\n" :
			     v10_keep ? "Connection: keep-alive\r\n" : "");
	else
		n = snprintf(buf, sizeof(buf),
			     "HTTP/1.1 %d %s\r\nServer: tern\r\n"
			     "Content-Type: text/plain\r\n%s"
			     "Content-Length: %zu\r\n%s\r\n%s%s", status,
			     reason(status),
			     status == 405 ? "Allow: GET, HEAD\r\n" : "",
			     strlen(reason(status)) + 1,
			     !keep_alive ? "Connection: close\r\n" : "",
			     head_only ? "" : reason(status),
			     head_only ? "" : "\n");
	if (n < 0 || (unsigned)n >= sizeof(buf) ||
	    (unsigned)n > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), buf, (size_t)n);
	return m;
}

/* Sets up the response to the header in k->hdr. */
static int http_request(struct tern_tcp_svc *v, struct svc_conn *k, int too_long)
{
	struct http_req r;

	if (too_long) {
		memset(&r, 0, sizeof(r));
		r.status = 431;
	} else {
		http_parse(v, k, &r);
	}
	v->st.requests++;
	/* after an unparsable request the stream has no known framing */
	if (r.status == 400 || r.status == 431 || r.status == 501)
		r.keep_alive = false;
	k->head = http_head(v, r.status ? r.status : 200, r.bytes, r.head,
			    r.keep_alive, r.keep_alive && r.v10);
	if (k->head == NULL)
		return -ENOBUFS;
	if (r.status == 0)
		v->st.responses_2xx++;
	else
		v->st.responses_4xx++;
	k->body_off = 0;
	k->body_left = r.status == 0 && !r.head ? r.bytes : 0;
	k->skip = r.skip;
	k->keep_alive = r.keep_alive;
	k->phase = P_RESP;
	k->hlen = 0;
	k->line = 0;
	return 0;
}

static void http_run(struct tern_tcp_svc *v, struct svc_conn *k)
{
	for (;;) {
		if (k->phase == P_RESP) {
			int rc = body_push(v->s, k->c, &v->body, &k->head,
					   &k->body_off, &k->body_left,
					   &v->st.tx_bytes);
			if (rc == -ENOBUFS) {
				conn_stall(v, k);
				break;
			}
			if (rc < 0) {
				conn_abort(v, k);
				return;
			}
			if (k->head != NULL || k->body_left > 0)
				break;		/* sent brings us back */
			if (!k->keep_alive) {
				conn_close(v, k);
				return;
			}
			k->phase = k->skip > 0 ? P_SKIP : P_HDR;
		}
		if (k->phase == P_SKIP) {
			uint64_t n = segq_drop(&k->rq, k->skip);
			k->skip -= n;
			k->consumed += n;
			if (k->skip > 0)
				break;
			k->phase = P_HDR;
		}
		int got = hdr_take(k);
		if (got == 0) {
			if (k->peer_fin) {
				/* a request cut short is not answered */
				conn_close(v, k);
				return;
			}
			break;
		}
		if (http_request(v, k, got < 0) < 0) {
			conn_stall(v, k);
			break;
		}
	}
	conn_recved(v, k);
}

/* ---- callbacks ------------------------------------------------------- */

static void conn_run(struct tern_tcp_svc *v, struct svc_conn *k)
{
	if (k->closing)
		return;
	if (v->conf.kind == TERN_TCP_SVC_HTTP)
		http_run(v, k);
	else if (v->conf.kind == TERN_TCP_SVC_ECHO)
		echo_run(v, k);
	else if (k->peer_fin)
		conn_close(v, k);
}


static void svc_recv(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m)
{
	struct svc_conn *k = arg;
	struct tern_tcp_svc *v = k->v;

	(void)c;
	if (m == NULL) {
		k->peer_fin = true;
		conn_run(v, k);
		return;
	}
	v->st.rx_bytes += m->pkt_len;
	if (v->conf.kind == TERN_TCP_SVC_DISCARD) {
		rte_pktmbuf_free(m);
		return;
	}
	if (k->closing) {
		/* after our close: nobody reads it any more */
		k->consumed += m->pkt_len;
		rte_pktmbuf_free(m);
		conn_recved(v, k);
		return;
	}
	segq_push(&k->rq, m);
	conn_run(v, k);
}

static void svc_sent(void *arg, struct tern_tcp_conn *c, uint32_t acked)
{
	struct svc_conn *k = arg;

	(void)c;
	(void)acked;
	conn_run(k->v, k);
}

static void svc_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct svc_conn *k = arg;
	struct tern_tcp_svc *v = k->v;

	(void)c;
	if (err == 0)
		v->st.closed++;
	else
		v->st.failed++;
	conn_put(v, k);
}

static const struct tern_tcp_ops svc_ops = {
	.connected = NULL,
	.recv = svc_recv,
	.sent = svc_sent,
	.closed = svc_closed,
};

static void svc_accept(void *arg, struct tern_tcp_listener *l,
		       struct tern_tcp_conn *c)
{
	struct tern_tcp_svc *v = arg;
	struct svc_conn *k = conn_get(v);

	(void)l;
	if (k == NULL) {
		v->st.refused++;
		tern_tcp_abort(v->s, c);
		return;
	}
	k->c = c;
	v->st.accepted++;
	v->st.active++;
	/* may hand over data (and the FIN) that came with the handshake */
	tern_tcp_set_ops(v->s, c, &svc_ops, k);
}

/* ---- life cycle ------------------------------------------------------ */

struct tern_tcp_svc *tern_tcp_svc_create(struct tern_stack *s,
					 const struct tern_tcp_svc_conf *conf)
{
	if (s == NULL || conf == NULL ||
	    tern_tcp_svc_conf_check(conf, NULL) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	uint32_t n = conf->max_conns ? conf->max_conns : SVC_DEFAULT_CONNS;
	struct tern_tcp_svc *v = rte_zmalloc("tern_tcp_svc", sizeof(*v) +
					     n * sizeof(v->conns[0]), 0);
	if (v == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	v->s = s;
	v->conf = *conf;
	v->nconns = n;
	if (conf->kind == TERN_TCP_SVC_HTTP) {
		v->hdrs = rte_malloc("tern_tcp_svc_hdr", (size_t)n * SVC_HDR_MAX, 0);
		if (v->hdrs == NULL || body_src_init(&v->body) < 0)
			goto nomem;
	}
	for (uint32_t i = 0; i < n; i++) {
		v->conns[i].v = v;
		v->conns[i].next_free = i + 2 <= n ? i + 2 : 0;
		if (v->hdrs != NULL)
			v->conns[i].hdr = v->hdrs + (size_t)i * SVC_HDR_MAX;
	}
	v->free_head = 1;

	struct tern_tcp_listen_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.local = conf->local;
	lc.port = conf->port;
	lc.accept = svc_accept;
	lc.arg = v;
	/* Echo and HTTP consume at their own pace (see the top); both
	 * answer at once rather than wait for ACKs (Nagle): a response
	 * tail or an echo must not sit behind a delayed ACK. */
	lc.opts.manual_window = conf->kind != TERN_TCP_SVC_DISCARD;
	lc.opts.nodelay = conf->kind != TERN_TCP_SVC_DISCARD;
	v->l = tern_tcp_listen(s, &lc);
	if (v->l == NULL) {
		int err = rte_errno;
		body_src_release(&v->body);
		rte_free(v->hdrs);
		rte_free(v);
		rte_errno = err;
		return NULL;
	}
	return v;
nomem:
	body_src_release(&v->body);
	rte_free(v->hdrs);
	rte_free(v);
	rte_errno = ENOMEM;
	return NULL;
}

void tern_tcp_svc_destroy(struct tern_tcp_svc *v)
{
	if (v == NULL)
		return;
	tern_tcp_listener_close(v->s, v->l);
	for (uint32_t i = 0; i < v->nconns; i++)
		if (v->conns[i].c != NULL)
			conn_abort(v, &v->conns[i]);
	body_src_release(&v->body);
	rte_free(v->hdrs);
	rte_free(v);
}

unsigned tern_tcp_svc_poll(struct tern_tcp_svc *v)
{
	unsigned work = 0;

	if (v->nstalled == 0)
		return 0;
	for (uint32_t i = 0; i < v->nconns && v->nstalled > 0; i++) {
		struct svc_conn *k = &v->conns[i];
		if (k->c == NULL || !k->stalled)
			continue;
		k->stalled = false;
		v->nstalled--;
		conn_run(v, k);
		work++;
	}
	return work;
}

void tern_tcp_svc_stats_get(const struct tern_tcp_svc *v,
			    struct tern_tcp_svc_stats *out)
{
	*out = v->st;
}
