#!/usr/bin/python3
"""Channel calls one stats.get costs: starts ternd (--ring-pair, two
workers sharing CPU 1), creates N interfaces, and reads the workers' `msgs`
counters (messages each worker ran) over consecutive stats.get calls on an
otherwise idle daemon (the periodic publication is turned off), and the
mean time of a stats.get.

    bench/stats_calls.py [BUILD_DIR] [N ...]      (default: build 1 4 16)
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "api", "python"))
from tern import Client  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(build, nifaces):
    api = "tcp://127.0.0.1:%d" % free_port()
    ev = "tcp://127.0.0.1:%d" % free_port()
    log = tempfile.TemporaryFile()
    p = subprocess.Popen([os.path.join(build, "ternd"), "--lcores", "0@0,1@1,2@1",
                          "--no-huge", "--no-shconf", "--no-pci", "-m", "512", "--",
                          "--ring-pair", "--idle-sleep-us", "20", "--stats-interval-ms", "0",
                          "--api", api, "--events", ev], stdout=log, stderr=log)
    try:
        c = Client(api, timeout=10)
        end = time.monotonic() + 30
        while True:
            try:
                c.version()
                break
            except Exception:
                if time.monotonic() > end or p.poll() is not None:
                    raise
        port0 = [x["port"] for x in c.ports() if "ring0" in x["name"]][0]
        for i in range(nifaces):
            c.interface_create(port0, "10.%d.0.1/24" % (i + 1))

        def msgs():
            return sum(w["msgs"] for w in c.stats()["lcores"])
        a = msgs()
        b = msgs()
        n = len(c.stats()["lcores"])
        t0 = time.monotonic()
        for _ in range(50):
            c.stats()
        ms = (time.monotonic() - t0) / 50 * 1e3
        c.shutdown()
        p.wait(30)
        return n, b - a, ms
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    counts = [int(x) for x in sys.argv[2:]] or [1, 4, 16]
    for n in counts:
        workers, calls, ms = run(build, n)
        print("workers %d  interfaces %2d  channel calls per stats.get %2d"
              "  stats.get %.2f ms (mean of 50)" % (workers, n, calls, ms))


if __name__ == "__main__":
    main()
