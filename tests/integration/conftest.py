"""Fixtures for the integration suite: a real build/ternd, driven over its
ZeroMQ API, with Linux as the peer over net_tap in a network namespace
(root only) or two net_ring ports wired back to back (no root)."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TERN_BUILD", os.path.join(ROOT, "build"))
TERND = os.path.join(BUILD, "ternd")
TERNCTL = os.path.join(BUILD, "ternctl")
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.join(ROOT, "api", "python"))

from tern import Client, Subscriber, TernError  # noqa: E402

EAL = ["-l", "0-1", "--no-huge", "--no-shconf", "--no-pci", "-m", "512"]
LEAK_RE = re.compile(r"leak|not full", re.I)
NS_ADDR = "10.99.0.1"
TERN_ADDR = "10.99.0.2"


def is_root():
    return os.geteuid() == 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=5.0, interval=0.05):
    """Polls pred() until it returns something true; returns it (or the
    last false value after `timeout`)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(interval)


def live_subscriber(endpoint, topics=("event",), timeout=10.0):
    """A Subscriber to `topics` (plus "stats") whose subscription is known
    to have reached ternd. ZeroMQ's PUB drops what it publishes before a
    SUB's subscription arrives (the slow joiner), and no fixed sleep
    guarantees that it has; a message received does. ternd publishes
    stats every --stats-interval-ms (1000 by default), so this waits for
    the first message of any of the topics (kept as sub.first, a
    (topic, msg) pair). Callers filter by topic: stats keep coming."""
    want = tuple(topics)
    sub = Subscriber(endpoint, topics=want + (() if "stats" in want else ("stats",)),
                     timeout=5)
    try:
        sub.first = sub.recv(timeout=timeout)
    except BaseException:
        sub.close()
        raise
    return sub


def recv_until(sub, pred, timeout=5.0, topic="event"):
    """Reads messages of `topic` until pred(msg) holds; returns every
    message of that topic read, in order (the last satisfies pred), or
    what was read when `timeout` ran out."""
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            t, msg = sub.recv(timeout=max(0.01, end - time.monotonic()))
        except TimeoutError:
            break
        if t != topic:
            continue
        seen.append(msg)
        if pred(msg):
            break
    return seen


def gen_when(client, gid, pred, timeout=5.0):
    """The generator's stats once pred(stats) holds (the last read when
    `timeout` ran out: the caller's exact asserts then show why)."""
    last = [None]

    def check():
        last[0] = client.generator_stats(gid)
        return last[0] if pred(last[0]) else None
    return wait_for(check, timeout=timeout) or last[0]


class Ternd:
    """One ternd process with its own API/events endpoints and log files."""

    def __init__(self, tmpdir, eal=(), opts=(), name="ternd"):
        if not os.access(TERND, os.X_OK):
            pytest.fail("%s is missing: the build failed (run make build)" % TERND)
        self.api = "tcp://127.0.0.1:%d" % free_port()
        self.events = "tcp://127.0.0.1:%d" % free_port()
        self.out_path = os.path.join(tmpdir, name + ".stdout")
        self.err_path = os.path.join(tmpdir, name + ".stderr")
        base = list(EAL)
        if "--lcores" in eal:           # EAL refuses -l together with --lcores
            i = base.index("-l")
            del base[i:i + 2]
        self.argv = ([TERND] + base + list(eal) + ["--"] + list(opts) +
                     ["--idle-sleep-us", "20", "--api", self.api,
                      "--events", self.events])
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL)
        self.client = None
        self.rc = None
        self.started = time.monotonic()

    def log(self):
        text = ""
        for p in (self.out_path, self.err_path):
            try:
                with open(p, "rb") as f:
                    text += f.read().decode(errors="replace")
            except OSError:
                pass
        return text

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_ready(self, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "ternd: ready" in self.log():
                self.client = Client(self.api, timeout=10.0)
                return
            if self.proc.poll() is not None:
                pytest.fail("ternd exited with %s before it was ready:\n%s\n%s"
                            % (self.proc.returncode, " ".join(self.argv),
                               self.log()[-4000:]))
            time.sleep(0.05)
        self.kill()
        pytest.fail("ternd not ready after %gs:\n%s" % (timeout, self.log()[-4000:]))

    def alive(self):
        return self.proc.poll() is None

    def shutdown(self, timeout=30.0):
        """system.shutdown, then waits for the exit; returns the exit code."""
        try:
            if self.alive():
                self.client.shutdown()
        finally:
            try:
                self.rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("ternd did not exit within %gs after "
                                     "system.shutdown:\n%s" % (timeout, self.log()[-3000:]))
            finally:
                self.close()
        return self.rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.close()

    def close(self):
        if self.client:
            self.client.close()
        self._out.close()
        self._err.close()

    def check_clean_exit(self):
        assert self.rc == 0, "ternd exited %s:\n%s" % (self.rc, self.log()[-3000:])
        leaks = [l for l in self.log().splitlines() if LEAK_RE.search(l)]
        assert not leaks, "ternd reported leaks at teardown:\n" + "\n".join(leaks)


def port_by(client, pred):
    for p in client.ports():
        if pred(p):
            return p
    return None


# -- the net_ring pair (no root) ------------------------------------------------

class RingEnv:
    def __init__(self, d):
        self.d = d
        self.client = d.client
        self.api, self.events = d.api, d.events
        ports = d.client.ports()
        self.ports = ports
        p0 = [p for p in ports if "ring0" in p["name"]]
        p1 = [p for p in ports if "ring1" in p["name"]]
        assert p0 and p1, "--ring-pair should give ports ring0 and ring1: %r" % ports
        self.port0, self.port1 = p0[0]["port"], p1[0]["port"]

    def ternctl(self, *args, timeout=30, check=True):
        return run_ternctl(self.api, self.events, *args, timeout=timeout, check=check)


def run_ternctl(api, events, *args, timeout=30, check=True):
    # build/ternctl is a sh script; run it through sh in case it lost its x bit
    argv = ["/bin/sh", TERNCTL, "--api", api, "--events", events] + [str(a) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s"
                             % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """ternd with --ring-pair: ports ring0 <-> ring1, cross-connected."""
    tmp = str(tmp_path_factory.mktemp("ring"))
    d = Ternd(tmp, opts=["--ring-pair"], name="ternd-ring")
    d.wait_ready()
    try:
        yield RingEnv(d)
    except BaseException:
        d.kill()
        raise
    d.shutdown()
    d.check_clean_exit()


# -- net_tap in a network namespace (root) ------------------------------------------

def sh(*argv, check=True, timeout=60, **kw):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, argv)), r.returncode, r.stdout, r.stderr))
    return r


