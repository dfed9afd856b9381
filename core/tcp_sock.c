/* BSD-like sockets on the raw TCP API (tern/sock.h): descriptors, a
 * receive buffer of mbufs with the window opened as the application
 * reads (manual window), an accept queue, SO_ERROR, and the options
 * ported applications and packetdrill scripts use. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include <tern/sock.h>

#include "stack_priv.h"

enum sk_state {
	SK_FREE = 0,
	SK_NEW,		/* socket(), maybe bound */
	SK_LISTEN,
	SK_CONNECTING,
	SK_CONNECTED,	/* established or closing; c may be gone */
	SK_PENDING,	/* accepted by the stack, waiting for accept() */
};

struct sk {
	struct tern_socks *t;	/* the table it belongs to */
	uint8_t state;
	bool nonblock;
	bool connect_told;	/* connect() reported the outcome once */
	bool eof;		/* the peer's FIN arrived */
	bool rd_shut, wr_shut;
	bool reuseaddr;
	bool linger_on;
	int linger_s;
	bool keepalive_on;	/* SO_KEEPALIVE; the timings below apply */
	uint32_t keep_idle, keep_intvl, keep_cnt;
	int so_error;
	int fd;			/* -1 while pending */
	struct tern_addr local;
	uint16_t lport;
	struct tern_addr remote;
	uint16_t rport;
	struct tern_tcp_opts opts;
	uint8_t syncnt;
	struct tern_tcp_conn *c;
	struct tern_tcp_listener *l;
	int backlog;
	/* accepted connections waiting: sk indices, a ring */
	uint32_t *acq;
	uint32_t acq_head, acq_n, acq_cap;
	uint32_t parent;	/* listening sk index + 1 (pending ones) */
	/* received data: a queue of mbufs, the head partly read */
	struct pktq rq;
	uint32_t rq_off, rq_bytes;
};

struct tern_socks {
	struct tern_stack *s;
	unsigned max;
	struct sk *sk;		/* max objects */
	int32_t *fds;		/* fd -> sk index, -1 free */
};

static const struct tern_tcp_ops sk_ops;

/* ---- table ----------------------------------------------------------------- */

