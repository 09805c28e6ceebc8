#!/usr/bin/env bash
# make soak: 10 minutes (SOAK_SECONDS) of paced admission traffic with
# certificate rotation and bad requests mixed in; see bench/soak.py.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh --bench
make -s BUILD=build-bench OPT="-O2 -DNDEBUG" all >/dev/null
exec python3 bench/soak.py --aigw build-bench/aigw --out bench/out/soak "$@"
