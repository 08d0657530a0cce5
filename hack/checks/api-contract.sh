#!/usr/bin/env bash
# The committed OpenAPI document and desired-state JSON Schema match what the code generates
# (hack/checks/api-contract.ts; `--write` regenerates). Runs the compiled program.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -f dist/hack/checks/api-contract.js ] || npx tsc -p tsconfig.json
node dist/hack/checks/api-contract.js "$@"
