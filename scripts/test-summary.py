#!/usr/bin/python3
"""Reads the JUnit XML reports of every suite (GoogleTest and pytest write
the same shape) and prints per-suite counts, then, as the last line,
`N passed, N failed, N skipped` over all suites. Exit 1 if anything failed,
or a suite left no report, or exited non-zero (a crash or a sanitizer
report at exit after the XML was written).

usage: test-summary.py REPORT_DIR SUITE...   (reads SUITE.xml and SUITE.rc)
"""
import os
import sys
import xml.etree.ElementTree as ET

# pytest exits 5 when it collected no test: not a failure by itself.
OK_RC = {"integration": (0, 5), "packetdrill": (0, 77)}


def count(path):
    passed = failed = skipped = 0
    failures = []
    root = ET.parse(path).getroot()
    for tc in root.iter("testcase"):
        tags = {child.tag for child in tc}
        name = "%s.%s" % (tc.get("classname", ""), tc.get("name", ""))
        if "failure" in tags or "error" in tags:
            failed += 1
            failures.append(name)
        elif "skipped" in tags or tc.get("status") == "notrun" \
                or tc.get("result") in ("skipped", "suppressed"):
            skipped += 1
        else:
            passed += 1
    # pytest records collection errors on <testsuite errors=N> with no testcase
    for ts in root.iter("testsuite"):
        if not list(ts.iter("testcase")) and int(ts.get("errors", 0) or 0):
            failed += int(ts.get("errors"))
            failures.append("%s: collection errors" % ts.get("name"))
    return passed, failed, skipped, failures


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    rdir, suites = argv[1], argv[2:]
    tp = tf = ts = 0
    print("")
    print("test summary")
    for s in suites:
        xml = os.path.join(rdir, s + ".xml")
        rcf = os.path.join(rdir, s + ".rc")
        rc = None
        if os.path.exists(rcf):
            try:
                rc = int(open(rcf).read().strip())
            except ValueError:
                rc = None
        note = ""
        if not os.path.exists(xml):
            p, f, k, fl = 0, 1, 0, []
            note = "did not run" if rc is None else "no report (exit %s)" % rc
        else:
            try:
                p, f, k, fl = count(xml)
            except ET.ParseError as e:
                p, f, k, fl = 0, 1, 0, []
                note = "unreadable report: %s" % e
            if rc is not None and rc not in OK_RC.get(s, (0,)) and f == 0:
                f += 1
                note = "exited %d after its tests (crash, timeout or sanitizer)" % rc
        tp, tf, ts = tp + p, tf + f, ts + k
        print("  suite %-12s passed=%d failed=%d skipped=%d%s" % (
            s, p, f, k, ("  [" + note + "]") if note else ""))
        for name in fl[:20]:
            print("    FAILED %s" % name)
    print("%d passed, %d failed, %d skipped" % (tp, tf, ts))
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
