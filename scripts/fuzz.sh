#!/usr/bin/env bash
# Builds the libFuzzer target tern_fuzz_frame with clang (the whole stack
# instrumented: -fsanitize=fuzzer-no-link plus ASan) in build-fuzz/ and
# runs it over tests/fuzz/corpus for N seconds (default 60).
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer args...]
#
# Needs clang and its fuzzer runtime. Not in the main install list; on
# Debian 12: apt-get install clang libclang-rt-14-dev
# (pass --install to have this script do that).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--install" ]; then
  shift
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
fi
SECS=${1:-60}
shift || true

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang not found (apt-get install clang libclang-rt-14-dev, or run with --install)" >&2
  exit 1
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}\n' > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" 2>/dev/null; then
  echo "fuzz.sh: clang has no libFuzzer runtime (apt-get install libclang-rt-14-dev)" >&2
  exit 1
fi

BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ CFLAGS=-fsanitize=fuzzer-no-link \
    meson setup "$BUILD" -Db_sanitize=address -Db_lundef=false -Dwerror=false \
      -Dbuildtype=debugoptimized
fi
ninja -C "$BUILD" tests/tern_fuzz_frame

# libFuzzer adds what it finds to the first corpus directory: keep the
# committed seeds clean and grow a scratch corpus instead.
WORK="$BUILD/fuzz-corpus"
ART="$BUILD/fuzz-artifacts/"
mkdir -p "$WORK" "$ART"
echo "fuzz.sh: running tern_fuzz_frame for ${SECS}s (crashes land in $ART)"
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
  "$BUILD/tests/tern_fuzz_frame" "$WORK" tests/fuzz/corpus \
    -max_total_time="$SECS" -max_len=2048 -artifact_prefix="$ART" \
    -print_final_stats=1 "$@"
