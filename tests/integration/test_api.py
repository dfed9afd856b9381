"""API scripting against ternd --ring-pair (no root): every method of
docs/api.md through the Python client, and bad input for each one."""
import json
import time

import pytest

from conftest import live_subscriber, wait_for
from tern import Client, TernError

INVALID_PARAMS, NOT_FOUND, EXISTS, BUSY = -32602, -32000, -32001, -32002


@pytest.fixture(scope="module")
def ifaces(ring):
    """An interface on each ring port: 10.20.0.1/24 (ring0), 10.20.0.2/24 (ring1)."""
    c = ring.client
    a = c.interface_create(ring.port0, "10.20.0.1/24", name="api-a")
    b = c.interface_create(ring.port1, "10.20.0.2/24", mac="02:00:00:00:20:02",
                           gateway="10.20.0.254", mtu=1400, name="api-b")
    return a, b


def expect_error(fn, code, field=None):
    with pytest.raises(TernError) as e:
        fn()
    err = e.value
    assert err.code == code, "expected %d, got %d: %s (%r)" % (code, err.code, err.message, err.data)
    if field is not None:
        assert isinstance(err.data, dict) and err.data.get("field") == field, \
            "error.data should name field %r: %r (%s)" % (field, err.data, err.message)
        assert field in err.message, "message should name %r: %s" % (field, err.message)
    return err


def still_answers(c):
    assert c.version()["api"] == "2.0"


# -- the methods, used as documented ----------------------------------------------

def test_version(ring):
    v = ring.client.version()
    assert v["version"] == "0.1.0"
    assert v["dpdk"].startswith("DPDK 22.11")
    assert v["api"] == "2.0"
    assert v["workers"] >= 1 and len(v["lcores"]) == v["workers"]


def test_port_list(ring):
    ports = ring.client.ports()
    assert len(ports) >= 2
    for p in ports:
        for k in ("port", "name", "driver", "mac", "mtu", "link_up", "speed_mbps",
                  "queues", "rss", "socket", "offloads"):
            assert k in p, (k, p)
        for k in ("tx_ip4_cksum", "tx_udp_cksum", "tx_tcp_cksum", "rx_ip4_cksum",
                  "rx_l4_cksum", "tso_max"):
            assert k in p["offloads"], (k, p)
    r0 = [p for p in ports if p["port"] == ring.port0][0]
    assert r0["driver"] == "net_ring" or "ring" in r0["driver"], r0


def test_interface_create_list_delete(ring, ifaces):
    c = ring.client
    a, b = ifaces
    assert a["name"] == "api-a" and b["name"] == "api-b"
    assert b["mac"].lower() == "02:00:00:00:20:02"
    ports = {p["port"]: p for p in c.ports()}
    assert a["mac"].lower() == ports[ring.port0]["mac"].lower()
    lst = {i["ifindex"]: i for i in c.interfaces()}
    ia, ib = lst[a["ifindex"]], lst[b["ifindex"]]
    assert ia["address"] == "10.20.0.1/24" and ia["port"] == ring.port0
    assert ia["gateway"] is None and ia["mtu"] == ports[ring.port0]["mtu"]
    assert ib["gateway"] == "10.20.0.254" and ib["mtu"] == 1400
    # default name if<ifindex>
    t = c.interface_create(ring.port0, "10.21.0.1/24")
    assert t["name"] == "if%d" % t["ifindex"]
    expect_error(lambda: c.interface_create(ring.port0, "10.21.0.1/24"), EXISTS)
    expect_error(lambda: c.interface_create(ring.port0, "10.22.0.1/24", name="api-a"),
                 EXISTS, "name")
    assert c.interface_delete(t["ifindex"]) == {}
    assert t["ifindex"] not in [i["ifindex"] for i in c.interfaces()]
    expect_error(lambda: c.interface_delete(t["ifindex"]), NOT_FOUND)
    expect_error(lambda: c.interface_create(99, "10.23.0.1/24"), NOT_FOUND, "port")


