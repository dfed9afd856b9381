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
                           mtu=a.mtu, name=a.name, count=a.count,
                           host_macs=True if a.host_macs else None)
    if a.json:
        return emit_json(r)
    print("interface %s (%s) created, mac %s" % (r.get("ifindex"), r.get("name"), r.get("mac")))


def range_text(rg):
    """10.1.0.1/16 or 10.1.0.1/16 +9999 (..10.1.39.16) [host macs]"""
    t = rg.get("address", "?")
    if rg.get("count", 1) > 1:
        t += " +%d (..%s)" % (rg["count"] - 1, rg.get("last"))
    if rg.get("host_macs"):
        t += " [host macs]"
    return t


def cmd_iface_list(c, a):
    r = c.interfaces()
    if a.json:
        return emit_json(r)
    table(r, [("IFINDEX", "ifindex"), ("NAME", "name"), ("PORT", "port"),
              ("MAC", "mac"),
              ("ADDRESSES", lambda i: ", ".join(range_text(x) for x in
                                               i.get("addresses") or [])
               or i.get("address")),
              ("HOSTS", "hosts"), ("GATEWAY", "gateway"), ("MTU", "mtu")])


def cmd_iface_addr_add(c, a):
    r = c.interface_address_add(a.ifindex, a.address, count=a.count,
                                host_macs=True if a.host_macs else None)
    if a.json:
        return emit_json(r)
    print("interface %d: added %s" % (a.ifindex, range_text(r)))


def cmd_iface_addr_del(c, a):
    r = c.interface_address_delete(a.ifindex, a.address)
    if a.json:
        return emit_json(r)
    print("interface %d: deleted %s" % (a.ifindex, a.address))


def cmd_route_list(c, a):
    r = c.routes()
    if a.json:
        return emit_json(r)
    table(r, [("PREFIX", "prefix"), ("GATEWAY", lambda x: x.get("gateway") or "-"),
              ("IFINDEX", "ifindex"), ("KIND", "kind"),
              ("ACTIVE", lambda x: "yes" if x.get("active") else "no")])


def cmd_route_add(c, a):
    r = c.route_add(a.prefix, gateway=a.via, ifindex=a.ifindex)
    if a.json:
        return emit_json(r)
    print("route %s via %s dev %s added" % (r.get("prefix"), r.get("gateway") or "-",
                                             r.get("ifindex")))


def cmd_route_del(c, a):
    r = c.route_delete(a.prefix)
    if a.json:
        return emit_json(r)
    print("route %s deleted" % a.prefix)


def cmd_neigh(c, a):
    """Like `ip neigh`: address, interface, MAC, state, per worker."""
    r = c.neighbours(worker=a.worker, ifindex=a.ifindex, state=a.state,
                     count_only=True if a.count else None)
    if a.json:
        return emit_json(r)
    if a.count:
        print(r.get("count"))
        return

    def ago(v):
        return "-" if v is None or v < 0 else "%.1fs" % (v / 1000.0)
    table(r.get("neighbours", []),
          [("ADDRESS", "address"), ("IFINDEX", "ifindex"), ("WORKER", "worker"),
           ("MAC", lambda n: n.get("mac") or "-"), ("STATE", "state"),
           ("PROBES", "probes"), ("QUEUED", "queued"),
           ("UPDATED", lambda n: ago(n.get("updated_ms_ago"))),
           ("CONFIRMED", lambda n: ago(n.get("confirmed_ms_ago"))),
           ("USED", lambda n: ago(n.get("used_ms_ago")))])


def cmd_neigh_flush(c, a):
    r = c.neighbour_flush(ifindex=a.ifindex)
    if a.json:
        return emit_json(r)
    print("%d neighbour entries flushed" % r.get("flushed", 0))


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


# -- impairment ------------------------------------------------------------------

def prob(s):
    """A probability: 0.05 or 5%."""
    try:
        v = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a probability (0.05 or 5%%)" % s)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError("%r is not in [0, 1] (0%%..100%%)" % s)
    return v


