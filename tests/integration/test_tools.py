"""The Python client, ternctl's error paths and the test summary, against a
scripted ROUTER socket instead of ternd (no DPDK, no root)."""
import json
import os
import subprocess
import sys
import threading

import pytest
import zmq

from conftest import PY, ROOT, TERNCTL, free_port
from tern import Client, TernError, TernTimeout


class FakeTernd(threading.Thread):
    """Answers each request with handler(request) (None = no answer)."""

    def __init__(self, handler):
        super().__init__(daemon=True)
        self.handler = handler
        self.ep = "tcp://127.0.0.1:%d" % free_port()
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(self.ep)
        self.stop = False
        self.start()

    def run(self):
        while not self.stop:
            if not self.sock.poll(50):
                continue
            frames = self.sock.recv_multipart()
            ident, body = frames[0], frames[-1]
            for reply in self.handler(json.loads(body)) or []:
                self.sock.send_multipart([ident, json.dumps(reply).encode()])

    def close(self):
        self.stop = True
        self.join(2)
        self.sock.close(linger=0)


def test_client_result_error_and_stale_reply():
    seen = []

    def handler(req):
        seen.append(req)
        if req["method"] == "system.version":
            return [{"jsonrpc": "2.0", "id": 0, "result": "stale"},   # an old answer first
                    {"jsonrpc": "2.0", "id": req["id"], "result": {"api": "2.0"}}]
        if req["method"] == "interface.create":
            return [{"jsonrpc": "2.0", "id": req["id"], "error": {
                "code": -32602, "message": "invalid params: mtu: out of range",
                "data": {"field": "mtu", "reason": "out of range"}}}]
        return None                      # no answer: a timeout

    f = FakeTernd(handler)
    try:
        c = Client(f.ep, timeout=0.5)
        assert c.version() == {"api": "2.0"}
        with pytest.raises(TernError) as e:
            c.interface_create(0, "10.0.0.1/24", mtu=10)
        assert e.value.code == -32602 and e.value.field == "mtu"
        # None-valued optional params are not sent
        assert seen[-1]["params"] == {"port": 0, "address": "10.0.0.1/24", "mtu": 10}
        with pytest.raises(TernTimeout):
            c.generators()
        assert c.version() == {"api": "2.0"}    # usable after a timeout
        c.close()
    finally:
        f.close()


def test_ternctl_error_exit_codes():
    def handler(req):
        return [{"jsonrpc": "2.0", "id": req["id"], "error": {
            "code": -32000, "message": "not found: ifindex: no interface 9",
            "data": {"field": "ifindex"}}}]
    f = FakeTernd(handler)
    try:
        r = subprocess.run(["/bin/sh", TERNCTL, "--api", f.ep, "interface", "delete", "9"],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 1
        assert r.stderr.strip() == "ternctl: error -32000: not found: ifindex: no interface 9"
    finally:
        f.close()
    r = subprocess.run(["/bin/sh", TERNCTL, "--api", f.ep, "--timeout", "0.3", "port", "list"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "no answer from ternd at %s" % f.ep in r.stderr


GTEST_XML = """<?xml version="1.0"?><testsuites tests="3" failures="1">
<testsuite name="A" tests="3"><testcase name="ok" status="run" result="completed"/>
<testcase name="bad" status="run" result="completed"><failure message="x"/></testcase>
<testcase name="DISABLED_x" status="notrun" result="suppressed"/></testsuite></testsuites>"""
PYTEST_XML = """<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="2" skipped="1">
<testcase classname="t" name="a"/><testcase classname="t" name="b"><skipped/></testcase>
</testsuite></testsuites>"""


def summary(tmp_path, files, suites):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return subprocess.run([PY, os.path.join(ROOT, "scripts", "test-summary.py"),
                           str(tmp_path)] + suites, capture_output=True, text=True)


def test_summary_counts_and_last_line(tmp_path):
    r = summary(tmp_path, {"unit.xml": GTEST_XML, "unit.rc": "1", "py.xml": PYTEST_XML,
                           "py.rc": "0"}, ["unit", "py"])
    assert r.stdout.splitlines()[-1] == "2 passed, 1 failed, 2 skipped"
    assert r.returncode == 1


def test_summary_missing_report_and_crash_fail(tmp_path):
    r = summary(tmp_path, {"py.xml": PYTEST_XML, "py.rc": "139"}, ["gone", "py"])
    assert r.stdout.splitlines()[-1] == "1 passed, 2 failed, 1 skipped"
    assert "did not run" in r.stdout and "exited 139" in r.stdout
    assert r.returncode == 1
    r = summary(tmp_path, {"py.rc": "0"}, ["py"])
    assert r.stdout.splitlines()[-1] == "1 passed, 0 failed, 1 skipped"
    assert r.returncode == 0