class TapEnv:
    """ternd on a net_tap port whose kernel side lives in namespace `ns`
    (10.99.0.1/24); tern's interface `ifindex` holds 10.99.0.2/24."""

    def __init__(self, d, ns, tap):
        self.d, self.ns, self.tap = d, ns, tap
        self.client = d.client
        self.api, self.events = d.api, d.events
        self.ns_addr, self.tern_addr = NS_ADDR, TERN_ADDR

    def ns_run(self, *argv, check=True, timeout=60, **kw):
        return sh("ip", "netns", "exec", self.ns, *argv, check=check,
                  timeout=timeout, **kw)

    def ns_popen(self, *argv, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns] + [str(a) for a in argv],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, **kw)

    def ternctl(self, *args, timeout=30, check=True):
        return run_ternctl(self.api, self.events, *args, timeout=timeout, check=check)


@pytest.fixture(scope="session")
def tap(tmp_path_factory):
    if not is_root():
        pytest.skip("needs root: creates a network namespace and a net_tap "
                    "interface (run as root, as CI does)")
    tag = "%d" % (os.getpid() % 100000)
    tapname = "ttap" + tag
    ns = "tern-it-" + tag
    tmp = str(tmp_path_factory.mktemp("tap"))
    sh("ip", "netns", "del", ns, check=False)
    d = Ternd(tmp, eal=["--vdev", "net_tap0,iface=%s" % tapname], name="ternd-tap")
    try:
        d.wait_ready()
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", tapname, "netns", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", NS_ADDR + "/24", "dev", tapname)
        sh("ip", "-n", ns, "link", "set", tapname, "up")
        p = port_by(d.client, lambda p: p.get("driver") == "net_tap"
                    or "net_tap" in p.get("name", ""))
        assert p is not None, "no net_tap port in port.list: %r" % d.client.ports()
        r = d.client.interface_create(p["port"], TERN_ADDR + "/24")
        env = TapEnv(d, ns, tapname)
        env.port = p["port"]
        env.ifindex = r["ifindex"]
        env.mac = r["mac"]
    except BaseException:
        d.kill()
        sh("ip", "netns", "del", ns, check=False)
        raise
    try:
        yield env
    except BaseException:
        d.kill()
        raise
    finally:
        try:
            if d.alive():
                d.shutdown()
        finally:
            sh("ip", "netns", "del", ns, check=False)
    d.check_clean_exit()


@pytest.fixture
def ctx_cleanup():
    """Collects generator ids (and a client) to delete after a test."""
    todo = []
    yield todo
    for client, gid in todo:
        try:
            client.generator_delete(gid)
        except Exception:
            pass


def wait_gen_state(client, gid, states=("done", "stopped"), timeout=20.0):
    def check():
        s = client.generator_stats(gid)
        return s if s["state"] in states else None
    s = wait_for(check, timeout=timeout, interval=0.1)
    assert s, "generator %d did not reach %s in %gs: %r" % (
        gid, states, timeout, client.generator_stats(gid))
    return s
