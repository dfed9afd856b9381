/* tcp_linux: the Linux kernel baseline for tern's TCP benchmark.
 *
 *   tcp_linux [-t SECONDS] [-n HELD1,HELD2,..] [-w bulk,cps,cps-rst,rr,hold]
 *
 * Both ends of every connection are in this one thread, over loopback:
 * scripts/bench_tcp.sh runs it with taskset on one core, in a network
 * namespace of its own (its loopback, its sysctls, its sockstat). On
 * loopback the kernel processes a sent segment, receive side included, in
 * the softirq that the sending system call raises on the same CPU, so one
 * thread can play both ends with blocking calls: no step waits for
 * another step of this thread.
 *
 *   bulk     one connection; the client write()s 128 KiB, the server
 *            read()s, both non-blocking, poll() when neither can move.
 *   cps      serially: socket, connect, accept, 64-byte request, 64-byte
 *            response, client close() (FIN), server reads EOF, close().
 *   cps-rst  the same, the client closes with SO_LINGER {1, 0} (RST).
 *   rr       one connection, 64 bytes each way, one round trip at a time.
 *   hold     opens connections until HELD1, HELD2, .. are open (both ends
 *            here: 2 sockets each) and prints the kernel memory they took
 *            (mem@N) and cps and cps-rst beside them (cps@N, cps-rst@N).
 *
 * TCP_NODELAY on every connection but bulk's. Held connection i goes to
 * 127.0.0.D:7000 with D = 1 + i / 10000 (each destination has its own
 * 28,000 ephemeral ports). They are held by child processes of as many
 * connections as RLIMIT_NOFILE allows each (raised to its hard limit). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcp_base.h"

#define PORT 5001
#define HOLD_PORT 7000
#define HOLD_PER_DST 10000
#define BULK_IO (128 * 1024)

static void die(const char *what)
{
	fprintf(stderr, "tcp_linux: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in sin4(uint32_t host_order_addr, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(host_order_addr);
	return a;
}

static int listener(uint16_t port)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4(INADDR_ANY, port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 4096) != 0)
		die("listen");
	return fd;
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Blocking connect to dst:port, then accept the other end from lis.
 * Returns 0, or -errno of connect (EADDRNOTAVAIL: no local port left). */
static int pair(int lis, uint32_t dst, uint16_t port, int nd, int *c, int *s)
{
	struct sockaddr_in a = sin4(dst, port);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0)
		die("socket");
	if (nd)
		nodelay(*c);
	if (connect(*c, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		close(*c);
		return -e;
	}
	*s = accept4(lis, NULL, NULL, 0);
	if (*s < 0)
		die("accept");
	if (nd)
		nodelay(*s);
	return 0;
}

static void read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			die(r == 0 ? "read: unexpected EOF" : "read");
		got += (size_t)r;
	}
}

static void write_full(int fd, const char *buf, size_t n)
{
	if (write(fd, buf, n) != (ssize_t)n)
		die("write");
}

struct run {
	double t0, t1, cpu0, cpu1;
	uint64_t count;
	const char *why;
};

static void run_begin(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->t0 = tcpb_now();
	r->cpu0 = tcpb_cpu();
}

static void run_end(struct run *r)
{
	r->t1 = tcpb_now();
	r->cpu1 = tcpb_cpu();
}

static void fig_run(const char *fig, const struct run *r, const char *what,
		    double value, const char *unit, const char *more)
{
	char cpu[96];
	double dt = r->t1 - r->t0;
	tcpb_cpu_note(cpu, sizeof(cpu), value, unit, dt, r->cpu1 - r->cpu0);
	tcpb_fig("linux", fig, dt > 0 ? value / dt : -1, unit,
		 "%s, %.2f s, %s%s%s%s", what, dt, cpu, more,
		 r->why ? "; STOPPED EARLY: " : "", r->why ? r->why : "");
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		die("fcntl");
}

