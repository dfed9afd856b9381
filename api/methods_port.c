/* port.list: what the data plane configured, straight from tern_dp. */
#include <tern/dp.h>

#include "methods.h"

static json_t *port_json(const struct tern_port_info *pi)
{
	char mac[18];

	ju_fmt_mac(pi->mac.addr_bytes, mac);
	json_t *out = json_pack("{sI ss ss ss sI sb sI sI sb sI s{sb sb sb sb sb sI}}",
		"port", (json_int_t)pi->port_id, "name", pi->name,
		"driver", pi->driver, "mac", mac, "mtu", (json_int_t)pi->mtu,
		"link_up", pi->link_up, "speed_mbps",
		(json_int_t)pi->speed_mbps, "queues", (json_int_t)pi->queues,
		"rss", pi->rss, "socket", (json_int_t)pi->socket,
		"offloads",
		"tx_ip4_cksum", pi->caps.tx_ip4_cksum,
		"tx_udp_cksum", pi->caps.tx_udp_cksum,
		"tx_tcp_cksum", pi->caps.tx_tcp_cksum,
		"rx_ip4_cksum", pi->caps.rx_ip4_cksum,
		"rx_l4_cksum", pi->caps.rx_l4_cksum,
		"tso_max", (json_int_t)pi->caps.tso_max);
	/* the RETA the stacks steer source ports by; 0: none (tern/rss.h) */
	json_object_set_new(out, "reta_size", json_integer(pi->reta_size));
	return out;
}

json_t *m_port_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	unsigned i, n;
	json_t *out;

	if (jp_none(p, e) < 0)
		return NULL;
	out = json_array();
	n = tern_dp_port_count(d->dp);
	for (i = 0; i < n; i++) {
		struct tern_port_info pi;

		if (tern_dp_port_info(d->dp, i, &pi) == 0)
			json_array_append_new(out, port_json(&pi));
	}
	return out;
}
