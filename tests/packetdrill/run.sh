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
#   --tolerance USECS packetdrill's timing tolerance (default: its own,
#                     4 ms, in --so mode; 20 ms in --kernel mode, where
#                     250 Hz timers and a busy 2-core machine add jitter)
#   --xfail FILE      scripts (one name per line, as printed) known to fail
#                     against this stack: their failure is reported as
#                     XFAIL and counted as skipped, a pass as PASS with a
#                     note to take it off the list
#   -v                print packetdrill's whole output for failures
#
# Without script arguments every *.pkt under this folder runs. Scripts under
# a `linux-sysctl/` folder set kernel sysctls in backtick lines: they run in
# --kernel mode only and are skipped in --so mode.
#
# A script can configure the stack with a comment line in its header,
#   // tern-so-flags: syncookies=2
# (KEY=VALUE pairs separated by ';'): --so mode appends them to the flags
# ("local_ip=192.168.0.2;syncookies=2"); --kernel mode sets the equivalent
# sysctl inside the script's own network namespace, never on the host:
#   syncookies=N   tern_stack_conf.tcp_syncookies (0 = on backlog overflow,
#                  1 = never, 2 = always) -> net.ipv4.tcp_syncookies=1, 0, 2
# A key without a kernel equivalent fails the script in --kernel mode.
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
xfail_file=""
jobs=2
retries=0
timeout_s=60
verbose=0
tolerance=""
args=()

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die_skip() { echo "run.sh: SKIP: $*" >&2; exit 77; }

while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) mode=kernel ;;
    --so) mode=so; so_path=${2:?--so needs a PATH.so}; shift ;;
    --so=*) mode=so; so_path=${1#--so=} ;;
    --so-flags) so_flags=${2?}; shift ;;
    --so-flags=*) so_flags=${1#--so-flags=} ;;
    --xfail) xfail_file=${2:?--xfail needs a FILE}; shift ;;
    --junit) junit=${2:?--junit needs a FILE}; shift ;;
    --junit=*) junit=${1#--junit=} ;;
    -j) jobs=${2:?}; shift ;;
    -j*) jobs=${1#-j} ;;
    --retries) retries=${2:?}; shift ;;
    --timeout) timeout_s=${2:?}; shift ;;
    --tolerance) tolerance=${2:?}; shift ;;
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
[ -n "$tolerance" ] || { [ "$mode" = kernel ] && tolerance=20000; }
pd_opts=(--local_ip="$local_ip")
[ -z "$tolerance" ] || pd_opts+=(--tolerance_usecs="$tolerance")

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

# Throwaway network namespace per script: unshare(1) makes one that dies
# with the process; `ip netns` is the fallback.
use_unshare=0
if [ "$mode" = kernel ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  use_unshare=1
fi

# Per-script stack flags: the "// tern-so-flags:" lines of each script's
# leading comment block, joined with ';' (plain bash: no forks).
script_flags=()
for s in "${scripts[@]}"; do
  f=""
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "//"*tern-so-flags:*) v=${line#*tern-so-flags:}; v=${v//[[:space:]]/}; f=${f:+$f;}$v ;;
      "//"*|"") ;;
      *) break ;;
    esac
  done <"$s"
  script_flags+=("$f")
done

# The sysctl assignments (net.ipv4.x=v ...) standing for script flags $1
# in --kernel mode; returns 1 with the reason in kernel_why when a flag has
# no kernel equivalent.
kernel_sysctls=""; kernel_why=""
kernel_equiv() {
  local kv k v IFS=';'
  kernel_sysctls=""; kernel_why=""
  for kv in $1; do
    [ -n "$kv" ] || continue
    k=${kv%%=*}; v=${kv#*=}
    case "$k=$v" in
      syncookies=0) kernel_sysctls+=" net.ipv4.tcp_syncookies=1" ;;
      syncookies=1) kernel_sysctls+=" net.ipv4.tcp_syncookies=0" ;;
      syncookies=2) kernel_sysctls+=" net.ipv4.tcp_syncookies=2" ;;
      *) kernel_why="tern-so-flags: $kv has no --kernel equivalent"; return 1 ;;
    esac
  done
}

