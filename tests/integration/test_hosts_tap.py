"""Emulated hosts, routes and IPv4 fragments against Linux over net_tap:
ping from every one of 1,000 hosts of one range, `ping -s 4000` and an
8 KB UDP datagram both ways (tern reassembles and fragments), the route
table and the neighbour table over the API. Needs root (the `tap`
fixture)."""
import os
import subprocess

import pytest

from conftest import PY, sh, wait_for, wait_gen_state
from tern import TernError

# Pings every address given (a raw ICMP socket: the kernel resolves each
# address by ARP) and prints the ones that answered, one per line, after
# resending to the silent ones a few times.
PING_SWEEP = r"""
import os, select, socket, struct, sys, time
targets = [l.strip() for l in open(sys.argv[1]) if l.strip()]
ident = os.getpid() & 0xffff
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def echo(seq):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"tern-sweep"
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
answered = set()
for attempt in range(5):
    todo = [t for t in targets if t not in answered]
    if not todo:
        break
    for i, t in enumerate(todo):
        s.sendto(echo(i & 0xffff), (t, 0))
        if i % 50 == 49:
            time.sleep(0.01)   # the kernel's ARP queue per neighbour is short
    end = time.time() + 2.0
    while time.time() < end and len(answered) < len(targets):
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        pkt, (src, _) = s.recvfrom(2048)
        ihl = (pkt[0] & 0xf) * 4
        if pkt[ihl] == 0 and struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0] == ident:
            answered.add(src)
for a in sorted(answered):
    print(a)
"""

# Sends one datagram of n bytes to addr:port and prints the size of the
# answer (an echo), or 0.
UDP_BIG_ECHO = r"""
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((addr, port))
payload = bytes(i % 251 for i in range(n))
for attempt in range(3):
    s.send(payload)
    try:
        got = s.recv(65536)
        print(len(got) if got == payload else -len(got)); break
    except socket.timeout:
        pass
else:
    print(0)
"""


def protos(tap):
    return tap.client.stats()["protocols"]


@pytest.fixture
def range_1000(tap, tmp_path):
    """10.98.1.1 .. +999 on tern's tap interface; Linux at 10.98.255.254/16."""
    tap.ns_run("ip", "addr", "add", "10.98.255.254/16", "dev", tap.tap)
    r = tap.client.interface_address_add(tap.ifindex, "10.98.1.1/16", count=1000)
    yield r
    tap.client.interface_address_delete(tap.ifindex, "10.98.1.1")
    tap.ns_run("ip", "addr", "del", "10.98.255.254/16", "dev", tap.tap, check=False)
    tap.ns_run("ip", "neigh", "flush", "dev", tap.tap, check=False)


def test_ping_every_host_of_a_range(tap, range_1000, tmp_path):
    assert range_1000["count"] == 1000 and range_1000["last"] == "10.98.4.232"
    ifs = {i["ifindex"]: i for i in tap.client.interfaces()}
    assert ifs[tap.ifindex]["hosts"] == 1001
    targets = ["10.98.%d.%d" % divmod(0x0101 + i, 256) for i in range(1000)]
    tf = tmp_path / "targets"
    tf.write_text("\n".join(targets))
    sweep = tmp_path / "sweep.py"
    sweep.write_text(PING_SWEEP)
    before = protos(tap)
    r = tap.ns_run(PY, str(sweep), str(tf), timeout=120)
    answered = set(r.stdout.split())
    missing = sorted(set(targets) - answered)
    assert not missing, "%d hosts did not answer, e.g. %s" % (len(missing), missing[:5])
    after = protos(tap)
    # every host answered its own ARP request and echo
    assert after["arp"]["tx_replies"] - before["arp"]["tx_replies"] >= 1000
    assert after["icmp4"]["tx_echo_replies"] - before["icmp4"]["tx_echo_replies"] >= 1000
    # the kernel learned each host at tern's MAC
    neigh = tap.ns_run("ip", "neigh", "show", "dev", tap.tap).stdout
    learned = [l for l in neigh.splitlines() if l.startswith("10.98.") and tap.mac in l]
    assert len(learned) >= 1000, neigh[:500]


def test_range_with_host_macs_answers_as_distinct_hosts(tap, tmp_path):
    tap.ns_run("ip", "addr", "add", "10.97.255.254/16", "dev", tap.tap)
    try:
        r = tap.client.interface_address_add(tap.ifindex, "10.97.0.1/16", count=20,
                                             host_macs=True)
        assert r["host_macs"] is True
        targets = ["10.97.0.%d" % i for i in range(1, 21)]
        tf = tmp_path / "targets"
        tf.write_text("\n".join(targets))
        sweep = tmp_path / "sweep.py"
        sweep.write_text(PING_SWEEP)
        r = tap.ns_run(PY, str(sweep), str(tf), timeout=60)
        assert set(r.stdout.split()) == set(targets)
        macs = {}
        for l in tap.ns_run("ip", "neigh", "show", "dev", tap.tap).stdout.splitlines():
            f = l.split()
            if f and f[0] in targets and "lladdr" in f:
                macs[f[0]] = f[f.index("lladdr") + 1]
        assert len(set(macs.values())) == 20, macs
        base = int(tap.mac.replace(":", ""), 16)
        for i, t in enumerate(targets):
            assert int(macs[t].replace(":", ""), 16) == base + i, (t, macs[t])
    finally:
        try:
            tap.client.interface_address_delete(tap.ifindex, "10.97.0.1")
        except TernError:
            pass
        tap.ns_run("ip", "addr", "del", "10.97.255.254/16", "dev", tap.tap, check=False)


