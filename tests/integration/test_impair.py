"""The impairment facility through ternd: impairment.set/get/clear and
`ternctl impair`, and, against Linux over net_tap in a namespace, a lossy
and reordering link whose statistics are exactly what a receiver saw."""
import json
import re
import subprocess

import pytest

from conftest import PY, wait_for, wait_gen_state
from tern import TernError
from tern.client import INVALID_PARAMS, NOT_FOUND

# A UDP echo for the namespace: prints "ready", echoes every datagram back
# to its sender and, once nothing came for `idle` seconds after the first,
# prints how many it echoed.
UDP_ECHO = r"""
import socket, sys, time
addr, port, idle, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((addr, port))
print("ready", flush=True)
n = 0; last = None; end = time.time() + limit
s.settimeout(0.2)
while time.time() < end:
    try:
        d, peer = s.recvfrom(65536)
        s.sendto(d, peer); n += 1; last = time.time()
    except socket.timeout:
        if last and time.time() - last > idle:
            break
print(n, flush=True)
"""


def err_field(excinfo):
    return excinfo.value.field


# -- the API, on the net_ring pair (no root) ----------------------------------

def test_impairment_params_are_checked_naming_the_field(ring):
    c = ring.client
    p = ring.port0
    cases = [
        (dict(port=p), "direction"),
        (dict(port=p, direction="sideways"), "direction"),
        (dict(direction="out"), "port"),
        (dict(port=p, ifindex=1, direction="out"), "ifindex"),
        (dict(port=p, direction="out", loss=1.5), "loss"),
        (dict(port=p, direction="out", loss="5%"), "loss"),
        (dict(port=p, direction="out", ge_p=0.1), "ge_r"),
        (dict(port=p, direction="out", delay_us=10, jitter_us=20), "jitter_us"),
        (dict(port=p, direction="out", rate_queue=2000), "rate_queue"),
        (dict(port=p, direction="out", limit=0), "limit"),
        (dict(port=p, direction="out", delay=5), "delay"),
        (dict(port=p, direction="out", seed=-1), "seed"),
    ]
    for params, field in cases:
        with pytest.raises(TernError) as e:
            c.call("impairment.set", params)
        assert e.value.code == INVALID_PARAMS, (params, e.value.message)
        assert err_field(e) == field, (params, e.value.message, e.value.data)
    with pytest.raises(TernError) as e:
        c.impairment_set("out", port=999)
    assert e.value.code == NOT_FOUND and err_field(e) == "port"
    with pytest.raises(TernError) as e:
        c.impairment_set("in", ifindex=999)
    assert e.value.code == NOT_FOUND and err_field(e) == "ifindex"
    for m in (c.impairment_get, c.impairment_clear):
        with pytest.raises(TernError) as e:
            m("in", port=p)
        assert e.value.code == NOT_FOUND, e.value.message
    assert c.impairment_get() == {"impairments": []}


def test_impairment_set_get_clear(ring):
    c = ring.client
    r = c.impairment_set("out", port=ring.port0, seed=42, loss=0.25, delay_us=100,
                         jitter_us=50, reorder=0.1)
    try:
        assert r["port"] == ring.port0 and r["direction"] == "out"
        conf = r["conf"]
        assert conf["seed"] == 42 and conf["loss"] == 0.25
        assert conf["delay_us"] == 100 and conf["jitter_us"] == 50
        assert conf["reorder_us"] == 1000, "the default hold filled in"
        assert conf["limit"] == 1000
        assert r["counters"]["seen"] == 0
        nworkers = len(c.stats()["lcores"])
        assert [w["worker"] for w in r["workers"]] == list(range(nworkers))
        # set again replaces it
        r = c.impairment_set("out", port=ring.port0, seed=43, duplicate=0.5)
        assert r["conf"]["seed"] == 43 and r["conf"]["loss"] == 0
        c.impairment_set("in", port=ring.port1, corrupt=0.01)
        all_ = c.impairment_get()["impairments"]
        assert sorted((i["port"], i["direction"]) for i in all_) == sorted(
            [(ring.port0, "out"), (ring.port1, "in")])
        last = c.impairment_clear("in", port=ring.port1)
        assert last["conf"]["corrupt"] == 0.01
    finally:
        for port, d in ((ring.port0, "out"), (ring.port1, "in")):
            try:
                c.impairment_clear(d, port=port)
            except TernError:
                pass
    assert c.impairment_get() == {"impairments": []}


