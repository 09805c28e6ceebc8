#!/usr/bin/env bash
# Runs the integration tests: every tests/integration/test_*.sh (or the names
# given), each in its own temporary folder with a time limit. Prints one line a
# test and "integration: N passed, N failed".
# Environment: AIGW (binary), AIGW_SHARED (../shared), AIGW_WRAP (e.g. valgrind).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export AIGW=${AIGW:-$root/aigw}
export AIGW_SHARED=$(cd "${AIGW_SHARED:-$root/../shared}" && pwd)
export AIGW_ROOT=$root
export AIGW_WRAP=${AIGW_WRAP:-}
limit=${AIGW_TEST_TIMEOUT:-600}

if [ $# -gt 0 ]; then
  tests=()
  for n in "$@"; do tests+=("$here/test_$n.sh"); done
else
  tests=("$here"/test_*.sh)
fi

passed=0 failed=0 failed_names=()
for t in "${tests[@]}"; do
  name=$(basename "$t" .sh); name=${name#test_}
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/aigw-it-$name.XXXXXX")
  start=$(date +%s)
  if (cd "$tmp" && AIGW_TMP=$tmp timeout -k 10 "$limit" bash "$t") >"$tmp/log" 2>&1; then
    passed=$((passed + 1)); echo "PASS $name ($(( $(date +%s) - start ))s)"
    rm -rf "$tmp"
  else
    failed=$((failed + 1)); failed_names+=("$name")
    echo "FAIL $name ($(( $(date +%s) - start ))s), log follows:"
    tail -n 60 "$tmp/log" | sed 's/^/    /'
  fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
