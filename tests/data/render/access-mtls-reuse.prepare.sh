#!/usr/bin/env bash
# Existing issuer and a fresh 90-day server leaf: both are reused as they are.
set -euo pipefail
"$(dirname "$0")/_make_gateway_certs.sh" "$1" 90
