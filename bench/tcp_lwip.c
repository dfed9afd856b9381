/* tcp_lwip: the lwIP 2.1 baseline for tern's TCP benchmark.
 *
 *   tcp_lwip [-t SECONDS] [-n HELD1,HELD2,..] [-w bulk,cps,cps-rst,rr,hold]
 *
 * Debian's liblwip (the GNU/Hurd configuration, /usr/include/lwip/
 * lwipopts.h) is built with NO_SYS=0: the stack runs in its tcpip thread
 * and the raw API must be called there (or under the core lock). It has no
 * loopback interface of its own (LWIP_HAVE_LOOPIF=0) but loops back every
 * IPv4 packet sent to 127/8 or to the interface's own address
 * (LWIP_NETIF_LOOPBACK=1). So this program adds one netif, 127.0.0.1/8,
 * starts the tcpip thread and runs every workload inside it, event-driven
 * through the raw callback API (tcp_recv/tcp_sent/tcp_accept): both ends
 * of every connection live in that one thread, which scripts/bench_tcp.sh
 * pins to one core. The main thread only starts a workload with
 * tcpip_callback() and sleeps on a semaphore until it is done.
 *
 * Each figure runs against an empty stack: pcbs a figure leaves in
 * TIME_WAIT are aborted before the next one starts.
 *
 * Pools: MEMP_MEM_MALLOC=1 and MEM_LIBC_MALLOC=1, so every pool object
 * (tcp_pcb, pbuf, segment) is a malloc(); MEMP_NUM_TCP_PCB (5) limits
 * nothing. Memory per connection is measured with mallinfo2() (all arenas)
 * before and after the connections are opened. */
#include <errno.h>
#include <malloc.h>
#include <semaphore.h>
#include <stdint.h>

#include <lwip/init.h>
#include <lwip/ip_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/sys.h>
#include <lwip/tcp.h>
#include <lwip/tcpip.h>
#include <lwip/timeouts.h>

#include "tcp_base.h"

#define PORT 5001		/* listener of the timed workloads */
#define HOLD_LPORT 1000		/* listeners of held connections: 1000.. */
#define HOLD_CPORT_LO 10000	/* held clients bind 10000..49151: below */
#define HOLD_CPORT_N 39152	/* lwIP's ephemeral range 49152..65535 */
#define HOLD_MAX_LIS 64

static struct netif lo;
static ip_addr_t lo_ip;
static sem_t done;
static char wbuf[65535];	/* bulk payload and requests */

enum kind { BULK, CPS, RR };

struct wl {
	enum kind kind;
	int rst;		/* cps: client closes with RST, not FIN */
	double secs, t0, t1, deadline, cpu0, cpu1;
	uint64_t count;		/* bytes, connections or round trips */
	unsigned srv_got, cli_got;
	int stop, torn;
	unsigned long tw;	/* pcbs in TIME_WAIT when it stopped */
	const char *why;	/* set when it stopped early */
	struct tcp_pcb *lis, *cli, *srv;
};

/* ---- stack ---- */

static err_t lo_output4(struct netif *n, struct pbuf *p, const ip4_addr_t *a)
{
	(void)a;
	return netif_loop_output(n, p);
}

static err_t lo_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *a)
{
	(void)a;
	return netif_loop_output(n, p);
}

static err_t lo_init(struct netif *n)
{
	n->name[0] = 'l';
	n->name[1] = 'o';
	n->output = lo_output4;
	n->output_ip6 = lo_output6;
	n->mtu = 0; /* as lwIP's own loopif: segments are TCP_MSS (1460) */
	return ERR_OK;
}

static void stack_up(void *arg)
{
	ip4_addr_t a, m, g;
	(void)arg;
	IP4_ADDR(&a, 127, 0, 0, 1);
	IP4_ADDR(&m, 255, 0, 0, 0);
	IP4_ADDR(&g, 0, 0, 0, 0);
	ip_addr_copy_from_ip4(lo_ip, a);
	if (!netif_add(&lo, &a, &m, &g, NULL, lo_init, tcpip_input)) {
		fprintf(stderr, "tcp_lwip: netif_add failed\n");
		exit(1);
	}
	netif_set_default(&lo);
	netif_set_link_up(&lo);
	netif_set_up(&lo);
	sem_post(&done);
}

