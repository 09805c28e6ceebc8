#!/usr/bin/env bash
# make golden: regenerates docs/policies.md from the CRDs and examples
# (checked by tests/integration/test_policy_docs.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../hack/gen-policy-docs.py"
