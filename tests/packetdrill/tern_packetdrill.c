/* packetdrill's shared-object mode (--so_filename) on one tern stack with
 * a virtual clock: packetdrill_interface_init() fills packetdrill's
 * function table (its src/packetdrill.h, included from packetdrill's own
 * source at build time) with:
 *
 * - netdev_send: an IP packet from the script, given an Ethernet header
 *   from the "gateway" and fed to the stack;
 * - netdev_receive: the next packet the stack sent (its Ethernet header
 *   taken off), stamped with the virtual time it left; when none is
 *   waiting, virtual time moves to the stack's next timer until one is;
 * - usleep / gettimeofday: move virtual time, running the stack's timers
 *   at each expiry on the way (so retransmissions leave at their time);
 * - the socket calls: tern_sock (tern/sock.h). A blocking call that would
 *   block waits for the other thread (packetdrill runs blocking calls on
 *   a thread of their own) to change something, and tries again.
 *
 * One lock guards the stack: packetdrill's two threads both call in;
 * a blocked call that was woken acts before virtual time moves again
 * (pd_settle), so runs do not depend on how the OS schedules threads.
 * Flags (--so_flags): "local_ip=A.B.C.D[;mtu=N][;syncookies=N]" (syncookies:
 * tern_stack_conf.tcp_syncookies, 0 = on backlog overflow, 1 = never,
 * 2 = always; run.sh adds a script's "// tern-so-flags:" line). The stack
 * owns local_ip in 192.168.0.0/16 with gateway 192.168.0.1, through which packetdrill's
 * remote 192.0.2.1 is reached. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <tern/clock.h>
#include <tern/neigh.h>
#include <tern/sock.h>
#include <tern/stack.h>
#include <tern/timer.h>

#include "packetdrill.h"

#define PD_START_NS (1000ull * TERN_NS_PER_S)	/* the virtual epoch */
#define PD_RECV_GIVE_UP_NS (300ull * TERN_NS_PER_S)
#define PD_IDLE_STEP_NS (10ull * TERN_NS_PER_MS)

struct out_pkt {
	struct out_pkt *next;
	long long usecs;
	size_t len;
	uint8_t data[];
};

struct pd {
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* the stack changed: blocked calls retry */
	pthread_cond_t settled;		/* a woken blocked call has retried */
	uint64_t gen;			/* changes so far */
	uint64_t waiter_seen;		/* the change a blocked call last saw */
	bool waiting;			/* a call is blocked in pd_wait() */
	struct tern_clock clk;
	struct rte_mempool *pool;
	struct tern_stack *s;
	struct tern_socks *socks;
	struct out_pkt *head, *tail;
	struct rte_ether_addr mac, gw_mac;
	uint64_t tick_ns;
};

static int pd_trace = -1;

/* TERN_PD_TRACE=1: each packet in and out on stderr, with virtual time */
static void trace_pkt(struct pd *pd, const char *dir, const uint8_t *ip, size_t len)
{
	if (pd_trace < 0)
		pd_trace = getenv("TERN_PD_TRACE") != NULL;
	if (!pd_trace || len < 40 || (ip[0] >> 4) != 4 || ip[9] != 6)
		return;
	const uint8_t *t = ip + (ip[0] & 15) * 4;
	uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	uint32_t ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
	unsigned plen = (unsigned)(len - (size_t)((ip[0] & 15) * 4) - (size_t)((t[12] >> 4) * 4));
	fprintf(stderr, "pd %.6f %s flags=%02x seq=%u ack=%u len=%u\n",
		(double)(tern_clock_now(&pd->clk) - PD_START_NS) / 1e9, dir, t[13],
		seq, ack, plen);
}

static const uint8_t kMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t kGwMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};


/* ---- the two threads ------------------------------------------------------
 * packetdrill runs a blocking call on a thread of its own and carries on
 * with the script once that thread sleeps. The call sleeps in pd_wait()
 * until the stack changes (pd_changed()); before virtual time moves or the
 * wire is read, pd_settle() waits until a woken call has looked at the
 * change (retried, then returned or slept again). So what the call does
 * with an ACK that made room happens at the ACK's virtual time, on every
 * run, however the OS schedules the threads. */

static void pd_changed(struct pd *pd)
{
	pd->gen++;
	pthread_cond_broadcast(&pd->changed);
}

/* With the lock held, by a blocked call: sleeps until the next change. */
static void pd_wait(struct pd *pd)
{
	pd->waiting = true;
	pd->waiter_seen = pd->gen;
	pthread_cond_broadcast(&pd->settled);
	while (pd->waiter_seen == pd->gen)
		pthread_cond_wait(&pd->changed, &pd->lock);
	pd->waiting = false;
}

