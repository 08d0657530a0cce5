#!/usr/bin/env bash
# The one entry point that checks everything: build (strict typecheck), lint, format,
# metrics/dashboard consistency, then the unit, integration and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "typecheck + build (tsc, strict)"
npx tsc -p tsconfig.json

step "lint (eslint)"
npx eslint --max-warnings 0 .

step "format (prettier --check)"
npx prettier --check . >/dev/null || { npx prettier --check . ; exit 1; }

for extra in hack/checks/*.sh; do
  [ -e "$extra" ] || continue
  step "$extra"
  bash "$extra"
done

step "tests (vitest: unit, integration, end-to-end)"
report="$(mktemp -t warmpool-vitest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line, counted from the runner's own JSON report; a skipped test not on
# hack/test-skips.allow (with its reason) fails the run.
node dist/hack/tests/summary.js "$report" hack/test-skips.allow || status=1
exit "$status"