static void bulk(double secs)
{
	static char wbuf[BULK_IO], rbuf[BULK_IO];
	int lis = listener(PORT), c, s;
	struct run r;
	if (pair(lis, INADDR_LOOPBACK, PORT, 0, &c, &s) != 0)
		die("connect");
	set_nonblock(c);
	set_nonblock(s);
	memset(wbuf, 'x', sizeof(wbuf));
	run_begin(&r);
	double end = r.t0 + secs;
	unsigned polls = 0;
	for (unsigned i = 0;; i++) {
		ssize_t w = write(c, wbuf, sizeof(wbuf));
		ssize_t n = read(s, rbuf, sizeof(rbuf));
		if (w < 0 && errno != EAGAIN)
			die("bulk write");
		if (n > 0)
			r.count += (uint64_t)n;
		else if (n == 0 || errno != EAGAIN)
			die("bulk read");
		if (w < 0 && n < 0) { /* softirq deferred: let it run */
			struct pollfd p[2] = {{c, POLLOUT, 0}, {s, POLLIN, 0}};
			poll(p, 2, 100);
			polls++;
		}
		if ((i & 15) == 0 && tcpb_now() >= end)
			break;
	}
	run_end(&r);
	int mss = 0;
	socklen_t ml = sizeof(mss);
	getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml);
	char more[96];
	snprintf(more, sizeof(more), ", MSS %d, %u polls", mss, polls);
	fig_run("bulk", &r, "1 connection, 128 KiB write()/read()",
		(double)r.count * 8 / 1e9, "Gbps", more);
	close(c);
	close(s);
	close(lis);
}

static char msg[TCPB_MSG];

/* One connection of cps: returns 0 or -errno of connect. */
static int one_conn(int lis, int rst)
{
	int c, s, e = pair(lis, INADDR_LOOPBACK, PORT, 1, &c, &s);
	if (e)
		return e;
	write_full(c, msg, sizeof(msg));
	read_full(s, msg, sizeof(msg));
	write_full(s, msg, sizeof(msg));
	read_full(c, msg, sizeof(msg));
	if (rst) {
		struct linger l = {1, 0};
		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c);
	} else {
		close(c);
		if (read(s, msg, 1) != 0)
			die("cps: expected EOF");
	}
	close(s);
	return 0;
}

/* Runs cps for secs and returns its rate; with ref (the same figure at
 * the first level held), says how far this one is from it. */
static struct tcpb_rate cps(const char *fig, double secs, int rst,
			    const char *what, const struct tcpb_ref *ref)
{
	int lis = listener(PORT);
	struct run r;
	char more[128];
	run_begin(&r);
	double end = r.t0 + secs;
	for (;;) {
		int e = one_conn(lis, rst);
		if (e) {
			r.why = e == -EADDRNOTAVAIL ? "no free local port"
						    : "connect failed";
			break;
		}
		r.count++;
		if ((r.count & 15) == 0 && tcpb_now() >= end)
			break;
	}
	run_end(&r);
	struct tcpb_rate rate =
		tcpb_rate((double)r.count, r.t1 - r.t0, r.cpu1 - r.cpu0);
	tcpb_cmp_note(more, sizeof(more), ref, rate);
	fig_run(fig, &r, what, (double)r.count, "conn/s", more);
	close(lis);
	return rate;
}

static void rr(double secs)
{
	int lis = listener(PORT), c, s;
	struct run r;
	if (pair(lis, INADDR_LOOPBACK, PORT, 1, &c, &s) != 0)
		die("connect");
	run_begin(&r);
	double end = r.t0 + secs;
	for (;;) {
		write_full(c, msg, sizeof(msg));
		read_full(s, msg, sizeof(msg));
		write_full(s, msg, sizeof(msg));
		read_full(c, msg, sizeof(msg));
		r.count++;
		if ((r.count & 63) == 0 && tcpb_now() >= end)
			break;
	}
	run_end(&r);
	fig_run("rr", &r, "1 connection, 64 B each way, blocking", (double)r.count,
		"rr/s", "");
	close(c);
	close(s);
	close(lis);
}

