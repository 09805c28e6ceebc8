#!/usr/bin/env bash
# make bench: builds an optimized aigw and compares it with nginx serving a
# fixed reply of the same size over TLS, then measures the reconciler.
# Writes bench/results.md. Loopback only; every process is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh --bench
make -s BUILD=build-bench OPT="-O2 -DNDEBUG" all >/dev/null
exec python3 bench/run_bench.py --aigw build-bench/aigw --out bench/out --results bench/results.md "$@"
