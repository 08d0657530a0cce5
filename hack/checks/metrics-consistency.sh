#!/usr/bin/env bash
# Every exported metric is charted or alerted on, and every series a dashboard or rule reads
# is exported (hack/checks/consistency). Then promtool validates the rules and runs their unit
# tests when it is installed. Runs the compiled program: check-everything builds dist/ first.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -f dist/hack/checks/metrics-consistency.js ] || npx tsc -p tsconfig.json
node dist/hack/checks/metrics-consistency.js "$@"

if command -v promtool >/dev/null 2>&1; then
  promtool check rules deploy/prometheus/rules/*.yml >/dev/null
  promtool test rules deploy/prometheus/tests/*.yml >/dev/null
  echo "promtool: rules valid, unit tests pass"
else
  echo "promtool not installed: rule validation left to the test suite's environment" >&2
fi
