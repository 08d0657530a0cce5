/**
 * Claim arrivals per second over a sliding window, the adaptive policy's demand input. Fed with
 * the time of every `claim` and `miss` event (hits and misses both are demand); `now` is always
 * passed in, so the reconciler and the simulator drive it from their own clocks.
 */
export class ArrivalRateWindow {
  private times: number[] = [];
  private head = 0;

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0) || !Number.isFinite(windowMs))
      throw new Error(`windowMs: must be a finite number > 0, got ${windowMs}`);
  }

  /** One claim arrived at `atMs` (non-decreasing across calls). */
  record(atMs: number): void {
    this.times.push(atMs);
  }

  /** Arrivals per second over (now − window, now]. */
  ratePerS(nowMs: number): number {
    const from = nowMs - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= from) this.head++;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return ((this.times.length - this.head) * 1000) / this.windowMs;
  }
}