struct tern_socks *tern_socks_create(struct tern_stack *s, unsigned max)
{
	if (s == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (max == 0)
		max = 1024;
	struct tern_socks *t = rte_zmalloc("tern_socks", sizeof(*t), 0);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->s = s;
	t->max = max;
	t->sk = rte_zmalloc("tern_socks_sk", max * sizeof(*t->sk), 0);
	t->fds = rte_malloc("tern_socks_fd", max * sizeof(*t->fds), 0);
	if (t->sk == NULL || t->fds == NULL) {
		rte_free(t->sk);
		rte_free(t->fds);
		rte_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < max; i++)
		t->fds[i] = -1;
	return t;
}

static uint32_t sk_idx(const struct tern_socks *t, const struct sk *k)
{
	return (uint32_t)(k - t->sk);
}

static struct sk *sk_get(struct tern_socks *t, int fd)
{
	if (t == NULL || fd < 0 || (unsigned)fd >= t->max || t->fds[fd] < 0)
		return NULL;
	return &t->sk[t->fds[fd]];
}

static struct sk *sk_alloc(struct tern_socks *t)
{
	for (unsigned i = 0; i < t->max; i++) {
		if (t->sk[i].state == SK_FREE) {
			struct sk *k = &t->sk[i];
			memset(k, 0, sizeof(*k));
			k->t = t;
			k->state = SK_NEW;
			k->fd = -1;
			pktq_init(&k->rq);
			return k;
		}
	}
	return NULL;
}

static int fd_assign(struct tern_socks *t, struct sk *k)
{
	for (unsigned fd = 0; fd < t->max; fd++) {
		if (t->fds[fd] < 0) {
			t->fds[fd] = (int32_t)sk_idx(t, k);
			k->fd = (int)fd;
			return (int)fd;
		}
	}
	return -EMFILE;
}

/* Frees k's buffers and its slot; its connection must be let go first. */
static void sk_free(struct tern_socks *t, struct sk *k)
{
	pktq_purge(t->s->pkt_next_off, &k->rq);
	if (k->fd >= 0)
		t->fds[k->fd] = -1;
	rte_free(k->acq);
	memset(k, 0, sizeof(*k));
}

/* Lets go of k's connection: abort (RST) or close (FIN). */
static void sk_drop_conn(struct tern_socks *t, struct sk *k, bool abort)
{
	struct tern_tcp_conn *c = k->c;
	if (c == NULL)
		return;
	k->c = NULL;
	tern_tcp_set_ops(t->s, c, NULL, NULL);
	if (abort)
		tern_tcp_abort(t->s, c);
	else
		tern_tcp_close(t->s, c);
}

void tern_socks_destroy(struct tern_socks *t)
{
	if (t == NULL)
		return;
	for (unsigned i = 0; i < t->max; i++) {
		struct sk *k = &t->sk[i];
		if (k->state == SK_FREE)
			continue;
		sk_drop_conn(t, k, true);
		if (k->l != NULL)
			tern_tcp_listener_close(t->s, k->l);
		sk_free(t, k);
	}
	rte_free(t->sk);
	rte_free(t->fds);
	rte_free(t);
}

/* ---- callbacks from the connection ---------------------------------------------- */

static inline struct tern_socks *owner_of(struct sk *k)
{
	return k->t;
}

static void sk_connected(void *arg, struct tern_tcp_conn *c)
{
	struct sk *k = arg;
	(void)c;
	k->state = SK_CONNECTED;
}

static void sk_recv(void *arg, struct tern_tcp_conn *c, struct rte_mbuf *m)
{
	struct sk *k = arg;
	(void)c;
	if (m == NULL) {
		k->eof = true;
		return;
	}
	struct tern_socks *t = owner_of(k);
	if (k->rd_shut) {
		/* SHUT_RD: Linux keeps taking data and drops it */
		tern_tcp_recved(t->s, c, m->pkt_len);
		rte_pktmbuf_free(m);
		return;
	}
	k->rq_bytes += m->pkt_len;
	pktq_push(t->s->pkt_next_off, &k->rq, m);
}

static void sk_closed(void *arg, struct tern_tcp_conn *c, int err)
{
	struct sk *k = arg;
	(void)c;
	k->c = NULL;
	if (err != 0) {
		k->so_error = err;
		k->eof = true;
	}
	if (k->state == SK_CONNECTING)
		k->state = SK_CONNECTED;	/* connect() reports so_error */
}

static const struct tern_tcp_ops sk_ops = {
	.connected = sk_connected,
	.recv = sk_recv,
	.closed = sk_closed,
};

static void sk_accept_cb(void *arg, struct tern_tcp_listener *l,
			 struct tern_tcp_conn *c)
{
	struct sk *lk = arg;
	struct tern_socks *t = owner_of(lk);
	(void)l;
	struct sk *k = (t != NULL && lk->acq_n < lk->acq_cap) ? sk_alloc(t) : NULL;
	if (k == NULL) {
		/* accept queue full (Linux: backlog + 1) */
		tern_tcp_abort(t->s, c);
		return;
	}
	k->state = SK_PENDING;
	k->c = c;
	k->parent = sk_idx(t, lk) + 1;
	k->opts = lk->opts;
	struct tern_tcp_info ti;
	tern_tcp_info_get(t->s, c, &ti);
	k->local = ti.local;
	k->lport = ti.lport;
	k->remote = ti.remote;
	k->rport = ti.rport;
	lk->acq[(lk->acq_head + lk->acq_n) % lk->acq_cap] = sk_idx(t, k);
	lk->acq_n++;
	tern_tcp_set_ops(t->s, c, &sk_ops, k);
}

/* ---- calls ----------------------------------------------------------------------- */

int tern_sock_socket(struct tern_socks *t, int domain, int type, int protocol)
{
	if (t == NULL)
		return -EINVAL;
	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	struct sk *k = sk_alloc(t);
	if (k == NULL)
		return -EMFILE;
	int fd = fd_assign(t, k);
	if (fd < 0) {
		sk_free(t, k);
		return fd;
	}
	k->nonblock = (type & SOCK_NONBLOCK) != 0;
	k->opts.manual_window = true;
	return fd;
}

static int sa_in(const struct sockaddr *a, socklen_t len, struct tern_addr *ip,
		 uint16_t *port)
{
	if (a == NULL || len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (a->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	if (in->sin_addr.s_addr == INADDR_ANY)
		memset(ip, 0, sizeof(*ip));
	else
		*ip = tern_addr_v4(in->sin_addr.s_addr);
	*port = ntohs(in->sin_port);
	return 0;
}

static void sa_out(struct sockaddr *a, socklen_t *len, const struct tern_addr *ip,
		   uint16_t port)
{
	if (a == NULL || len == NULL)
		return;
	struct sockaddr_in in;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(port);
	in.sin_addr.s_addr = ip->family == TERN_AF_INET ? ip->v4 : 0;
	socklen_t n = *len < sizeof(in) ? *len : (socklen_t)sizeof(in);
	memcpy(a, &in, n);
	*len = sizeof(in);
}

int tern_sock_bind(struct tern_socks *t, int fd, const struct sockaddr *addr,
		   socklen_t len)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->state != SK_NEW || k->lport != 0)
		return -EINVAL;
	struct tern_addr ip;
	uint16_t port;
	int rc = sa_in(addr, len, &ip, &port);
	if (rc != 0)
		return rc;
	if (ip.family == TERN_AF_INET && tern_iface_by_addr(t->s, &ip) < 0)
		return -EADDRNOTAVAIL;
	if (port == 0) {
		rc = eph_pick_plain(t->s, IPPROTO_TCP, &ip, &port);
		if (rc != 0)
			return -EADDRINUSE;
	} else if (!k->reuseaddr && tcp_port_busy(t->s, &ip, port)) {
		return -EADDRINUSE;
	}
	k->local = ip;
	k->lport = port;
	return 0;
}

int tern_sock_listen(struct tern_socks *t, int fd, int backlog)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->state == SK_LISTEN)
		return 0;
	if (k->state != SK_NEW)
		return -EINVAL;
	if (k->lport == 0) {
		int rc = eph_pick_plain(t->s, IPPROTO_TCP, &k->local, &k->lport);
		if (rc != 0)
			return -EADDRINUSE;
	}
	if (backlog < 0)
		backlog = 0;
	if (backlog > 4096)
		backlog = 4096;
	k->backlog = backlog;
	k->acq_cap = (uint32_t)backlog + 1;	/* Linux: backlog + 1 */
	k->acq = rte_zmalloc("tern_sock_acq", k->acq_cap * sizeof(*k->acq), 0);
	if (k->acq == NULL)
		return -ENOMEM;
	struct tern_tcp_listen_conf lc;
	memset(&lc, 0, sizeof(lc));
	lc.local = k->local;
	lc.port = k->lport;
	lc.backlog = (uint32_t)backlog + 1;
	lc.accept = sk_accept_cb;
	lc.arg = k;
	lc.opts = k->opts;
	lc.opts.syn_retries = k->syncnt;
	k->l = tern_tcp_listen(t->s, &lc);
	if (k->l == NULL) {
		rte_free(k->acq);
		k->acq = NULL;
		return rte_errno == EADDRINUSE ? -EADDRINUSE : -ENOMEM;
	}
	k->state = SK_LISTEN;
	return 0;
}

