/* Mempools per NUMA socket, the ring0<->ring1 pair and ethdev port
 * configuration: one RX/TX queue per worker, RSS with a symmetric key,
 * the offloads the stack will use (from offload/). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_priv.h"

#define DP_POOL_CACHE 256u

static int socket_index(int socket)
{
	/* SOCKET_ID_ANY (-1) from a vdev: socket 0's pool serves it. */
	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		return 0;
	return socket;
}

static int pool_create(struct tern_dp *dp, int socket)
{
	unsigned n = dp->conf.mbufs_per_socket;
	unsigned cache = RTE_MIN(DP_POOL_CACHE, n / 2);
	char name[RTE_MEMPOOL_NAMESIZE];

	if (dp->pools[socket] != NULL)
		return 0;
	snprintf(name, sizeof(name), "tern_mbuf_s%d", socket);
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, cache, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (mp == NULL && rte_errno == ENOMEM) {
		/* --no-huge (and machines without memory on that node) give
		 * all memory to one socket: a remote pool beats none. */
		DP_LOG(WARNING, "no memory on socket %d for mbufs, using any",
		       socket);
		mp = rte_pktmbuf_pool_create(name, n, cache, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	}
	if (mp == NULL) {
		DP_LOG(ERR, "mbuf pool on socket %d: %s", socket,
		       rte_strerror(rte_errno));
		return -rte_errno;
	}
	dp->pools[socket] = mp;
	return 0;
}

int dp_pools_create(struct tern_dp *dp)
{
	unsigned lcore;
	uint16_t pid;
	int rc;

	/* Sockets in use: every worker's, and every port's (RX queues
	 * allocate on the worker's socket, but keep the port's too). */
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rc = pool_create(dp, socket_index(
				(int)rte_lcore_to_socket_id(lcore)));
		if (rc < 0)
			return rc;
	}
	RTE_ETH_FOREACH_DEV(pid) {
		rc = pool_create(dp, socket_index(rte_eth_dev_socket_id(pid)));
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct rte_mempool *dp_pool_for_socket(struct tern_dp *dp, int socket)
{
	struct rte_mempool *mp = dp->pools[socket_index(socket)];
	for (unsigned i = 0; mp == NULL && i < RTE_MAX_NUMA_NODES; i++)
		mp = dp->pools[i];
	return mp;
}

void dp_pools_free(struct tern_dp *dp)
{
	for (unsigned i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		struct rte_mempool *mp = dp->pools[i];
		if (mp == NULL)
			continue;
		/* lwIP's leak check: every mbuf is back once the stacks,
		 * queues and rings are gone. avail_count includes caches. */
		unsigned avail = rte_mempool_avail_count(mp);
		if (avail != mp->size)
			DP_LOG(WARNING, "mbuf leak: pool %s has %u of %u mbufs "
			       "(%u missing)", mp->name, avail, mp->size,
			       mp->size - avail);
		else
			DP_LOG(DEBUG, "pool %s full again (%u mbufs)",
			       mp->name, avail);
		rte_mempool_free(mp);
		dp->pools[i] = NULL;
	}
}

int dp_ring_pair_create(struct tern_dp *dp)
{
	unsigned nq = dp->nworkers;
	char name[RTE_RING_NAMESIZE];

	for (unsigned d = 0; d < 2; d++) {
		for (unsigned q = 0; q < nq; q++) {
			snprintf(name, sizeof(name), "tern_rp%u_q%u", d, q);
			/* Queue q of both ports belongs to worker q: one
			 * producer, one consumer. */
			dp->pair_rings[d][q] = rte_ring_create(name,
				DP_RING_PAIR_SIZE, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (dp->pair_rings[d][q] == NULL) {
				DP_LOG(ERR, "ring %s: %s", name,
				       rte_strerror(rte_errno));
				return -rte_errno;
			}
		}
	}
	dp->pair_queues = nq;
	/* ring0 transmits into rings[0], which ring1 receives from. */
	for (unsigned d = 0; d < 2; d++) {
		snprintf(name, sizeof(name), "ring%u", d);
		int pid = rte_eth_from_rings(name, dp->pair_rings[1 - d], nq,
					     dp->pair_rings[d], nq,
					     (unsigned)rte_socket_id());
		if (pid < 0) {
			DP_LOG(ERR, "rte_eth_from_rings %s: %s", name,
			       rte_strerror(rte_errno));
			return -rte_errno;
		}
		dp->pair_port[d] = (uint16_t)pid;
		dp->pair_port_made[d] = true;
	}
	dp->have_pair = true;
	return 0;
}

void dp_ring_pair_free(struct tern_dp *dp)
{
	/* Called after dp_ports_close(); a pair port it never reached (a
	 * failed create) is closed here, before its rings go. */
	for (unsigned d = 0; d < 2; d++) {
		if (dp->pair_port_made[d] &&
		    rte_eth_dev_is_valid_port(dp->pair_port[d]))
			rte_eth_dev_close(dp->pair_port[d]);
		dp->pair_port_made[d] = false;
	}
	/* What is still in flight goes back to its pool before the leak
	 * check. */
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned q = 0; q < TERN_DP_MAX_WORKERS; q++)
			dp_ring_drain_free(&dp->pair_rings[d][q]);
	}
	dp->have_pair = false;
}

uint16_t dp_port_slot(const struct tern_dp *dp, uint16_t port_id)
{
	if (port_id >= RTE_MAX_ETHPORTS)
		return DP_NO_SLOT;
	return dp->slot_of[port_id];
}

/* What the port's RSS does, for the stacks to steer by (tern/rss.h): the
 * RETA spread round-robin over the queues — programmed, so that it is
 * known, or read back when the port will not take it — and the key and
 * hash types read back (a PMD may adjust them). Without a usable RETA the
 * stacks do not steer and the hand-over rings carry what lands wrong. */
void dp_port_rss_read(struct tern_dp *dp, struct dp_port *p,
		      const uint8_t *key, unsigned key_len, uint64_t rss_hf)
{
	uint16_t pid = p->port_id;
	struct rte_eth_dev_info di;
	(void)dp;

	if (rte_eth_dev_info_get(pid, &di) < 0)
		return;
	unsigned size = di.reta_size;
	if (size == 0 || size > TERN_RSS_RETA_MAX || (size & (size - 1)) ||
	    size % RTE_ETH_RETA_GROUP_SIZE != 0) {
		DP_LOG(WARNING, "port %u (%s): RETA of %u entries; source "
		       "ports are not steered, replies are handed over",
		       pid, p->name, size);
		return;
	}
	unsigned ngroups = size / RTE_ETH_RETA_GROUP_SIZE;
	struct rte_eth_rss_reta_entry64 *rc = rte_zmalloc("tern_reta",
		ngroups * sizeof(*rc), 0);
	uint16_t *reta = rte_zmalloc("tern_reta", size * sizeof(*reta), 0);
	if (rc == NULL || reta == NULL)
		goto out;
	for (unsigned i = 0; i < size; i++) {
		rc[i / RTE_ETH_RETA_GROUP_SIZE].mask = UINT64_MAX;
		rc[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(i % p->queues);
	}
	if (rte_eth_dev_rss_reta_update(pid, rc, (uint16_t)size) < 0 &&
	    rte_eth_dev_rss_reta_query(pid, rc, (uint16_t)size) < 0) {
		DP_LOG(WARNING, "port %u (%s): RETA unknown; source ports are "
		       "not steered", pid, p->name);
		goto out;
	}
	for (unsigned i = 0; i < size; i++)
		reta[i] = rc[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];

	uint8_t kbuf[TERN_RSS_KEY_MAX];
	struct rte_eth_rss_conf hc = {.rss_key = kbuf, .rss_key_len = sizeof(kbuf)};
	if (rte_eth_dev_rss_hash_conf_get(pid, &hc) == 0 &&
	    hc.rss_key_len >= TERN_RSS_KEY_MIN && hc.rss_key_len <= sizeof(kbuf)) {
		key = kbuf;
		key_len = hc.rss_key_len;
		rss_hf = hc.rss_hf;
	}
	if (key_len > sizeof(p->rss_key))
		goto out;
	memcpy(p->rss_key, key, key_len);
	p->rss_key_len = (uint8_t)key_len;
	p->hash_udp = (rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP) != 0;
	p->hash_tcp = (rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
	p->reta = reta;
	p->reta_size = size;
	reta = NULL;
out:
	rte_free(rc);
	rte_free(reta);
}

static int port_configure(struct tern_dp *dp, struct dp_port *p,
			  uint8_t *rss_key)
{
	uint16_t pid = p->port_id;
	struct rte_eth_dev_info di;
	struct rte_eth_conf ec;
	int rc;

	rc = rte_eth_dev_info_get(pid, &di);
	if (rc < 0)
		return rc;
	rte_eth_dev_get_name_by_port(pid, p->name);
	snprintf(p->driver, sizeof(p->driver), "%s",
		 di.driver_name ? di.driver_name : "");
	p->socket = rte_eth_dev_socket_id(pid);

	unsigned nq = RTE_MIN(dp->nworkers,
			      (unsigned)RTE_MIN(di.max_rx_queues,
						di.max_tx_queues));
	if (nq == 0) {
		DP_LOG(ERR, "port %u (%s) has no queues", pid, p->name);
		return -ENOTSUP;
	}
	if (nq < dp->nworkers)
		DP_LOG(WARNING, "port %u (%s): %u queues for %u workers; "
		       "workers %u.. neither receive nor send on it",
		       pid, p->name, nq, dp->nworkers, nq);
	p->queues = (uint16_t)nq;

	memset(&ec, 0, sizeof(ec));
	uint64_t rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
			  di.flow_type_rss_offloads;
	p->rss = nq > 1 && rss_hf != 0;
	if (p->rss) {
		unsigned klen = di.hash_key_size ? di.hash_key_size : 40;
		tern_rss_key_symmetric(rss_key, klen);
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_key = rss_key;
		ec.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)klen;
		ec.rx_adv_conf.rss_conf.rss_hf = rss_hf;
	}

	tern_ol_caps_from_dev_info(&di, &p->caps);
	if (dp->conf.no_tso)
		p->caps.tso_max = 0;	/* TCP segments in software */
	uint64_t txo = tern_ol_port_tx_offloads(&p->caps) & di.tx_offload_capa;
	uint64_t rxo = tern_ol_port_rx_offloads(&p->caps) & di.rx_offload_capa;
	/* Jumbo frames and TCP segments are mbuf chains. */
	txo |= di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	ec.txmode.offloads = txo;
	ec.rxmode.offloads = rxo;

	rc = rte_eth_dev_configure(pid, (uint16_t)nq, (uint16_t)nq, &ec);
	if (rc < 0) {
		DP_LOG(ERR, "configure port %u (%s): %s", pid, p->name,
		       rte_strerror(-rc));
		return rc;
	}

	uint16_t nrx = dp->conf.rx_desc, ntx = dp->conf.tx_desc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	if (rc < 0)
		return rc;

	for (unsigned q = 0; q < nq; q++) {
		struct tern_worker *w = dp->workers[q];
		struct rte_eth_rxconf rxc = di.default_rxconf;
		struct rte_eth_txconf txc = di.default_txconf;
		rxc.offloads = rxo;
		txc.offloads = txo;
		/* Descriptors and buffers near the lcore that uses them. */
		rc = rte_eth_rx_queue_setup(pid, (uint16_t)q, nrx, w->socket,
				&rxc, dp_pool_for_socket(dp, (int)w->socket));
		if (rc < 0) {
			DP_LOG(ERR, "port %u rxq %u: %s", pid, q,
			       rte_strerror(-rc));
			return rc;
		}
		rc = rte_eth_tx_queue_setup(pid, (uint16_t)q, ntx, w->socket,
					    &txc);
		if (rc < 0) {
			DP_LOG(ERR, "port %u txq %u: %s", pid, q,
			       rte_strerror(-rc));
			return rc;
		}
	}

	/* Interfaces have their own MACs (DESIGN rule 6). */
	rc = rte_eth_promiscuous_enable(pid);
	if (rc < 0 && rc != -ENOTSUP)
		DP_LOG(WARNING, "port %u: promiscuous mode: %s", pid,
		       rte_strerror(-rc));

	rc = rte_eth_dev_start(pid);
	if (rc < 0) {
		DP_LOG(ERR, "start port %u (%s): %s", pid, p->name,
		       rte_strerror(-rc));
		return rc;
	}
	p->started = true;
	/* the limit net_tap checks TSO packets against is its MTU */
	uint16_t mtu;
	if (p->caps.tso_frame_max != 0 && rte_eth_dev_get_mtu(pid, &mtu) == 0)
		p->caps.tso_frame_max = mtu;
	if (p->rss)
		dp_port_rss_read(dp, p, rss_key,
				 ec.rx_adv_conf.rss_conf.rss_key_len,
				 ec.rx_adv_conf.rss_conf.rss_hf);
	return 0;
}

/* net_ring ports have an all-zero MAC and no way to set one, yet
 * interfaces default to the port's MAC: such ports get a locally
 * administered one (02:74:65:72:00:<port>, "ter") that tern reports and
 * uses instead. Deterministic, so tests can predict it. */
static void port_read_mac(struct dp_port *p)
{
	if (rte_eth_macaddr_get(p->port_id, &p->mac) < 0)
		memset(&p->mac, 0, sizeof(p->mac));
	if (!rte_is_zero_ether_addr(&p->mac))
		return;
	uint8_t mac[RTE_ETHER_ADDR_LEN] = {0x02, 0x74, 0x65, 0x72,
					   (uint8_t)(p->port_id >> 8),
					   (uint8_t)p->port_id};
	memcpy(p->mac.addr_bytes, mac, sizeof(mac));
	if (rte_eth_dev_default_mac_addr_set(p->port_id, &p->mac) == 0)
		return;
	DP_LOG(INFO, "port %u (%s) has no MAC; using %02x:%02x:%02x:%02x:%02x:%02x",
	       p->port_id, p->name, mac[0], mac[1], mac[2], mac[3], mac[4],
	       mac[5]);
}

int dp_ports_setup(struct tern_dp *dp)
{
	uint16_t pid;
	uint8_t rss_key[RTE_MAX(64, 40)];

	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++)
		dp->slot_of[i] = DP_NO_SLOT;

	RTE_ETH_FOREACH_DEV(pid) {
		if (dp->nports == TERN_DP_MAX_PORTS) {
			DP_LOG(WARNING, "more than %d ports; port %u unused",
			       TERN_DP_MAX_PORTS, pid);
			continue;
		}
		struct dp_port *p = &dp->ports[dp->nports];
		memset(p, 0, sizeof(*p));
		p->port_id = pid;
		/* The key buffer must hold what the port asks for. */
		struct rte_eth_dev_info di;
		if (rte_eth_dev_info_get(pid, &di) == 0 &&
		    di.hash_key_size > sizeof(rss_key)) {
			DP_LOG(ERR, "port %u: RSS key of %u bytes", pid,
			       di.hash_key_size);
			return -ENOTSUP;
		}
		int rc = port_configure(dp, p, rss_key);
		if (rc < 0) {
			/* Still registered so dp_ports_close() cleans it. */
			dp->slot_of[pid] = (uint16_t)dp->nports++;
			return rc;
		}
		port_read_mac(p);
		dp->slot_of[pid] = (uint16_t)dp->nports++;
	}
	return 0;
}

void dp_ports_close(struct tern_dp *dp)
{
	for (unsigned i = 0; i < dp->nports; i++) {
		struct dp_port *p = &dp->ports[i];
		if (p->started) {
			int rc = rte_eth_dev_stop(p->port_id);
			if (rc < 0)
				DP_LOG(WARNING, "stop port %u: %s", p->port_id,
				       rte_strerror(-rc));
			p->started = false;
		}
		/* Closing frees the RX queues' mbufs before the leak check. */
		rte_eth_dev_close(p->port_id);
		rte_free(p->reta);
		p->reta = NULL;
		dp->slot_of[p->port_id] = DP_NO_SLOT;
	}
	dp->nports = 0;
}