/* ---- kernel memory ----
 *
 * What a socket is made of in the slab: struct tcp_sock ("TCP"), struct
 * socket and its inode ("sock_inode_cache"), struct file ("filp"), one
 * dentry, and the LSM blobs of the file and inode. mem@N is the growth in
 * objects of those caches (active_objs in /proc/slabinfo) times the bytes
 * each object takes in its slab (pages per slab * 4096 / objects per
 * slab), summed, per connection. The dentry and lsm_inode_cache caches
 * are counted at one object per socket inode, not by their growth: on a
 * machine where another process reads /proc/PID/fd/ (this one has such a
 * reader), every fd also gets a proc inode, its LSM blob and a dentry,
 * which are not the socket's. The
 * whole /proc/meminfo Slab delta, which includes those and everyone
 * else's churn, is printed beside it. */

#define MAX_CACHES 512

static const char *const sock_caches[] = {
	"TCP", "sock_inode_cache", "filp", "lsm_file_cache",
};
/* One object each per socket inode, counted so (see above). */
static const char *const per_inode_caches[] = {"dentry", "lsm_inode_cache"};

struct kmem {
	long long slab, avail, vmalloc; /* /proc/meminfo, bytes */
	long long tcp_inuse;		/* /proc/net/sockstat */
	int ncache;
	struct {
		char name[64];
		long long active;	/* objects in use */
		double slot;		/* bytes per object in its slab */
	} cache[MAX_CACHES];
};

static long long meminfo(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);
	return p ? atoll(p + strlen(key)) * 1024 : 0;
}

static size_t slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	buf[n] = 0;
	if (f)
		fclose(f);
	return n;
}

static void kmem_read(struct kmem *k)
{
	static char buf[1 << 16];
	memset(k, 0, sizeof(*k));
	slurp("/proc/meminfo", buf, sizeof(buf));
	k->slab = meminfo(buf, "\nSlab:");
	k->avail = meminfo(buf, "\nMemAvailable:");
	k->vmalloc = meminfo(buf, "\nVmallocUsed:");
	slurp("/proc/net/sockstat", buf, sizeof(buf));
	const char *p = strstr(buf, "TCP: inuse");
	if (p)
		sscanf(p, "TCP: inuse %lld", &k->tcp_inuse);
	FILE *f = fopen("/proc/slabinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f) && k->ncache < MAX_CACHES) {
		long long active, num, size, per, pages;
		char name[64];
		if (line[0] == '#' ||
		    sscanf(line, "%63s %lld %lld %lld %lld %lld", name, &active,
			   &num, &size, &per, &pages) != 6 || per <= 0)
			continue;
		snprintf(k->cache[k->ncache].name, sizeof(k->cache[0].name),
			 "%s", name);
		k->cache[k->ncache].active = active;
		k->cache[k->ncache++].slot = (double)pages * 4096 / (double)per;
	}
	fclose(f);
}

static int kmem_find(const struct kmem *k, const char *name)
{
	for (int i = 0; i < k->ncache; i++)
		if (!strcmp(k->cache[i].name, name))
			return i;
	return -1;
}

/* acc += b - a: meminfo fields, and objects cache by cache. */
static void kmem_accumulate(struct kmem *acc, const struct kmem *a,
			   const struct kmem *b)
{
	acc->slab += b->slab - a->slab;
	acc->avail += a->avail - b->avail; /* memory taken */
	acc->vmalloc += b->vmalloc - a->vmalloc;
	for (int i = 0; i < b->ncache; i++) {
		int j = kmem_find(a, b->cache[i].name);
		int t = kmem_find(acc, b->cache[i].name);
		if (t < 0) {
			if (acc->ncache == MAX_CACHES)
				continue;
			t = acc->ncache++;
			acc->cache[t] = b->cache[i];
			acc->cache[t].active = 0;
		}
		acc->cache[t].active +=
			b->cache[i].active - (j >= 0 ? a->cache[j].active : 0);
	}
}

