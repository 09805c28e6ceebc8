#!/usr/bin/env bash
# Regenerates tests/data/render/<case>.out.yaml from <case>.yaml for every
# case (see render_lib.sh for objects folders and hooks). Generated key
# material is masked (render_mask.py), so the files are stable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../data/render
AIGW=${AIGW:-$here/../../aigw}
AIGW_WRAP=${AIGW_WRAP:-}
# shellcheck source=render_lib.sh
. "$here/render_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for yaml in "$data"/*.yaml; do
  case $yaml in *.out.yaml) continue ;; esac
  TMPDIR=$tmp render_case "$yaml" "$tmp/raw.yaml"
  python3 "$here/render_mask.py" <"$tmp/raw.yaml" >"${yaml%.yaml}.out.yaml"
  n=$((n + 1))
done
echo "render: $n golden files written"
