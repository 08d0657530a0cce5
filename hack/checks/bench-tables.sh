#!/usr/bin/env bash
# The README's "Measured" table and targets, docs/reconciler.md's bench table and the README's
# sizing table are what docs/bench.json and docs/figures/comparison.md generate
# (hack/checks/bench-tables.ts; `--write` regenerates). Runs the compiled program.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -f dist/hack/checks/bench-tables.js ] || npx tsc -p tsconfig.json
node dist/hack/checks/bench-tables.js "$@"
