#!/usr/bin/env bash
# Builds a libFuzzer target with clang (the whole stack instrumented:
# -fsanitize=fuzzer-no-link plus ASan) in build-fuzz/ and runs it for N
# seconds (default 60):
#
#   scripts/fuzz.sh [--install] [--target frame|tcp] [SECONDS] [libFuzzer args...]
#
#   frame (the default): tern_fuzz_frame, one received frame per input
#          (tests/fuzz/fuzz_frame.h), seeds tests/fuzz/corpus
#   tcp:   tern_fuzz_tcp, a whole TCP conversation per input: segments
#          built around the connection's sequence numbers, time, and the
#          application's calls (tests/fuzz/fuzz_tcp.h), seeds
#          tests/fuzz/tcp_corpus
#
# What the fuzzer finds grows a scratch corpus (build-fuzz/fuzz-corpus for
# frame, build-fuzz/fuzz-corpus-tcp for tcp), never the committed seeds;
# crashes land in build-fuzz/fuzz-artifacts/ (fuzz-artifacts-tcp/ for tcp). Replay one with
# TERN_FUZZ_TRACE=1 build-fuzz/tests/tern_fuzz_tcp FILE to see its ops.
#
# Needs clang and its fuzzer runtime. Not in the main install list; on
# Debian 12: apt-get install clang libclang-rt-14-dev
# (pass --install to have this script do that).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=frame
while [ $# -gt 0 ]; do
  case "$1" in
    --install)
      shift
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
      $SUDO apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
      ;;
    --target)
      TARGET=${2:-}
      shift 2 || { echo "fuzz.sh: --target needs frame or tcp" >&2; exit 2; }
      ;;
    --target=*)
      TARGET=${1#--target=}
      shift
      ;;
    *)
      break
      ;;
  esac
done
case "$TARGET" in
  frame) BIN=tern_fuzz_frame SEEDS=tests/fuzz/corpus SUFFIX="" MAXLEN=2048 ;;
  tcp) BIN=tern_fuzz_tcp SEEDS=tests/fuzz/tcp_corpus SUFFIX=-tcp MAXLEN=4096 ;;
  *) echo "fuzz.sh: unknown target '$TARGET' (frame or tcp)" >&2; exit 2 ;;
esac
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
ninja -C "$BUILD" "tests/$BIN"

# libFuzzer adds what it finds to the first corpus directory: keep the
# committed seeds clean and grow a scratch corpus instead.
WORK="$BUILD/fuzz-corpus$SUFFIX"
ART="$BUILD/fuzz-artifacts$SUFFIX/"
mkdir -p "$WORK" "$ART"
echo "fuzz.sh: running $BIN for ${SECS}s (crashes land in $ART)"
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
  "$BUILD/tests/$BIN" "$WORK" "$SEEDS" \
    -max_total_time="$SECS" -max_len="$MAXLEN" -artifact_prefix="$ART" \
    -print_final_stats=1 "$@"