int tern_sock_accept(struct tern_socks *t, int fd, struct sockaddr *addr,
		     socklen_t *len)
{
	struct sk *lk = sk_get(t, fd);
	if (lk == NULL)
		return -EBADF;
	if (lk->state != SK_LISTEN)
		return -EINVAL;
	if (lk->acq_n == 0)
		return -EAGAIN;
	struct sk *k = &t->sk[lk->acq[lk->acq_head]];
	int nfd = fd_assign(t, k);
	if (nfd < 0)
		return nfd;
	lk->acq_head = (lk->acq_head + 1) % lk->acq_cap;
	lk->acq_n--;
	k->parent = 0;
	k->state = SK_CONNECTED;
	k->nonblock = false;	/* accept() does not inherit O_NONBLOCK */
	sa_out(addr, len, &k->remote, k->rport);
	return nfd;
}

int tern_sock_connect(struct tern_socks *t, int fd, const struct sockaddr *addr,
		      socklen_t len)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->state == SK_CONNECTING)
		return k->c != NULL ? -EALREADY : 0;
	if (k->state == SK_CONNECTED) {
		if (!k->connect_told) {
			/* the outcome of the connect in progress, once */
			k->connect_told = true;
			int e = k->so_error;
			k->so_error = 0;
			return e ? -e : 0;
		}
		return -EISCONN;
	}
	if (k->state != SK_NEW)
		return -EINVAL;
	struct tern_tcp_connect_conf cc;
	memset(&cc, 0, sizeof(cc));
	int rc = sa_in(addr, len, &cc.remote, &cc.rport);
	if (rc != 0)
		return rc;
	if (cc.remote.family != TERN_AF_INET || cc.rport == 0)
		return -ECONNREFUSED;
	cc.local = k->local;
	cc.lport = k->lport;
	cc.ops = &sk_ops;
	cc.arg = k;
	cc.opts = k->opts;
	cc.opts.syn_retries = k->syncnt;
	k->state = SK_CONNECTING;
	k->c = tern_tcp_connect(t->s, &cc);
	if (k->c == NULL) {
		k->state = SK_NEW;
		return -rte_errno;
	}
	k->remote = cc.remote;
	k->rport = cc.rport;
	struct tern_tcp_info ti;
	tern_tcp_info_get(t->s, k->c, &ti);
	k->local = ti.local;
	k->lport = ti.lport;
	return -EINPROGRESS;
}

