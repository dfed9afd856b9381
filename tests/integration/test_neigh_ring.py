"""Neighbours across lcores on a port whose replies all land on queue 0
(the steered ring pair in queue0 mode), with short neighbour timers so the
entries go REACHABLE -> STALE -> DELAY -> PROBE many times in a run: every
worker's entries must stay usable, because the confirmation of worker 1's
unicast probes (which worker 0 receives) reaches worker 1. Before that,
worker 1's probes went unanswered, its entries failed and its traffic
queued and dropped while re-resolving."""
import pytest

from conftest import Ternd, wait_for, wait_gen_state


def test_worker1_entries_survive_probes_answered_on_worker0(tmp_path, ctx_cleanup):
    d = Ternd(str(tmp_path), eal=["--lcores", "0@0,1@1,2@1"],
              opts=["--ring-pair", "--ring-pair-rss", "queue0",
                    "--neigh-reachable-ms", "200", "--neigh-delay-ms", "200"],
              name="ternd-neigh-q0")
    d.wait_ready()
    try:
        c = d.client
        assert c.version()["workers"] == 2
        ports = c.ports()
        p0 = [p["port"] for p in ports if "ring0" in p["name"]][0]
        p1 = [p["port"] for p in ports if "ring1" in p["name"]][0]
        a = c.interface_create(p0, "10.71.0.1/24")["ifindex"]
        b = c.interface_create(p1, "10.71.0.2/24")["ifindex"]
        srv = c.udp_server(b, 7, echo=True)
        ctx_cleanup.append((c, srv))
        # 6 s at 2000 datagrams/s, split over both workers' clients
        cli = c.udp_client(a, "10.71.0.2", 7, count=12000, rate=2000, size=100)
        ctx_cleanup.append((c, cli))
        c.generator_start(srv)
        c.generator_start(cli)
        wait_gen_state(c, cli, timeout=30)
        s = wait_for(lambda: (lambda x: x if x["rx_echoes"] == x["tx_pkts"] else None)(
            c.generator_stats(cli)), timeout=5) or c.generator_stats(cli)
        assert s["tx_pkts"] == 12000 and s["tx_fail"] == 0, s
        assert s["rx_echoes"] == 12000, s
        per = {w["worker"]: w for w in s["workers"]}
        assert per[1]["tx_pkts"] > 0 and per[1]["rx_echoes"] == per[1]["tx_pkts"], per
        st = c.stats()
        neigh, arp = st["protocols"]["neigh"], st["protocols"]["arp"]
        # every ARP frame reached worker 0; worker 1 still lost nothing
        lc = {w["worker"]: w for w in st["lcores"]}
        assert lc[0]["neigh_shared"] > 0, lc
        assert neigh["failed"] == 0, neigh
        assert neigh["drop_unresolved"] == 0 and neigh["drop_queue_full"] == 0, neigh
        # the entries were re-probed many times meanwhile (200+200 ms cycles)
        assert arp["tx_requests"] >= 10, arp
        assert neigh["confirmed"] >= 10, neigh
        # and worker 1 still holds a usable entry for the server
        n1 = c.neighbours(worker=1)
        e = [x for x in n1["neighbours"] if x["address"] == "10.71.0.2"]
        assert e and e[0]["state"] != "incomplete", n1
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()
