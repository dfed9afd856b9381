#!/usr/bin/env bash
# The TCP benchmark: tern beside its baselines, the Linux kernel over
# loopback and lwIP 2.1 on its loopback netif, each on one core
# (taskset), the same workloads. tern runs two columns: "tern" with
# checksum offload declared (the wire stands for the NICs) and "tern-sw"
# with checksums in software (bench/tcp_tern.c):
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
# core, default 0), LINUX_HELD / LWIP_HELD / TERN_HELD (levels of held
# connections, ascending), STACKS (default "linux lwip tern"), TERN_ARGS
# (more options for tcp_tern, e.g. "-c sw"). Every figure is one line
# "STACK FIGURE VALUE UNIT (details)" (bench/tcp_base.h), printed under
# the command that produced it; at the end one table puts them side by
# side with tern's ratios to each baseline (scripts/bench_tcp_table.py).
#
# Adding a stack: write STACK_run, which takes the tcp_base.h options
# (-t, -n, -w) and prints the same lines, add STACK_held, and put the
# stack in STACKS. Each workload function below runs every stack.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-3}
CORE=${TERN_BENCH_LCORE:-0}
LINUX_HELD=${LINUX_HELD:-1000,10000,100000}
LWIP_HELD=${LWIP_HELD:-1000,10000,30000}
TERN_HELD=${TERN_HELD:-1000,10000,100000,1000000}
TERN_ARGS=${TERN_ARGS:-}
STACKS=${STACKS:-linux lwip tern}

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" >/dev/null
fi
ninja -C "$BUILD" bench/tcp_linux bench/tcp_tern >/dev/null
targets=$(ninja -C "$BUILD" -t targets all 2>/dev/null || true)
if grep -q '^bench/tcp_lwip:' <<<"$targets"; then
  ninja -C "$BUILD" bench/tcp_lwip >/dev/null
else
  echo "== lwip column skipped: liblwip-dev was not found when $BUILD was configured"
  STACKS=${STACKS//lwip/}
fi

NS=
LOG=$(mktemp)
cleanup() {
  if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap 'rm -f "$LOG"' EXIT

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

# tern: a process per run, both checksum columns in it (bench/tcp_tern.c;
# it sizes EAL's memory for the run and touches it before measuring).
tern_run() {
  # shellcheck disable=SC2086
  echo "command: taskset -c $CORE $BUILD/bench/tcp_tern -t $SECS $* $TERN_ARGS"
  # shellcheck disable=SC2086
  taskset -c "$CORE" "$BUILD/bench/tcp_tern" -t "$SECS" "$@" $TERN_ARGS
}
tern_held() { echo "$TERN_HELD"; }

fig_bulk() { for s in $STACKS; do "${s}_run" -w bulk; done; }
fig_cps()  { for s in $STACKS; do "${s}_run" -w cps,cps-rst; done; }
fig_rr()   { for s in $STACKS; do "${s}_run" -w rr; done; }
fig_hold() { for s in $STACKS; do "${s}_run" -w hold -n "$("${s}_held")"; done; }

(
trap cleanup EXIT  # the runs are in this subshell (NS is set here)
echo "== TCP benchmark: ${SECS} s per timed figure, core $CORE of $(nproc), $(date -u +%F)"
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== lines: STACK FIGURE VALUE UNIT (details); '#' lines describe the stack"
fig_bulk
fig_cps
fig_rr
fig_hold
) | tee "$LOG"
echo
echo "== side by side (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
/usr/bin/python3 scripts/bench_tcp_table.py "$LOG"