/* Data left for reading, from the queue's head at rq_off. */
static size_t rq_copy(struct tern_socks *t, struct sk *k, uint8_t *dst,
		      size_t len, bool peek)
{
	size_t done = 0;
	struct rte_mbuf *m = k->rq.head;
	uint32_t off = k->rq_off;
	while (m != NULL && done < len) {
		uint32_t avail = m->pkt_len - off;
		uint32_t n = (uint32_t)RTE_MIN((size_t)avail, len - done);
		const void *p = rte_pktmbuf_read(m, off, n, dst + done);
		if (p != dst + done)
			memcpy(dst + done, p, n);
		done += n;
		off += n;
		if (off == m->pkt_len) {
			struct rte_mbuf *next = *pktq_nextp(t->s->pkt_next_off, m);
			if (!peek) {
				pktq_pop(t->s->pkt_next_off, &k->rq);
				rte_pktmbuf_free(m);
			}
			m = next;
			off = 0;
		}
	}
	if (!peek) {
		k->rq_off = off;
		k->rq_bytes -= (uint32_t)done;
	}
	return done;
}

ssize_t tern_sock_recv(struct tern_socks *t, int fd, void *buf, size_t len,
		       int flags)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->state == SK_LISTEN || k->state == SK_NEW)
		return -ENOTCONN;
	if (k->rq_bytes > 0 && len > 0) {
		size_t n = rq_copy(t, k, buf, len, (flags & MSG_PEEK) != 0);
		if (!(flags & MSG_PEEK) && k->c != NULL)
			tern_tcp_recved(t->s, k->c, (uint32_t)n);
		return (ssize_t)n;
	}
	if (k->so_error) {
		int e = k->so_error;
		k->so_error = 0;
		return -e;
	}
	if (k->eof || k->rd_shut || (k->state == SK_CONNECTED && k->c == NULL))
		return 0;
	if (k->state == SK_CONNECTING)
		return -EAGAIN;
	return len == 0 ? 0 : -EAGAIN;
}

/* readv/writev: each buffer in turn, until one is not filled (or
 * taken) whole; an error after some bytes returns the bytes. */
static ssize_t iov_each(struct tern_socks *t, int fd, const struct iovec *iov,
			int iovcnt, bool wr)
{
	ssize_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		ssize_t r = wr ? tern_sock_send(t, fd, iov[i].iov_base,
						iov[i].iov_len, 0) :
				 tern_sock_recv(t, fd, iov[i].iov_base,
						iov[i].iov_len, 0);
		if (r < 0)
			return total > 0 ? total : r;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

ssize_t tern_sock_readv(struct tern_socks *t, int fd, const struct iovec *iov,
			int iovcnt)
{
	return iov_each(t, fd, iov, iovcnt, false);
}

ssize_t tern_sock_send(struct tern_socks *t, int fd, const void *buf,
		       size_t len, int flags)
{
	(void)flags;
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->so_error) {
		int e = k->so_error;
		k->so_error = 0;
		return -e;
	}
	if (k->wr_shut)
		return -EPIPE;
	if (k->state == SK_CONNECTING)
		return -EAGAIN;
	/* as Linux (sk_stream_wait_connect): writing to a socket that is
	 * not connected, or no longer, is EPIPE */
	if (k->state != SK_CONNECTED || k->c == NULL)
		return -EPIPE;
	if (len == 0)
		return 0;
	int r = tern_tcp_write(t->s, k->c, buf, (uint32_t)RTE_MIN(len, (size_t)INT32_MAX));
	if (r == -ENOBUFS)
		return -EAGAIN;
	return r;
}

