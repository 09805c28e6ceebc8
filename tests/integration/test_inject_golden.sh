#!/usr/bin/env bash
# Injector golden cases: every tests/data/inject/<case>.in.yaml through
# `aigw inject` and `aigw inject --review`; the outputs must equal the
# committed <case>.out.yaml / .patch.json / .warnings.txt, the reply must pass
# check-pod-patch, dryRun must answer the same, python-jsonpatch must turn the
# patch into the same pod, and the patched pod admitted again gets no patch.
. "$AIGW_ROOT/tests/integration/lib.sh"

data=$AIGW_ROOT/tests/data/inject
conformance=$AIGW_SHARED/tools/conformance/run
[ -x "$conformance" ] || fail "conformance checker not found at $conformance"
out=$TMP/out
mkdir -p "$out"
# inject_case.py runs the binary it is given; this wrapper applies $AIGW_WRAP
# (valgrind). Under a wrapper only every 4th case runs wrapped (a case costs
# four aigw runs, about 15 s under valgrind on a loaded machine); the others
# run unwrapped and are checked the same way. The planner's paths also run
# under valgrind in the unit tests.
cat >"$TMP/aigw-wrapped" <<WRAP
#!/bin/sh
if [ "\${CASE_WRAP:-0}" = 1 ]; then exec $AIGW_WRAP "$AIGW" "\$@"; fi
exec "$AIGW" "\$@"
WRAP
chmod +x "$TMP/aigw-wrapped"
cd "$AIGW_ROOT"

n=0 bad=0
for in in "$data"/*.in.yaml; do
  name=$(basename "$in" .in.yaml)
  n=$((n + 1))
  wrap=0
  if [ -z "$AIGW_WRAP" ] || [ $((n % 4)) -eq 1 ]; then wrap=1; fi
  if ! CASE_WRAP=$wrap python3 tests/golden/inject_case.py "$TMP/aigw-wrapped" "$in" "$out" --check "$conformance" \
      >"$out/$name.check" 2>&1; then
    echo "case $name:"; sed 's/^/    /' "$out/$name.check"
    bad=$((bad + 1))
    continue
  fi
  for ext in out.yaml patch.json warnings.txt; do
    if ! diff -u "$data/$name.$ext" "$out/$name.$ext" >"$out/$name.$ext.diff"; then
      echo "case $name: $name.$ext differs from the golden file (make golden regenerates):"
      head -n 40 "$out/$name.$ext.diff" | sed 's/^/    /'
      bad=$((bad + 1))
    fi
  done
done
[ "$n" -ge 30 ] || fail "only $n golden cases (want at least 30)"
[ "$bad" -eq 0 ] || fail "$bad golden check(s) failed out of $n cases"
ok "$n injector golden cases: golden files, check-pod-patch, dryRun, jsonpatch, reinvocation"
