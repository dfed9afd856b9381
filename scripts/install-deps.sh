#!/usr/bin/env bash
# Installs every Debian package tern needs, only when something is missing.
# Idempotent: a machine that has everything returns at once.
set -euo pipefail

PKGS=(
  build-essential meson ninja-build pkg-config
  dpdk dpdk-dev libdpdk-dev libnuma-dev libpcap-dev libbsd-dev
  libzmq3-dev libjansson-dev libgtest-dev
  python3 python3-zmq python3-pytest
  iproute2 iputils-ping tcpdump netcat-openbsd procps
  bison flex liblwip-dev curl nginx wrk hping3
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