/* Runs fn in the tcpip thread and waits until something posts `done`. */
static void in_stack(tcpip_callback_fn fn, void *arg)
{
	if (tcpip_callback(fn, arg) != ERR_OK) {
		fprintf(stderr, "tcp_lwip: tcpip_callback failed\n");
		exit(1);
	}
	while (sem_wait(&done) != 0 && errno == EINTR)
		;
}

/* Deliver everything queued on the loopback netif (tcpip thread only). */
static void drain(void)
{
	while (lo.loop_first != NULL)
		netif_poll(&lo);
}

static void purge_time_wait(void)
{
	while (tcp_tw_pcbs != NULL)
		tcp_abort(tcp_tw_pcbs);
}

static unsigned long list_len(struct tcp_pcb *p)
{
	unsigned long n = 0;
	for (; p; p = p->next)
		n++;
	return n;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void forget(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
}

static void abort_pcb(struct tcp_pcb **pp)
{
	if (*pp) {
		forget(*pp);
		tcp_abort(*pp);
		*pp = NULL;
	}
}

/* ---- one timed workload ---- */

static void wl_teardown(void *arg);

static void wl_stop(struct wl *w, const char *why)
{
	if (w->stop)
		return;
	w->stop = 1;
	w->t1 = tcpb_now();
	w->cpu1 = tcpb_cpu();
	if (why && !w->why)
		w->why = why;
	/* Runs once the callback chain has unwound and the tcpip thread
	 * looks at its timeouts again. */
	sys_timeout(0, wl_teardown, w);
}

static void wl_watchdog(void *arg)
{
	wl_stop(arg, "stalled: no progress before the watchdog");
}

static void wl_teardown(void *arg)
{
	struct wl *w = arg;
	if (w->torn)
		return;
	w->torn = 1;
	sys_untimeout(wl_watchdog, w);
	abort_pcb(&w->cli);
	abort_pcb(&w->srv);
	if (w->lis) {
		tcp_close(w->lis);
		w->lis = NULL;
	}
	drain();
	w->tw = list_len(tcp_tw_pcbs);
	purge_time_wait();
	sem_post(&done);
}

static void wl_begin(struct wl *w)
{
	w->t0 = tcpb_now();
	w->cpu0 = tcpb_cpu();
	w->deadline = w->t0 + w->secs;
}

static int wl_due(struct wl *w)
{
	if (tcpb_now() < w->deadline)
		return 0;
	wl_stop(w, NULL);
	return 1;
}

static void cli_err(void *arg, err_t err)
{
	struct wl *w = arg;
	(void)err;
	w->cli = NULL;
	wl_stop(w, "client connection reset");
}

static void srv_err(void *arg, err_t err)
{
	struct wl *w = arg;
	(void)err;
	w->srv = NULL;
	/* An RST close reaches the server this way: expected. */
	if (!(w->kind == CPS && w->rst))
		wl_stop(w, "server connection reset");
}

static void send_msg(struct tcp_pcb *pcb)
{
	tcp_write(pcb, wbuf, TCPB_MSG, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
}

/* bulk: the client keeps the send buffer full, the server counts. The
 * data is copied into pbufs whatever the flag says: this build has
 * LWIP_NETIF_TX_SINGLE_PBUF=1, under which tcp_write() always copies. */
static void bulk_fill(struct wl *w)
{
	if (w->stop || wl_due(w))
		return;
	u16_t room = tcp_sndbuf(w->cli);
	if (room >= TCP_MSS &&
	    tcp_write(w->cli, wbuf, room, TCP_WRITE_FLAG_COPY) != ERR_OK &&
	    tcp_sndqueuelen(w->cli) == 0)
		wl_stop(w, "tcp_write failed");
	tcp_output(w->cli);
}

static err_t bulk_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	bulk_fill(arg);
	return ERR_OK;
}

static err_t bulk_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			   err_t err)
{
	struct wl *w = arg;
	(void)err;
	if (!p)
		return ERR_OK;
	if (!w->stop)
		w->count += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

/* rr: 64 bytes each way, one round trip at a time. */
static err_t rr_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			 err_t err)
{
	struct wl *w = arg;
	(void)err;
	if (!p)
		return ERR_OK;
	w->srv_got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	for (; w->srv_got >= TCPB_MSG; w->srv_got -= TCPB_MSG)
		tcp_write(pcb, wbuf, TCPB_MSG, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
	return ERR_OK;
}

static err_t rr_cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			 err_t err)
{
	struct wl *w = arg;
	(void)err;
	if (!p)
		return ERR_OK;
	w->cli_got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	for (; w->cli_got >= TCPB_MSG; w->cli_got -= TCPB_MSG)
		w->count++;
	if (!w->stop && !wl_due(w))
		send_msg(pcb);
	return ERR_OK;
}

