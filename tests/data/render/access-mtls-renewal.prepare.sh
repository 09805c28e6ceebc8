#!/usr/bin/env bash
# Existing issuer and a 90-day leaf, rendered 61 days later (past 2/3 of its
# life): the issuer is kept, the leaf is reissued. Prints the extra flag.
set -euo pipefail
"$(dirname "$0")/_make_gateway_certs.sh" "$1" 90
echo "--now $(date -u -d '+61 days' +%Y-%m-%dT%H:%M:%SZ)"
