#!/usr/bin/env bash
# The committed sizing figures (docs/figures: comparison.md and the charts, from which the
# README's sizing table is generated) are what the simulator generates now: reruns
# `warmpool sim --figures` (seed 1, deterministic) into a scratch directory and fails, showing the
# difference, when any committed file differs. Several minutes of CPU, so it is not part of
# `npm test` (which checks the README table against comparison.md: hack/checks/bench-tables.sh).
#
#   bash hack/check-sizing-figures.sh            check
#   bash hack/check-sizing-figures.sh --write    regenerate docs/figures
#   FIGURES_DIR=<dir> bash hack/check-sizing-figures.sh   check a copy instead of docs/figures
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/cmd/warmpool.js ] || npx tsc -p tsconfig.json
if [ "${1:-}" = "--write" ]; then
  node dist/cmd/warmpool.js sim --figures docs/figures >/dev/null
  node dist/hack/checks/bench-tables.js --write
  exit 0
fi
out="$(mktemp -d -t warmpool-figures-XXXXXX)"
trap 'rm -rf "$out"' EXIT
node dist/cmd/warmpool.js sim --figures "$out" >/dev/null
status=0
for f in "${FIGURES_DIR:-docs/figures}"/*; do
  name="$(basename "$f")"
  case "$name" in *.md | *.svg) ;; *) continue ;; esac
  if ! cmp -s "$f" "$out/$name"; then
    echo "sizing figures: $f differs from what \`warmpool sim --figures\` generates now:" >&2
    diff -u "$f" "$out/$name" | head -40 >&2 || true
    status=1
  fi
done
[ "$status" = 0 ] && echo "sizing figures: ${FIGURES_DIR:-docs/figures} matches a fresh \`warmpool sim --figures\`"
exit "$status"