def test_stats_get(ring, ifaces):
    s = ring.client.stats()
    for k in ("ports", "interfaces", "lcores", "protocols", "drops", "drops_total", "capture"):
        assert k in s, k
    for k in ("port", "name", "ipackets", "opackets", "ibytes", "obytes", "imissed",
              "ierrors", "oerrors", "rx_nombuf"):
        assert k in s["ports"][0], k
    for k in ("ifindex", "name", "rx_pkts", "rx_bytes", "tx_pkts", "tx_bytes"):
        assert k in s["interfaces"][0], k
    for k in ("worker", "lcore", "loops", "busy_loops", "rx_pkts", "tx_pkts",
              "tx_deferred", "tx_held", "tx_dropped", "msgs", "neigh_shared",
              "neigh_post_fail"):
        assert k in s["lcores"][0], k
    for proto in ("eth", "arp", "ip4", "icmp4", "udp", "mbuf"):
        assert proto in s["protocols"], proto
    assert "eth.drop_short" in s["drops"]
    assert all(k.split(".")[1].startswith("drop_") for k in s["drops"])
    assert s["drops_total"] == sum(s["drops"].values())
    assert s["capture"] is None
    # the gratuitous ARPs of the interfaces went out
    assert s["protocols"]["arp"]["tx_gratuitous"] >= 2
    # one channel call per worker per stats.get, however many interfaces
    # (msgs counts a call once it ran: compare two consecutive stats.get;
    # the periodic publication may add one, so look for a clean pair)
    c = ring.client
    pairs = []

    def one_call_each():
        m1 = [w["msgs"] for w in c.stats()["lcores"]]
        m2 = [w["msgs"] for w in c.stats()["lcores"]]
        pairs.append((m1, m2))
        return all(b - a == 1 for a, b in zip(m1, m2))
    assert wait_for(one_call_each, timeout=3), pairs


def test_capture_start_stop(ring, tmp_path):
    c = ring.client
    path = str(tmp_path / "ring.pcapng")
    assert c.capture_start(path, port=ring.port0, snaplen=128)["path"] == path
    expect_error(lambda: c.capture_start(str(tmp_path / "b.pcapng")), BUSY)
    cap = c.stats()["capture"]
    assert cap["path"] == path and {"captured", "written", "missed"} <= set(cap)
    r = c.capture_stop()
    assert r["path"] == path and "written" in r and "missed" in r
    with open(path, "rb") as f:
        assert f.read(4) == b"\x0a\x0d\x0d\x0a", "not a pcapng section header"
    expect_error(c.capture_stop, NOT_FOUND)
    expect_error(lambda: c.capture_start(str(tmp_path / "c.pcapng"), port=99), NOT_FOUND)
    expect_error(lambda: c.capture_start("/nonexistent-dir/x.pcapng"), -32005, "path")


def test_generator_lifecycle(ring, ifaces):
    c = ring.client
    a, b = ifaces
    gid = c.generator_create("udp", interface=a["ifindex"], dst="10.20.0.2",
                             dport=9000, rate=1000)["id"]
    g = [x for x in c.generators() if x["id"] == gid][0]
    assert g["kind"] == "udp" and g["role"] == "client" and g["state"] == "created"
    assert g["interface"] == a["ifindex"]
    cfg = g["config"]
    assert cfg["dst"] == "10.20.0.2" and cfg["dport"] == 9000
    assert cfg["size"] == 64 and cfg["rate"] == 1000
    s = c.generator_stats(gid)
    for k in ("id", "state", "tx_pkts", "tx_bytes", "tx_fail", "rx_pkts", "rx_bytes",
              "rx_echoes", "rx_out_of_order", "lost", "elapsed_s", "tx_pps", "rx_pps",
              "rtt_us"):
        assert k in s, k
    assert s["state"] == "created" and s["tx_pkts"] == 0
    assert c.generator_start(gid) == {}
    assert c.generator_stats(gid)["state"] == "running"
    expect_error(lambda: c.generator_start(gid), BUSY)
    expect_error(lambda: c.interface_delete(a["ifindex"]), BUSY)
    wait_for(lambda: c.generator_stats(gid)["tx_pkts"] > 50, timeout=5)
    assert c.generator_stop(gid) == {}
    s1 = c.generator_stats(gid)
    assert s1["state"] == "stopped" and s1["tx_pkts"] > 0
    c.generator_start(gid)                 # starts again, keeping counters
    wait_for(lambda: c.generator_stats(gid)["tx_pkts"] > s1["tx_pkts"], timeout=5)
    assert c.generator_stats(gid)["tx_pkts"] > s1["tx_pkts"]
    assert c.generator_delete(gid) == {}  # stops it first
    assert gid not in [x["id"] for x in c.generators()]
    for fn in (c.generator_stats, c.generator_start, c.generator_stop, c.generator_delete):
        expect_error(lambda: fn(gid), NOT_FOUND)


