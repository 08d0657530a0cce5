/**
 * Poisson tail arithmetic for the buffer policy. Knows how to find the smallest k whose
 * cumulative probability reaches a level, for means from 0 up to thousands of tasks, without
 * overflow (terms are built by recurrence from the mode in log space).
 */

/** P(N ≤ k) for N ~ Poisson(mean). */
export function poissonCdf(k: number, mean: number): number {
  if (k < 0) return 0;
  if (mean <= 0) return 1;
  let term = Math.exp(-mean);
  if (term > 0) {
    let sum = term;
    for (let i = 1; i <= k; i++) {
      term *= mean / i;
      sum += term;
    }
    return Math.min(1, sum);
  }
  // Large mean: e^-mean underflows. Sum outwards from the mode in log space.
  const mode = Math.floor(mean);
  const logMode = mode * Math.log(mean) - mean - logFactorial(mode);
  let sum = 0;
  let t = Math.exp(logMode);
  if (k >= mode) {
    sum = t;
    for (let i = mode + 1; i <= k; i++) {
      t *= mean / i;
      sum += t;
    }
    // Terms below the mode.
    t = Math.exp(logMode);
    for (let i = mode; i > 0 && t > 1e-300; i--) {
      t *= i / mean;
      sum += t;
    }
    return Math.min(1, sum);
  }
  t = Math.exp(logMode);
  for (let i = mode; i > k; i--) t *= i / mean;
  for (let i = k; i >= 0 && t > 1e-300; i--) {
    sum += t;
    t *= i / mean;
  }
  return Math.min(1, sum);
}

/** Smallest k ≥ 0 with P(N ≤ k) ≥ level, for N ~ Poisson(mean). */
export function poissonQuantile(level: number, mean: number): number {
  if (!(level >= 0 && level < 1)) throw new Error(`poisson level must be in [0, 1): got ${level}`);
  if (!(mean >= 0) || !Number.isFinite(mean))
    throw new Error(`poisson mean must be finite and ≥ 0: got ${mean}`);
  if (mean === 0) return 0;
  // One walk that accumulates the cdf: O(mean) terms, no repeated sums.
  let k = Math.max(0, Math.floor(mean - 8 * Math.sqrt(mean)) - 1);
  let cdf = poissonCdf(k, mean);
  let term = Math.exp((k + 1) * Math.log(mean) - mean - logFactorial(k + 1));
  while (cdf < level) {
    k++;
    cdf += term;
    term *= mean / (k + 1);
    if (k > mean + 40 * Math.sqrt(mean) + 50) break; // rounding guard: cdf saturates below level
  }
  return k;
}

function logFactorial(n: number): number {
  // Stirling with two correction terms: exact to ~1e-10 for n ≥ 10; sum below that.
  if (n < 10) {
    let s = 0;
    for (let i = 2; i <= n; i++) s += Math.log(i);
    return s;
  }
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n ** 3);
}
