"""Connections stay on their lcore (DESIGN rule 8), on the steered ring
pair: two workers (sharing CPU 1 on this 2-core machine), `udp` client
generators on ring0, echo servers on ring1.

- toeplitz: ring0/ring1 spread frames over their queues by the Toeplitz
  hash like a NIC; each worker's client picks a source port whose echoes
  hash back to its own queue, so every echo returns with zero hand-overs.
- queue0: everything lands on queue 0; worker 1's echoes reach worker 0,
  which hands them over, and every flow still completes.
- direct (net_ring's own q->q) hides both: the control case.
No root needed."""
import pytest

from conftest import Ternd, wait_for, wait_gen_state

LCORES = ["--lcores", "0@0,1@1,2@1"]
COUNT = 2000


def start(tmp_path, mode, name):
    d = Ternd(str(tmp_path), eal=LCORES,
              opts=["--ring-pair", "--ring-pair-rss", mode], name=name)
    d.wait_ready()
    return d


def setup_pair(c, net):
    ports = c.ports()
    p0 = [p for p in ports if "ring0" in p["name"]][0]
    p1 = [p for p in ports if "ring1" in p["name"]][0]
    a = c.interface_create(p0["port"], "%s.1/24" % net)["ifindex"]
    b = c.interface_create(p1["port"], "%s.2/24" % net)["ifindex"]
    return p0, p1, a, b


def run_echo(c, a, b, net, server_ports):
    """One client per server port (each split over both workers); waits
    until every client got all its echoes back (or the time is up)."""
    clis = []
    for sp in server_ports:
        srv = c.udp_server(b, sp, echo=True)
        c.generator_start(srv)
    for sp in server_ports:
        cli = c.udp_client(a, "%s.2" % net, sp, count=COUNT, rate=10000)
        c.generator_start(cli)
        clis.append(cli)
    for cli in clis:
        wait_gen_state(c, cli, timeout=30)
    for cli in clis:
        wait_for(lambda: c.generator_stats(cli)["rx_echoes"] >= COUNT, timeout=10)
    return [c.generator_stats(cli) for cli in clis]


def lcores_when(c, pred, timeout=5):
    """stats()['lcores'] once pred holds for it (counters settle after the
    last echo), or the last reading."""
    lc = wait_for(lambda: (lambda x: x if pred(x) else None)(c.stats()["lcores"]),
                  timeout=timeout)
    return lc or c.stats()["lcores"]


def test_toeplitz_replies_come_back_to_their_lcore(tmp_path):
    d = start(tmp_path, "toeplitz", "ternd-toeplitz")
    try:
        c = d.client
        assert c.version()["workers"] == 2
        p0, p1, a, b = setup_pair(c, "10.81.0")
        # the pair reports RSS like a NIC: the stacks steer by its RETA
        for p in (p0, p1):
            assert p["queues"] == 2 and p["rss"] is True, p
            assert p["reta_size"] == 128, p
        stats = run_echo(c, a, b, "10.81.0", [7, 9])
        tuples = set()
        for s in stats:
            assert s["tx_pkts"] == COUNT and s["rx_echoes"] == COUNT, s
            assert s["lost"] == 0 and s["tx_fail"] == 0, s
            ws = s["workers"]
            assert [w["worker"] for w in ws] == [0, 1], ws
            for w in ws:
                # each worker's client echoes came back to that worker
                assert w["rx_echoes"] == w["tx_pkts"] == COUNT // 2, ws
                tuples.add((s["id"], w["local_port"]))
            # and from its own part of the ephemeral range
            assert 49152 <= ws[0]["local_port"] <= 57343, ws
            assert 57344 <= ws[1]["local_port"] <= 65535, ws
        assert len(tuples) == 4, tuples
        lc = c.stats()["lcores"]
        assert len(lc) == 2, lc
        # zero hand-overs, nothing dropped, and both workers carried traffic
        assert all(w["handover_out"] == 0 and w["handover_in"] == 0 for w in lc), lc
        assert all(w["handover_drop"] == 0 and w["pair_steer_drop"] == 0 for w in lc), lc
        assert all(w["rx_pkts"] >= COUNT and w["tx_pkts"] >= COUNT for w in lc), lc
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()


