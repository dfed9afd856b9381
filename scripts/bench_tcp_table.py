#!/usr/bin/python3
"""One side-by-side table from scripts/bench_tcp.sh's output.

Reads the figure lines (bench/tcp_base.h: "STACK FIGURE VALUE UNIT
(details)") from the files given or standard input and prints, per figure,
every stack's value (wall clock, and per full CPU where the details give
it) and the ratios of tern's columns to the baselines'.

  scripts/bench_tcp_table.py LOG
"""
import re
import sys

BASES = ["linux", "lwip"]
# tern figures the baselines have no run of their own for, compared with
# the baselines' figure of the same workload: bulk-tso is bulk with TSO
# and LRO declared, what Linux's loopback (MTU 65536, GSO) does anyway
BASE_FIG = {"bulk-tso": "bulk"}
PER_CPU = re.compile(r"\(([0-9.]+) \S+ per full CPU\)")
LINE = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\((.*)\)\s*$")


def order(fig):
    """bulk, cps, cps-rst, rr, then mem/cps/cps-rst by level."""
    head = ["bulk", "cps", "cps-rst", "rr"]
    if fig in head:
        return (0, head.index(fig), 0)
    name, _, n = fig.partition("@")
    kind = {"mem": 0, "cps": 1, "cps-rst": 2}.get(name, 3)
    return (1, int(n) if n.isdigit() else 0, kind)


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "Gbps":
        return "%.1f" % v
    if unit == "B/conn":
        return "%.0f" % v
    return "{:,.0f}".format(v)


def ratio(a, b, unit):
    if a is None or b is None or a <= 0 or b <= 0:
        return "-"
    # memory: less is better; say how many times smaller
    r = b / a if unit == "B/conn" else a / b
    return "%.1fx" % r if r < 100 else "%.0fx" % r


def main():
    figs = {}   # fig -> stack -> (wall, per_cpu, unit, details)
    stacks = []
    text = "".join(open(f).read() for f in sys.argv[1:]) if sys.argv[1:] \
        else sys.stdin.read()
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or line.startswith("#") or line.startswith("command:"):
            continue
        stack, fig, val, unit, det = m.groups()
        try:
            wall = float(val)
        except ValueError:
            wall = None
        pc = PER_CPU.search(det)
        per = float(pc.group(1)) if pc and wall is not None else None
        if unit == "B/conn":
            per = wall
        figs.setdefault(fig, {})[stack] = (wall, per, unit, det)
        if stack not in stacks:
            stacks.append(stack)
    terns = [s for s in stacks if s.startswith("tern")]
    bases = [s for s in BASES if s in stacks]
    head = ["figure", "unit"] + stacks
    for t in terns:
        for b in bases:
            head.append("%s/%s" % (t, b))
    rows = []
    for fig in sorted(figs, key=order):
        per_stack = figs[fig]
        unit = next(iter(per_stack.values()))[2]
        for kind, idx in (("wall", 0), ("per CPU", 1)):
            if kind == "per CPU" and unit == "B/conn":
                continue
            row = [fig if idx == 0 else "", unit if idx == 0 else kind]
            if idx == 0 and unit != "B/conn":
                row[1] = unit + " wall"
            for s in stacks:
                v = per_stack.get(s)
                row.append(fmt(v[idx], unit) if v else "")
            base_fig = figs.get(BASE_FIG.get(fig, fig), {})
            for t in terns:
                for b in bases:
                    tv, bv = per_stack.get(t), base_fig.get(b)
                    row.append(ratio(tv[idx], bv[idx], unit)
                               if tv and bv else "")
            rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [head])
              for i in range(len(head))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths))
              + " |")
    print()
    print("ratios: tern's figure over the baseline's (memory: the baseline's "
          "over tern's, how many times less tern takes; bulk-tso: over the "
          "baseline's bulk); per CPU: rates per CPU-second of the process")


if __name__ == "__main__":
    main()
