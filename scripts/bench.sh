#!/usr/bin/env bash
# Runs the UDP send-path benchmark on net_null (and the two-stack loopback
# over the in-memory wire) and the timer benchmark (wheel against the old
# heap) with sane defaults and prints the figures.
#
#   scripts/bench.sh [SECONDS] [FRAME_SIZE]      (defaults: 5 s, 64 bytes)
#
# BUILD=dir picks the build tree (default build/). The EAL runs without
# hugepages on lcore 0 (TERN_BENCH_LCORE to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-5}
SIZE=${2:-64}
LCORE=${TERN_BENCH_LCORE:-0}

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD"
fi
ninja -C "$BUILD" bench/tern_bench_udp_null bench/tern_bench_timers \
  bench/linux_udp_dummy >/dev/null

echo "== tern_bench_udp_null: ${SECS}s per figure, ${SIZE}-byte frames, lcore $LCORE, $(nproc) cores"
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
"$BUILD/bench/tern_bench_udp_null" \
  --no-huge --no-shconf --no-pci -m 512 -l "$LCORE" --no-telemetry \
  --vdev net_null0 --log-level=lib.eal:error \
  -- -t "$SECS" -s "$SIZE" -a 10000

# Timer operations per second: the stack's wheel against the binary heap it
# replaced, same workload, same run (virtual clock: only timer work counts).
echo
echo "command: $BUILD/bench/tern_bench_timers --no-huge --no-shconf --no-pci -m 256 -l $LCORE --no-telemetry --log-level=lib.eal:error -- -n 10000,1000000"
"$BUILD/bench/tern_bench_timers" \
  --no-huge --no-shconf --no-pci -m 256 -l "$LCORE" --no-telemetry \
  --log-level=lib.eal:error -- -n 10000,1000000

# Neighbour lookups: the RFC 4861 table against the ARP cache it replaced
# (same lookups, same run), and the table at 100,000 entries.
echo
ninja -C "$BUILD" bench/tern_bench_neigh >/dev/null
# (the benchmark prints its own command line)
"$BUILD/bench/tern_bench_neigh" \
  --no-huge --no-shconf --no-pci -m 512 -l "$LCORE" --no-telemetry \
  --log-level=lib.eal:error -- -n 10000000

# RSS steering: choosing a source port whose replies hash to our queue,
# by linearity against hashing candidates until one fits (same run).
echo
ninja -C "$BUILD" bench/tern_bench_rss >/dev/null
echo "command: $BUILD/bench/tern_bench_rss --no-huge --no-shconf --no-pci -m 128 -l $LCORE --no-telemetry --log-level=lib.eal:error -- -n 1000000"
"$BUILD/bench/tern_bench_rss" \
  --no-huge --no-shconf --no-pci -m 128 -l "$LCORE" --no-telemetry \
  --log-level=lib.eal:error -- -n 1000000

# The same job for the Linux kernel, side by side: UDP through the kernel
# stack onto a device that discards frames as net_null does, on the same
# core, with sendmmsg batches of 32. The device is `dummy` where the kernel
# has it, else `ifb` (which, with no tc redirect, frees every frame it is
# given). Needs root for the namespace.
echo
if [ "$(id -u)" -ne 0 ]; then
  echo "== linux baseline skipped: needs root (a network namespace with a dummy device)"
  exit 0
fi
NS=ternbench$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
if ! ip -n "$NS" link add dum0 type dummy 2>/dev/null; then
  ip -n "$NS" link add dum0 type ifb
fi
echo "== linux discard device: $(ip -n "$NS" -d link show dum0 | sed -n 3p | awk '{print $1}')"
ip -n "$NS" addr add 10.201.0.1/24 dev dum0
ip -n "$NS" link set dum0 up
ip -n "$NS" neigh add 10.201.0.2 lladdr 02:00:00:00:00:02 dev dum0 nud permanent
echo "command: ip netns exec $NS taskset -c $LCORE $BUILD/bench/linux_udp_dummy 10.201.0.2 $SECS $SIZE 32"
ip netns exec "$NS" taskset -c "$LCORE" "$BUILD/bench/linux_udp_dummy" 10.201.0.2 "$SECS" "$SIZE" 32