/* With the lock held: lets a woken blocked call retry first (bounded by
 * a real second, so a bug cannot hang the run). */
static void pd_settle(struct pd *pd)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	while (pd->waiting && pd->waiter_seen != pd->gen)
		if (pthread_cond_timedwait(&pd->settled, &pd->lock, &until) != 0)
			break;
}

/* A blocked call is done (returns): whoever waits to settle may go on. */
static void pd_done(struct pd *pd)
{
	pthread_cond_broadcast(&pd->settled);
}

/* ---- the wire ------------------------------------------------------------ */

static uint16_t pd_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct pd *pd = ctx;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		size_t len = m->pkt_len > RTE_ETHER_HDR_LEN ?
			     m->pkt_len - RTE_ETHER_HDR_LEN : 0;
		struct out_pkt *o = malloc(sizeof(*o) + len);
		if (o != NULL) {
			o->next = NULL;
			o->len = len;
			o->usecs = (long long)(tern_clock_now(&pd->clk) / 1000u);
			/* the port's checksums are all done in software here
			 * (no offload caps): the bytes are final */
			const void *p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN,
							 (uint32_t)len, o->data);
			if (p != o->data)
				memcpy(o->data, p, len);
			trace_pkt(pd, "out", o->data, len);
			if (pd->tail)
				pd->tail->next = o;
			else
				pd->head = o;
			pd->tail = o;
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

/* Moves virtual time to `target`, stopping at each timer expiry on the
 * way so what the timers send leaves at its own time. */
static void advance_to(struct pd *pd, uint64_t target)
{
	pd_settle(pd);
	uint64_t now = tern_clock_now(&pd->clk);
	while (now < target) {
		uint64_t nt = tern_stack_next_timer(pd->s);
		uint64_t to = target;
		if (nt <= now)
			to = RTE_MIN(target, now + pd->tick_ns);
		else if (nt < target)
			to = nt;
		tern_clock_advance(&pd->clk, to - now);
		now = to;
		tern_stack_run_timers(pd->s);
		pd_changed(pd);
		pd_settle(pd);
	}
	tern_stack_run_timers(pd->s);
	pd_changed(pd);
	pd_settle(pd);
}

static int pd_netdev_send(void *ud, const void *buf, size_t count)
{
	struct pd *pd = ud;
	if (count == 0 || count > 9000)
		return -1;
	pthread_mutex_lock(&pd->lock);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pd->pool);
	if (m == NULL) {
		pthread_mutex_unlock(&pd->lock);
		return -1;
	}
	uint8_t ver = ((const uint8_t *)buf)[0] >> 4;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
		m, RTE_ETHER_HDR_LEN);
	rte_ether_addr_copy(&pd->mac, &eh->dst_addr);
	rte_ether_addr_copy(&pd->gw_mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(ver == 6 ? RTE_ETHER_TYPE_IPV6 :
						     RTE_ETHER_TYPE_IPV4);
	/* a frame larger than one segment goes in a chain */
	size_t off = 0;
	struct rte_mbuf *last = m;
	while (off < count) {
		uint16_t room = rte_pktmbuf_tailroom(last);
		if (room == 0) {
			struct rte_mbuf *n = rte_pktmbuf_alloc(pd->pool);
			if (n == NULL || rte_pktmbuf_chain(m, n) != 0) {
				rte_pktmbuf_free(n);
				rte_pktmbuf_free(m);
				pthread_mutex_unlock(&pd->lock);
				return -1;
			}
			last = n;
			continue;
		}
		size_t k = RTE_MIN((size_t)room, count - off);
		memcpy(rte_pktmbuf_mtod_offset(last, char *, last->data_len),
		       (const uint8_t *)buf + off, k);
		last->data_len = (uint16_t)(last->data_len + k);
		m->pkt_len += (uint32_t)k;
		off += k;
	}
	trace_pkt(pd, "in ", buf, count);
	tern_stack_input(pd->s, 0, &m, 1);
	pd_changed(pd);
	pd_settle(pd);
	pthread_mutex_unlock(&pd->lock);
	return 0;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *count,
			     long long *time_usecs)
{
	struct pd *pd = ud;
	pthread_mutex_lock(&pd->lock);
	uint64_t give_up = tern_clock_now(&pd->clk) + PD_RECV_GIVE_UP_NS;
	while (pd->head == NULL && tern_clock_now(&pd->clk) < give_up) {
		/* let a blocked call on the other thread act first */
		pd_settle(pd);
		if (pd->head != NULL)
			break;
		uint64_t now = tern_clock_now(&pd->clk);
		uint64_t nt = tern_stack_next_timer(pd->s);
		uint64_t to = nt > now && nt != UINT64_MAX ? nt : now + PD_IDLE_STEP_NS;
		if (to > now + PD_IDLE_STEP_NS && nt == UINT64_MAX)
			to = now + PD_IDLE_STEP_NS;
		advance_to(pd, to);
	}
	struct out_pkt *o = pd->head;
	if (o == NULL) {
		*count = 0;
		pthread_mutex_unlock(&pd->lock);
		return 0;	/* nothing in 300 virtual seconds: the script fails */
	}
	pd->head = o->next;
	if (pd->head == NULL)
		pd->tail = NULL;
	pthread_mutex_unlock(&pd->lock);
	size_t n = RTE_MIN(*count, o->len);
	memcpy(buf, o->data, n);
	*count = n;
	*time_usecs = o->usecs;
	free(o);
	return 0;
}

