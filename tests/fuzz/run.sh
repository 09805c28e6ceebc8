#!/usr/bin/env bash
# Runs every fuzz target built in DIR for SECONDS each, starting from a copy
# of its seed corpus (tests/fuzz/corpus/<target>/; the checked-in seeds are
# never modified). Fails on the first crash, leak or timeout.
# Usage: tests/fuzz/run.sh DIR SECONDS
set -euo pipefail
dir=${1:?usage: run.sh DIR SECONDS}
secs=${2:?usage: run.sh DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/aigw-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
found=0
for bin in "$dir"/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  found=$((found + 1))
  corpus="$work/$name"
  mkdir -p "$corpus" "$work/$name-artifacts"
  if [ -d "$here/corpus/$name" ]; then
    cp -R "$here/corpus/$name/." "$corpus/"
  fi
  echo "fuzz: $name for ${secs}s ($(find "$corpus" -type f | wc -l) seeds)"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 \
       -artifact_prefix="$work/$name-artifacts/" "$corpus" >"$work/$name.log" 2>&1; then
    tail -n 40 "$work/$name.log"
    mkdir -p "$here/../tmp"
    cp "$work/$name-artifacts"/* "$here/../tmp/" 2>/dev/null || true
    echo "fuzz: $name FAILED (reproducers copied to tests/tmp/)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$name.log" | tail -n 1 || true
done
[ "$found" -gt 0 ] || { echo "fuzz: no fuzz_* binaries in $dir" >&2; exit 1; }
echo "fuzz: $found target(s) passed"