/* cps: connect, 64-byte request, 64-byte response, close; serially. */
static void cps_next(struct wl *w);

static err_t cps_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			  err_t err)
{
	struct wl *w = arg;
	(void)err;
	if (!p) { /* the client's FIN: close our side too */
		forget(pcb);
		if (w->srv == pcb)
			w->srv = NULL;
		tcp_close(pcb);
		return ERR_OK;
	}
	w->srv_got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (w->srv_got >= TCPB_MSG) {
		w->srv_got = 0;
		send_msg(pcb);
	}
	return ERR_OK;
}

static err_t cps_cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			  err_t err)
{
	struct wl *w = arg;
	err_t ret = ERR_OK;
	(void)err;
	if (!p) {
		wl_stop(w, "server closed first");
		return ERR_OK;
	}
	w->cli_got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (w->cli_got < TCPB_MSG)
		return ERR_OK;
	w->count++;
	forget(pcb);
	w->cli = NULL;
	if (!w->rst)
		tcp_close(pcb);
	/* The next pcb is allocated while this one still exists: a pcb that
	 * malloc() placed at the address of the one being processed would
	 * be taken for it (tcp_input_pcb) and tcp_output() would not send
	 * its SYN. */
	if (!w->stop && !wl_due(w))
		cps_next(w);
	if (w->rst) {
		tcp_abort(pcb);
		ret = ERR_ABRT;
	}
	return ret;
}

static err_t cps_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)err;
	send_msg(pcb);
	return ERR_OK;
}

static void cps_next(struct wl *w)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb) {
		wl_stop(w, "tcp_new failed");
		return;
	}
	tcp_arg(pcb, w);
	tcp_nagle_disable(pcb);
	tcp_recv(pcb, cps_cli_recv);
	tcp_err(pcb, cli_err);
	w->cli_got = w->srv_got = 0;
	w->cli = pcb;
	err_t e = tcp_connect(pcb, &lo_ip, PORT, cps_connected);
	if (e != ERR_OK) {
		forget(pcb);
		tcp_close(pcb);
		w->cli = NULL;
		wl_stop(w, e == ERR_BUF ? "no free local port (tcp_new_port)"
					: "tcp_connect failed");
	}
}

static err_t wl_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct wl *w = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_arg(pcb, w);
	tcp_err(pcb, srv_err);
	w->srv = pcb;
	switch (w->kind) {
	case BULK:
		tcp_recv(pcb, bulk_srv_recv);
		break;
	case RR:
		tcp_nagle_disable(pcb);
		tcp_recv(pcb, rr_srv_recv);
		break;
	case CPS:
		tcp_nagle_disable(pcb);
		tcp_recv(pcb, cps_srv_recv);
		break;
	}
	return ERR_OK;
}

static err_t wl_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct wl *w = arg;
	(void)err;
	wl_begin(w);
	if (w->kind == BULK) {
		bulk_fill(w);
	} else {
		tcp_nagle_disable(pcb);
		send_msg(pcb);
	}
	return ERR_OK;
}

static void wl_start(void *arg)
{
	struct wl *w = arg;
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb || tcp_bind(pcb, &lo_ip, PORT) != ERR_OK ||
	    !(w->lis = tcp_listen(pcb))) {
		fprintf(stderr, "tcp_lwip: listen on %d failed\n", PORT);
		exit(1);
	}
	tcp_arg(w->lis, w);
	tcp_accept(w->lis, wl_accept);
	sys_timeout((u32_t)(w->secs * 1000) + 5000, wl_watchdog, w);
	if (w->kind == CPS) {
		wl_begin(w);
		cps_next(w);
		return;
	}
	w->cli = tcp_new_ip_type(IPADDR_TYPE_V4);
	tcp_arg(w->cli, w);
	tcp_err(w->cli, cli_err);
	if (w->kind == BULK) {
		tcp_sent(w->cli, bulk_sent);
	} else {
		tcp_recv(w->cli, rr_cli_recv);
	}
	if (tcp_connect(w->cli, &lo_ip, PORT, wl_connected) != ERR_OK)
		wl_stop(w, "tcp_connect failed");
}

