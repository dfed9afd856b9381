/* stats.get: ports from ethdev, interfaces and lcores from the data plane,
 * protocol counters summed over every worker's stack. The counter names
 * come from tern_stack_counter_descs() so a new counter in core/ shows up
 * here without an edit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include <tern/dp.h>
#include <tern/stats.h>

#include "methods.h"

static json_t *ports_json(struct ternd *d)
{
	json_t *out = json_array();
	unsigned i, n = tern_dp_port_count(d->dp);

	for (i = 0; i < n; i++) {
		struct tern_port_info pi;
		struct rte_eth_stats st;

		if (tern_dp_port_info(d->dp, i, &pi) < 0)
			continue;
		/* ethdev stats are safe from the control thread. */
		if (rte_eth_stats_get(pi.port_id, &st) != 0)
			memset(&st, 0, sizeof(st));
		json_array_append_new(out, json_pack(
			"{sI ss so so so so so so so so}",
			"port", (json_int_t)pi.port_id, "name", pi.name,
			"ipackets", ju_u64(st.ipackets),
			"opackets", ju_u64(st.opackets),
			"ibytes", ju_u64(st.ibytes), "obytes", ju_u64(st.obytes),
			"imissed", ju_u64(st.imissed),
			"ierrors", ju_u64(st.ierrors),
			"oerrors", ju_u64(st.oerrors),
			"rx_nombuf", ju_u64(st.rx_nombuf)));
	}
	return out;
}

/* One interface's counters summed over the workers' snapshots. */
static void iface_sum(const struct tern_worker_snapshot *snaps, unsigned nw,
		      uint16_t ifindex, struct tern_iface_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned w = 0; w < nw; w++) {
		for (unsigned k = 0; k < snaps[w].nifaces; k++) {
			const struct tern_worker_iface_stats *e =
				&snaps[w].ifaces[k];

			if (e->ifindex != ifindex)
				continue;
			st->rx_pkts += e->st.rx_pkts;
			st->rx_bytes += e->st.rx_bytes;
			st->tx_pkts += e->st.tx_pkts;
			st->tx_bytes += e->st.tx_bytes;
		}
	}
}

static json_t *ifaces_json(struct ternd *d,
			   const struct tern_worker_snapshot *snaps, unsigned nw)
{
	struct tern_dp_iface_info all[TERN_MAX_IFACES];
	unsigned i, n = tern_dp_iface_list(d->dp, all, TERN_MAX_IFACES);
	json_t *out = json_array();

	if (n > TERN_MAX_IFACES)
		n = TERN_MAX_IFACES;
	for (i = 0; i < n; i++) {
		struct tern_iface_stats st;
		char name[TERN_IFNAMSIZ];

		iface_sum(snaps, nw, all[i].ifindex, &st);
		if (all[i].conf.name[0] != '\0')
			snprintf(name, sizeof(name), "%s", all[i].conf.name);
		else
			snprintf(name, sizeof(name), "if%u", all[i].ifindex);
		json_array_append_new(out, json_pack("{sI ss so so so so}",
			"ifindex", (json_int_t)all[i].ifindex, "name", name,
			"rx_pkts", ju_u64(st.rx_pkts),
			"rx_bytes", ju_u64(st.rx_bytes),
			"tx_pkts", ju_u64(st.tx_pkts),
			"tx_bytes", ju_u64(st.tx_bytes)));
	}
	return out;
}

static uint64_t counter(const struct tern_stack_stats *s,
			const struct tern_counter_desc *c)
{
	uint64_t v;

	memcpy(&v, (const char *)s + c->offset, sizeof(v));
	return v;
}

/* protocols {"eth": {...}}, drops {"eth.drop_short": n} and their total. */
static void protocols_json(const struct tern_stack_stats *sum, json_t *out)
{
	const struct tern_counter_desc *descs;
	json_t *protos = json_object(), *drops = json_object();
	uint64_t total = 0;
	unsigned i, n;

	descs = tern_stack_counter_descs(&n);
	for (i = 0; i < n; i++) {
		const struct tern_counter_desc *c = &descs[i];
		uint64_t v = counter(sum, c);
		json_t *group = json_object_get(protos, c->proto);

		if (group == NULL) {
			group = json_object();
			json_object_set_new(protos, c->proto, group);
		}
		json_object_set_new(group, c->name, ju_u64(v));
		if (strncmp(c->name, "drop_", 5) == 0) {
			char key[96];

			snprintf(key, sizeof(key), "%s.%s", c->proto, c->name);
			json_object_set_new(drops, key, ju_u64(v));
			total += v;
		}
	}
	json_object_set_new(out, "protocols", protos);
	json_object_set_new(out, "drops", drops);
	json_object_set_new(out, "drops_total", ju_u64(total));
}