ssize_t tern_sock_writev(struct tern_socks *t, int fd, const struct iovec *iov,
			 int iovcnt)
{
	return iov_each(t, fd, iov, iovcnt, true);
}

int tern_sock_shutdown(struct tern_socks *t, int fd, int how)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (k->state != SK_CONNECTED && k->state != SK_CONNECTING)
		return -ENOTCONN;
	if (how == SHUT_RD || how == SHUT_RDWR) {
		k->rd_shut = true;
		if (k->c != NULL && k->rq_bytes > 0)
			tern_tcp_recved(t->s, k->c, k->rq_bytes);
		pktq_purge(t->s->pkt_next_off, &k->rq);
		k->rq_bytes = k->rq_off = 0;
	}
	if ((how == SHUT_WR || how == SHUT_RDWR) && !k->wr_shut) {
		k->wr_shut = true;
		if (k->c != NULL)
			tern_tcp_shutdown_wr(t->s, k->c);
	}
	return 0;
}

int tern_sock_close(struct tern_socks *t, int fd)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->l != NULL) {
		/* connections waiting for accept() are reset (Linux) */
		while (k->acq_n > 0) {
			struct sk *p = &t->sk[k->acq[k->acq_head]];
			k->acq_head = (k->acq_head + 1) % k->acq_cap;
			k->acq_n--;
			sk_drop_conn(t, p, true);
			sk_free(t, p);
		}
		tern_tcp_listener_close(t->s, k->l);
		k->l = NULL;
	}
	/* SO_LINGER with a zero timeout: abort (RST); unread data: the
	 * core sends a RST itself (RFC 1122 4.2.2.13) */
	bool abort = k->linger_on && k->linger_s == 0;
	if (k->c != NULL && !abort && k->rq_bytes > 0) {
		tern_tcp_recved(t->s, k->c, 0);
		abort = true;
	}
	sk_drop_conn(t, k, abort);
	sk_free(t, k);
	return 0;
}

int tern_sock_fcntl(struct tern_socks *t, int fd, int cmd, long arg)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (k->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		k->nonblock = (arg & O_NONBLOCK) != 0;
		return 0;
	default:
		return -EINVAL;
	}
}

bool tern_sock_is_nonblocking(struct tern_socks *t, int fd)
{
	struct sk *k = sk_get(t, fd);
	return k != NULL && k->nonblock;
}

/* ---- options ----------------------------------------------------------------------- */

/* The keepalive settings into the options a connection starts with, and
 * into the live connection. */
static void keep_apply(struct tern_socks *t, struct sk *k)
{
	k->opts.keepidle_s = k->keepalive_on ? (k->keep_idle ? k->keep_idle : 7200) : 0;
	k->opts.keepintvl_s = k->keep_intvl;
	k->opts.keepcnt = k->keep_cnt;
	if (k->c != NULL)
		tern_tcp_set_keepalive(t->s, k->c, k->opts.keepidle_s,
				       k->opts.keepintvl_s, k->opts.keepcnt);
}

