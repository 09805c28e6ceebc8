#!/usr/bin/env bash
# make golden: regenerates every golden file by running each
# tests/golden/regen_*.sh (one per golden family: inject, render, ...).
# Review the result with `git diff tests/data/`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export AIGW=${AIGW:-$here/../../aigw}
for s in "$here"/regen_*.sh; do
  [ -e "$s" ] || continue
  echo "golden: $(basename "$s")"
  bash "$s"
done