def test_impairment_loses_on_the_ring_pair(ring, ctx_cleanup):
    """ring0 -> ring1 with 20% loss on ring0's output: the server counts
    exactly what the engine let through."""
    c = ring.client
    i0 = c.interface_create(ring.port0, "10.77.0.1/24")["ifindex"]
    i1 = c.interface_create(ring.port1, "10.77.0.2/24")["ifindex"]
    try:
        srv = c.udp_server(i1, 9000)
        ctx_cleanup.append((c, srv))
        c.generator_start(srv)
        cli = c.udp_client(i0, "10.77.0.2", 9000, count=1000, rate=5000, size=64)
        ctx_cleanup.append((c, cli))
        # resolve first: ARP through a lossy link would be lost too
        warm = c.udp_client(i0, "10.77.0.2", 9000, count=1, rate=10, size=64)
        ctx_cleanup.append((c, warm))
        c.generator_start(warm)
        wait_gen_state(c, warm)
        assert wait_for(lambda: c.generator_stats(srv)["rx_pkts"] >= 1)
        base = c.generator_stats(srv)["rx_pkts"]
        c.impairment_set("out", ifindex=i0, seed=5, loss=0.2)
        c.generator_start(cli)
        s = wait_gen_state(c, cli)
        assert s["tx_pkts"] == 1000, s
        imp = c.impairment_get("out", ifindex=i0)["counters"]
        got = wait_for(lambda: (lambda n: n if n == 1000 - imp["drop_loss"] else None)(
            c.generator_stats(srv)["rx_pkts"] - base), timeout=5)
        assert imp["seen"] == 1000, imp
        assert got == 1000 - imp["drop_loss"], (c.generator_stats(srv), imp)
        assert 120 < imp["drop_loss"] < 280, imp
        drops = c.stats()["drops"]
        assert drops["eth.drop_hook_output"] >= imp["drop_loss"], drops
    finally:
        try:
            c.impairment_clear("out", ifindex=i0)
        except TernError:
            pass
        for gid in [g for _, g in ctx_cleanup]:
            try:
                c.generator_delete(gid)
            except TernError:
                pass
        ctx_cleanup.clear()
        c.interface_delete(i0)
        c.interface_delete(i1)


def test_ternctl_impair(ring):
    p = str(ring.port0)
    r = ring.ternctl("impair", "set", "--port", p, "--dir", "out", "--loss", "5%",
                     "--delay", "2ms", "--jitter", "500us", "--rate", "10M", "--seed", "9",
                     "--ge", "0.01,0.3")
    try:
        assert "port %s out: seed 9" % p in r.stdout, r.stdout
        assert "loss 5%" in r.stdout and "delay 2ms" in r.stdout, r.stdout
        r = ring.ternctl("--json", "impair", "get", "--port", p, "--dir", "out")
        conf = json.loads(r.stdout)["conf"]
        assert conf["loss"] == 0.05 and conf["delay_us"] == 2000
        assert conf["jitter_us"] == 500 and conf["rate_bps"] == 10000000
        assert conf["ge_p"] == 0.01 and conf["ge_r"] == 0.3 and conf["ge_loss_bad"] == 1
        r = ring.ternctl("impair", "get")
        assert "port %s out" % p in r.stdout, r.stdout
        bad = ring.ternctl("impair", "set", "--port", p, "--dir", "out", "--delay", "1ms",
                           "--jitter", "2ms", check=False)
        assert bad.returncode != 0 and "jitter_us" in bad.stderr, bad.stderr
    finally:
        r = ring.ternctl("impair", "clear", "--port", p, "--dir", "out")
    assert "cleared" in r.stdout
    r = ring.ternctl("impair", "get")
    assert "no impairments" in r.stdout


# -- against Linux over net_tap (root) -----------------------------------------

def ping_once(tap):
    """Resolves both ways (tern learns Linux from its ARP request)."""
    r = tap.ns_run("ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", tap.tern_addr,
                   check=False, timeout=30)
    assert " 0% packet loss" in r.stdout, r.stdout + r.stderr


