#!/usr/bin/env bash
# tern's packetdrill conformance runner.
#
#   run.sh --kernel [options] [scripts or folders...]
#       Runs the scripts against the Linux kernel (packetdrill's tun mode),
#       each in a throwaway network namespace. Needs root and iproute2.
#   run.sh --so PATH.so [options] [scripts or folders...]
#       Runs the scripts against a stack loaded from PATH.so (packetdrill's
#       shared-object mode, virtual clock), local address 192.168.0.2.
#
# Options:
#   --junit FILE      also write a JUnit XML report to FILE
#   --so-flags STR    string handed to the shared object's init function
#                     (default: "local_ip=192.168.0.2")
#   -j N              scripts run at once (default 2)
#   --retries N       run a failing script up to N more times (default 0)
#   --timeout SECS    per-script limit (default 60)
#   -v                print packetdrill's whole output for failures
#
# Without script arguments every *.pkt under this folder runs. Scripts under
# a `linux-sysctl/` folder set kernel sysctls in backtick lines: they run in
# --kernel mode only and are skipped in --so mode.
#
# packetdrill is $PACKETDRILL, else build/packetdrill/packetdrill (built from
# ../shared/third_party/packetdrill beside the repository when missing).
# Exits 0 when every script passed, 1 when one failed, 77 when it cannot run
# (no packetdrill and no source to build it, not root for --kernel, ...).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
local_ip=192.168.0.2

mode=""
so_path=""
so_flags="local_ip=$local_ip"
junit=""
jobs=2
retries=0
timeout_s=60
verbose=0
args=()

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }
die_skip() { echo "run.sh: SKIP: $*" >&2; exit 77; }

while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) mode=kernel ;;
    --so) mode=so; so_path=${2:?--so needs a PATH.so}; shift ;;
    --so=*) mode=so; so_path=${1#--so=} ;;
    --so-flags) so_flags=${2?}; shift ;;
    --so-flags=*) so_flags=${1#--so-flags=} ;;
    --junit) junit=${2:?--junit needs a FILE}; shift ;;
    --junit=*) junit=${1#--junit=} ;;
    -j) jobs=${2:?}; shift ;;
    -j*) jobs=${1#-j} ;;
    --retries) retries=${2:?}; shift ;;
    --timeout) timeout_s=${2:?}; shift ;;
    -v|--verbose) verbose=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ -n "$mode" ] || { usage >&2; exit 2; }

# --- packetdrill -----------------------------------------------------------
find_packetdrill() {
  if [ -n "${PACKETDRILL:-}" ]; then
    [ -x "$PACKETDRILL" ] || die_skip "PACKETDRILL=$PACKETDRILL is not an executable"
    pd=$PACKETDRILL; return
  fi
  pd="$repo/build/packetdrill/packetdrill"
  local src="$repo/../shared/third_party/packetdrill"
  if [ -x "$pd" ]; then
    # Rebuild when the sources are newer than the cached binary.
    if [ -d "$src/src" ] && [ -n "$(find "$src/src" -newer "$pd" -type f -print -quit)" ]; then :; else return; fi
  fi
  [ -x "$src/build.sh" ] || die_skip "no packetdrill: set PACKETDRILL, or put its source at $src"
  echo "run.sh: building packetdrill from $src into build/packetdrill/" >&2
  "$src/build.sh" "$repo/build/packetdrill" >/dev/null ||
    die_skip "building packetdrill failed (needs gcc make bison flex)"
}
find_packetdrill

if [ "$mode" = kernel ]; then
  [ "$(id -u)" = 0 ] || die_skip "--kernel needs root (tun device and network namespaces)"
  command -v ip >/dev/null || die_skip "--kernel needs iproute2's ip"
  [ -c /dev/net/tun ] || die_skip "--kernel needs /dev/net/tun"
else
  [ -f "$so_path" ] || { echo "run.sh: $so_path: no such shared object" >&2; exit 2; }
  so_path=$(cd "$(dirname "$so_path")" && pwd)/$(basename "$so_path")
fi
command -v timeout >/dev/null || die_skip "needs coreutils' timeout"