static int pd_usleep(void *ud, useconds_t usec)
{
	struct pd *pd = ud;
	pthread_mutex_lock(&pd->lock);
	advance_to(pd, tern_clock_now(&pd->clk) + (uint64_t)usec * 1000u);
	pthread_mutex_unlock(&pd->lock);
	return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
	struct pd *pd = ud;
	(void)tz;
	pthread_mutex_lock(&pd->lock);
	/* packetdrill spins on gettimeofday before an event: time must
	 * move a little on every call (README) */
	advance_to(pd, tern_clock_now(&pd->clk) + 1000u);
	uint64_t now = tern_clock_now(&pd->clk);
	pthread_mutex_unlock(&pd->lock);
	tv->tv_sec = (time_t)(now / TERN_NS_PER_S);
	tv->tv_usec = (suseconds_t)((now % TERN_NS_PER_S) / 1000u);
	return 0;
}

/* ---- sockets ------------------------------------------------------------------ */

static long ret(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* Runs call() under the lock; a blocking socket's -EAGAIN (or connect's
 * -EINPROGRESS/-EALREADY) waits for the other thread and tries again. */
#define CALL_BLOCKING(pd, fd, expr, again)                                     \
	({                                                                     \
		long _rc;                                                      \
		pthread_mutex_lock(&(pd)->lock);                               \
		for (;;) {                                                     \
			_rc = (expr);                                          \
			if (!(again) ||                                        \
			    tern_sock_is_nonblocking((pd)->socks, (fd)))       \
				break;                                         \
			pd_wait(pd);                                           \
		}                                                              \
		pd_changed(pd); pd_done(pd);                                   \
		pthread_mutex_unlock(&(pd)->lock);                             \
		_rc;                                                           \
	})

#define CALL(pd, expr)                                                         \
	({                                                                     \
		long _rc;                                                      \
		pthread_mutex_lock(&(pd)->lock);                               \
		_rc = (expr);                                                  \
		pd_changed(pd); pd_done(pd);                                   \
		pthread_mutex_unlock(&(pd)->lock);                             \
		_rc;                                                           \
	})

static int pd_socket(void *ud, int domain, int type, int protocol)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_socket(pd->socks, domain, type, protocol)));
}

static int pd_bind(void *ud, int fd, const struct sockaddr *a, socklen_t l)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_bind(pd->socks, fd, a, l)));
}

static int pd_listen(void *ud, int fd, int backlog)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_listen(pd->socks, fd, backlog)));
}

static int pd_accept(void *ud, int fd, struct sockaddr *a, socklen_t *l)
{
	struct pd *pd = ud;
	long rc = CALL_BLOCKING(pd, fd, tern_sock_accept(pd->socks, fd, a, l),
				_rc == -EAGAIN);
	return (int)ret(rc);
}

