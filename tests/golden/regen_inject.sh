#!/usr/bin/env bash
# Regenerates tests/data/inject/<case>.out.yaml, <case>.patch.json and
# <case>.warnings.txt from every <case>.in.yaml (+ optional <case>.args) with
# `aigw inject` (see inject_case.py). Review the result with git diff.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
AIGW=${AIGW:-$root/aigw}
data=tests/data/inject
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
n=0
for in in "$data"/*.in.yaml; do
  name=$(basename "$in" .in.yaml)
  python3 "$here/inject_case.py" "$AIGW" "$in" "$tmp"
  for ext in out.yaml patch.json warnings.txt; do
    cp "$tmp/$name.$ext" "$data/$name.$ext"
  done
  n=$((n + 1))
done
echo "inject: $n golden cases written"