# --- the scripts -----------------------------------------------------------
scripts=()
[ ${#args[@]} -gt 0 ] || args=("$here")
for a in "${args[@]}"; do
  if [ -d "$a" ]; then
    while IFS= read -r f; do scripts+=("$f"); done < <(find "$a" -name '*.pkt' | sort)
  elif [ -f "$a" ]; then
    scripts+=("$a")
  else
    echo "run.sh: $a: no such script or folder" >&2; exit 2
  fi
done
[ ${#scripts[@]} -gt 0 ] || { echo "run.sh: no scripts found" >&2; exit 2; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# name shown for a script: its path under tests/packetdrill when it is there
show_name() {
  local abs
  abs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  case "$abs" in "$here"/*) echo "${abs#"$here"/}" ;; *) echo "$1" ;; esac
}

# Runs one script once; output to $2, exit status returned.
run_once() {
  local script=$1 out=$2 dir base ns rc
  dir=$(cd "$(dirname "$script")" && pwd); base=$(basename "$script")
  if [ "$mode" = kernel ]; then
    ns="pd$$-$3-$RANDOM"
    ip netns add "$ns" || return 125
    ip -n "$ns" link set lo up
    ( cd "$dir" && timeout "$timeout_s" ip netns exec "$ns" \
        "$pd" --local_ip="$local_ip" "$base" ) >"$out" 2>&1
    rc=$?
    ip netns del "$ns"
  else
    ( cd "$dir" && timeout "$timeout_s" "$pd" --so_filename="$so_path" \
        --local_ip="$local_ip" --so_flags="$so_flags" "$base" ) >"$out" 2>&1
    rc=$?
  fi
  return $rc
}

# Runs script number $1 and writes results/$1.{status,out,time}.
run_one() {
  local i=$1 script=${scripts[$1]} name status="PASS" try=0 rc t0 t1 reason=""
  name=$(show_name "$script")
  if [ "$mode" = so ] && [[ "/$name" == */linux-sysctl/* ]]; then
    status=SKIP; reason="sets Linux sysctls: --kernel only"; : >"$results/$i.out"; t0=0; t1=0
  else
    t0=$(date +%s.%N)
    while :; do
      run_once "$script" "$results/$i.out" "$i"; rc=$?
      [ $rc -eq 0 ] && break
      try=$((try + 1))
      [ $try -le "$retries" ] || break
    done
    t1=$(date +%s.%N)
    if [ $rc -ne 0 ]; then
      status=FAIL
      [ $rc -eq 124 ] && reason="timed out after ${timeout_s}s"
      # packetdrill names the failing line as "FILE.pkt:LINE: ...".
      [ -n "$reason" ] || reason=$(grep -m1 -E '\.pkt:[0-9]+:' "$results/$i.out")
      [ -n "$reason" ] || reason=$(grep -m1 -v '^[[:space:]]*$' "$results/$i.out")
      [ -n "$reason" ] || reason="exit status $rc"
    elif [ $try -gt 0 ]; then
      reason="passed on try $((try + 1))"
    fi
  fi
  printf '%s\n' "$status" >"$results/$i.status"
  printf '%s\n' "$reason" >"$results/$i.reason"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$results/$i.time"
  # One write per line so parallel jobs do not interleave.
  if [ -n "$reason" ]; then
    printf '%s %s  (%s)\n' "$status" "$name" "$reason"
  else
    printf '%s %s\n' "$status" "$name"
  fi
  if [ "$status" = FAIL ] && [ "$verbose" = 1 ]; then sed 's/^/    /' "$results/$i.out"; fi
}

start=$(date +%s)
echo "packetdrill: $pd ($mode mode${so_path:+, $so_path}), ${#scripts[@]} scripts, $jobs jobs"
running=0
for i in "${!scripts[@]}"; do
  run_one "$i" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

pass=0; fail=0; skip=0
for i in "${!scripts[@]}"; do
  case "$(cat "$results/$i.status" 2>/dev/null)" in
    PASS) pass=$((pass + 1)) ;;
    SKIP) skip=$((skip + 1)) ;;
    *) fail=$((fail + 1)) ;;
  esac
done
elapsed=$(( $(date +%s) - start ))

if [ -n "$junit" ]; then
  xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' | tr -d '\000-\010\013\014\016-\037'; }
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    printf '<testsuites>\n<testsuite name="packetdrill-%s" tests="%d" failures="%d" skipped="%d" time="%d">\n' \
      "$mode" "${#scripts[@]}" "$fail" "$skip" "$elapsed"
    for i in "${!scripts[@]}"; do
      name=$(show_name "${scripts[$i]}")
      cls="packetdrill.$(dirname "$name" | tr '/' '.')"
      st=$(cat "$results/$i.status" 2>/dev/null || echo FAIL)
      printf '  <testcase classname="%s" name="%s" time="%s">\n' \
        "$(printf '%s' "$cls" | xml_escape)" "$(basename "$name" | xml_escape)" "$(cat "$results/$i.time" 2>/dev/null || echo 0)"
      if [ "$st" = FAIL ]; then
        printf '    <failure message="%s"><![CDATA[' "$(xml_escape <"$results/$i.reason")"
        sed 's/]]>/]]]]><![CDATA[>/g' "$results/$i.out" | tr -d '\000-\010\013\014\016-\037'
        printf ']]></failure>\n'
      elif [ "$st" = SKIP ]; then
        printf '    <skipped message="%s"/>\n' "$(xml_escape <"$results/$i.reason")"
      fi
      printf '  </testcase>\n'
    done
    printf '</testsuite>\n</testsuites>\n'
  } >"$junit"
fi

echo "packetdrill ($mode): ${elapsed}s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