static void run_timed(enum kind kind, int rst, double secs, struct wl *w)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->rst = rst;
	w->secs = secs;
	in_stack(wl_start, w);
}

static void why_suffix(const struct wl *w, char *buf, size_t n)
{
	if (w->why)
		snprintf(buf, n, "; STOPPED EARLY: %s", w->why);
	else
		buf[0] = '\0';
}

static struct tcpb_rate fig_timed(const char *fig, const struct wl *w,
				   const char *what, double value,
				   const char *unit, const struct tcpb_ref *ref)
{
	char why[160], cmp[160], cpu[96];
	double dt = w->t1 - w->t0;
	struct tcpb_rate rate = tcpb_rate(value, dt, w->cpu1 - w->cpu0);
	why_suffix(w, why, sizeof(why));
	tcpb_cmp_note(cmp, sizeof(cmp), ref, rate);
	if (w->tw)
		snprintf(cmp + strlen(cmp), sizeof(cmp) - strlen(cmp),
			 "; %lu pcbs in TIME_WAIT at the end", w->tw);
	tcpb_cpu_note(cpu, sizeof(cpu), value, unit, dt, w->cpu1 - w->cpu0);
	tcpb_fig("lwip", fig, rate.wall, unit, "%s, %.2f s, %s%s%s", what, dt,
		 cpu, cmp, why);
	return rate;
}

/* ---- connections held: memory and cps beside them ---- */

struct hold {
	unsigned long n, target, max, established, accepted;
	struct tcp_pcb **cli, **srv;
	struct tcp_pcb *lis[HOLD_MAX_LIS];
	int nlis;
	const char *why;
};

static struct hold *cur_hold; /* the one being grown (tcpip thread) */

static err_t hold_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct hold *h = arg;
	if (err != ERR_OK || !pcb || h->accepted == h->max)
		return ERR_VAL;
	tcp_arg(pcb, NULL);
	h->srv[h->accepted++] = pcb;
	return ERR_OK;
}

static err_t hold_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)pcb;
	(void)err;
	cur_hold->established++;
	return ERR_OK;
}

/* arg: the client's slot in h->cli; lwIP has freed the pcb. */
static void hold_err(void *arg, err_t err)
{
	(void)err;
	*(struct tcp_pcb **)arg = NULL;
	cur_hold->why = "a held connection was reset";
}

/* Opens held connections until there are h->target (tcpip thread). Client
 * i binds 127.0.0.1:(10000 + i % 39152) with SO_REUSEADDR and connects to
 * listener 1000 + i / 39152: below lwIP's ephemeral ports, so the timed
 * connections still find theirs. */
static void hold_grow(void *arg)
{
	struct hold *h = arg;
	cur_hold = h;
	for (; h->n < h->target && !h->why; h->n++) {
		int k = (int)(h->n / HOLD_CPORT_N);
		if (k >= HOLD_MAX_LIS) {
			h->why = "more listeners needed than compiled in";
			break;
		}
		if (k == h->nlis) {
			struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);
			if (!l ||
			    tcp_bind(l, &lo_ip, (u16_t)(HOLD_LPORT + k)) != ERR_OK ||
			    !(h->lis[k] = tcp_listen(l))) {
				h->why = "hold listener failed";
				break;
			}
			tcp_arg(h->lis[k], h);
			tcp_accept(h->lis[k], hold_accept);
			h->nlis++;
		}
		struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
		if (!pcb) {
			h->why = "tcp_new failed";
			break;
		}
		ip_set_option(pcb, SOF_REUSEADDR);
		tcp_arg(pcb, &h->cli[h->n]);
		tcp_err(pcb, hold_err);
		u16_t cport = (u16_t)(HOLD_CPORT_LO + h->n % HOLD_CPORT_N);
		if (tcp_bind(pcb, &lo_ip, cport) != ERR_OK ||
		    tcp_connect(pcb, &lo_ip, (u16_t)(HOLD_LPORT + k),
				hold_connected) != ERR_OK) {
			tcp_close(pcb);
			h->why = "tcp_bind/tcp_connect of a held connection failed";
			break;
		}
		h->cli[h->n] = pcb;
		if (h->n % 256 == 255)
			drain();
	}
	drain();
	if (!h->why && (h->established != h->n || h->accepted != h->n))
		h->why = "not all held connections got established";
	sem_post(&done);
}

static void hold_measure(void *arg)
{
	size_t *bytes = arg;
	*bytes = heap_in_use();
	sem_post(&done);
}