def test_generator_server_port_taken(ring, ifaces):
    c = ring.client
    b = ifaces[1]["ifindex"]
    s1 = c.udp_server(b, 9100, echo=True)
    try:
        expect_error(lambda: c.udp_server(b, 9100), EXISTS)
        g = [x for x in c.generators() if x["id"] == s1][0]
        assert g["role"] == "server" and g["config"]["port"] == 9100
        assert g["config"]["echo"] is True
    finally:
        c.generator_delete(s1)
    expect_error(lambda: c.udp_server(999, 9101), NOT_FOUND)


def test_events(ring):
    c = ring.client
    sub = live_subscriber(ring.events, topics=("event", "stats"))
    try:
        t = c.interface_create(ring.port1, "10.24.0.1/24", name="ev-if")
        c.interface_delete(t["ifindex"])
        seen = []
        stats = sub.first[1] if sub.first[0] == "stats" else None
        end = time.monotonic() + 5
        while time.monotonic() < end and (len(seen) < 2 or stats is None):
            topic, msg = sub.recv(timeout=3)
            if topic == "event":
                seen.append(msg)
            elif topic == "stats":
                stats = msg
        types = [m["type"] for m in seen]
        assert "interface.created" in types and "interface.deleted" in types, seen
        assert all("time" in m for m in seen)
        assert stats is not None and "stats" in stats and "generators" in stats
        assert "ports" in stats["stats"]
    finally:
        sub.close()


def test_batch_notification_and_req_framing(ring):
    c = Client(ring.api, timeout=5)
    try:
        r = c.request([{"jsonrpc": "2.0", "id": 1, "method": "system.version"},
                       {"jsonrpc": "2.0", "id": 2, "method": "port.list"},
                       {"jsonrpc": "2.0", "id": 3, "method": "no.such"}])
        assert isinstance(r, list) and len(r) == 3
        byid = {x["id"]: x for x in r}
        assert byid[1]["result"]["api"] == "2.0"
        assert isinstance(byid[2]["result"], list)
        assert byid[3]["error"]["code"] == -32601
        # a notification gets no answer: the next reply is the version's
        c.notify("system.version")
        assert c.version()["api"] == "2.0"
        # REQ-style framing: an empty delimiter frame, mirrored in the reply
        req = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "system.version"})
        frames = c.send_raw([b"", req.encode()])
        assert frames[0] == b"" and json.loads(frames[-1])["id"] == 7
    finally:
        c.close()


# -- bad input ----------------------------------------------------------------------

def raw(ring, payload):
    c = Client(ring.api, timeout=5)
    try:
        return json.loads(c.send_raw(payload)[-1])
    finally:
        c.close()


@pytest.mark.parametrize("payload,code,field", [
    (b"{not json", -32700, None),
    (b"\xff\xfe", -32700, None),
    (b"42", -32600, None),
    (b'"system.version"', -32600, None),
    (b"[]", -32600, None),
    (b'{"jsonrpc": "2.0", "id": 1}', -32600, "method"),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "system.version"}', -32600, "jsonrpc"),
    (b'{"id": 1, "method": "system.version"}', -32600, "jsonrpc"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', -32600, "method"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "system.version", "params": [1]}', -32600, "params"),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "no.such.method"}', -32601, None),
])
def test_malformed_requests(ring, payload, code, field):
    r = raw(ring, payload)
    assert r.get("jsonrpc") == "2.0" and "error" in r, r
    err = r["error"]
    assert err["code"] == code, r
    if field:
        assert err.get("data", {}).get("field") == field, r
        assert field in err["message"], r
    if code == -32601:
        assert err["data"]["method"] == "no.such.method"
    still_answers(ring.client)


NO_PARAM_METHODS = ["system.version", "port.list", "interface.list", "stats.get",
                    "capture.stop", "generator.list", "system.shutdown"]


@pytest.mark.parametrize("method", NO_PARAM_METHODS)
def test_unknown_field_no_param_methods(ring, method):
    expect_error(lambda: ring.client.call(method, bogus=1), INVALID_PARAMS, "bogus")
    still_answers(ring.client)


