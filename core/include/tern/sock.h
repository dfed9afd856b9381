/* BSD-like sockets on one stack, in-process and non-blocking: what lwIP's
 * sockets are to its raw API, built on <tern/tcp.h>. For ported
 * applications and for packetdrill (tests/packetdrill/), which drive a
 * stack through them.
 *
 * They behave as Linux sockets do where applications look (DESIGN, TCP):
 * connect returns -EINPROGRESS, then -EALREADY while the handshake runs,
 * 0 once (or -EISCONN after); SO_ERROR reports ECONNREFUSED, ECONNRESET,
 * ETIMEDOUT and clears when read; recv takes MSG_PEEK and MSG_DONTWAIT
 * and returns 0 at end of stream; an empty read is -EAGAIN; a write
 * after a reset is -EPIPE.
 *
 * Calls never block and never run the stack: they return -EAGAIN (or
 * -EINPROGRESS) where a blocking socket would wait, and the caller runs
 * the stack (input, timers) and calls again; O_NONBLOCK is kept for
 * callers that emulate blocking (tern_sock_is_nonblocking). Errors are
 * returned as -errno, as everywhere in tern. One table per stack; its
 * descriptors are small integers from 0, the lowest free one first. */
#ifndef TERN_SOCK_H
#define TERN_SOCK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;
struct tern_socks;

/* NULL with rte_errno ENOMEM / EINVAL. max: descriptors (0 = 1024). */
struct tern_socks *tern_socks_create(struct tern_stack *s, unsigned max);
/* Aborts every connection and frees every socket. */
void tern_socks_destroy(struct tern_socks *t);

/* AF_INET, SOCK_STREAM (| SOCK_NONBLOCK), protocol 0 or IPPROTO_TCP.
 * -EAFNOSUPPORT, -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, -EMFILE. */
int tern_sock_socket(struct tern_socks *t, int domain, int type, int protocol);
int tern_sock_bind(struct tern_socks *t, int fd, const struct sockaddr *addr,
		   socklen_t len);
int tern_sock_listen(struct tern_socks *t, int fd, int backlog);
/* -EAGAIN when no connection is ready. */
int tern_sock_accept(struct tern_socks *t, int fd, struct sockaddr *addr,
		     socklen_t *len);
int tern_sock_connect(struct tern_socks *t, int fd, const struct sockaddr *addr,
		      socklen_t len);
ssize_t tern_sock_recv(struct tern_socks *t, int fd, void *buf, size_t len,
		       int flags);
ssize_t tern_sock_readv(struct tern_socks *t, int fd, const struct iovec *iov,
			int iovcnt);
ssize_t tern_sock_send(struct tern_socks *t, int fd, const void *buf,
		       size_t len, int flags);
ssize_t tern_sock_writev(struct tern_socks *t, int fd, const struct iovec *iov,
			 int iovcnt);
/* SHUT_RD, SHUT_WR, SHUT_RDWR. -ENOTCONN. */
int tern_sock_shutdown(struct tern_socks *t, int fd, int how);
int tern_sock_close(struct tern_socks *t, int fd);
/* F_GETFL, F_SETFL (O_NONBLOCK). */
int tern_sock_fcntl(struct tern_socks *t, int fd, int cmd, long arg);
bool tern_sock_is_nonblocking(struct tern_socks *t, int fd);
/* SOL_SOCKET: SO_ERROR, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR, SO_LINGER,
 * SO_KEEPALIVE, SO_TYPE; IPPROTO_TCP: TCP_NODELAY, TCP_MAXSEG,
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_INFO (get only),
 * TCP_CONGESTION ("cubic", "reno"). -ENOPROTOOPT otherwise. */
int tern_sock_getsockopt(struct tern_socks *t, int fd, int level, int name,
			 void *val, socklen_t *len);
int tern_sock_setsockopt(struct tern_socks *t, int fd, int level, int name,
			 const void *val, socklen_t len);
int tern_sock_getsockname(struct tern_socks *t, int fd, struct sockaddr *addr,
			  socklen_t *len);
int tern_sock_getpeername(struct tern_socks *t, int fd, struct sockaddr *addr,
			  socklen_t *len);
/* Fills each revents from the sockets' state now (POLLIN, POLLOUT,
 * POLLERR, POLLHUP, POLLRDHUP, POLLNVAL); returns how many are non-zero.
 * Never waits. */
int tern_sock_poll(struct tern_socks *t, struct pollfd *fds, nfds_t n);

#ifdef __cplusplus
}
#endif
#endif
