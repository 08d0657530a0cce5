/**
 * A token bucket as AWS describes its API throttling: up to `burst` tokens, refilled
 * continuously at `refillPerSecond`. A request takes its tokens only if all are there; a
 * refused request takes none.
 */
import type { BucketRate } from "./options.js";

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: BucketRate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = rate.burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(
      this.rate.burst,
      this.tokens + ((t - this.last) / 1000) * this.rate.refillPerSecond,
    );
    this.last = t;
  }

  /** Takes `n` tokens and returns true, or takes nothing and returns false. */
  tryTake(n = 1): boolean {
    this.refill();
    if (this.tokens + 1e-9 < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }
}