/* The socket caches' bytes per connection; their list, and the caches that
 * grew most whatever they are, into out. */
static double kmem_sockets(const struct kmem *acc, unsigned long n, char *out,
			   size_t len)
{
	double total = 0;
	size_t off = 0;
	int w;
	out[0] = 0;
	for (size_t i = 0; i < sizeof(sock_caches) / sizeof(sock_caches[0]);
	     i++) {
		int c = kmem_find(acc, sock_caches[i]);
		if (c < 0)
			continue;
		double b = (double)acc->cache[c].active * acc->cache[c].slot /
			   (double)n;
		total += b;
		w = snprintf(out + off, len - off, "%s %.0f, ", sock_caches[i], b);
		if (w > 0 && (size_t)w < len - off)
			off += (size_t)w;
	}
	int ino = kmem_find(acc, "sock_inode_cache");
	for (size_t i = 0;
	     ino >= 0 && i < sizeof(per_inode_caches) / sizeof(per_inode_caches[0]);
	     i++) {
		int c = kmem_find(acc, per_inode_caches[i]);
		if (c < 0)
			continue;
		double b = (double)acc->cache[ino].active * acc->cache[c].slot /
			   (double)n;
		total += b;
		w = snprintf(out + off, len - off, "%s%s %.0f", i ? ", " : "",
			     per_inode_caches[i], b);
		if (w > 0 && (size_t)w < len - off)
			off += (size_t)w;
	}
	/* The caches that grew most, in bytes, for the record. */
	int used[MAX_CACHES] = {0};
	w = snprintf(out + off, len - off, "; largest growth:");
	if (w > 0 && (size_t)w < len - off)
		off += (size_t)w;
	for (int k = 0; k < 4; k++) {
		int best = -1;
		double bb = 0;
		for (int i = 0; i < acc->ncache; i++) {
			double b = (double)acc->cache[i].active * acc->cache[i].slot;
			if (!used[i] && b > bb) {
				best = i;
				bb = b;
			}
		}
		if (best < 0)
			break;
		used[best] = 1;
		w = snprintf(out + off, len - off, " %s %.0f",
			     acc->cache[best].name, bb / (double)n);
		if (w > 0 && (size_t)w < len - off)
			off += (size_t)w;
	}
	return total;
}

/* Held connections live in child processes: RLIMIT_NOFILE cannot always
 * be raised (a container without CAP_SYS_RESOURCE keeps its hard limit),
 * so each child holds as many connections, both ends, as its limit allows
 * and waits; the parent only measures and runs cps beside them. */
struct holders {
	int lis, release[2], ack[2];
	unsigned long n, per_child;
	pid_t pids[4096];
	int nchild;
};

static void child_hold(struct holders *h, unsigned long first,
		       unsigned long count)
{
	int *fds = malloc(2 * count * sizeof(int)), err = 0;
	unsigned long i;
	close(h->release[1]);
	close(h->ack[0]);
	for (i = 0; fds && i < count; i++) {
		unsigned long g = first + i;
		uint32_t dst = INADDR_LOOPBACK + (uint32_t)(g / HOLD_PER_DST);
		err = -pair(h->lis, dst, HOLD_PORT, 0, &fds[2 * i],
			    &fds[2 * i + 1]);
		if (err)
			break;
	}
	if (!fds)
		err = ENOMEM;
	if (write(h->ack[1], &err, sizeof(err)) != sizeof(err))
		_exit(1);
	char c;
	while (read(h->release[0], &c, 1) < 0 && errno == EINTR)
		; /* EOF: the parent is done */
	for (unsigned long j = 0; j < 2 * i; j++) {
		struct linger lg = {1, 0}; /* RST: no FIN storm, no TIME_WAIT */
		setsockopt(fds[j], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fds[j]);
	}
	_exit(0);
}