static int get_int(const void *val, socklen_t len, int *out)
{
	if (val == NULL || len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (val == NULL || len == NULL || *len < sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

static uint8_t linux_state(uint8_t st)
{
	static const uint8_t map[TERN_TCP_NSTATES] = {
		[TERN_TCP_CLOSED] = 7, [TERN_TCP_LISTEN] = 10,
		[TERN_TCP_SYN_SENT] = 2, [TERN_TCP_SYN_RECEIVED] = 3,
		[TERN_TCP_ESTABLISHED] = 1, [TERN_TCP_FIN_WAIT_1] = 4,
		[TERN_TCP_FIN_WAIT_2] = 5, [TERN_TCP_CLOSE_WAIT] = 8,
		[TERN_TCP_CLOSING] = 11, [TERN_TCP_LAST_ACK] = 9,
		[TERN_TCP_TIME_WAIT] = 6,
	};
	return st < TERN_TCP_NSTATES ? map[st] : 7;
}

static int tcp_info_out(struct tern_socks *t, struct sk *k, void *val,
			socklen_t *len)
{
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	if (k->state == SK_LISTEN) {
		ti.tcpi_state = 10;
	} else if (k->c == NULL) {
		ti.tcpi_state = 7;
	} else {
		struct tern_tcp_info i;
		tern_tcp_info_get(t->s, k->c, &i);
		ti.tcpi_state = linux_state(i.state);
		ti.tcpi_backoff = (uint8_t)i.backoff;
		ti.tcpi_options = (i.timestamps ? TCPI_OPT_TIMESTAMPS : 0) |
				  (i.sack ? TCPI_OPT_SACK : 0) |
				  (i.snd_wscale != 0xff ? TCPI_OPT_WSCALE : 0);
		if (i.snd_wscale != 0xff) {
			ti.tcpi_snd_wscale = i.snd_wscale & 0xf;
			ti.tcpi_rcv_wscale = i.rcv_wscale & 0xf;
		}
		ti.tcpi_rto = i.rto_us;
		ti.tcpi_snd_mss = i.mss;
		ti.tcpi_rcv_mss = i.rcv_mss;
		ti.tcpi_unacked = i.mss ? (i.unacked + i.mss - 1) / i.mss : 0;
		ti.tcpi_rtt = i.srtt_us;
		ti.tcpi_rttvar = i.rttvar_us;
		ti.tcpi_snd_ssthresh = i.ssthresh == UINT32_MAX || i.mss == 0 ?
				       0x7fffffff : i.ssthresh / i.mss;
		ti.tcpi_snd_cwnd = i.mss ? i.cwnd / i.mss : 0;
		ti.tcpi_advmss = i.rcv_mss;
		ti.tcpi_total_retrans = i.retransmits;
	}
	socklen_t n = *len < sizeof(ti) ? *len : (socklen_t)sizeof(ti);
	memcpy(val, &ti, n);
	*len = n;
	return 0;
}

int tern_sock_getsockopt(struct tern_socks *t, int fd, int level, int name,
			 void *val, socklen_t *len)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (val == NULL || len == NULL)
		return -EFAULT;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR: {
			int e = k->so_error;
			k->so_error = 0;
			return put_int(val, len, e);
		}
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_REUSEADDR:
			return put_int(val, len, k->reuseaddr);
		case SO_KEEPALIVE:
			return put_int(val, len, k->keepalive_on);
		case SO_RCVBUF:
			/* Linux reports twice what was set (bookkeeping) */
			return put_int(val, len, (int)(k->opts.rcvbuf ? k->opts.rcvbuf : 256 * 1024));
		case SO_SNDBUF:
			return put_int(val, len, (int)(k->opts.sndbuf ? k->opts.sndbuf : 256 * 1024));
		case SO_LINGER: {
			struct linger l = {k->linger_on, k->linger_s};
			if (*len < sizeof(l))
				return -EINVAL;
			memcpy(val, &l, sizeof(l));
			*len = sizeof(l);
			return 0;
		}
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return put_int(val, len, k->opts.nodelay);
		case TCP_MAXSEG: {
			if (k->c != NULL) {
				struct tern_tcp_info i;
				tern_tcp_info_get(t->s, k->c, &i);
				return put_int(val, len, i.mss);
			}
			return put_int(val, len, k->opts.mss ? k->opts.mss : 536);
		}
		case TCP_KEEPIDLE:
			return put_int(val, len, (int)(k->keep_idle ? k->keep_idle : 7200));
		case TCP_KEEPINTVL:
			return put_int(val, len, (int)(k->keep_intvl ? k->keep_intvl : 75));
		case TCP_KEEPCNT:
			return put_int(val, len, (int)(k->keep_cnt ? k->keep_cnt : 9));
		case TCP_SYNCNT:
			return put_int(val, len, k->syncnt ? k->syncnt : 6);
		case TCP_INFO:
			return tcp_info_out(t, k, val, len);
		case TCP_CONGESTION: {
			const char *n = k->opts.cc == TERN_TCP_CC_NEWRENO ? "reno" : "cubic";
			size_t l = strlen(n) + 1;
			if (*len < l)
				l = *len;
			memcpy(val, n, l);
			*len = (socklen_t)l;
			return 0;
		}
		default:
			return -ENOPROTOOPT;
		}
	}
	return -ENOPROTOOPT;
}

