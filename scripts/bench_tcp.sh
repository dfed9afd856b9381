#!/usr/bin/env bash
# TCP baselines side by side: the Linux kernel over loopback and lwIP 2.1
# on its loopback netif, each on one core (taskset), the same workloads:
#
#   bulk      Gbps on one connection
#   cps       connections/s: connect, 64 B request, 64 B response, close
#             (cps: the client closes with FIN; cps-rst: with RST)
#   rr        round trips/s on one connection, 64 B each way
#   hold      bytes per established connection with N held (mem@N), and
#             cps / cps-rst beside N held connections (cps@N, cps-rst@N)
#
#   scripts/bench_tcp.sh [SECONDS]           (default 3 s per timed figure)
#
# Environment: BUILD (build tree, default build/), TERN_BENCH_LCORE (the
# core, default 0), LINUX_HELD / LWIP_HELD (levels of held connections,
# ascending), STACKS (columns, default "linux lwip"). Every figure is one
# line "STACK FIGURE VALUE UNIT (details)" (bench/tcp_base.h), printed
# under the command that produced it.
#
# Adding a stack (tern): write STACK_run, which takes the tcp_base.h
# options (-t, -n, -w) and prints the same lines, add STACK_held, and put
# the stack in STACKS. Each workload function below runs every stack.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-3}
CORE=${TERN_BENCH_LCORE:-0}
LINUX_HELD=${LINUX_HELD:-1000,10000,100000}
LWIP_HELD=${LWIP_HELD:-1000,10000,30000}
STACKS=${STACKS:-linux lwip}

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" >/dev/null
fi
ninja -C "$BUILD" bench/tcp_linux >/dev/null
targets=$(ninja -C "$BUILD" -t targets all 2>/dev/null || true)
if grep -q '^bench/tcp_lwip:' <<<"$targets"; then
  ninja -C "$BUILD" bench/tcp_lwip >/dev/null
else
  echo "== lwip column skipped: liblwip-dev was not found when $BUILD was configured"
  STACKS=${STACKS//lwip/}
fi

NS=
cleanup() {
  if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Linux: every run gets a fresh network namespace (its own loopback,
# sysctl defaults, sockstat, and no TIME_WAIT left by the run before).
linux_run() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "command: taskset -c $CORE $BUILD/bench/tcp_linux -t $SECS $*   (not root: host namespace)"
    taskset -c "$CORE" "$BUILD/bench/tcp_linux" -t "$SECS" "$@"
    return
  fi
  NS=terntcp$$
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  echo "command: ip netns exec $NS taskset -c $CORE $BUILD/bench/tcp_linux -t $SECS $*"
  ip netns exec "$NS" taskset -c "$CORE" "$BUILD/bench/tcp_linux" -t "$SECS" "$@"
  ip netns del "$NS"
  NS=
}
linux_held() { echo "$LINUX_HELD"; }

# lwIP: a process per run, so every run starts from an empty stack.
lwip_run() {
  echo "command: taskset -c $CORE $BUILD/bench/tcp_lwip -t $SECS $*"
  taskset -c "$CORE" "$BUILD/bench/tcp_lwip" -t "$SECS" "$@"
}
lwip_held() { echo "$LWIP_HELD"; }

fig_bulk() { for s in $STACKS; do "${s}_run" -w bulk; done; }
fig_cps()  { for s in $STACKS; do "${s}_run" -w cps,cps-rst; done; }
fig_rr()   { for s in $STACKS; do "${s}_run" -w rr; done; }
fig_hold() { for s in $STACKS; do "${s}_run" -w hold -n "$("${s}_held")"; done; }

echo "== TCP baselines: ${SECS} s per timed figure, core $CORE of $(nproc), $(date -u +%F)"
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== lines: STACK FIGURE VALUE UNIT (details); '#' lines describe the stack"
fig_bulk
fig_cps
fig_rr
fig_hold
