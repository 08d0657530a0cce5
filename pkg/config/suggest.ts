/**
 * Knows how to guess which known field name a typo meant (`minwarm` → `minWarm`,
 * `replenishTreshold` → `replenishThreshold`), so an unknown-field error can say what to write.
 */
export function closestName(input: string, known: readonly string[]): string | undefined {
  const needle = normalise(input);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = distance(needle, normalise(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  // A third of the name may be wrong; beyond that the guess is noise, not help.
  const allowed = Math.max(1, Math.floor(needle.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Case, `_` and `-` carry no meaning in a field-name typo. */
function normalise(s: string): string {
  return s.toLowerCase().replace(/[_\-\s]/g, "");
}

/** Levenshtein distance, two rows. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