static void add_stack(struct tern_stack_stats *sum,
		      const struct tern_stack_stats *s)
{
	const struct tern_counter_desc *descs;
	unsigned i, n;

	descs = tern_stack_counter_descs(&n);
	for (i = 0; i < n; i++) {
		uint64_t v = counter(sum, &descs[i]) + counter(s, &descs[i]);

		memcpy((char *)sum + descs[i].offset, &v, sizeof(v));
	}
}

static json_t *capture_json(struct ternd *d)
{
	struct tern_capture_stats st;
	char path[4096];

	if (!tern_dp_capture_running(d->dp, path, sizeof(path)) ||
	    tern_dp_capture_stats(d->dp, &st) < 0)
		return json_null();
	return json_pack("{ss so so so}", "path", path,
			 "captured", ju_u64(st.captured),
			 "written", ju_u64(st.written),
			 "missed", ju_u64(st.missed));
}

/* Frames handed between workers (DESIGN rule 8), on the lcore's entry. */
static void steer_json(json_t *lc, const struct tern_worker_stats *ws)
{
	json_object_set_new(lc, "handover_out", ju_u64(ws->handover_out));
	json_object_set_new(lc, "handover_in", ju_u64(ws->handover_in));
	json_object_set_new(lc, "handover_drop", ju_u64(ws->handover_drop));
	json_object_set_new(lc, "pair_steer_drop",
			    ju_u64(ws->pair_steer_drop));
}

/* The worker's TX buffers (dpdk_port/txbuf.h), on the lcore's entry. */
static void txbuf_json(json_t *lc, const struct tern_worker_stats *ws)
{
	json_object_set_new(lc, "tx_deferred", ju_u64(ws->tx_deferred));
	json_object_set_new(lc, "tx_held", ju_u64(ws->tx_held));
}

json_t *stats_build(struct ternd *d, struct rpc_error *e)
{
	struct tern_stack_stats sum;
	struct tern_worker_snapshot *snaps;
	json_t *out, *lcores;
	unsigned w, nw = tern_dp_worker_count(d->dp);

	memset(&sum, 0, sizeof(sum));
	/* One call per worker brings its counters, its stack's and every
	 * interface's (tern_dp_worker_snapshot). */
	snaps = calloc(nw, sizeof(*snaps));
	if (snaps == NULL) {
		rpc_err_errno(e, -ENOMEM, NULL, "cannot read worker statistics");
		return NULL;
	}
	lcores = json_array();
	for (w = 0; w < nw; w++) {
		struct tern_worker_stats ws;
		int rc = tern_dp_worker_snapshot(d->dp, w, &snaps[w]);

		if (rc < 0) {
			free(snaps);
			json_decref(lcores);
			rpc_err_errno(e, rc, NULL, rc == -ETIMEDOUT ?
				      "a worker lcore did not answer" :
				      "cannot read worker statistics");
			return NULL;
		}
		ws = snaps[w].stats;
		add_stack(&sum, &ws.stack);
		json_array_append_new(lcores, json_pack(
			"{sI sI so so so so so so so so}",
			"worker", (json_int_t)w, "lcore", (json_int_t)ws.lcore,
			"loops", ju_u64(ws.loops),
			"busy_loops", ju_u64(ws.busy_loops),
			"rx_pkts", ju_u64(ws.rx_pkts),
			"tx_pkts", ju_u64(ws.tx_pkts),
			"tx_dropped", ju_u64(ws.tx_dropped),
			"msgs", ju_u64(ws.msgs),
			"neigh_shared", ju_u64(ws.neigh_shared),
			"neigh_post_fail", ju_u64(ws.neigh_post_fail)));
		txbuf_json(json_array_get(lcores, json_array_size(lcores) - 1),
			   &ws);
		steer_json(json_array_get(lcores, json_array_size(lcores) - 1),
			   &ws);
	}
	out = json_object();
	json_object_set_new(out, "ports", ports_json(d));
	json_object_set_new(out, "interfaces", ifaces_json(d, snaps, nw));
	json_object_set_new(out, "lcores", lcores);
	protocols_json(&sum, out);
	json_object_set_new(out, "capture", capture_json(d));
	free(snaps);
	return out;
}

json_t *m_stats_get(struct ternd *d, json_t *p, struct rpc_error *e)
{
	if (jp_none(p, e) < 0)
		return NULL;
	return stats_build(d, e);
}
