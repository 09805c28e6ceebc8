#!/usr/bin/env bash
# Installs the Debian packages aigw's build, tests and demo need.
# Idempotent: when every package is already installed it only checks and exits.
# Usage: hack/install-deps.sh [--bench]   (--bench adds nginx and wrk for make bench)
set -euo pipefail

packages=(
  # build
  gcc make pkg-config
  libmicrohttpd-dev libgnutls28-dev libjansson-dev libyaml-dev
  libcurl4-openssl-dev libssl-dev libcunit1-dev
  # lint, sanitizers, fuzzing
  clang clang-tidy clang-format cppcheck valgrind
  # tests and demo: TLS clients, metrics checker, conformance checker, kubectl unpacking
  curl openssl ca-certificates python3 python3-jsonpatch python3-jsonschema python3-yaml
  prometheus unzip procps
)
# node + npm run the conformance checker; a machine may already carry a node
# build that bundles npm (NodeSource), which conflicts with Debian's npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [ "${1:-}" = "--bench" ]; then
  packages+=(nginx-light wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# prometheus (for promtool) would otherwise start a daemon via invoke-rc.d where
# a service manager exists; policy-rc.d is not touched, we only install.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
