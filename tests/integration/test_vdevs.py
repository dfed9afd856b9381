"""ternd on the other virtual devices users test with in CI (no root):
net_null (pure cost) and net_pcap (what tern sends lands in a pcap file
that tcpdump reads)."""
import os
import shutil
import subprocess
import pytest

from conftest import Ternd, wait_for, wait_gen_state


def test_net_pcap_tx_and_net_null(tmp_path):
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed (scripts/install-deps.sh adds it)")
    txfile = tmp_path / "tx.pcap"
    rxfile = tmp_path / "empty.pcap"
    # an empty but valid pcap for the RX side (global header only)
    rxfile.write_bytes(bytes.fromhex(
        "d4c3b2a1020004000000000000000000ffff000001000000"))
    d = Ternd(str(tmp_path),
              eal=["--vdev", "net_null0",
                   "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (rxfile, txfile)],
              name="ternd-vdevs")
    d.wait_ready()
    try:
        c = d.client
        ports = {p["driver"]: p for p in c.ports()}
        assert "net_null" in ports and "net_pcap" in ports, ports
        pcap_port = ports["net_pcap"]["port"]
        ifx = c.interface_create(pcap_port, "10.80.0.2/24",
                                 mac="02:00:00:00:80:02")["ifindex"]
        # Nobody answers ARP on a pcap file: the generator's packets wait
        # for resolution and the ARP requests are retried, all on the wire.
        g = c.udp_client(ifx, "10.80.0.9", 9, count=3, rate=100)
        c.generator_start(g)
        # the first request and its first retry (arp_retry_ms later)
        st = wait_for(lambda: (lambda x: x if x["protocols"]["arp"]["tx_requests"] >= 2
                               else None)(c.stats()), timeout=10) or c.stats()
        proto = st["protocols"]
        assert proto["arp"]["tx_gratuitous"] >= 1, proto["arp"]
        assert proto["arp"]["tx_requests"] >= 2, proto["arp"]
        # the 3 datagrams wait for resolution: sent by the generator,
        # not dropped while the retries have not run out (the net_null
        # port's RX garbage is dropped too, hence only these counters)
        assert wait_gen_state(c, g, timeout=5)["tx_pkts"] == 3
        waiting = [k for k in st["drops"] if k.split(".")[0] in ("arp", "neigh") and
                   k.split(".")[1] in ("drop_unresolved", "drop_queue_full")]
        assert waiting and all(st["drops"][k] == 0 for k in waiting), st["drops"]
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()
    r = subprocess.run(["tcpdump", "-nn", "-e", "-r", str(txfile)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # the announcement of our address, then requests for the destination
    assert any("02:00:00:00:80:02" in l and "Request who-has 10.80.0.2 tell 10.80.0.2" in l
               for l in lines), r.stdout
    asks = [l for l in lines if "Request who-has 10.80.0.9 tell 10.80.0.2" in l]
    assert len(asks) >= 2, r.stdout