/* Opens held connections until there are target; returns 0 or an errno. */
static int holders_grow(struct holders *h, unsigned long target)
{
	while (h->n < target) {
		unsigned long count = target - h->n;
		if (count > h->per_child)
			count = h->per_child;
		if (h->nchild == (int)(sizeof(h->pids) / sizeof(h->pids[0])))
			return EMFILE;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return errno;
		if (pid == 0)
			child_hold(h, h->n, count);
		h->pids[h->nchild++] = pid;
		int err = EPIPE;
		if (read(h->ack[0], &err, sizeof(err)) != sizeof(err) || err)
			return err;
		h->n += count;
	}
	return 0;
}

static void holders_release(struct holders *h)
{
	close(h->release[1]);
	for (int i = 0; i < h->nchild; i++)
		waitpid(h->pids[i], NULL, 0);
	close(h->release[0]);
	close(h->ack[0]);
	close(h->ack[1]);
	close(h->lis);
}

static void hold(const struct tcpb_opts *o)
{
	static struct kmem before, after, acc;
	struct tcpb_ref ref[2];
	struct holders h;
	struct rlimit rl;
	memset(&h, 0, sizeof(h));
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < rl.rlim_max) { /* the soft limit may go up */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	h.per_child = rl.rlim_cur > 64 ? (rl.rlim_cur - 32) / 2 : 1;
	h.lis = listener(HOLD_PORT);
	if (pipe(h.release) != 0 || pipe(h.ack) != 0)
		die("pipe");
	memset(&acc, 0, sizeof(acc));
	for (int l = 0; l < o->nlevels; l++) {
		unsigned long target = o->levels[l];
		char fig[32], top[512];
		double t0 = tcpb_now();
		kmem_read(&before);
		int err = holders_grow(&h, target);
		double setup = tcpb_now() - t0;
		kmem_read(&after);
		kmem_accumulate(&acc, &before, &after);
		snprintf(fig, sizeof(fig), "mem@%lu", target);
		if (err) {
			tcpb_fig("linux", fig, -1, "B/conn",
				 "%lu of %lu connections opened: %s", h.n,
				 target, strerror(err));
			break;
		}
		double per = kmem_sockets(&acc, h.n, top, sizeof(top));
		tcpb_fig("linux", fig, per, "B/conn",
			 "slab objects of %lu connections = %lu sockets, held "
			 "by %d process(es): %s; /proc/meminfo Slab %+.0f, "
			 "VmallocUsed %+.0f, MemAvailable %+.0f per "
			 "connection; sockstat TCP inuse %lld; opened in %.1f s",
			 h.n, 2 * h.n, h.nchild, top,
			 (double)acc.slab / (double)h.n,
			 (double)acc.vmalloc / (double)h.n,
			 -(double)acc.avail / (double)h.n, after.tcp_inuse,
			 setup);
		for (int rst = 0; rst < 2; rst++) {
			snprintf(fig, sizeof(fig), "%s@%lu",
				 rst ? "cps-rst" : "cps", target);
			struct tcpb_rate rate =
				cps(fig, o->seconds, rst,
				    rst ? "as cps-rst, beside the held "
					  "connections"
					: "as cps, beside the held connections",
				    l ? &ref[rst] : NULL);
			if (l == 0) {
				ref[rst].rate = rate;
				snprintf(ref[rst].fig, sizeof(ref[rst].fig),
					 "%s", fig);
			}
		}
	}
	holders_release(&h);
}

int main(int argc, char **argv)
{
	struct tcpb_opts o;
	if (tcpb_parse(&o, argc, argv, "tcp_linux", "1000,10000,100000") != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	struct utsname u;
	uname(&u);
	printf("# linux %s, kernel TCP over loopback, one thread for both "
	       "ends\n", u.release);
	if (o.bulk)
		bulk(o.seconds);
	if (o.cps)
		cps("cps", o.seconds, 0, "serial, client closes with FIN", NULL);
	if (o.cps_rst)
		cps("cps-rst", o.seconds, 1,
		    "serial, client closes with RST (SO_LINGER 0)", NULL);
	if (o.rr)
		rr(o.seconds);
	if (o.hold)
		hold(&o);
	return 0;
}
