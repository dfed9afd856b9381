"""Traffic between two tern interfaces over the net_ring pair (no root)."""
import time

import pytest

from conftest import (Ternd, gen_when, live_subscriber, recv_until, wait_for,
                      wait_gen_state)


def worker_buffers_empty(client):
    """Every TX buffer drained, nothing dropped from one: the lcores'
    tx_held and tx_dropped are 0."""
    lc = client.stats()["lcores"]
    return all(w["tx_held"] == 0 and w["tx_dropped"] == 0 for w in lc), lc


@pytest.fixture(scope="module")
def pair(ring):
    c = ring.client
    a = c.interface_create(ring.port0, "10.50.0.1/24", name="ring-cli")["ifindex"]
    b = c.interface_create(ring.port1, "10.50.0.2/24", name="ring-srv")["ifindex"]
    return a, b


def test_udp_echo_count(ring, pair, ctx_cleanup):
    c = ring.client
    a, b = pair
    n = 2000
    srv = c.udp_server(b, 7, echo=True)
    ctx_cleanup.append((c, srv))
    cli = c.udp_client(a, "10.50.0.2", 7, count=n, rate=20000, size=128)
    ctx_cleanup.append((c, cli))
    c.generator_start(srv)
    c.generator_start(cli)
    wait_gen_state(c, cli, timeout=20)
    s = gen_when(c, cli, lambda s: s["rx_echoes"] >= n)   # the last echoes
    assert s["state"] == "done", s
    assert s["tx_pkts"] == n and s["tx_fail"] == 0, s
    assert s["tx_bytes"] == n * 128, s         # frame bytes, FCS included
    assert s["rx_echoes"] == n and s["lost"] == 0, s
    assert s["rx_out_of_order"] == 0, s
    rtt = s["rtt_us"]
    assert rtt is not None, s
    assert 0 < rtt["min"] <= rtt["avg"] <= rtt["max"] < 1e6, rtt
    sv = c.generator_stats(srv)
    assert sv["rx_pkts"] == n and sv["tx_pkts"] == n and sv["lost"] == 0, sv
    assert sv["state"] == "running"
    ok, lc = worker_buffers_empty(c)
    assert ok, lc


def test_udp_rate_and_duration(ring, pair, ctx_cleanup):
    c = ring.client
    a, b = pair
    srv = c.udp_server(b, 8, echo=True)
    ctx_cleanup.append((c, srv))
    cli = c.udp_client(a, "10.50.0.2", 8, rate=5000, duration=1.0)
    ctx_cleanup.append((c, cli))
    c.generator_start(srv)
    t0 = time.monotonic()
    c.generator_start(cli)
    s = wait_gen_state(c, cli, timeout=10)
    took = time.monotonic() - t0
    assert s["state"] == "done", s
    assert 0.8 < took < 3.0, took
    assert 4500 <= s["tx_pkts"] <= 5500, s
    assert 0.9 <= s["elapsed_s"] <= 1.5, s
    assert 4000 <= s["tx_pps"] <= 6000, s
    s = gen_when(c, cli, lambda s: s["rx_echoes"] >= s["tx_pkts"])
    assert s["rx_echoes"] == s["tx_pkts"] and s["lost"] == 0, s


def test_generator_events(ring, pair, ctx_cleanup):
    c = ring.client
    a, _ = pair
    sub = live_subscriber(ring.events)
    try:
        cli = c.udp_client(a, "10.50.0.2", 9, count=10, rate=1000)
        ctx_cleanup.append((c, cli))
        c.generator_start(cli)
        wait_gen_state(c, cli, timeout=10)
        seen = recv_until(sub, lambda m: m["type"] == "generator.done" and
                          m.get("id") == cli)
        mine = [m["type"] for m in seen if m.get("id") == cli]
        assert mine == ["generator.created", "generator.started",
                        "generator.done"], seen
    finally:
        sub.close()


def test_shutdown_event_and_clean_exit(tmp_path):
    d = Ternd(str(tmp_path), opts=["--ring-pair"], name="ternd-shutdown")
    d.wait_ready()
    sub = live_subscriber(d.events)
    try:
        c = d.client
        p0 = [p["port"] for p in c.ports() if "ring0" in p["name"]][0]
        i = c.interface_create(p0, "10.60.0.1/24")["ifindex"]
        g = c.udp_client(i, "10.60.0.9", 9, rate=1000)
        c.generator_start(g)                # left running: shutdown stops it
        c.capture_start(str(tmp_path / "s.pcapng"))  # left running too
        assert d.shutdown() == 0
        types = [m["type"] for m in
                 recv_until(sub, lambda m: m["type"] == "shutdown")]
        assert "shutdown" in types, types
    finally:
        sub.close()
        d.kill()
    d.check_clean_exit()


