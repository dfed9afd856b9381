/* interface.create / interface.list / interface.delete. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tern/dp.h>

#include "events.h"
#include "methods.h"

static bool valid_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		      *s == '.'))
			return false;
	return true;
}


/* "address": an IPv4 prefix like 10.0.0.2/24. */
static int parse_address(json_t *p, struct tern_addr *a, uint8_t *plen,
			 struct rpc_error *e)
{
	const char *s;
	if (jp_str(p, "address", true, 64, &s, e) < 0)
		return -1;
	if (tern_addr_parse_prefix(s, a, plen) < 0 ||
	    a->family != TERN_AF_INET || *plen < 1 || *plen > 32) {
		rpc_err(e, RPC_INVALID_PARAMS, "address",
			"not an IPv4 prefix like 10.0.0.2/24");
		return -1;
	}
	return 0;
}

/* Type and syntax checks of every field. What the values must mean
 * (unicast host, gateway inside the prefix, MTU within the port's, name
 * free...) is checked once, by tern_dp_iface_create(), which names the
 * field. */
static int parse_create(json_t *p, struct tern_dp_iface_conf *c,
			int64_t *mtu, struct rpc_error *e)
{
	static const char *const allowed[] = { "port", "address", "count",
					       "host_macs", "mac", "gateway",
					       "mtu", "name", NULL };
	const char *s;
	int64_t port, count;
	int r;

	memset(c, 0, sizeof(*c));
	*mtu = 0;
	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "port", true, 0, UINT16_MAX - 1, &port, e) < 0 ||
	    parse_address(p, &c->addr, &c->plen, e) < 0 ||
	    (r = jp_int(p, "count", false, 1, TERN_RANGE_MAX_HOSTS, &count,
			e)) < 0 ||
	    jp_bool(p, "host_macs", false, &c->host_macs, e) < 0)
		return -1;
	c->port_id = (uint16_t)port;
	c->count = r > 0 ? (uint32_t)count : 1;
	r = jp_str(p, "mac", false, 32, &s, e);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (ju_parse_mac(s, c->mac.addr_bytes) < 0) {
			rpc_err(e, RPC_INVALID_PARAMS, "mac",
				"not a MAC like 02:00:00:00:00:01");
			return -1;
		}
		c->mac_set = true;
	}
	r = jp_str(p, "gateway", false, 64, &s, e);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (tern_addr_parse(s, &c->gateway) < 0 ||
		    c->gateway.family != TERN_AF_INET) {
			rpc_err(e, RPC_INVALID_PARAMS, "gateway",
				"not an IPv4 address like 10.0.0.1");
			return -1;
		}
	}
	if (jp_int(p, "mtu", false, 68, 65535, mtu, e) < 0)
		return -1;
	r = jp_str(p, "name", false, TERN_IFNAMSIZ - 1, &s, e);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (!valid_name(s)) {
			rpc_err(e, RPC_INVALID_PARAMS, "name",
				"only letters, digits, '_', '-' and '.'");
			return -1;
		}
		snprintf(c->name, sizeof(c->name), "%s", s);
	}
	return 0;
}

json_t *m_iface_create(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct tern_dp_iface_conf c;
	struct tern_dp_iface_info info;
	const char *why = NULL;
	uint16_t ifindex;
	int64_t mtu;
	char mac[18];
	int rc;

	if (parse_create(p, &c, &mtu, e) < 0)
		return NULL;
	c.mtu = (uint16_t)mtu;
	rc = tern_dp_iface_create(d->dp, &c, &ifindex, &why);
	if (rc < 0) {
		rpc_err_why(e, rc, why, rc == -ENOSPC ? "interface table full" :
					"cannot create the interface");
		return NULL;
	}
	if (tern_dp_iface_get(d->dp, ifindex, &info) == 0)
		c = info.conf;
	if (c.name[0] == '\0')
		snprintf(c.name, sizeof(c.name), "if%u", ifindex);
	ju_fmt_mac(c.mac.addr_bytes, mac);
	events_emit(d, "interface.created",
		    json_pack("{sI ss sI}", "ifindex", (json_int_t)ifindex,
			      "name", c.name, "port", (json_int_t)c.port_id));
	return json_pack("{sI ss ss}", "ifindex", (json_int_t)ifindex,
			 "name", c.name, "mac", mac);
}

/* {"address": "10.1.0.1/16", "count": 10000, "last": "10.1.39.16",
 *  "host_macs": false}: a range, compactly. */
static json_t *range_json(const struct tern_addr_range *r)
{
	char a[TERN_ADDR_STRLEN + 8], last[TERN_ADDR_STRLEN];
	uint32_t count = r->count ? r->count : 1;
	struct tern_addr l = tern_addr_v4h(rte_be_to_cpu_32(r->base.v4) +
					   count - 1);
	size_t n;

	tern_addr_fmt(&r->base, a, TERN_ADDR_STRLEN);
	n = strlen(a);
	snprintf(a + n, sizeof(a) - n, "/%u", r->plen);
	tern_addr_fmt(&l, last, sizeof(last));
	return json_pack("{ss sI ss sb}", "address", a,
			 "count", (json_int_t)count, "last", last,
			 "host_macs", r->host_macs);
}