def bad_param_cases(port0, ifa):
    A = "10.30.0.2/24"
    ic = lambda **kw: ("interface.create", dict({"port": port0, "address": A}, **kw))
    cl = lambda **kw: ("generator.create", dict(
        {"kind": "udp", "interface": ifa, "dst": "10.20.0.2", "dport": 9200}, **kw))
    sv = lambda **kw: ("generator.create", dict(
        {"kind": "udp", "role": "server", "interface": ifa, "port": 9201}, **kw))
    drop = lambda m_p, k: (m_p[0], {x: v for x, v in m_p[1].items() if x != k})
    return [
        # interface.create
        (drop(ic(), "port"), "port"),
        (drop(ic(), "address"), "address"),
        (ic(port="0"), "port"),
        (ic(address=17), "address"),
        (ic(address="10.30.0.2"), "address"),
        (ic(address="10.30.0.300/24"), "address"),
        (ic(address="10.30.0.2/33"), "address"),
        (ic(mac="zz:00:00:00:00:01"), "mac"),
        (ic(mac=5), "mac"),
        (ic(gateway="not-an-ip"), "gateway"),
        (ic(gateway="10.31.0.1"), "gateway"),
        (ic(mtu=10), "mtu"),
        (ic(mtu=100000), "mtu"),
        (ic(mtu="1500"), "mtu"),
        (ic(name="a-very-long-name-x"), "name"),
        (ic(name=3), "name"),
        (ic(colour="red"), "colour"),
        # interface.delete
        (("interface.delete", {}), "ifindex"),
        (("interface.delete", {"ifindex": "1"}), "ifindex"),
        (("interface.delete", {"ifindex": -1}), "ifindex"),
        (("interface.delete", {"ifindex": 1, "x": 1}), "x"),
        # capture.start
        (("capture.start", {}), "path"),
        (("capture.start", {"path": 5}), "path"),
        (("capture.start", {"path": "/tmp/x.pcapng", "snaplen": "all"}), "snaplen"),
        (("capture.start", {"path": "/tmp/x.pcapng", "snaplen": -1}), "snaplen"),
        (("capture.start", {"path": "/tmp/x.pcapng", "port": "0"}), "port"),
        (("capture.start", {"path": "/tmp/x.pcapng", "extra": True}), "extra"),
        # generator.create, client
        (drop(cl(), "kind"), "kind"),
        (cl(kind="tcp-nope"), "kind"),
        (cl(kind=1), "kind"),
        (cl(role="boss"), "role"),
        (drop(cl(), "interface"), "interface"),
        (cl(interface="1"), "interface"),
        (drop(cl(), "dst"), "dst"),
        (cl(dst="10.20.0"), "dst"),
        (drop(cl(), "dport"), "dport"),
        (cl(dport=0), "dport"),
        (cl(dport=65536), "dport"),
        (cl(dport="80"), "dport"),
        (cl(sport=70000), "sport"),
        (cl(size=10), "size"),
        (cl(size=100000), "size"),
        (cl(rate=0), "rate"),
        (cl(rate=-5), "rate"),
        (cl(rate="fast"), "rate"),
        (cl(duration=-1), "duration"),
        (cl(duration="long"), "duration"),
        (cl(count=-1), "count"),
        (cl(count=1.5), "count"),
        (cl(flavour=1), "flavour"),
        # generator.create, server
        (drop(sv(), "port"), "port"),
        (sv(port=0), "port"),
        (sv(port=65536), "port"),
        (sv(echo="yes"), "echo"),
        # generator.start/stop/delete/stats
    ] + [(("generator." + m, p), f) for m in ("start", "stop", "delete", "stats")
         for p, f in (({}, "id"), ({"id": "1"}, "id"), ({"id": 1.5}, "id"),
                      ({"id": 1, "more": 2}, "more"))]


def test_invalid_params_each_method(ring, ifaces):
    c = ring.client
    cases = bad_param_cases(ring.port0, ifaces[0]["ifindex"])
    problems = []
    before = len(c.generators())
    for (method, params), field in cases:
        try:
            c.call(method, params)
            problems.append("%s %r: accepted" % (method, params))
        except TernError as e:
            if e.code != INVALID_PARAMS:
                problems.append("%s %r: code %d (%s)" % (method, params, e.code, e.message))
            elif not isinstance(e.data, dict) or e.data.get("field") != field:
                problems.append("%s %r: data %r, expected field %r" % (method, params, e.data, field))
            elif field not in e.message:
                problems.append("%s %r: message %r does not name %r" % (method, params, e.message, field))
        still_answers(c)
    assert len(c.generators()) == before, "a rejected generator.create left a generator"
    assert not problems, "%d of %d bad inputs mishandled:\n" % (len(problems), len(cases)) + \
        "\n".join(problems)


def test_not_found_each_method(ring):
    c = ring.client
    expect_error(lambda: c.interface_delete(9999), NOT_FOUND)
    expect_error(lambda: c.interface_create(77, "10.40.0.1/24"), NOT_FOUND, "port")
    expect_error(lambda: c.udp_client(9999, "10.20.0.2", 9), NOT_FOUND)
    for m in ("start", "stop", "delete", "stats"):
        expect_error(lambda: c.call("generator." + m, id=9999), NOT_FOUND)
    still_answers(c)
