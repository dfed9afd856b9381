/* The TCP harness's application through the socket layer (op 14, see
 * fuzz_tcp.h): socket/bind/listen/accept/connect/recv/send/shutdown/
 * close/setsockopt/getsockopt/poll/readv/writev on NSOCK descriptors. */
#include "fuzz_tcp_priv.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* An int option. */
static int setopt_int(struct tern_socks *t, int fd, int level, int name, int v)
{
	return tern_sock_setsockopt(t, fd, level, name, &v, sizeof(v));
}

/* The options CONNECT sets before connecting, one bit of b each. */
static const struct {
	int level, name, v;
} connect_opts[4] = {
	{IPPROTO_TCP, TCP_NODELAY, 1},
	{SOL_SOCKET, SO_RCVBUF, 2000},
	{SOL_SOCKET, SO_SNDBUF, 2000},
	{SOL_SOCKET, SO_KEEPALIVE, 1},
};

void fz_op_sock(struct fz *z)
{
	static uint8_t buf[64 * 1024];
	uint8_t sub = get8(z), a = get8(z), b = get8(z);
	struct tern_socks *t = z->socks;
	int fd = a % NSOCK;
	struct sockaddr_in in;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	int r = 0;
	switch (sub % 12) {
	case 0: {
		fd = tern_sock_socket(t, AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			break;
		if (b & 1)
			setopt_int(t, fd, SOL_SOCKET, SO_REUSEADDR, 1);
		in.sin_port = htons(82);
		r = tern_sock_bind(t, fd, (struct sockaddr *)&in, sizeof(in));
		if (r == 0)
			r = tern_sock_listen(t, fd, (b >> 1) & 3);
		break;
	}
	case 1: {
		fd = tern_sock_socket(t, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		for (unsigned i = 0; i < 4; i++)
			if ((b >> i) & 1)
				setopt_int(t, fd, connect_opts[i].level,
					   connect_opts[i].name, connect_opts[i].v);
		in.sin_port = htons((uint16_t)(2100 + ((b >> 4) & 7)));
		in.sin_addr.s_addr = htonl(ip_peer);
		r = tern_sock_connect(t, fd, (struct sockaddr *)&in, sizeof(in));
		break;
	}
	case 2: {
		socklen_t sl = sizeof(in);
		r = tern_sock_accept(t, fd, (struct sockaddr *)&in, &sl);
		break;
	}
	case 3: {
		int flags = ((b & 1) ? MSG_PEEK : 0) | ((b & 2) ? MSG_DONTWAIT : 0);
		r = (int)tern_sock_recv(t, fd, buf, len_big(b >> 2) % sizeof(buf),
					flags);
		break;
	}
	case 4:
		memset(buf, 0x6b, sizeof(buf));
		r = (int)tern_sock_send(t, fd, buf, len_big(b) % sizeof(buf), 0);
		break;
	case 5:
		r = tern_sock_shutdown(t, fd, b % 3);
		break;
	case 6:
		r = tern_sock_close(t, fd);
		break;
	case 7: {
		int v = b >> 3;
		struct linger lg = {1, 0};
		switch (b & 7) {
		case 0: r = setopt_int(t, fd, IPPROTO_TCP, TCP_NODELAY, v); break;
		case 1: r = setopt_int(t, fd, SOL_SOCKET, SO_KEEPALIVE, v); break;
		case 2: r = setopt_int(t, fd, IPPROTO_TCP, TCP_KEEPIDLE, v + 1); break;
		case 3: r = setopt_int(t, fd, IPPROTO_TCP, TCP_KEEPINTVL, v + 1); break;
		case 4: r = setopt_int(t, fd, IPPROTO_TCP, TCP_KEEPCNT, v + 1); break;
		case 5: r = setopt_int(t, fd, SOL_SOCKET, SO_SNDBUF, 1 + v * 200); break;
		case 6: r = tern_sock_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)); break;
		default: r = tern_sock_setsockopt(t, fd, IPPROTO_TCP, TCP_CONGESTION, (b & 8) ? "reno" : "cubic", 5); break;
		}
		break;
	}
	case 8: {
		struct pollfd pf[NSOCK];
		for (int i = 0; i < NSOCK; i++) {
			pf[i].fd = i;
			pf[i].events = POLLIN | POLLOUT | POLLRDHUP;
			pf[i].revents = 0;
		}
		r = tern_sock_poll(t, pf, NSOCK);
		break;
	}
	case 9: {
		struct tcp_info ti;
		socklen_t l = sizeof(ti);
		socklen_t al = sizeof(in);
		switch (b % 6) {
		case 0: r = tern_sock_getsockopt(t, fd, IPPROTO_TCP, TCP_INFO, &ti, &l); break;
		case 1: l = sizeof(int); r = tern_sock_getsockopt(t, fd, SOL_SOCKET, SO_ERROR, &ti, &l); break;
		case 2: l = sizeof(int); r = tern_sock_getsockopt(t, fd, IPPROTO_TCP, TCP_MAXSEG, &ti, &l); break;
		case 3: r = tern_sock_getsockname(t, fd, (struct sockaddr *)&in, &al); break;
		case 4: r = tern_sock_getpeername(t, fd, (struct sockaddr *)&in, &al); break;
		default:
			r = tern_sock_fcntl(t, fd, F_GETFL, 0);
			if (r >= 0)
				r = tern_sock_fcntl(t, fd, F_SETFL, r ^ O_NONBLOCK);
			(void)tern_sock_is_nonblocking(t, fd);
			break;
		}
		break;
	}
	case 10:
		in.sin_port = htons(2100);
		in.sin_addr.s_addr = htonl(ip_peer);
		r = tern_sock_connect(t, fd, (struct sockaddr *)&in, sizeof(in));
		break;
	default: {
		struct iovec iov[3] = {
			{buf, 100}, {buf + 100, len_big(b >> 1) % 4096}, {buf + 8192, 1000},
		};
		r = (b & 1) ? (int)tern_sock_writev(t, fd, iov, 3) :
			      (int)tern_sock_readv(t, fd, iov, 3);
		break;
	}
	}
	fz_trace(z, "SOCK %u fd %d %#x -> %d", sub % 12, fd, b, r);
}

