"""ternctl, the CLI, against ternd --ring-pair (no root)."""
import json
import subprocess

from conftest import TERNCTL, free_port, run_ternctl, wait_for


def j(ring, *args):
    return json.loads(ring.ternctl("--json", *args).stdout)


def test_version_and_ports(ring):
    assert j(ring, "version")["api"] == "2.0"
    out = ring.ternctl("version").stdout
    assert "tern 0.1.0" in out and "DPDK" in out
    ports = j(ring, "port", "list")
    assert {ring.port0, ring.port1} <= {p["port"] for p in ports}
    out = ring.ternctl("port", "list").stdout
    assert out.splitlines()[0].startswith("PORT") and "ring0" in out


def test_interfaces_generators_capture(ring, tmp_path):
    a = j(ring, "interface", "create", "--port", ring.port0, "--address", "10.70.0.1/24",
          "--name", "cli-a")
    b = j(ring, "interface", "create", "--port", ring.port1, "--address", "10.70.0.2/24",
          "--mac", "02:00:00:00:70:02", "--gateway", "10.70.0.1", "--mtu", 1500)
    assert a["name"] == "cli-a" and b["mac"].lower() == "02:00:00:00:70:02"
    lst = j(ring, "interface", "list")
    assert {a["ifindex"], b["ifindex"]} <= {i["ifindex"] for i in lst}
    assert "10.70.0.2/24" in ring.ternctl("interface", "list").stdout

    srv = j(ring, "generator", "create", "udp", "--interface", b["ifindex"],
            "--role", "server", "--port", 5000, "--echo")["id"]
    cli = j(ring, "generator", "create", "udp", "--interface", a["ifindex"],
            "--dst", "10.70.0.2", "--dport", 5000, "--sport", 5001, "--size", 100,
            "--rate", 5000, "--count", 500)["id"]
    gl = {g["id"]: g for g in j(ring, "generator", "list")}
    assert gl[srv]["role"] == "server" and gl[cli]["config"]["size"] == 100
    assert "server" in ring.ternctl("generator", "list").stdout

    cap = str(tmp_path / "cli.pcapng")
    assert j(ring, "capture", "start", cap, "--port", ring.port0, "--snaplen", 96)["path"] == cap
    ring.ternctl("generator", "start", srv)
    ring.ternctl("generator", "start", cli)
    r = ring.ternctl("generator", "stats", cli, "--watch", "--interval", "0.3", timeout=30)
    assert "done" in r.stdout, r.stdout
    # the last echoes may still be on their way back
    s = wait_for(lambda: (lambda x: x if x["rx_echoes"] >= 500 else None)(
        j(ring, "generator", "stats", cli)), timeout=5) or j(ring, "generator", "stats", cli)
    assert s["tx_pkts"] == 500 and s["rx_echoes"] == 500 and s["lost"] == 0, s
    assert "rtt_us" in ring.ternctl("generator", "stats", cli).stdout
    stop = j(ring, "capture", "stop")
    # 500 datagrams and 500 echoes on port0 (and the ARP exchange), all
    # written, none missed
    assert stop["path"] == cap and stop["written"] >= 1000, stop
    assert stop["missed"] == 0, stop

    st = j(ring, "stats")
    assert "protocols" in st
    out = ring.ternctl("stats").stdout
    assert "ports:" in out and "drops:" in out
    r = ring.ternctl("--json", "stats", "--watch", "--interval", "0.2", "--count", 2)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert len(lines) == 2 and "ports" in lines[0]

    ring.ternctl("generator", "stop", srv)
    assert j(ring, "generator", "stats", srv)["state"] == "stopped"
    for g in (cli, srv):
        ring.ternctl("generator", "delete", g)
    for i in (a, b):
        ring.ternctl("interface", "delete", i["ifindex"])
    assert a["ifindex"] not in {i["ifindex"] for i in j(ring, "interface", "list")}


def test_events_command(ring):
    """`events --stats --count 3`: the first line (the once-a-second
    stats) shows the subscription is live (PUB/SUB drops what comes before
    it), then an interface is created; its event is among the next two
    lines whichever of them the next stats takes, and the command exits
    after the third."""
    p = subprocess.Popen(["/bin/sh", TERNCTL, "--api", ring.api, "--events", ring.events, "--json",
                          "events", "--stats", "--count", "3", "--wait", "10"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    i = None
    try:
        first = json.loads(p.stdout.readline())
        i = j(ring, "interface", "create", "--port", ring.port0, "--address", "10.71.0.1/24")
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if i is not None:
            ring.ternctl("interface", "delete", i["ifindex"])
    assert p.returncode == 0, err
    assert first["topic"] in ("stats", "event"), first
    lines = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert len(lines) == 2, out
    evs = [x["data"] for x in lines if x["topic"] == "event"]
    assert [e["type"] for e in evs] == ["interface.created"], lines
    assert evs[0]["ifindex"] == i["ifindex"], evs


def test_errors(ring):
    r = ring.ternctl("interface", "delete", 9999, check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("ternctl: error -32000: "), r.stderr
    r = ring.ternctl("interface", "create", "--port", ring.port0, "--address", "bogus", check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("ternctl: error -32602: ") and "address" in r.stderr, r.stderr
    ep = "tcp://127.0.0.1:%d" % free_port()
    r = run_ternctl(ep, ep, "--timeout", "0.5", "version", check=False)
    assert r.returncode == 1
    assert "no answer from ternd at %s" % ep in r.stderr, r.stderr