static int pd_connect(void *ud, int fd, const struct sockaddr *a, socklen_t l)
{
	struct pd *pd = ud;
	pthread_mutex_lock(&pd->lock);
	long rc = tern_sock_connect(pd->socks, fd, a, l);
	if (!tern_sock_is_nonblocking(pd->socks, fd)) {
		/* a blocking connect waits for the handshake's outcome */
		while (rc == -EINPROGRESS || rc == -EALREADY) {
			pd_wait(pd);
			rc = tern_sock_connect(pd->socks, fd, a, l);
		}
	}
	pd_changed(pd);
	pd_done(pd);
	pthread_mutex_unlock(&pd->lock);
	return (int)ret(rc);
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
	struct pd *pd = ud;
	bool dontwait = (flags & MSG_DONTWAIT) != 0;
	long rc = CALL_BLOCKING(pd, fd,
				tern_sock_recv(pd->socks, fd, buf, len,
					       flags & ~MSG_DONTWAIT),
				_rc == -EAGAIN && !dontwait);
	return ret(rc);
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t count)
{
	return pd_recv(ud, fd, buf, count, 0);
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags,
			   struct sockaddr *src, socklen_t *srclen)
{
	(void)src;
	if (srclen)
		*srclen = 0;
	return pd_recv(ud, fd, buf, len, flags);
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int n)
{
	struct pd *pd = ud;
	long rc = CALL_BLOCKING(pd, fd, tern_sock_readv(pd->socks, fd, iov, n),
				_rc == -EAGAIN);
	return ret(rc);
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
	(void)flags;
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	return pd_readv(ud, fd, msg->msg_iov, (int)msg->msg_iovlen);
}

/* A blocking write takes everything, waiting for space as it goes. */
static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len, int flags)
{
	struct pd *pd = ud;
	size_t done = 0;
	pthread_mutex_lock(&pd->lock);
	bool nb = tern_sock_is_nonblocking(pd->socks, fd) || (flags & MSG_DONTWAIT);
	long rc = 0;
	for (;;) {
		rc = tern_sock_send(pd->socks, fd, (const uint8_t *)buf + done,
				    len - done, flags & ~MSG_DONTWAIT);
		if (rc > 0)
			done += (size_t)rc;
		if (nb || done == len || (rc < 0 && rc != -EAGAIN))
			break;
		pd_wait(pd);
	}
	pd_changed(pd);
	pd_done(pd);
	pthread_mutex_unlock(&pd->lock);
	if (done > 0)
		return (ssize_t)done;
	return ret(rc);
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t count)
{
	return pd_send(ud, fd, buf, count, 0);
}

static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len,
			 int flags, const struct sockaddr *d, socklen_t dl)
{
	(void)d;
	(void)dl;
	return pd_send(ud, fd, buf, len, flags);
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int n)
{
	ssize_t total = 0;
	for (int i = 0; i < n; i++) {
		ssize_t r = pd_send(ud, fd, iov[i].iov_base, iov[i].iov_len, 0);
		if (r < 0)
			return total > 0 ? total : r;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags)
{
	(void)flags;
	return pd_writev(ud, fd, msg->msg_iov, (int)msg->msg_iovlen);
}

static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
	struct pd *pd = ud;
	va_list ap;
	va_start(ap, cmd);
	long arg = cmd == F_SETFL ? va_arg(ap, long) : 0;
	va_end(ap);
	return (int)ret(CALL(pd, tern_sock_fcntl(pd->socks, fd, cmd, arg)));
}

static int pd_ioctl(void *ud, int fd, unsigned long req, ...)
{
	(void)ud;
	(void)fd;
	(void)req;
	errno = ENOTTY;
	return -1;
}

static int pd_close(void *ud, int fd)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_close(pd->socks, fd)));
}

static int pd_shutdown(void *ud, int fd, int how)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_shutdown(pd->socks, fd, how)));
}

static int pd_getsockopt(void *ud, int fd, int level, int name, void *val,
			 socklen_t *len)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_getsockopt(pd->socks, fd, level, name,
						       val, len)));
}

static int pd_setsockopt(void *ud, int fd, int level, int name, const void *val,
			 socklen_t len)
{
	struct pd *pd = ud;
	return (int)ret(CALL(pd, tern_sock_setsockopt(pd->socks, fd, level, name,
						       val, len)));
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout)
{
	struct pd *pd = ud;
	pthread_mutex_lock(&pd->lock);
	uint64_t until = timeout < 0 ? UINT64_MAX :
			 tern_clock_now(&pd->clk) + (uint64_t)timeout * TERN_NS_PER_MS;
	int rc;
	for (;;) {
		rc = tern_sock_poll(pd->socks, fds, n);
		if (rc != 0 || timeout == 0 || tern_clock_now(&pd->clk) >= until)
			break;
		pd_wait(pd);
	}
	pd_done(pd);
	pthread_mutex_unlock(&pd->lock);
	return rc;
}

static int pd_nosys(void)
{
	errno = ENOSYS;
	return -1;
}

static int pd_epoll_create(void *ud, int size)
{
	(void)ud;
	(void)size;
	return pd_nosys();
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd,
			struct epoll_event *ev)
{
	(void)ud, (void)epfd, (void)op, (void)fd, (void)ev;
	return pd_nosys();
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *ev, int max,
			 int timeout)
{
	(void)ud, (void)epfd, (void)ev, (void)max, (void)timeout;
	return pd_nosys();
}