def test_two_workers_share_neighbours(tmp_path):
    """Two worker lcores (on this 2-core machine both share CPU 1): each
    gets its own queue pair and stack; a neighbour learned on one lcore is
    posted to the other, and traffic split over both is all echoed."""
    d = Ternd(str(tmp_path), eal=["--lcores", "0@0,1@1,2@1"],
              opts=["--ring-pair"], name="ternd-2w")
    d.wait_ready()
    try:
        c = d.client
        assert c.version()["workers"] == 2
        ports = c.ports()
        assert all(p["queues"] == 2 for p in ports), ports
        p0 = [p["port"] for p in ports if "ring0" in p["name"]][0]
        p1 = [p["port"] for p in ports if "ring1" in p["name"]][0]
        a = c.interface_create(p0, "10.70.0.1/24")["ifindex"]
        b = c.interface_create(p1, "10.70.0.2/24")["ifindex"]
        srv = c.udp_server(b, 7, echo=True)
        cli = c.udp_client(a, "10.70.0.2", 7, count=4000, rate=20000)
        c.generator_start(srv)
        c.generator_start(cli)
        wait_gen_state(c, cli, timeout=20)
        s = wait_for(lambda: (lambda x: x if x["rx_echoes"] == 4000 else None)(
            c.generator_stats(cli)), timeout=5)
        s = c.generator_stats(cli)
        assert s["tx_pkts"] == 4000 and s["rx_echoes"] == 4000, s
        lc = c.stats()["lcores"]
        assert len(lc) == 2, lc
        # both lcores carried traffic, and learned neighbours travelled
        assert all(w["rx_pkts"] > 0 and w["tx_pkts"] > 0 for w in lc), lc
        assert sum(w["neigh_shared"] for w in lc) > 0, lc
        assert sum(w["neigh_post_fail"] for w in lc) == 0, lc
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()


def test_tiny_pool_overload_is_counted_not_fatal(tmp_path):
    """64 mbufs for 2 Mpps of 1500-byte frames (the pool may run dry; the
    unit tests pin down exactly what an empty pool does). Every packet that
    did not come back is exactly one named drop, every send that failed is
    exactly one empty-pool count, nothing else was dropped, the daemon
    keeps answering, and at shutdown the pool is full again."""
    d = Ternd(str(tmp_path), opts=["--ring-pair", "--mbufs", "64"],
              name="ternd-tiny")
    d.wait_ready()
    try:
        c = d.client
        ports = c.ports()
        p0 = [p["port"] for p in ports if "ring0" in p["name"]][0]
        p1 = [p["port"] for p in ports if "ring1" in p["name"]][0]
        a = c.interface_create(p0, "10.71.0.1/24")["ifindex"]
        b = c.interface_create(p1, "10.71.0.2/24")["ifindex"]
        srv = c.udp_server(b, 7, echo=True)
        cli = c.udp_client(a, "10.71.0.2", 7, rate=2000000, duration=1.0,
                           size=1500)
        c.generator_start(srv)
        c.generator_start(cli)
        wait_gen_state(c, cli, timeout=20)
        # Where a packet of this flow can be lost: queued for ARP resolution
        # past the queue's length (arp. before the neighbour table, neigh.
        # after), or refused by a full TX buffer (either way).
        queue_full = ("arp.drop_queue_full", "neigh.drop_queue_full")
        lost_to = queue_full + ("eth.drop_tx_full",)

        def accounted():
            s, st = c.generator_stats(cli), c.stats()
            named = sum(st["drops"].get(k, 0) for k in lost_to)
            return (s, st) if s["lost"] == named else None
        # echoes still in flight settle within milliseconds
        s, st = wait_for(accounted, timeout=5) or (c.generator_stats(cli), c.stats())
        drops = st["drops"]
        assert s["tx_pkts"] > 0 and s["rx_echoes"] > 0, s
        # what did not come back is exactly its named drops, no more
        assert s["lost"] == sum(drops.get(k, 0) for k in lost_to), (s, drops)
        # every send failure is exactly one empty-pool count, and the
        # stack met an empty pool nowhere else
        assert s["tx_fail"] == drops["mbuf.drop_alloc_fail"], (s, drops)
        # nothing else was dropped but the announcements each interface
        # heard from the other (not for it)
        other = {k: v for k, v in drops.items() if v and k not in lost_to and
                 k not in ("mbuf.drop_alloc_fail", "arp.drop_not_for_us")}
        assert not other, drops
        assert drops["arp.drop_not_for_us"] <= st["protocols"]["arp"]["tx_gratuitous"], st
        sv = c.generator_stats(srv)
        assert sv["rx_pkts"] == sv["tx_pkts"] + sv["tx_fail"], sv
        ok, lc = worker_buffers_empty(c)
        assert ok, lc
        assert c.version()["api"] == "2.0"
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()