# Runs "$@" after setting the sysctls in $PD_SYSCTLS, refusing to when it
# is still in the host's network namespace ($PD_HOST_NETNS): started by
# unshare -n or ip netns exec, so the sysctls are the namespace's own.
in_ns_prog='
  if [ -n "$PD_SYSCTLS" ]; then
    [ "$(readlink /proc/self/ns/net)" != "$PD_HOST_NETNS" ] ||
      { echo "run.sh: not in a new network namespace: sysctls not set" >&2; exit 125; }
    for kv in $PD_SYSCTLS; do
      k=${kv%%=*}
      printf "%s\n" "${kv#*=}" >"/proc/sys/${k//.//}" ||
        { echo "run.sh: cannot set $kv in the namespace" >&2; exit 125; }
    done
  fi
  exec "$@"'
host_netns=""
[ "$mode" = kernel ] && host_netns=$(readlink /proc/self/ns/net)

# Names shown for the scripts: their paths under tests/packetdrill when
# they are there. (Plain bash below: forking is slow on small VMs.)
names=(); dirs=(); bases=()
for s in "${scripts[@]}"; do
  case "$s" in /*) abs=$s ;; *) abs=$PWD/$s ;; esac
  abs=${abs//\/.\//\/}
  dirs+=("${abs%/*}"); bases+=("${abs##*/}")
  case "$abs" in "$here"/*) names+=("${abs#"$here"/}") ;; *) names+=("$s") ;; esac
done

# packetdrill dlopens the stack with RTLD_DEEPBIND: DPDK's EAL, loaded as
# the object's dependency, would then see libc's own optind/optarg while
# libc's getopt_long uses packetdrill's copies, and EAL's argument parse
# breaks (options ignored, NULL optarg). Loaded up front, EAL binds to the
# same copies as everyone.
so_preload=""
if [ "$mode" = so ]; then
  so_preload=$(ldd "$so_path" 2>/dev/null | awk '/librte_eal/ {print $3; exit}')
fi

# Runs script number $1 once; output to $2; returns packetdrill's status.
run_once() {
  local i=$1 out=$2 ns rc flags=$so_flags
  if [ "$mode" = so ]; then
    [ -z "${script_flags[$i]}" ] || flags+=";${script_flags[$i]}"
    ( cd "${dirs[$i]}" && LD_PRELOAD="$so_preload" exec timeout "$timeout_s" "$pd" --so_filename="$so_path" \
        "${pd_opts[@]}" --so_flags="$flags" "${bases[$i]}" ) >"$out" 2>&1
    return
  fi
  kernel_equiv "${script_flags[$i]}" || { echo "$kernel_why" >"$out"; return 126; }
  export PD_SYSCTLS=$kernel_sysctls PD_HOST_NETNS=$host_netns
  if [ "$use_unshare" = 1 ]; then
    ( cd "${dirs[$i]}" && exec timeout "$timeout_s" unshare -n \
        bash -c "$in_ns_prog" in-ns "$pd" "${pd_opts[@]}" "${bases[$i]}" ) >"$out" 2>&1
  else
    ns="pd$$-$i-$RANDOM"
    ip netns add "$ns" || return 125
    ( cd "${dirs[$i]}" && exec timeout "$timeout_s" ip netns exec "$ns" \
        bash -c "$in_ns_prog" in-ns "$pd" "${pd_opts[@]}" "${bases[$i]}" ) >"$out" 2>&1
    rc=$?
    ip netns del "$ns"
    return $rc
  fi
}

is_xfail() {
  [ -n "$xfail_file" ] && grep -qxF -- "$1" "$xfail_file"
}

# Runs script number $1 and writes results/$1.{status,reason,time,out}.
run_one() {
  local i=$1 name=${names[$1]} status=PASS try=0 rc=0 t0 t1 reason="" line out
  out="$results/$i.out"
  t0=$EPOCHREALTIME
  if [ "$mode" = so ] && [[ "/$name" == */linux-sysctl/* ]]; then
    status=SKIP; reason="sets Linux sysctls: --kernel only"; : >"$out"
  else
    while :; do
      run_once "$i" "$out"; rc=$?
      [ $rc -eq 0 ] && break
      try=$((try + 1))
      [ $try -le "$retries" ] || break
    done
    if [ $rc -ne 0 ]; then
      status=FAIL
      [ $rc -eq 124 ] && reason="timed out after ${timeout_s}s"
      # packetdrill names the failing line as "FILE.pkt:LINE: ...".
      if [ -z "$reason" ]; then
        while IFS= read -r line; do
          case "$line" in *.pkt:[0-9]*:*) reason=$line; break ;; esac
          [ -n "$reason" ] || [ -z "${line//[[:space:]]/}" ] || reason=$line
        done <"$out"
      fi
      [ -n "$reason" ] || reason="exit status $rc"
      if is_xfail "$name"; then
        status=XFAIL; reason="known failure (${xfail_file##*/}): $reason"
      fi
    elif [ $try -gt 0 ]; then
      reason="passed on try $((try + 1))"
    fi
    if [ "$status" = PASS ] && is_xfail "$name"; then
      reason="passes now: take it off ${xfail_file##*/}"
    fi
  fi
  t1=$EPOCHREALTIME
  t0=${t0/./}; t1=${t1/./}
  printf '%s\n' "$status" >"$results/$i.status"
  printf '%s\n' "$reason" >"$results/$i.reason"
  printf '%d.%03d\n' $(((t1 - t0) / 1000000)) $(((t1 - t0) / 1000 % 1000)) >"$results/$i.time"
  # One write per line so parallel jobs do not interleave.
  if [ -n "$reason" ]; then
    printf '%s %s  (%s)\n' "$status" "$name" "$reason"
  else
    printf '%s %s\n' "$status" "$name"
  fi
  if [ "$status" = FAIL ] && [ "$verbose" = 1 ]; then
    while IFS= read -r line; do printf '    %s\n' "$line"; done <"$out"
  fi
}

