/* The data plane's life cycle, port information, statistics snapshots and
 * calls into workers. Runs on the control thread (the main lcore). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_priv.h"

RTE_LOG_REGISTER(tern_dp_logtype, tern.dp, INFO);

static void conf_defaults(struct tern_dp_conf *c)
{
	if (c->mbufs_per_socket == 0)
		c->mbufs_per_socket = 16383;
	if (c->rx_desc == 0)
		c->rx_desc = 1024;
	if (c->tx_desc == 0)
		c->tx_desc = 1024;
}

/* Gives every worker its TX buffer for every port, now that ports and
 * their queue counts are known. */
static void txbufs_init(struct tern_dp *dp)
{
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct tern_worker *w = dp->workers[i];
		for (unsigned s = 0; s < dp->nports; s++) {
			dp_txbuf_init(&w->tx[s], &w->st, dp->ports[s].port_id,
				      (uint16_t)i, i < dp->ports[s].queues);
		}
	}
}

static void dp_teardown(struct tern_dp *dp)
{
	if (dp->launched) {
		atomic_store_explicit(&dp->stop, true, memory_order_relaxed);
		rte_eal_mp_wait_lcore();
		dp->launched = false;
	}
	if (dp->cap != NULL) {
		/* Loops are stopped: nothing runs the hook any more. */
		tern_capture_close(dp->cap);
		dp->cap = NULL;
	}
	dp_impair_free_all(dp);	/* before the stacks: they hold mbufs */
	/* Stacks first: they return queued mbufs; then the ports return
	 * their RX descriptors' mbufs; then the rings what is in flight. */
	for (unsigned i = 0; i < dp->nworkers; i++) {
		dp_worker_destroy(dp->workers[i]);
		dp->workers[i] = NULL;
	}
	dp_pair_steer_free(dp);
	dp_ports_close(dp);
	dp_ring_pair_free(dp);
	dp_pools_free(dp);
	dp_routes_free(dp);	/* after the stacks that read it */
	rte_free(dp);
}

struct tern_dp *tern_dp_create(const struct tern_dp_conf *conf)
{
	unsigned nworkers = rte_lcore_count() - 1;
	if (conf == NULL || nworkers == 0 || nworkers > TERN_DP_MAX_WORKERS) {
		DP_LOG(ERR, "need 1..%d worker lcores besides the main one, "
		       "have %u", TERN_DP_MAX_WORKERS, nworkers);
		rte_errno = EINVAL;
		return NULL;
	}
	struct tern_dp *dp = rte_zmalloc("tern_dp", sizeof(*dp),
					 RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	dp->conf = *conf;
	conf_defaults(&dp->conf);
	atomic_init(&dp->stop, false);
	dp->next_ifindex = 1;
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++)
		dp->slot_of[i] = DP_NO_SLOT;

	int rc = tern_eph_split_init(&dp->eph, dp->conf.ephemeral_lo,
				     dp->conf.ephemeral_hi, nworkers);
	if (rc < 0)
		DP_LOG(ERR, "ephemeral ports %u-%u: fewer than %u workers",
		       dp->conf.ephemeral_lo, dp->conf.ephemeral_hi, nworkers);
	if (rc == 0 && dp->conf.ring_pair) {
		/* Before the pools: the pair's sockets count as in use. */
		dp->nworkers = nworkers;
		rc = dp_ring_pair_create(dp);
		dp->nworkers = 0;
	}
	if (rc == 0)
		rc = dp_pools_create(dp);
	if (rc == 0)
		rc = dp_routes_create(dp, nworkers);

	unsigned lcore, idx = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (rc < 0)
			break;
		struct tern_worker *w = dp_worker_create(dp, idx, lcore);
		if (w == NULL) {
			rc = -rte_errno;
			break;
		}
		/* One time origin for every stack, so that times the
		 * workers report (generator start/end) compare directly. */
		if (idx > 0)
			w->clock = dp->workers[0]->clock;
		dp->workers[idx++] = w;
		dp->nworkers = idx;
	}
	if (rc == 0)
		rc = dp_ports_setup(dp);
	if (rc == 0)
		rc = dp_pair_steer_setup(dp);
	if (rc == 0)
		rc = dp_stacks_set_rss(dp);
	if (rc < 0) {
		dp_teardown(dp);
		rte_errno = -rc;
		return NULL;
	}
	txbufs_init(dp);

	for (unsigned i = 0; i < dp->nworkers; i++) {
		rc = rte_eal_remote_launch(dp_worker_main, dp->workers[i],
					   dp->workers[i]->lcore);
		if (rc < 0) {
			DP_LOG(ERR, "launch on lcore %u: %s",
			       dp->workers[i]->lcore, rte_strerror(-rc));
			dp->launched = true;	/* stop those that run */
			dp_teardown(dp);
			rte_errno = -rc;
			return NULL;
		}
		dp->launched = true;
	}
	return dp;
}

void tern_dp_destroy(struct tern_dp *dp)
{
	if (dp != NULL)
		dp_teardown(dp);
}

unsigned tern_dp_worker_count(const struct tern_dp *dp)
{
	return dp->nworkers;
}

/* ---- ports --------------------------------------------------------- */

unsigned tern_dp_port_count(const struct tern_dp *dp)
{
	return dp->nports;
}

int tern_dp_port_info(const struct tern_dp *dp, unsigned idx,
		      struct tern_port_info *info)
{
	if (idx >= dp->nports)
		return -ENOENT;
	const struct dp_port *p = &dp->ports[idx];
	struct rte_eth_link link;
	uint16_t mtu = 0;

	memset(info, 0, sizeof(*info));
	info->port_id = p->port_id;
	memcpy(info->name, p->name, sizeof(info->name));
	memcpy(info->driver, p->driver, sizeof(info->driver));
	info->mac = p->mac;
	info->caps = p->caps;
	info->queues = p->queues;
	info->rss = p->rss;
	info->reta_size = p->rss && p->reta != NULL ? p->reta_size : 0;
	if (rte_eth_dev_get_mtu(p->port_id, &mtu) < 0)
		mtu = RTE_ETHER_MTU;
	info->mtu = mtu;
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->port_id, &link) == 0) {
		info->link_up = link.link_status == RTE_ETH_LINK_UP;
		info->speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN
					   ? 0 : link.link_speed;
	}
	info->socket = p->socket < 0 ? 0 : (uint16_t)p->socket;
	return 0;
}

int tern_dp_port_by_id(const struct tern_dp *dp, uint16_t port_id,
		       struct tern_port_info *info)
{
	uint16_t slot = dp_port_slot(dp, port_id);
	if (slot == DP_NO_SLOT)
		return -ENOENT;
	return tern_dp_port_info(dp, slot, info);
}

/* ---- calls --------------------------------------------------------- */

int tern_dp_call(struct tern_dp *dp, unsigned w, tern_msg_fn fn, void *arg)
{
	if (w >= dp->nworkers || fn == NULL)
		return -EINVAL;
	return tern_chan_call(dp->workers[w]->chan, fn, arg,
			      DP_CALL_TIMEOUT_MS);
}

int tern_dp_call_all(struct tern_dp *dp, tern_msg_fn fn, void *arg)
{
	for (unsigned i = 0; i < dp->nworkers; i++) {
		int rc = tern_dp_call(dp, i, fn, arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Statistics snapshots: dp_stats.c. */
