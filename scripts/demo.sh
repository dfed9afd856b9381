#!/usr/bin/env bash
# The demo: ternd with two net_ring ports wired back to back in-process (no
# root, no NIC), an interface on each, a UDP echo server on one and a UDP
# client on the other; live statistics, a summary, then shutdown.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
B=${TERN_BUILD:-build}
TERND=$B/ternd
RATE=${TERN_DEMO_RATE:-100000}
DURATION=${TERN_DEMO_DURATION:-5}
SIZE=${TERN_DEMO_SIZE:-64}

[ -x "$TERND" ] || { echo "demo: $TERND missing: run make build" >&2; exit 1; }
freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API="tcp://127.0.0.1:$(freeport)"
EVENTS="tcp://127.0.0.1:$(freeport)"
LOG=$(mktemp /tmp/ternd-demo.XXXXXX.log)
CTL=(/bin/sh "$B/ternctl" --api "$API" --events "$EVENTS")

echo "demo: starting ternd (api $API, events $EVENTS, log $LOG)"
"$TERND" -l 0-1 --no-huge --no-shconf --no-pci -m 512 -- \
  --ring-pair --idle-sleep-us 20 --api "$API" --events "$EVENTS" >"$LOG" 2>&1 &
PID=$!
cleanup() {
  if kill -0 "$PID" 2>/dev/null; then
    echo "demo: stopping ternd (pid $PID)"; kill "$PID" 2>/dev/null || true
    sleep 1; kill -9 "$PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

for _ in $(seq 1 300); do
  grep -q 'ternd: ready' "$LOG" && break
  kill -0 "$PID" 2>/dev/null || { echo "demo: ternd exited early:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
grep -q 'ternd: ready' "$LOG" || { echo "demo: ternd not ready after 30 s:" >&2; cat "$LOG" >&2; exit 1; }

echo; echo "\$ ternctl version"; "${CTL[@]}" version
echo; echo "\$ ternctl port list"; "${CTL[@]}" port list
# Port ids of ring0 and ring1, by name.
portof() { "${CTL[@]}" --json port list | "$PY" -c '
import json, sys
ports = json.load(sys.stdin)
m = [p["port"] for p in ports if sys.argv[1] in p["name"]]
print(m[0] if m else "")' "$1"; }
P0=$(portof ring0); P1=$(portof ring1)
[ -n "$P0" ] && [ -n "$P1" ] || { echo "demo: ring0/ring1 ports not found" >&2; exit 1; }

jsonget() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
IF0=$("${CTL[@]}" --json interface create --port "$P0" --address 10.10.0.1/24 --name client | jsonget ifindex)
IF1=$("${CTL[@]}" --json interface create --port "$P1" --address 10.10.0.2/24 --name server | jsonget ifindex)
echo; echo "\$ ternctl interface list"; "${CTL[@]}" interface list

SRV=$("${CTL[@]}" --json generator create udp --interface "$IF1" --role server --port 7 --echo | jsonget id)
CLI=$("${CTL[@]}" --json generator create udp --interface "$IF0" --dst 10.10.0.2 --dport 7 \
      --size "$SIZE" --rate "$RATE" --duration "$DURATION" | jsonget id)
"${CTL[@]}" generator start "$SRV"
"${CTL[@]}" generator start "$CLI"
echo; echo "\$ ternctl generator list"; "${CTL[@]}" generator list

echo; echo "live: udp client $CLI -> echo server $SRV, $RATE pps, $SIZE-byte frames, ${DURATION}s"
"${CTL[@]}" generator stats "$CLI" --watch --interval 1
sleep 0.5   # let the last echoes come back

echo; echo "\$ ternctl stats"; "${CTL[@]}" stats

echo; echo "summary"
C=$("${CTL[@]}" --json generator stats "$CLI")
S=$("${CTL[@]}" --json generator stats "$SRV")
"$PY" - "$C" "$S" <<'PYEOF'
import json, sys
c, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
el = c.get("elapsed_s") or 0
tx, echoes = c.get("tx_pkts", 0), c.get("rx_echoes", 0)
print("  client: sent %d packets in %.2f s = %.0f pps; echoes received %d = %.0f pps"
      % (tx, el, c.get("tx_pps", 0), echoes, c.get("rx_pps", 0)))
print("  server: received %d packets" % s.get("rx_pkts", 0))
lost = c.get("lost", tx - echoes)
print("  lost:   %d (%.3f%%), tx failures %d" % (lost, 100.0 * lost / tx if tx else 0,
                                               c.get("tx_fail", 0)))
r = c.get("rtt_us")
if r:
    print("  rtt:    min %.1f us, avg %.1f us, max %.1f us" % (r["min"], r["avg"], r["max"]))
else:
    print("  rtt:    none measured")
PYEOF

echo; echo "\$ ternctl shutdown"; "${CTL[@]}" shutdown
rc=0
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" || rc=$?
echo "demo: ternd exited with status $rc"
if grep -Eiq 'leak|not full' "$LOG"; then
  echo "demo: ternd reported a leak:"; grep -Ei 'leak|not full' "$LOG"; exit 1
fi
exit "$rc"
