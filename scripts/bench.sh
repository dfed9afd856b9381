#!/usr/bin/env bash
# Runs the UDP send-path benchmark on net_null (and the two-stack loopback
# over the in-memory wire) with sane defaults and prints the figures.
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
ninja -C "$BUILD" bench/tern_bench_udp_null >/dev/null

echo "== tern_bench_udp_null: ${SECS}s per figure, ${SIZE}-byte frames, lcore $LCORE, $(nproc) cores"
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
exec "$BUILD/bench/tern_bench_udp_null" \
  --no-huge --no-shconf --no-pci -m 512 -l "$LCORE" --no-telemetry \
  --vdev net_null0 --log-level=lib.eal:error \
  -- -t "$SECS" -s "$SIZE"