start=$EPOCHSECONDS
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
  st=FAIL; [ -f "$results/$i.status" ] && st=$(<"$results/$i.status")
  case "$st" in
    PASS) pass=$((pass + 1)) ;;
    SKIP|XFAIL) skip=$((skip + 1)) ;;
    *) fail=$((fail + 1)) ;;
  esac
done
elapsed=$((EPOCHSECONDS - start))

xml_escape() {
  local s=$1
  s=${s//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\"/&quot;}
  printf '%s' "${s//[$'\001'-$'\010'$'\013'$'\014'$'\016'-$'\037']/}"
}
if [ -n "$junit" ]; then
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    printf '<testsuites>\n<testsuite name="packetdrill-%s" tests="%d" failures="%d" skipped="%d" time="%d">\n' \
      "$mode" "${#scripts[@]}" "$fail" "$skip" "$elapsed"
    for i in "${!scripts[@]}"; do
      name=${names[$i]}
      cls=packetdrill; [[ "$name" == */* ]] && cls="packetdrill.${name%/*}"
      cls=${cls//\//.}
      st=FAIL; [ -f "$results/$i.status" ] && st=$(<"$results/$i.status")
      tm=0; [ -f "$results/$i.time" ] && tm=$(<"$results/$i.time")
      rs=""; [ -f "$results/$i.reason" ] && rs=$(<"$results/$i.reason")
      printf '  <testcase classname="%s" name="%s" time="%s">\n' \
        "$(xml_escape "$cls")" "$(xml_escape "${name##*/}")" "$tm"
      if [ "$st" = FAIL ]; then
        body=""; [ -f "$results/$i.out" ] && body=$(<"$results/$i.out")
        printf '    <failure message="%s">%s</failure>\n' "$(xml_escape "$rs")" "$(xml_escape "$body")"
      elif [ "$st" = SKIP ] || [ "$st" = XFAIL ]; then
        printf '    <skipped message="%s"/>\n' "$(xml_escape "$rs")"
      fi
      printf '  </testcase>\n'
    done
    printf '</testsuite>\n</testsuites>\n'
  } >"$junit"
fi

echo "packetdrill ($mode): ${elapsed}s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