static json_t *iface_json(struct ternd *d, const struct tern_dp_iface_info *ii)
{
	const struct tern_dp_iface_conf *c = &ii->conf;
	struct tern_port_info pi;
	struct rte_ether_addr m = c->mac;
	char mac[18], addr[TERN_ADDR_STRLEN + 8], gw[TERN_ADDR_STRLEN];
	char name[TERN_IFNAMSIZ];
	unsigned mtu = c->mtu;
	size_t l;

	/* Defaults the data plane may leave unfilled in the stored conf. */
	if (tern_dp_port_by_id(d->dp, c->port_id, &pi) == 0) {
		if (!c->mac_set && rte_is_zero_ether_addr(&m))
			m = pi.mac;
		if (mtu == 0)
			mtu = pi.mtu;
	}
	ju_fmt_mac(m.addr_bytes, mac);
	tern_addr_fmt(&c->addr, addr, TERN_ADDR_STRLEN);
	l = strlen(addr);
	snprintf(addr + l, sizeof(addr) - l, "/%u", c->plen);
	if (c->name[0] != '\0')
		snprintf(name, sizeof(name), "%s", c->name);
	else
		snprintf(name, sizeof(name), "if%u", ii->ifindex);
	json_t *addrs = json_array();
	uint64_t hosts = 0;
	for (unsigned j = 0; j < ii->naddrs; j++) {
		json_array_append_new(addrs, range_json(&ii->addrs[j]));
		hosts += ii->addrs[j].count ? ii->addrs[j].count : 1;
	}
	return json_pack("{sI ss sI ss ss so sI so sI}",
		"ifindex", (json_int_t)ii->ifindex, "name", name,
		"port", (json_int_t)c->port_id, "mac", mac, "address", addr,
		"gateway", tern_addr_is_set(&c->gateway) ?
			json_string(tern_addr_fmt(&c->gateway, gw, sizeof(gw))) :
			json_null(),
		"mtu", (json_int_t)mtu, "addresses", addrs,
		"hosts", (json_int_t)hosts);
}

json_t *m_iface_list(struct ternd *d, json_t *p, struct rpc_error *e)
{
	struct tern_dp_iface_info all[TERN_MAX_IFACES];
	unsigned i, n;
	json_t *out;

	if (jp_none(p, e) < 0)
		return NULL;
	n = tern_dp_iface_list(d->dp, all, TERN_MAX_IFACES);
	if (n > TERN_MAX_IFACES)
		n = TERN_MAX_IFACES;
	out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(out, iface_json(d, &all[i]));
	return out;
}

json_t *m_iface_delete(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "ifindex", NULL };
	int64_t ifindex;
	int rc;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "ifindex", true, 1, UINT16_MAX, &ifindex, e) < 0)
		return NULL;
	rc = tern_dp_iface_delete(d->dp, (uint16_t)ifindex);
	if (rc < 0) {
		rpc_err_errno(e, rc, rc == -EBUSY ? NULL : "ifindex",
			      rc == -ENOENT ? "no such interface" :
			      rc == -EBUSY ? "a generator uses this interface" :
			      "cannot delete the interface");
		return NULL;
	}
	events_emit(d, "interface.deleted",
		    json_pack("{sI}", "ifindex", (json_int_t)ifindex));
	return json_object();
}

/* interface.address.add {ifindex, address, count?, host_macs?} */
json_t *m_iface_addr_add(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "ifindex", "address", "count",
					       "host_macs", NULL };
	struct tern_addr_range r;
	int64_t ifindex, count;
	const char *why = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "ifindex", true, 1, UINT16_MAX, &ifindex, e) < 0 ||
	    parse_address(p, &r.base, &r.plen, e) < 0 ||
	    (rc = jp_int(p, "count", false, 1, TERN_RANGE_MAX_HOSTS, &count,
			 e)) < 0 ||
	    jp_bool(p, "host_macs", false, &r.host_macs, e) < 0)
		return NULL;
	r.count = rc > 0 ? (uint32_t)count : 1;
	rc = tern_dp_iface_addr_add(d->dp, (uint16_t)ifindex, &r, &why);
	if (rc < 0) {
		rpc_err_why(e, rc, why, "cannot add the address");
		return NULL;
	}
	events_emit(d, "interface.address.added",
		    json_pack("{sI so}", "ifindex", (json_int_t)ifindex,
			      "range", range_json(&r)));
	return range_json(&r);
}

/* interface.address.delete {ifindex, address} (address: the first of
 * the range, with or without its prefix length) */
json_t *m_iface_addr_del(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "ifindex", "address", NULL };
	struct tern_addr a;
	uint8_t plen;
	int64_t ifindex;
	const char *s;
	int rc;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_int(p, "ifindex", true, 1, UINT16_MAX, &ifindex, e) < 0 ||
	    jp_str(p, "address", true, 64, &s, e) < 0)
		return NULL;
	if ((tern_addr_parse(s, &a) < 0 &&
	     tern_addr_parse_prefix(s, &a, &plen) < 0) ||
	    a.family != TERN_AF_INET) {
		rpc_err(e, RPC_INVALID_PARAMS, "address",
			"not an IPv4 address like 10.0.0.2");
		return NULL;
	}
	rc = tern_dp_iface_addr_del(d->dp, (uint16_t)ifindex, &a);
	if (rc < 0) {
		rpc_err_errno(e, rc, rc == -ENOENT ? "address" : NULL,
			      rc == -ENOENT ? "not an address of that interface" :
			      rc == -EBUSY ? "an interface keeps at least one "
					     "address (delete the interface)" :
			      "cannot delete the address");
		return NULL;
	}
	events_emit(d, "interface.address.deleted",
		    json_pack("{sI ss}", "ifindex", (json_int_t)ifindex,
			      "address", s));
	return json_object();
}
