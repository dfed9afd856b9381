"""ternd --timer-tick-us: bad values are refused before EAL starts; with a
very fine and a very coarse tick, the timer-driven path (neighbour
resolution retries, then the drop of what waited) still runs, and echoes
still carry RTTs (stamped with fresh clock readings). No root needed."""
import subprocess

import pytest

from conftest import TERND, Ternd, wait_for, wait_gen_state


@pytest.mark.parametrize("value", ["abc", "-1", "1000001", ""])
def test_bad_tick_is_refused(value):
    r = subprocess.run([TERND, "--", "--timer-tick-us", value],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "--timer-tick-us" in r.stderr, r.stderr


def test_help_names_the_option():
    r = subprocess.run([TERND, "--", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0
    assert "--timer-tick-us" in r.stdout


@pytest.mark.parametrize("tick_us", ["1", "1000000"])
def test_timers_run_at_any_tick(tmp_path, tick_us):
    d = Ternd(str(tmp_path), opts=["--ring-pair", "--timer-tick-us", tick_us],
              name="ternd-tick%s" % tick_us)
    d.wait_ready()
    try:
        c = d.client
        ports = c.ports()
        p0 = [p["port"] for p in ports if "ring0" in p["name"]][0]
        p1 = [p["port"] for p in ports if "ring1" in p["name"]][0]
        a = c.interface_create(p0, "10.72.0.1/24")["ifindex"]
        b = c.interface_create(p1, "10.72.0.2/24")["ifindex"]
        # Echo: resolution, then RTTs from fresh clock readings.
        srv = c.udp_server(b, 7, echo=True)
        cli = c.udp_client(a, "10.72.0.2", 7, rate=1000, count=200)
        c.generator_start(srv)
        c.generator_start(cli)
        wait_gen_state(c, cli, timeout=20)
        s = wait_for(lambda: (lambda st: st if st["rx_echoes"] == 200 else None)(
            c.generator_stats(cli)), timeout=10)
        assert s, c.generator_stats(cli)
        rtt = s["rtt_us"]
        assert rtt and 0 < rtt["min"] <= rtt["avg"] <= rtt["max"], s
        # Nobody has 10.72.0.99: the retries and the final drop are timer
        # work; the datagrams that waited end up as drops.
        before = c.stats()["drops_total"]
        lost = c.udp_client(a, "10.72.0.99", 9, rate=100, count=5)
        c.generator_start(lost)
        wait_gen_state(c, lost, timeout=20)
        st = wait_for(lambda: (lambda v: v if v["drops_total"] >= before + 5
                               else None)(c.stats()), timeout=20)
        assert st, c.stats()
        assert d.shutdown() == 0
    finally:
        d.kill()
    d.check_clean_exit()