def test_ping_s_4000_is_reassembled_and_answered_in_fragments(tap):
    before = protos(tap)["ip4"]
    r = tap.ns_run("ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "4000", tap.tern_addr,
                   check=False, timeout=30)
    assert " 0% packet loss" in r.stdout, r.stdout + r.stderr
    after = protos(tap)["ip4"]
    assert after["reassembled"] - before["reassembled"] == 3
    assert after["rx_fragments"] - before["rx_fragments"] == 9    # 3 x 3 fragments
    assert after["tx_fragmented"] - before["tx_fragmented"] == 3
    assert after["tx_fragments"] - before["tx_fragments"] == 9
    for k in ("drop_frag_reasm", "drop_frag_timeout", "drop_frag_bad_len",
              "drop_frag_oversize"):
        assert after[k] == before[k], k


def test_8k_udp_datagram_both_ways(tap, tmp_path, ctx_cleanup):
    c = tap.client
    srv = c.udp_server(tap.ifindex, 7008, echo=True)
    ctx_cleanup.append((c, srv))
    c.generator_start(srv)
    prog = tmp_path / "big.py"
    prog.write_text(UDP_BIG_ECHO)
    before = protos(tap)["ip4"]
    r = tap.ns_run(PY, str(prog), tap.tern_addr, "7008", "8000", timeout=30)
    assert r.stdout.strip() == "8000", r.stdout + r.stderr
    after = protos(tap)["ip4"]
    # Linux -> tern: 6 fragments reassembled; tern -> Linux: fragmented
    assert after["reassembled"] - before["reassembled"] >= 1
    assert after["tx_fragmented"] - before["tx_fragmented"] >= 1
    assert after["tx_fragments"] - before["tx_fragments"] >= 6


UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)
"""


def test_static_route_through_a_gateway(tap, tmp_path, ctx_cleanup):
    """192.0.2.0/24 via the namespace (10.99.0.1), which has 192.0.2.7 on
    lo and echoes UDP there: tern's client only gets its echoes when it
    sends through the gateway."""
    c = tap.client
    tap.ns_run("ip", "addr", "add", "192.0.2.7/32", "dev", "lo")
    prog = tmp_path / "echo.py"
    prog.write_text(UDP_ECHO)
    echo = tap.ns_popen(PY, str(prog), "192.0.2.7", "9009")
    try:
        assert echo.stdout.readline().strip() == "ready"
        with pytest.raises(TernError):
            c.route_add("192.0.2.0/24", gateway="10.200.0.1")   # not on-link
        r = c.route_add("192.0.2.0/24", gateway=tap.ns_addr)
        assert r["ifindex"] == tap.ifindex and r["kind"] == "static"
        assert r["gateway"] == tap.ns_addr
        assert any(x["prefix"] == "192.0.2.0/24" and x["active"] for x in c.routes())
        with pytest.raises(TernError) as ei:
            c.route_add("192.0.2.0/24", gateway=tap.ns_addr)
        assert ei.value.field == "prefix"
        with pytest.raises(TernError) as ei:
            c.route_delete("10.99.0.0/24")      # connected: follows the address
        assert ei.value.field == "prefix"
        cli = c.udp_client(tap.ifindex, "192.0.2.7", 9009, count=50, rate=500, size=100)
        ctx_cleanup.append((c, cli))
        c.generator_start(cli)
        wait_gen_state(c, cli, timeout=10)
        assert wait_for(lambda: c.generator_stats(cli)["rx_echoes"] == 50, timeout=5), \
            c.generator_stats(cli)
        c.route_delete("192.0.2.0/24")
        assert not any(x["prefix"] == "192.0.2.0/24" for x in c.routes())
        with pytest.raises(TernError) as ei:
            c.route_delete("192.0.2.0/24")
        assert ei.value.field == "prefix"
    finally:
        echo.kill()
        echo.wait(5)
        try:
            c.route_delete("192.0.2.0/24")
        except TernError:
            pass
        tap.ns_run("ip", "addr", "del", "192.0.2.7/32", "dev", "lo", check=False)


def test_neighbour_list_and_flush(tap):
    c = tap.client
    tap.ns_run("ping", "-c", "1", "-W", "2", tap.tern_addr, check=False)
    assert wait_for(lambda: c.neighbours(ifindex=tap.ifindex)["count"] >= 1)
    n = c.neighbours(ifindex=tap.ifindex)
    e = [x for x in n["neighbours"] if x["address"] == tap.ns_addr]
    assert e, n
    assert e[0]["state"] in ("reachable", "stale", "delay", "probe")
    assert e[0]["mac"] and e[0]["mac"] != "00:00:00:00:00:00"
    assert c.neighbours(count_only=True)["count"] >= 1
    assert "neighbours" not in c.neighbours(count_only=True)
    with pytest.raises(TernError) as ei:
        c.neighbours(state="bogus")
    assert ei.value.field == "state"
    r = c.neighbour_flush(ifindex=tap.ifindex)
    assert r["flushed"] >= 1
    assert c.neighbours(ifindex=tap.ifindex)["count"] == 0
    # the next ping resolves again
    r = tap.ns_run("ping", "-c", "2", "-W", "2", tap.tern_addr, check=False)
    assert " 0% packet loss" in r.stdout, r.stdout