def duration_us(s):
    """A time in microseconds: 10ms, 500us, 1.5s (a bare number is us)."""
    for suffix, mult in (("us", 1), ("ms", 1000), ("s", 1000000)):
        if s.endswith(suffix):
            num, m = s[:-len(suffix)], mult
            break
    else:
        num, m = s, 1
    try:
        v = float(num) * m
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a time (10ms, 500us, 1s)" % s)
    if v < 0:
        raise argparse.ArgumentTypeError("%r is negative" % s)
    return int(round(v))


def rate_bps(s):
    """Bits per second: 10M, 1.5G, 800k, 10mbit (a bare number is bit/s)."""
    t = s.lower()
    for suffix in ("bit", "bps"):
        if t.endswith(suffix):
            t = t[:-len(suffix)]
    mult = {"k": 1e3, "m": 1e6, "g": 1e9}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    try:
        v = float(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a rate (10M, 1G, 800k)" % s)
    return int(round(v))


def impair_target(a):
    if (a.port is None) == (a.ifindex is None):
        raise SystemExit("%s: give exactly one of --port and --ifindex" % PROG)
    return {"port": a.port, "ifindex": a.ifindex, "direction": a.dir}


def print_impairment(r):
    where = ("port %s" % r["port"]) if "port" in r else ("interface %s" % r["ifindex"])
    conf = r.get("conf", {})
    parts = []
    for k in ("loss", "reorder", "duplicate", "corrupt"):
        if conf.get(k):
            parts.append("%s %g%%" % (k, conf[k] * 100))
    if conf.get("ge_p"):
        parts.append("bursts p=%g r=%g loss good/bad %g/%g" % (
            conf["ge_p"], conf["ge_r"], conf["ge_loss_good"], conf["ge_loss_bad"]))
    if conf.get("delay_us"):
        parts.append("delay %gms +-%gms" % (conf["delay_us"] / 1000, conf.get("jitter_us", 0) / 1000))
    if conf.get("reorder"):
        parts.append("reorder hold %gms" % (conf["reorder_us"] / 1000))
    if conf.get("rate_bps"):
        parts.append("rate %sbit/s queue %s" % (si(conf["rate_bps"]), conf["rate_queue"]))
    print("%s %s: seed %s, %s" % (where, r["direction"], conf.get("seed"),
                                  ", ".join(parts) or "no impairment (counting only)"))
    cnt = r.get("counters", {})
    print("  " + "  ".join("%s=%s" % (k, fmt(v)) for k, v in cnt.items()))


def cmd_impair_set(c, a):
    conf = dict(seed=a.seed, loss=a.loss, delay_us=a.delay, jitter_us=a.jitter,
                reorder=a.reorder, reorder_us=a.reorder_delay, duplicate=a.duplicate,
                corrupt=a.corrupt, rate_bps=a.rate, rate_queue=a.rate_queue, limit=a.limit)
    if a.ge:
        try:
            ge = [prob(x) for x in a.ge.split(",")]
        except argparse.ArgumentTypeError as e:
            raise SystemExit("%s: --ge: %s" % (PROG, e))
        if not 2 <= len(ge) <= 4:
            raise SystemExit("%s: --ge takes P,R[,LOSS_BAD[,LOSS_GOOD]]" % PROG)
        conf.update(ge_p=ge[0], ge_r=ge[1])
        if len(ge) > 2:
            conf["ge_loss_bad"] = ge[2]
        if len(ge) > 3:
            conf["ge_loss_good"] = ge[3]
    t = impair_target(a)
    r = c.impairment_set(t["direction"], port=t["port"], ifindex=t["ifindex"], **conf)
    if a.json:
        return emit_json(r)
    print_impairment(r)


def cmd_impair_get(c, a):
    if a.port is None and a.ifindex is None:
        r = c.impairment_get()
        if a.json:
            return emit_json(r)
        if not r["impairments"]:
            print("no impairments")
        for i in r["impairments"]:
            print_impairment(i)
        return
    if a.dir is None:
        raise SystemExit("%s: --dir is needed with --port/--ifindex" % PROG)
    t = impair_target(a)
    r = c.impairment_get(t["direction"], port=t["port"], ifindex=t["ifindex"])
    if a.json:
        return emit_json(r)
    print_impairment(r)


def cmd_impair_clear(c, a):
    t = impair_target(a)
    r = c.impairment_clear(t["direction"], port=t["port"], ifindex=t["ifindex"])
    if a.json:
        return emit_json(r)
    print("cleared; last counters:")
    print_impairment(r)


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


# -- TCP services, clients, connections -------------------------------------------

def cmd_tcp_svc_create(c, a):
    sid = c.tcp_service_create(a.kind, a.port, address=a.address, bytes=a.bytes,
                               max_connections=a.max_connections)
    if a.json:
        return emit_json({"id": sid})
    print("tcp service %d created (%s on port %d)" % (sid, a.kind, a.port))


def cmd_tcp_svc_list(c, a):
    r = c.tcp_services(id=a.id)
    if a.json:
        return emit_json(r)

    def st(k):
        return lambda v: (v.get("stats") or {}).get(k)
    table(r, [("ID", "id"), ("KIND", "kind"), ("ADDRESS", lambda v: v.get("address") or "*"),
              ("PORT", "port"), ("BYTES", "bytes"), ("ACTIVE", st("active")),
              ("ACCEPTED", st("accepted")), ("REQUESTS", st("requests")),
              ("RX BYTES", st("rx_bytes")), ("TX BYTES", st("tx_bytes")),
              ("FAILED", st("failed")), ("REFUSED", st("refused"))])


def cmd_tcp_svc_delete(c, a):
    r = c.tcp_service_delete(a.id)
    if a.json:
        return emit_json(r)
    print("tcp service %d deleted" % a.id)


def print_tcp_client(r):
    total = r.get("total")
    prog = r.get("progress")
    print("tcp client %s: %s %s %s:%s (local port %s, worker %s)" % (
        r.get("id"), r.get("state"), r.get("mode"), r.get("remote"), r.get("port"),
        r.get("local_port"), r.get("worker")))
    if r.get("path"):
        print("  %-16s %s" % ("path", r["path"]))
    moved = r.get("acked") if r.get("mode") == "send" else r.get("body_bytes")
    print("  %-16s %s of %s%s" % ("bytes", fmt(moved), fmt(total),
                                  "" if prog is None else " (%.1f%%)" % (prog * 100)))
    if r.get("mode") == "http_get":
        print("  %-16s %s" % ("http_status", fmt(r.get("http_status"))))
        crc = r.get("crc32")
        print("  %-16s %s" % ("crc32", "-" if crc is None else "0x%08x" % crc))
    for k in ("tx_bytes", "rx_bytes", "elapsed_s", "connect_ms", "throughput_mbps"):
        print("  %-16s %s" % (k, fmt(r.get(k))))
    if r.get("error"):
        print("  %-16s %s (errno %s)" % ("error", r["error"], r.get("errno")))


def wait_tcp_client(c, cid, wait):
    end = time.monotonic() + wait
    r = c.tcp_client_status(cid)
    while r.get("state") not in ("done", "failed") and time.monotonic() < end:
        time.sleep(0.1)
        r = c.tcp_client_status(cid)
    return r


def cmd_tcp_cli_create(c, a):
    r = c.tcp_client_create(a.mode, a.remote, a.port, bytes=a.bytes, path=a.path,
                            host=a.host, address=a.address)
    if a.wait is not None:
        r = wait_tcp_client(c, r["id"], a.wait)
        if a.json:
            emit_json(r)
        else:
            print_tcp_client(r)
        return 0 if r.get("state") == "done" else 1
    if a.json:
        return emit_json(r)
    print("tcp client %s created (%s to %s:%s, local port %s)" % (
        r.get("id"), a.mode, a.remote, a.port, r.get("local_port")))


def cmd_tcp_cli_status(c, a):
    r = wait_tcp_client(c, a.id, a.wait) if a.wait else c.tcp_client_status(a.id)
    if a.json:
        return emit_json(r)
    print_tcp_client(r)


def cmd_tcp_cli_list(c, a):
    r = c.tcp_clients()
    if a.json:
        return emit_json(r)
    table(r, [("ID", "id"), ("MODE", "mode"), ("STATE", "state"),
              ("REMOTE", lambda v: "%s:%s" % (v.get("remote"), v.get("port"))),
              ("LPORT", "local_port"),
              ("BYTES", lambda v: v.get("acked") if v.get("mode") == "send" else v.get("body_bytes")),
              ("PROGRESS", lambda v: None if v.get("progress") is None else "%.1f%%" % (v["progress"] * 100)),
              ("CRC32", lambda v: None if v.get("crc32") is None else "0x%08x" % v["crc32"]),
              ("MBIT/S", "throughput_mbps"), ("ERROR", "error")])


def cmd_tcp_cli_delete(c, a):
    r = c.tcp_client_delete(a.id)
    if a.json:
        return emit_json(r)
    print("tcp client %d deleted" % a.id)


def cmd_connections(c, a):
    """Like `ss -ti`: a line per connection, its TCP details below it."""
    r = c.tcp_connections(state=a.state, port=a.port, address=a.address,
                          worker=a.worker, count=True if a.count else None,
                          limit=a.limit)
    if a.json:
        return emit_json(r)
    if a.count:
        print(r.get("count"))
        return
    conns = r.get("connections", [])
    rows = [dict(x, l="%s:%s" % (x["local"], x["lport"]),
                 rm="%s:%s" % (x["remote"], x["rport"])) for x in conns]
    wl = max([len("LOCAL")] + [len(x["l"]) for x in rows])
    wr = max([len("REMOTE")] + [len(x["rm"]) for x in rows])
    print("%-12s %-6s %9s  %-*s  %-*s" % ("STATE", "WORKER", "SEND-Q", wl, "LOCAL", wr, "REMOTE"))
    for x in rows:
        print("%-12s %-6s %9s  %-*s  %-*s" % (x["state"], x["worker"], x["send_queued"],
                                             wl, x["l"], wr, x["rm"]))
        opts = [x.get("cc") or "-"]
        if x.get("snd_wscale") is not None:
            opts.append("wscale:%s,%s" % (x["snd_wscale"], x["rcv_wscale"]))
        if x.get("sack"):
            opts.append("sack")
        if x.get("timestamps"):
            opts.append("ts")
        opts.append("rto:%g" % (x["rto_us"] / 1000.0))
        opts.append("rtt:%g/%g" % (x["srtt_us"] / 1000.0, x["rttvar_us"] / 1000.0))
        opts.append("mss:%s" % x["mss"])
        opts.append("cwnd:%sB" % x["cwnd"])
        if x.get("ssthresh") is not None:
            opts.append("ssthresh:%sB" % x["ssthresh"])
        opts.append("snd_wnd:%s rcv_wnd:%s" % (x["snd_wnd"], x["rcv_wnd"]))
        opts.append("bytes_sent:%s" % x["bytes_sent"])
        if x.get("bytes_retrans"):
            opts.append("bytes_retrans:%s" % x["bytes_retrans"])
        opts.append("bytes_acked:%s bytes_received:%s" % (
            x["bytes_acked"], x["bytes_received"]))
        opts.append("retrans:%s" % x["retransmits"])
        if x.get("backoff"):
            opts.append("backoff:%s" % x["backoff"])
        print("\t " + " ".join(opts))
    if r.get("truncated"):
        print("(%d of %d shown; --limit N for more)" % (len(conns), r.get("count", 0)))


def add_conn_filters(sp):
    sp.add_argument("--state", help="established, syn_sent, time_wait, ...")
    sp.add_argument("--port", type=int, help="local or remote port")
    sp.add_argument("--address", help="local or remote address")
    sp.add_argument("--worker", type=int)
    sp.add_argument("--count", action="store_true", help="only how many")
    sp.add_argument("--limit", type=int, help="list at most N (default 1000)")
    sp.set_defaults(fn=cmd_connections)


def add_tcp_parsers(sub):
    tcp = sub.add_parser("tcp", help="TCP services, clients, connections (tcp.*)")
    tcp = tcp.add_subparsers(dest="sub", metavar="ACTION")
    tcp.required = True
    svc = tcp.add_parser("service", aliases=["svc"], help="servers: discard, echo, http")
    svc = svc.add_subparsers(dest="sub2", metavar="ACTION")
    svc.required = True
    sc = svc.add_parser("create", help="listen on every worker")
    sc.add_argument("kind", choices=["discard", "echo", "http"])
    sc.add_argument("--port", type=int, required=True)
    sc.add_argument("--address", help="only this address of ours (default all)")
    sc.add_argument("--bytes", type=int,
                    help="http: body size of paths other than /bytes/N (else 404)")
    sc.add_argument("--max-connections", type=int, help="open at once per worker (1024)")
    sc.set_defaults(fn=cmd_tcp_svc_create)
    sl = svc.add_parser("list", help="services and their counters")
    sl.add_argument("--id", type=int)
    sl.set_defaults(fn=cmd_tcp_svc_list)
    sd = svc.add_parser("delete", help="stop listening, reset its connections")
    sd.add_argument("id", type=int)
    sd.set_defaults(fn=cmd_tcp_svc_delete)

    cli = tcp.add_parser("client", aliases=["cli"], help="clients: send, http_get")
    cli = cli.add_subparsers(dest="sub2", metavar="ACTION")
    cli.required = True
    cc = cli.add_parser("create", help="connect at once")
    cc.add_argument("mode", choices=["send", "http_get"])
    cc.add_argument("--remote", required=True, help="IPv4 address")
    cc.add_argument("--port", type=int, required=True)
    cc.add_argument("--bytes", type=int,
                    help="send: bytes to send; http_get: body length expected")
    cc.add_argument("--path", help="http_get: request target (default /bytes/BYTES)")
    cc.add_argument("--host", help="http_get: Host header (default REMOTE[:PORT])")
    cc.add_argument("--address", help="source address (default the route's)")
    cc.add_argument("--wait", type=float, nargs="?", const=60.0, metavar="S",
                    help="wait up to S s (60) for the end; exit 1 unless done")
    cc.set_defaults(fn=cmd_tcp_cli_create)
    cs = cli.add_parser("status", help="progress, bytes, checksum, error")
    cs.add_argument("id", type=int)
    cs.add_argument("--wait", type=float, metavar="S", help="until done or failed, S s at most")
    cs.set_defaults(fn=cmd_tcp_cli_status)
    cli.add_parser("list", help="every client").set_defaults(fn=cmd_tcp_cli_list)
    cd = cli.add_parser("delete", help="reset it if still open, forget it")
    cd.add_argument("id", type=int)
    cd.set_defaults(fn=cmd_tcp_cli_delete)

    add_conn_filters(tcp.add_parser("connections", aliases=["conns"],
                                    help="connections, like ss -ti"))
    add_conn_filters(sub.add_parser("connections", aliases=["conns"],
                                    help="TCP connections, like ss -ti (tcp.connections)"))


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
    ic.add_argument("--count", type=int,
                    help="emulated hosts: COUNT addresses from --address")
    ic.add_argument("--host-macs", action="store_true",
                    help="each host its own MAC (the interface's + i)")
    ic.set_defaults(fn=cmd_iface_create)
    iface.add_parser("list", help="list interfaces").set_defaults(fn=cmd_iface_list)
    idel = iface.add_parser("delete", help="delete an interface")
    idel.add_argument("ifindex", type=int)
    idel.set_defaults(fn=cmd_iface_delete)
    iadr = iface.add_parser("address", aliases=["addr"], help="more addresses or ranges")
    iadr = iadr.add_subparsers(dest="sub2", metavar="ACTION")
    iadr.required = True
    iaa = iadr.add_parser("add", help="add an address or a range to an interface")
    iaa.add_argument("ifindex", type=int)
    iaa.add_argument("address", help="IPv4 prefix, e.g. 10.2.0.1/16")
    iaa.add_argument("--count", type=int)
    iaa.add_argument("--host-macs", action="store_true")
    iaa.set_defaults(fn=cmd_iface_addr_add)
    iad = iadr.add_parser("delete", aliases=["del"], help="remove a range (by its first address)")
    iad.add_argument("ifindex", type=int)
    iad.add_argument("address")
    iad.set_defaults(fn=cmd_iface_addr_del)

    rt = sub.add_parser("route", help="routes (route.*)").add_subparsers(dest="sub", metavar="ACTION")
    rt.required = True
    rt.add_parser("list", aliases=["show"], help="every route").set_defaults(fn=cmd_route_list)
    ra = rt.add_parser("add", help="add a static route")
    ra.add_argument("prefix", help='e.g. 192.168.0.0/16, or "default"')
    ra.add_argument("--via", help="gateway address (on a connected subnet)")
    ra.add_argument("--ifindex", type=int, help="interface (on-link route without --via)")
    ra.set_defaults(fn=cmd_route_add)
    rd = rt.add_parser("delete", aliases=["del"], help="delete a static route")
    rd.add_argument("prefix")
    rd.set_defaults(fn=cmd_route_del)

    ng = sub.add_parser("neigh", aliases=["neighbour", "neighbor"],
                        help="neighbour tables, like ip neigh (neighbour.*)")
    ng.add_argument("--worker", type=int)
    ng.add_argument("--ifindex", type=int)
    ng.add_argument("--state", choices=["incomplete", "reachable", "stale", "delay", "probe"])
    ng.add_argument("--count", action="store_true", help="only how many")
    ng.set_defaults(fn=cmd_neigh)
    ngs = ng.add_subparsers(dest="sub", metavar="ACTION")
    ngl = ngs.add_parser("list", aliases=["show"], help="list entries (the default)")
    ngl.add_argument("--worker", type=int)
    ngl.add_argument("--ifindex", type=int)
    ngl.add_argument("--state", choices=["incomplete", "reachable", "stale", "delay", "probe"])
    ngl.add_argument("--count", action="store_true")
    ngl.set_defaults(fn=cmd_neigh)
    ngf = ngs.add_parser("flush", help="empty the tables")
    ngf.add_argument("--ifindex", type=int)
    ngf.set_defaults(fn=cmd_neigh_flush)

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

    imp = sub.add_parser("impair", help="make a link bad: loss, delay, reordering... "
                         "(impairment.*)").add_subparsers(dest="sub", metavar="ACTION")
    imp.required = True

    def imp_target(sp, dir_required=True):
        sp.add_argument("--port", type=int, help="a port (all its frames)")
        sp.add_argument("--ifindex", type=int, help="an interface (its packets)")
        sp.add_argument("--dir", choices=["in", "out"], required=dir_required,
                        help="direction, as tern sees it")

    iset = imp.add_parser("set", help="impair a port or interface (replaces what it had)")
    imp_target(iset)
    iset.add_argument("--seed", type=int, help="PRNG seed (default 1): same seed, same decisions")
    iset.add_argument("--loss", type=prob, help="independent loss: 0.05 or 5%%")
    iset.add_argument("--ge", metavar="P,R[,LOSS_BAD[,LOSS_GOOD]]",
                      help="bursty loss (Gilbert-Elliott): good->bad P, bad->good R")
    iset.add_argument("--delay", type=duration_us, help="delay: 10ms, 500us")
    iset.add_argument("--jitter", type=duration_us, help="delay +- this (<= delay)")
    iset.add_argument("--reorder", type=prob, help="share of packets held back")
    iset.add_argument("--reorder-delay", type=duration_us,
                      help="how long they are held back (default 1ms)")
    iset.add_argument("--duplicate", type=prob, help="share of packets sent twice")
    iset.add_argument("--corrupt", type=prob, help="share of packets with one byte changed")
    iset.add_argument("--rate", type=rate_bps, help="link rate: 10M, 1G (bit/s)")
    iset.add_argument("--rate-queue", type=int, help="packets waiting for the link at most")
    iset.add_argument("--limit", type=int, help="packets held at most (default 1000)")
    iset.set_defaults(fn=cmd_impair_set)
    iget = imp.add_parser("get", help="conf and counters (all impairments without --port/--ifindex)")
    imp_target(iget, dir_required=False)
    iget.set_defaults(fn=cmd_impair_get)
    iclr = imp.add_parser("clear", help="remove an impairment")
    imp_target(iclr)
    iclr.set_defaults(fn=cmd_impair_clear)

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

    add_tcp_parsers(sub)

    sub.add_parser("shutdown", help="stop ternd").set_defaults(fn=cmd_shutdown)
    return p


def main(argv=None):
    parser = build_parser()
    a = parser.parse_args(argv)
    client = Client(a.api, timeout=a.timeout or 5.0)
    try:
        rc = a.fn(client, a)
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
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