static void run_hold(const struct tcpb_opts *o)
{
	struct hold h = {0};
	size_t base, now;
	struct tcpb_ref ref[2];
	h.max = o->levels[o->nlevels - 1];
	h.cli = calloc(h.max, sizeof(*h.cli));
	h.srv = calloc(h.max, sizeof(*h.srv));
	if (!h.cli || !h.srv) {
		fprintf(stderr, "tcp_lwip: out of memory\n");
		exit(1);
	}
	in_stack(hold_measure, &base);
	for (int l = 0; l < o->nlevels; l++) {
		char fig[32];
		unsigned long n = o->levels[l];
		double t0 = tcpb_now();
		h.target = n;
		in_stack(hold_grow, &h);
		double setup = tcpb_now() - t0;
		in_stack(hold_measure, &now);
		snprintf(fig, sizeof(fig), "mem@%lu", n);
		if (h.why) {
			tcpb_fig("lwip", fig, -1, "B/conn",
				 "%lu of %lu connections opened: %s", h.n, n,
				 h.why);
			break;
		}
		tcpb_fig("lwip", fig, (double)(now - base) / (double)n, "B/conn",
			 "malloc heap delta (mallinfo2) over %lu connections "
			 "= %lu pcbs both ends; sizeof(struct tcp_pcb) %zu; "
			 "opened in %.1f s",
			 n, 2 * n, sizeof(struct tcp_pcb), setup);
		struct wl w;
		for (int rst = 0; rst < 2; rst++) {
			snprintf(fig, sizeof(fig), "%s@%lu",
				 rst ? "cps-rst" : "cps", n);
			run_timed(CPS, rst, o->seconds, &w);
			struct tcpb_rate rate = fig_timed(
				fig, &w,
				rst ? "as cps-rst, beside the held connections"
				    : "as cps, beside the held connections",
				(double)w.count, "conn/s", l ? &ref[rst] : NULL);
			if (l == 0) {
				ref[rst].rate = rate;
				snprintf(ref[rst].fig, sizeof(ref[rst].fig),
					 "%s", fig);
			}
		}
	}
	/* The held pcbs stay until the process exits: hold runs last, and
	 * aborting N pcbs one by one is O(N^2) in lwIP too (each removal and
	 * each RST's lookup walks the active list). h.cli stays too: the
	 * held clients' tcp_arg points into it. */
}

int main(int argc, char **argv)
{
	struct tcpb_opts o;
	if (tcpb_parse(&o, argc, argv, "tcp_lwip", "1000,10000") != 0)
		return 2;
	memset(wbuf, 'x', sizeof(wbuf));
	sem_init(&done, 0, 0);
	tcpip_init(stack_up, NULL);
	while (sem_wait(&done) != 0 && errno == EINTR)
		;
	printf("# lwip %s (Debian liblwip), raw API in the tcpip thread, "
	       "netif 127.0.0.1/8 (loopback by LWIP_NETIF_LOOPBACK), "
	       "TCP_MSS %d, TCP_WND %d, TCP_SND_BUF %d, MEMP_MEM_MALLOC %d "
	       "(so MEMP_NUM_TCP_PCB %d limits nothing), TCP_MSL %d ms\n",
	       LWIP_VERSION_STRING, TCP_MSS, TCP_WND, TCP_SND_BUF,
	       MEMP_MEM_MALLOC, MEMP_NUM_TCP_PCB, (int)TCP_MSL);
	struct wl w;
	if (o.bulk) {
		run_timed(BULK, 0, o.seconds, &w);
		fig_timed("bulk", &w, "1 connection, tcp_write with COPY",
			  (double)w.count * 8 / 1e9, "Gbps", NULL);
	}
	if (o.cps) {
		run_timed(CPS, 0, o.seconds, &w);
		fig_timed("cps", &w, "serial, client closes with FIN",
			  (double)w.count, "conn/s", NULL);
	}
	if (o.cps_rst) {
		run_timed(CPS, 1, o.seconds, &w);
		fig_timed("cps-rst", &w, "serial, client closes with RST "
					 "(tcp_abort)", (double)w.count,
			  "conn/s", NULL);
	}
	if (o.rr) {
		run_timed(RR, 0, o.seconds, &w);
		fig_timed("rr", &w, "1 connection, 64 B each way, nagle off",
			  (double)w.count, "rr/s", NULL);
	}
	if (o.hold)
		run_hold(&o);
	return 0;
}