static int pd_pipe(void *ud, int fds[2])
{
	(void)ud, (void)fds;
	return pd_nosys();
}

static int pd_splice(void *ud, int in, loff_t *oin, int out, loff_t *oout,
		     size_t len, unsigned int flags)
{
	(void)ud, (void)in, (void)oin, (void)out, (void)oout, (void)len, (void)flags;
	return pd_nosys();
}

/* ---- setup ----------------------------------------------------------------------- */

static void pd_free(void *ud)
{
	struct pd *pd = ud;
	if (pd == NULL)
		return;
	tern_socks_destroy(pd->socks);
	tern_stack_destroy(pd->s);
	while (pd->head) {
		struct out_pkt *o = pd->head;
		pd->head = o->next;
		free(o);
	}
	rte_mempool_free(pd->pool);
	free(pd);
}

static bool eal_up;

static void pd_die(const char *what)
{
	fprintf(stderr, "tern_packetdrill: %s: %s\n", what, rte_strerror(rte_errno));
	exit(2);
}

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	char ip[32] = "192.168.0.2";
	unsigned mtu = 1500;
	int syncookies = 0;
	if (flags != NULL) {
		const char *p = strstr(flags, "local_ip=");
		if (p != NULL)
			sscanf(p + 9, "%31[0-9.]", ip);
		p = strstr(flags, "mtu=");
		if (p != NULL)
			mtu = (unsigned)atoi(p + 4);
		p = strstr(flags, "syncookies=");
		if (p != NULL) {
			syncookies = atoi(p + 11);
			if (syncookies < 0 || syncookies > 2) {
				fprintf(stderr, "tern_packetdrill: syncookies=%d: 0, 1 or 2\n",
					syncookies);
				exit(2);
			}
		}
	}
	if (!eal_up) {
		char *argv[] = {"tern_packetdrill", "--no-huge", "--no-pci",
				"--no-shconf", "-m", "256", "--no-telemetry",
				"--log-level=error", "-l", "0", NULL};
		if (rte_eal_init(10, argv) < 0)
			pd_die("rte_eal_init");
		eal_up = true;
	}
	struct pd *pd = calloc(1, sizeof(*pd));
	if (pd == NULL)
		pd_die("calloc");
	pthread_mutex_init(&pd->lock, NULL);
	pthread_cond_init(&pd->changed, NULL);
	pthread_cond_init(&pd->settled, NULL);
	tern_clock_init_virtual(&pd->clk, PD_START_NS);
	pd->pool = rte_pktmbuf_pool_create("tern_pd", 16383, 0, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pd->pool == NULL)
		pd_die("mbuf pool");
	pd->tick_ns = 100000;
	struct tern_stack_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.name = "pd";
	sc.pool = pd->pool;
	sc.clock = &pd->clk;
	sc.socket = SOCKET_ID_ANY;
	sc.seed = 1;
	sc.timer_tick_ns = (uint32_t)pd->tick_ns;
	sc.tcp_syncookies = (uint8_t)syncookies;
	pd->s = tern_stack_create(&sc);
	if (pd->s == NULL)
		pd_die("tern_stack_create");
	memcpy(pd->mac.addr_bytes, kMac, 6);
	memcpy(pd->gw_mac.addr_bytes, kGwMac, 6);
	struct tern_iface_conf ic;
	memset(&ic, 0, sizeof(ic));
	ic.ifindex = 1;
	ic.link = 0;
	snprintf(ic.name, sizeof(ic.name), "pd0");
	ic.mac = pd->mac;
	ic.mtu = (uint16_t)mtu;
	tern_addr_parse("192.168.0.1", &ic.gateway);
	ic.tx = pd_tx;
	ic.tx_ctx = pd;
	if (tern_iface_add(pd->s, &ic) != 0)
		pd_die("tern_iface_add");
	struct tern_addr a;
	if (tern_addr_parse(ip, &a) != 0 || tern_iface_addr_add(pd->s, 1, &a, 16) != 0)
		pd_die("local_ip");
	if (tern_neigh_add(pd->s, 1, &ic.gateway, &pd->gw_mac) != 0)
		pd_die("gateway neighbour");
	pd->socks = tern_socks_create(pd->s, 256);
	if (pd->socks == NULL)
		pd_die("tern_socks_create");

	memset(ifc, 0, sizeof(*ifc));
	ifc->userdata = pd;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}
