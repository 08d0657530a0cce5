/**
 * The p90 of recent task start durations (RunTask → registered warm), the adaptive policy's
 * lead-time input. Keeps the last `size` samples; before the first sample it answers the
 * configured assumption, so a fresh pool sizes itself from a sane start time.
 */
export class StartTimeWindow {
  private samples: number[] = [];
  private next = 0;
  private cached: number | undefined;

  constructor(
    readonly size: number,
    readonly assumedMs: number,
    readonly quantile = 0.9,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`size: must be an integer ≥ 1, got ${size}`);
    if (!(assumedMs >= 0)) throw new Error(`assumedMs: must be ≥ 0, got ${assumedMs}`);
    if (!(quantile > 0 && quantile <= 1)) throw new Error(`quantile: must be in (0, 1], got ${quantile}`);
  }

  record(durationMs: number): void {
    if (this.samples.length < this.size) this.samples.push(durationMs);
    else this.samples[this.next] = durationMs;
    this.next = (this.next + 1) % this.size;
    this.cached = undefined;
  }

  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank quantile of the samples held, or the assumption when there are none. */
  p90Ms(): number {
    if (this.samples.length === 0) return this.assumedMs;
    if (this.cached === undefined) {
      const sorted = [...this.samples].sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil(this.quantile * sorted.length));
      this.cached = sorted[rank - 1]!;
    }
    return this.cached;
  }
}