int tern_sock_setsockopt(struct tern_socks *t, int fd, int level, int name,
			 const void *val, socklen_t len)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	int v = 0;
	if (level == SOL_SOCKET) {
		if (name == SO_LINGER) {
			struct linger l;
			if (val == NULL || len < sizeof(l))
				return -EINVAL;
			memcpy(&l, val, sizeof(l));
			k->linger_on = l.l_onoff != 0;
			k->linger_s = l.l_linger;
			return 0;
		}
		int rc = get_int(val, len, &v);
		if (rc != 0)
			return rc;
		switch (name) {
		case SO_REUSEADDR:
			k->reuseaddr = v != 0;
			return 0;
		case SO_KEEPALIVE:
			k->keepalive_on = v != 0;
			keep_apply(t, k);
			return 0;
		case SO_RCVBUF:
			if (v <= 0)
				return -EINVAL;
			k->opts.rcvbuf = (uint32_t)v;
			return 0;
		case SO_SNDBUF:
			if (v <= 0)
				return -EINVAL;
			k->opts.sndbuf = (uint32_t)v;
			if (k->c != NULL)
				tern_tcp_set_sndbuf(k->c, (uint32_t)v);
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (name == TCP_CONGESTION) {
		if (val == NULL || len == 0)
			return -EINVAL;
		char n[16];
		size_t l = len < sizeof(n) - 1 ? len : sizeof(n) - 1;
		memcpy(n, val, l);
		n[l] = 0;
		if (strcmp(n, "reno") == 0 || strcmp(n, "newreno") == 0)
			k->opts.cc = TERN_TCP_CC_NEWRENO;
		else if (strcmp(n, "cubic") == 0)
			k->opts.cc = TERN_TCP_CC_CUBIC;
		else
			return -ENOENT;
		return 0;
	}
	int rc = get_int(val, len, &v);
	if (rc != 0)
		return rc;
	switch (name) {
	case TCP_NODELAY:
		k->opts.nodelay = v != 0;
		if (k->c != NULL)
			tern_tcp_set_nodelay(t->s, k->c, v != 0);
		return 0;
	case TCP_MAXSEG:
		if (v < 88 || v > 65535)
			return -EINVAL;
		k->opts.mss = (uint16_t)v;
		return 0;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
		if (v < 1 || v > 32767)
			return -EINVAL;
		if (name == TCP_KEEPIDLE)
			k->keep_idle = (uint32_t)v;
		else if (name == TCP_KEEPINTVL)
			k->keep_intvl = (uint32_t)v;
		else
			k->keep_cnt = (uint32_t)v;
		/* only SO_KEEPALIVE turns it on; these set the timing */
		keep_apply(t, k);
		return 0;
	case TCP_SYNCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		k->syncnt = (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int tern_sock_getsockname(struct tern_socks *t, int fd, struct sockaddr *addr,
			  socklen_t *len)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	sa_out(addr, len, &k->local, k->lport);
	return 0;
}

int tern_sock_getpeername(struct tern_socks *t, int fd, struct sockaddr *addr,
			  socklen_t *len)
{
	struct sk *k = sk_get(t, fd);
	if (k == NULL)
		return -EBADF;
	if (k->state != SK_CONNECTED)
		return -ENOTCONN;
	sa_out(addr, len, &k->remote, k->rport);
	return 0;
}

int tern_sock_poll(struct tern_socks *t, struct pollfd *fds, nfds_t n)
{
	int ready = 0;
	for (nfds_t i = 0; i < n; i++) {
		struct sk *k = sk_get(t, fds[i].fd);
		short ev = 0;
		if (k == NULL) {
			ev = POLLNVAL;
		} else if (k->state == SK_LISTEN) {
			if (k->acq_n > 0)
				ev |= POLLIN;
		} else if (k->state == SK_CONNECTED || k->state == SK_CONNECTING) {
			if (k->rq_bytes > 0 || k->eof)
				ev |= POLLIN;
			if (k->eof)
				ev |= POLLRDHUP;
			if (k->so_error)
				ev |= POLLERR;
			bool gone = k->state == SK_CONNECTED && k->c == NULL;
			if (gone || (k->eof && k->wr_shut))
				ev |= POLLHUP;
			if (k->state == SK_CONNECTED && k->c != NULL && !k->wr_shut &&
			    tern_tcp_send_space(k->c) > 0)
				ev |= POLLOUT;
			if (gone && !k->wr_shut)
				ev |= POLLOUT;	/* a write will say EPIPE */
		} else if (k->state == SK_NEW) {
			ev |= POLLOUT | POLLHUP;	/* as Linux for an unconnected TCP socket */
		}
		fds[i].revents = (short)(ev & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
		if (fds[i].revents)
			ready++;
	}
	return ready;
}