def test_queue0_every_flow_completes_through_handover(tmp_path):
    d = start(tmp_path, "queue0", "ternd-queue0")
    try:
        c = d.client
        p0, p1, a, b = setup_pair(c, "10.82.0")
        # a multi-queue port that does not spread: no RSS to steer by
        assert p0["queues"] == 2 and p0["rss"] is False and p0["reta_size"] == 0
        stats = run_echo(c, a, b, "10.82.0", [7, 9])
        w1_echoes = 0
        for s in stats:
            assert s["tx_pkts"] == COUNT and s["rx_echoes"] == COUNT, s
            assert s["lost"] == 0, s
            ws = s["workers"]
            for w in ws:
                assert w["rx_echoes"] == w["tx_pkts"] == COUNT // 2, ws
            assert ws[0]["local_port"] != ws[1]["local_port"], ws
            w1_echoes += ws[1]["rx_echoes"]
        # Everything landed on worker 0; exactly the echoes of worker 1's
        # clients belonged to worker 1 and went over, none was lost.
        lc = lcores_when(c, lambda l: l[1]["handover_in"] >= w1_echoes)
        assert lc[0]["handover_out"] == w1_echoes == 2 * (COUNT // 2), lc
        assert lc[1]["handover_in"] == w1_echoes, lc
        assert lc[1]["handover_out"] == 0 and lc[0]["handover_in"] == 0, lc
        assert all(w["handover_drop"] == 0 and w["pair_steer_drop"] == 0 for w in lc), lc
        # worker 1 never received a frame from a port itself
        assert lc[1]["rx_pkts"] == 0 and lc[0]["rx_pkts"] > 0, lc
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()


def test_direct_pair_keeps_queue_to_queue(tmp_path):
    """The default: net_ring's q->q delivery, no RSS reported, and each
    worker still sends from its own port, so nothing needs handing over."""
    d = Ternd(str(tmp_path), eal=LCORES, opts=["--ring-pair"], name="ternd-direct")
    d.wait_ready()
    try:
        c = d.client
        p0, p1, a, b = setup_pair(c, "10.83.0")
        assert p0["rss"] is False and p0["reta_size"] == 0, p0
        (s,) = run_echo(c, a, b, "10.83.0", [7])
        assert s["rx_echoes"] == COUNT, s
        ws = s["workers"]
        assert ws[0]["local_port"] != ws[1]["local_port"], ws
        lc = c.stats()["lcores"]
        assert all(w["handover_out"] == 0 and w["handover_in"] == 0 for w in lc), lc
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()


@pytest.mark.parametrize("args,needle", [
    (["--ring-pair-rss", "nic"], "--ring-pair-rss"),
    (["--ephemeral-ports", "60000-50000"], "--ephemeral-ports"),
    (["--ephemeral-ports", "0-10"], "--ephemeral-ports"),
])
def test_bad_steering_options(tmp_path, args, needle):
    d = Ternd(str(tmp_path), opts=["--ring-pair"] + args, name="ternd-badopt")
    try:
        rc = d.proc.wait(30)
        assert rc == 2, d.log()
        assert needle in d.stderr(), d.stderr()
    finally:
        d.kill()


def test_ephemeral_ports_option(tmp_path):
    """--ephemeral-ports narrows the range the workers split."""
    d = Ternd(str(tmp_path), eal=LCORES,
              opts=["--ring-pair", "--ephemeral-ports", "40000-40099"],
              name="ternd-eph")
    d.wait_ready()
    try:
        c = d.client
        p0, p1, a, b = setup_pair(c, "10.84.0")
        (s,) = run_echo(c, a, b, "10.84.0", [7])
        ws = s["workers"]
        assert 40000 <= ws[0]["local_port"] <= 40049, ws
        assert 40050 <= ws[1]["local_port"] <= 40099, ws
        assert s["rx_echoes"] == COUNT, s
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()