def test_lossy_reordering_link_to_linux_is_counted_exactly(tap, ctx_cleanup):
    """tern's udp client -> Linux UDP echo, with 5% loss and 5% reordering on
    tern's output: the losses the client sees (sent - echoed) and the
    reorders it sees (an echo numbered lower than one before it) are exactly
    the impairment's drop_loss and reordered."""
    c = tap.client
    n, port = 3000, 40021
    ping_once(tap)
    echo = tap.ns_popen(PY, "-c", UDP_ECHO, tap.ns_addr, port, "2", "60")
    try:
        assert echo.stdout.readline().strip() == "ready", echo.stderr.read()
        r = c.impairment_set("out", ifindex=tap.ifindex, seed=2024, loss=0.05,
                             reorder=0.05, reorder_us=3000)
        assert r["counters"]["seen"] == 0
        gid = c.udp_client(tap.ifindex, tap.ns_addr, port, count=n, rate=1000, size=100)
        ctx_cleanup.append((c, gid))
        c.generator_start(gid)
        s = wait_gen_state(c, gid, timeout=30)
        assert s["tx_pkts"] == n and s["tx_fail"] == 0, s

        def settled():
            imp = c.impairment_get("out", ifindex=tap.ifindex)["counters"]
            st = c.generator_stats(gid)
            if imp["held"] == 0 and st["rx_echoes"] == n - imp["drop_loss"]:
                return imp, st
            return None
        got = wait_for(settled, timeout=10, interval=0.2)
        imp = c.impairment_get("out", ifindex=tap.ifindex)["counters"]
        st = c.generator_stats(gid)
        assert got, ("echoes never matched: %r\n%r" % (st, imp))
        imp, st = got
        out, err = echo.communicate(timeout=30)
    finally:
        if echo.poll() is None:
            echo.kill()
            echo.wait()
        last = c.impairment_clear("out", ifindex=tap.ifindex)
    print("sent %d, engine dropped %d, reordered %d; client: %d echoes, %d out of order"
          % (n, imp["drop_loss"], imp["reordered"], st["rx_echoes"], st["rx_out_of_order"]))
    # Only the flow went through the engine (ARP was resolved before).
    assert imp["seen"] == n, imp
    assert imp["passed"] == n - imp["drop_loss"], imp
    # (later, Linux's neighbour probes may be answered through it too)
    assert last["counters"]["seen"] >= n, last
    # Losses: what Linux got and what came back are what the engine let by.
    assert int(out.strip()) == n - imp["drop_loss"], (out, err, imp)
    assert st["tx_pkts"] - st["rx_echoes"] == imp["drop_loss"], (st, imp)
    # Reorders: the client's out-of-order echoes are the engine's count.
    assert st["rx_out_of_order"] == imp["reordered"], (st, imp)
    # and the rates are the configured ones (binomial, n = 3000)
    assert 0.035 * n < imp["drop_loss"] < 0.065 * n, imp
    assert 0.03 * n < imp["reordered"] < 0.065 * n, imp
    drops = c.stats()["drops"]
    assert drops["udp.drop_bad_cksum"] == 0, drops


def test_interface_input_loss_with_linux_ping(tap):
    """20% loss on what tern's interface receives (IP_INPUT: ARP is not
    touched): Linux's ping loses exactly the requests the engine dropped."""
    c = tap.client
    ping_once(tap)
    c.impairment_set("in", ifindex=tap.ifindex, seed=77, loss=0.2)
    try:
        r = tap.ns_run("ping", "-n", "-q", "-c", "200", "-i", "0.005", "-W", "1",
                       tap.tern_addr, check=False, timeout=60)
        imp = c.impairment_get("in", ifindex=tap.ifindex)["counters"]
    finally:
        c.impairment_clear("in", ifindex=tap.ifindex)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m, r.stdout + r.stderr
    sent, received = int(m.group(1)), int(m.group(2))
    assert sent == 200 and imp["seen"] == 200, (r.stdout, imp)
    assert received == sent - imp["drop_loss"], (r.stdout, imp)
    assert 15 < imp["drop_loss"] < 65, imp


def test_capture_after_an_output_delay_sees_real_checksums(tap, tmp_path):
    """A port that offloads checksums (net_tap): the capture shows the
    checksums the port writes, and a capture started after a delaying
    impairment sees each packet when it really leaves."""
    c = tap.client
    ping_once(tap)
    c.impairment_set("out", port=tap.port, delay_us=20000)
    path = str(tmp_path / "delayed.pcapng")
    c.capture_start(path, port=tap.port)
    try:
        r = tap.ns_run("ping", "-n", "-q", "-c", "5", "-i", "0.2", "-W", "2",
                       tap.tern_addr, check=False, timeout=30)
    finally:
        c.capture_stop()
        c.impairment_clear("out", port=tap.port)
    m = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
    assert m and float(m.group(1)) >= 19.0, "20 ms of delay in the RTT: " + r.stdout
    v = subprocess.run(["tcpdump", "-vv", "-nn", "-r", path, "icmp"],
                       capture_output=True, text=True, timeout=30)
    assert v.returncode == 0, v.stderr
    assert "echo reply" in v.stdout, v.stdout
    # tcpdump -vv checks the IPv4 header checksum (and ICMP's)
    assert "bad cksum" not in v.stdout and "wrong" not in v.stdout.lower(), v.stdout
    t = subprocess.run(["tcpdump", "-tt", "-nn", "-r", path, "icmp"],
                       capture_output=True, text=True, timeout=30)
    req = [float(l.split()[0]) for l in t.stdout.splitlines() if "echo request" in l]
    rep = [float(l.split()[0]) for l in t.stdout.splitlines() if "echo reply" in l]
    assert len(req) == len(rep) == 5, t.stdout
    # each reply left 20 ms after its request came in
    for a, b in zip(req, rep):
        assert 0.019 <= b - a < 0.2, (a, b, t.stdout)
