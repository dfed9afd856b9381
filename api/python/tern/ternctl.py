"""ternctl: command line for ternd (docs/api.md).

    ternctl [--api EP] [--events EP] [--json] COMMAND ...

Human-readable tables by default; --json prints the raw JSON results.
"""
import argparse
import json
import os
import sys
import time

from .client import (Client, Subscriber, TernError, TernTimeout, DEFAULT_API,
                     DEFAULT_EVENTS)

PROG = "ternctl"


# -- output helpers -----------------------------------------------------------

def table(rows, columns, out=None, indent=""):
    """Prints rows (list of dicts) as an aligned table. columns: list of
    (header, key-or-function)."""
    out = out or sys.stdout
    cells = []
    for r in rows:
        line = []
        for _, k in columns:
            v = k(r) if callable(k) else r.get(k)
            line.append(fmt(v))
        cells.append(line)
    heads = [h for h, _ in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    print(indent + "  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip(), file=out)
    for c in cells:
        print(indent + "  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip(), file=out)


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return "%.2f" % v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def si(v):
    """1234567 -> '1.23M' (rates)."""
    v = float(v)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= div:
            return "%.2f%s" % (v / div, unit)
    return "%.0f" % v


def emit_json(obj):
    print(json.dumps(obj, indent=2, sort_keys=False))
    sys.stdout.flush()


def rtt_text(rtt):
    if not rtt:
        return "-"
    return "%.1f/%.1f/%.1f" % (rtt.get("min", 0), rtt.get("avg", 0), rtt.get("max", 0))


# -- commands -----------------------------------------------------------------

def cmd_version(c, a):
    r = c.version()
    if a.json:
        return emit_json(r)
    print("tern %s (%s), api %s, %s worker(s) on lcore(s) %s" % (
        r.get("version"), r.get("dpdk"), r.get("api"), r.get("workers"),
        ",".join(str(x) for x in r.get("lcores", []))))


def cmd_port_list(c, a):
    r = c.ports()
    if a.json:
        return emit_json(r)

    def offl(p):
        o = p.get("offloads") or {}
        names = [k for k, v in o.items() if k != "tso_max" and v]
        if o.get("tso_max"):
            names.append("tso=%s" % o["tso_max"])
        return ",".join(names) or "none"
    table(r, [("PORT", "port"), ("NAME", "name"), ("DRIVER", "driver"),
              ("MAC", "mac"), ("MTU", "mtu"), ("LINK", lambda p: "up" if p.get("link_up") else "down"),
              ("SPEED", lambda p: "%sM" % p.get("speed_mbps")), ("QUEUES", "queues"),
              ("SOCKET", "socket"), ("OFFLOADS", offl)])


def cmd_iface_create(c, a):
    r = c.interface_create(a.port, a.address, mac=a.mac, gateway=a.gateway,
                           mtu=a.mtu, name=a.name)
    if a.json:
        return emit_json(r)
    print("interface %s (%s) created, mac %s" % (r.get("ifindex"), r.get("name"), r.get("mac")))


def cmd_iface_list(c, a):
    r = c.interfaces()
    if a.json:
        return emit_json(r)
    table(r, [("IFINDEX", "ifindex"), ("NAME", "name"), ("PORT", "port"),
              ("MAC", "mac"), ("ADDRESS", "address"), ("GATEWAY", "gateway"),
              ("MTU", "mtu")])


def cmd_iface_delete(c, a):
    r = c.interface_delete(a.ifindex)
    if a.json:
        return emit_json(r)
    print("interface %d deleted" % a.ifindex)


def print_stats(s):
    print("ports:")
    table(s.get("ports", []), [("PORT", "port"), ("NAME", "name"),
          ("RX PKTS", "ipackets"), ("TX PKTS", "opackets"), ("RX BYTES", "ibytes"),
          ("TX BYTES", "obytes"), ("MISSED", "imissed"), ("IERR", "ierrors"),
          ("OERR", "oerrors"), ("NOMBUF", "rx_nombuf")], indent="  ")
    print("interfaces:")
    table(s.get("interfaces", []), [("IFINDEX", "ifindex"), ("NAME", "name"),
          ("RX PKTS", "rx_pkts"), ("RX BYTES", "rx_bytes"), ("TX PKTS", "tx_pkts"),
          ("TX BYTES", "tx_bytes")], indent="  ")
    print("lcores:")
    table(s.get("lcores", []), [("WORKER", "worker"), ("LCORE", "lcore"),
          ("LOOPS", "loops"), ("BUSY", "busy_loops"), ("RX", "rx_pkts"),
          ("TX", "tx_pkts"), ("TX DROP", "tx_dropped"), ("MSGS", "msgs"),
          ("HO OUT", "handover_out"), ("HO IN", "handover_in"),
          ("HO DROP", "handover_drop")], indent="  ")
    print("protocols:")
    for proto, counters in (s.get("protocols") or {}).items():
        nz = ["%s=%s" % (k, fmt(v)) for k, v in counters.items()
              if not k.startswith("drop_") and v]
        print("  %-6s %s" % (proto, " ".join(nz) or "-"))
    drops = {k: v for k, v in (s.get("drops") or {}).items() if v}
    print("drops: %s total" % fmt(s.get("drops_total", sum(drops.values()))))
    for k in sorted(drops):
        print("  %-28s %s" % (k, fmt(drops[k])))
    cap = s.get("capture")
    if cap:
        print("capture: %s captured=%s written=%s missed=%s" % (
            cap.get("path"), cap.get("captured"), cap.get("written"), cap.get("missed")))


def rates(prev, cur, dt, key_id, keys):
    """Per-second deltas of `keys` for rows matched by `key_id`."""
    old = {r.get(key_id): r for r in prev}
    out = []
    for r in cur:
        p = old.get(r.get(key_id))
        row = {key_id: r.get(key_id), "name": r.get("name")}
        for k in keys:
            row[k] = ((r.get(k, 0) or 0) - (p.get(k, 0) or 0)) / dt if p and dt > 0 else 0.0
        out.append(row)
    return out


def cmd_stats(c, a):
    if not a.watch:
        r = c.stats()
        if a.json:
            return emit_json(r)
        return print_stats(r)
    prev = c.stats()
    tprev = time.monotonic()
    n = 0
    while a.count is None or n < a.count:
        time.sleep(a.interval)
        cur = c.stats()
        now = time.monotonic()
        dt = now - tprev
        pk = ("ipackets", "opackets", "ibytes", "obytes")
        ik = ("rx_pkts", "tx_pkts", "rx_bytes", "tx_bytes")
        prates = rates(prev.get("ports", []), cur.get("ports", []), dt, "port", pk)
        irates = rates(prev.get("interfaces", []), cur.get("interfaces", []), dt, "ifindex", ik)
        ddrop = (cur.get("drops_total", 0) or 0) - (prev.get("drops_total", 0) or 0)
        if a.json:
            print(json.dumps({"interval_s": round(dt, 3), "ports": prates,
                              "interfaces": irates, "drops_per_s": ddrop / dt}))
        else:
            stamp = time.strftime("%H:%M:%S")
            for r in prates:
                print("%s port %s %-10s rx %9s pps %9s bps  tx %9s pps %9s bps" % (
                    stamp, r["port"], r.get("name") or "", si(r["ipackets"]),
                    si(r["ibytes"] * 8), si(r["opackets"]), si(r["obytes"] * 8)))
            for r in irates:
                print("%s if   %s %-10s rx %9s pps %9s bps  tx %9s pps %9s bps" % (
                    stamp, r["ifindex"], r.get("name") or "", si(r["rx_pkts"]),
                    si(r["rx_bytes"] * 8), si(r["tx_pkts"]), si(r["tx_bytes"] * 8)))
            print("%s drops %s/s (total %s)" % (stamp, si(ddrop / dt),
                                                fmt(cur.get("drops_total"))))
        sys.stdout.flush()
        prev, tprev = cur, now
        n += 1


def cmd_capture_start(c, a):
    r = c.capture_start(os.path.abspath(a.path), port=a.port, snaplen=a.snaplen)
    if a.json:
        return emit_json(r)
    print("capturing to %s" % r.get("path"))


def cmd_capture_stop(c, a):
    r = c.capture_stop()
    if a.json:
        return emit_json(r)
    print("capture stopped: %s, %s packets written, %s missed" % (
        r.get("path"), fmt(r.get("written")), fmt(r.get("missed"))))


def cmd_gen_create(c, a):
    role = a.role or ("server" if a.port is not None and a.dst is None else "client")
    p = {"role": role, "interface": a.interface}
    if role == "server":
        if a.port is None:
            raise SystemExit("%s: a server needs --port" % PROG)
        p.update(port=a.port, echo=True if a.echo else None, duration=a.duration)
    else:
        if a.dst is None or a.dport is None:
            raise SystemExit("%s: a client needs --dst and --dport" % PROG)
        p.update(dst=a.dst, dport=a.dport, sport=a.sport, size=a.size,
                 rate=a.rate, duration=a.duration, count=a.count)
    r = c.generator_create(a.kind, **p)
    if a.start:
        c.generator_start(r["id"])
    if a.json:
        return emit_json(r)
    print("generator %s created (%s %s)%s" % (r.get("id"), a.kind, role,
                                             ", started" if a.start else ""))


def make_gen_action(name):
    def run(c, a):
        r = getattr(c, "generator_" + name)(a.id)
        if a.json:
            return emit_json(r)
        print("generator %d %s" % (a.id, {"start": "started", "stop": "stopped",
                                           "delete": "deleted"}[name]))
    return run


def cmd_gen_list(c, a):
    r = c.generators()
    if a.json:
        return emit_json(r)

    def target(g):
        cfg = g.get("config") or {}
        if g.get("role") == "server":
            return ":%s%s" % (cfg.get("port"), " echo" if cfg.get("echo") else "")
        return "%s:%s" % (cfg.get("dst"), cfg.get("dport"))
    table(r, [("ID", "id"), ("KIND", "kind"), ("ROLE", "role"), ("STATE", "state"),
              ("IFACE", "interface"), ("TARGET", target),
              ("RATE", lambda g: (g.get("config") or {}).get("rate")),
              ("SIZE", lambda g: (g.get("config") or {}).get("size"))])


GEN_COLS = [("STATE", "state"), ("TX PKTS", "tx_pkts"), ("RX PKTS", "rx_pkts"),
            ("ECHOES", "rx_echoes"), ("LOST", "lost"), ("TX FAIL", "tx_fail"),
            ("OOO", "rx_out_of_order")]


def print_gen_stats(r):
    print("generator %s: %s" % (r.get("id"), r.get("state")))
    for k in ("tx_pkts", "tx_bytes", "tx_fail", "rx_pkts", "rx_bytes", "rx_echoes",
              "rx_out_of_order", "lost", "elapsed_s", "tx_pps", "rx_pps"):
        if k in r:
            print("  %-16s %s" % (k, fmt(r[k])))
    print("  %-16s %s" % ("rtt_us min/avg/max", rtt_text(r.get("rtt_us"))))


def cmd_gen_stats(c, a):
    if not a.watch:
        r = c.generator_stats(a.id)
        if a.json:
            return emit_json(r)
        return print_gen_stats(r)
    prev = c.generator_stats(a.id)
    tprev = time.monotonic()
    n = 0
    if not a.json:
        print("%-8s %-8s %10s %10s %10s %10s %10s %8s  %s" % (
            "TIME", "STATE", "TX PPS", "RX PPS", "TX PKTS", "RX PKTS", "ECHOES",
            "LOST", "RTT us min/avg/max"))
    while a.count is None or n < a.count:
        time.sleep(a.interval)
        cur = c.generator_stats(a.id)
        now = time.monotonic()
        dt = now - tprev
        txr = (cur.get("tx_pkts", 0) - prev.get("tx_pkts", 0)) / dt
        rxr = (cur.get("rx_pkts", 0) - prev.get("rx_pkts", 0)) / dt
        if a.json:
            print(json.dumps(dict(cur, tx_pps_now=txr, rx_pps_now=rxr)))
        else:
            print("%-8s %-8s %10s %10s %10s %10s %10s %8s  %s" % (
                time.strftime("%H:%M:%S"), cur.get("state"), si(txr), si(rxr),
                fmt(cur.get("tx_pkts")), fmt(cur.get("rx_pkts")),
                fmt(cur.get("rx_echoes")), fmt(cur.get("lost")),
                rtt_text(cur.get("rtt_us"))))
        sys.stdout.flush()
        prev, tprev = cur, now
        n += 1
        if cur.get("state") in ("done", "stopped", "created") and a.count is None:
            break


def cmd_events(c, a):
    topics = ("stats", "event") if a.stats else ("event",)
    sub = Subscriber(a.events, topics=topics, timeout=a.ev_wait)
    n = 0
    try:
        while a.count is None or n < a.count:
            topic, msg = sub.recv()
            if a.json:
                print(json.dumps({"topic": topic, "data": msg}))
            elif topic == "event":
                rest = {k: v for k, v in msg.items() if k not in ("time", "type")}
                t = msg.get("time")
                stamp = time.strftime("%H:%M:%S", time.localtime(t)) if isinstance(t, (int, float)) else "-"
                print("%s %-20s %s" % (stamp, msg.get("type"),
                                       " ".join("%s=%s" % (k, fmt(v)) for k, v in rest.items())))
            else:
                st = msg.get("stats") or {}
                print("%s stats: %d port(s), %d generator(s), drops %s" % (
                    time.strftime("%H:%M:%S"), len(st.get("ports", [])),
                    len(msg.get("generators", [])), fmt(st.get("drops_total"))))
            sys.stdout.flush()
            n += 1
    finally:
        sub.close()


def cmd_shutdown(c, a):
    r = c.shutdown()
    if a.json:
        return emit_json(r)
    print("ternd is shutting down")


# -- argument parsing -----------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(prog=PROG, description="Control ternd, the tern daemon.")
    p.add_argument("--api", default=os.environ.get("TERN_API", DEFAULT_API),
                   help="ternd API endpoint (default %(default)s, env TERN_API)")
    p.add_argument("--events", default=os.environ.get("TERN_EVENTS", DEFAULT_EVENTS),
                   help="ternd events endpoint (default %(default)s, env TERN_EVENTS)")
    p.add_argument("--json", action="store_true", help="print raw JSON results")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds to wait for an answer (default %(default)s)")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    sub.add_parser("version", help="ternd and DPDK versions").set_defaults(fn=cmd_version)

    port = sub.add_parser("port", help="ethdev ports").add_subparsers(dest="sub", metavar="ACTION")
    port.required = True
    port.add_parser("list", help="list ports").set_defaults(fn=cmd_port_list)

    iface = sub.add_parser("interface", aliases=["if"], help="interfaces (emulated hosts)")
    iface = iface.add_subparsers(dest="sub", metavar="ACTION")
    iface.required = True
    ic = iface.add_parser("create", help="create an interface on a port")
    ic.add_argument("--port", type=int, required=True)
    ic.add_argument("--address", required=True, help="IPv4 prefix, e.g. 10.0.0.2/24")
    ic.add_argument("--mac")
    ic.add_argument("--gateway")
    ic.add_argument("--mtu", type=int)
    ic.add_argument("--name")
    ic.set_defaults(fn=cmd_iface_create)
    iface.add_parser("list", help="list interfaces").set_defaults(fn=cmd_iface_list)
    idel = iface.add_parser("delete", help="delete an interface")
    idel.add_argument("ifindex", type=int)
    idel.set_defaults(fn=cmd_iface_delete)

    st = sub.add_parser("stats", help="statistics (stats.get)")
    st.add_argument("--watch", action="store_true", help="print rates every interval")
    st.add_argument("--interval", type=float, default=1.0)
    st.add_argument("--count", type=int, help="with --watch: stop after N samples")
    st.set_defaults(fn=cmd_stats)

    cap = sub.add_parser("capture", help="pcapng capture").add_subparsers(dest="sub", metavar="ACTION")
    cap.required = True
    cs = cap.add_parser("start", help="start capturing to a pcapng file")
    cs.add_argument("path")
    cs.add_argument("--port", type=int)
    cs.add_argument("--snaplen", type=int)
    cs.set_defaults(fn=cmd_capture_start)
    cap.add_parser("stop", help="stop the capture").set_defaults(fn=cmd_capture_stop)

    gen = sub.add_parser("generator", aliases=["gen"], help="traffic generators")
    gen = gen.add_subparsers(dest="sub", metavar="ACTION")
    gen.required = True
    gc = gen.add_parser("create", help="create a generator (stopped)")
    gc.add_argument("kind", choices=["udp"])
    gc.add_argument("--interface", type=int, required=True, help="ifindex")
    gc.add_argument("--role", choices=["client", "server"])
    gc.add_argument("--dst", help="client: destination IPv4 address")
    gc.add_argument("--dport", type=int, help="client: destination port")
    gc.add_argument("--sport", type=int, help="client: source port")
    gc.add_argument("--size", type=int, help="client: frame size incl. FCS (64..MTU+18)")
    gc.add_argument("--rate", type=float, help="client: packets per second")
    gc.add_argument("--duration", type=float, help="seconds")
    gc.add_argument("--count", type=int, help="client: packets in all")
    gc.add_argument("--port", type=int, help="server: port to listen on")
    gc.add_argument("--echo", action="store_true", help="server: echo packets back")
    gc.add_argument("--start", action="store_true", help="start it at once")
    gc.set_defaults(fn=cmd_gen_create)
    for name in ("start", "stop", "delete"):
        g = gen.add_parser(name, help="%s a generator" % name)
        g.add_argument("id", type=int)
        g.set_defaults(fn=make_gen_action(name))
    gen.add_parser("list", help="list generators").set_defaults(fn=cmd_gen_list)
    gs = gen.add_parser("stats", help="a generator's counters")
    gs.add_argument("id", type=int)
    gs.add_argument("--watch", action="store_true",
                    help="print rates every interval until it stops")
    gs.add_argument("--interval", type=float, default=1.0)
    gs.add_argument("--count", type=int, help="with --watch: stop after N samples")
    gs.set_defaults(fn=cmd_gen_stats)

    ev = sub.add_parser("events", help="print events from ternd's PUB socket")
    ev.add_argument("--count", type=int, help="stop after N messages")
    ev.add_argument("--stats", action="store_true", help="also the once-a-second stats")
    ev.add_argument("--wait", type=float, dest="ev_wait",
                    help="give up after S seconds without a message")
    ev.set_defaults(fn=cmd_events)

    sub.add_parser("shutdown", help="stop ternd").set_defaults(fn=cmd_shutdown)
    return p


def main(argv=None):
    parser = build_parser()
    a = parser.parse_args(argv)
    client = Client(a.api, timeout=a.timeout or 5.0)
    try:
        a.fn(client, a)
    except TernError as e:
        print("%s: error %d: %s" % (PROG, e.code, e.message), file=sys.stderr)
        return 1
    except TernTimeout as e:
        ep = a.events if e.method == "subscribe" else a.api
        print("%s: no answer from ternd at %s (is it running? see --api/--events)" % (PROG, ep),
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
