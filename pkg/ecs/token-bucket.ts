import { sleep } from "../util/index.js";

/**
 * Where an AWS call's permission comes from: a local bucket (one process) or a budget the whole
 * account shares (pkg/budget's `SharedBudget`, every pool and replica). `take` resolves once
 * `cost` calls may be sent for `pool`, and rejects when `signal` aborts.
 */
export interface CallBudget {
  take(pool: string, cost: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A client-side token bucket mirroring the server's, so the driver spends ECS's budget evenly
 * instead of bursting into ThrottlingException. `penalize()` empties it when the server throttles
 * anyway (another client shares the account's bucket), which is what keeps calls bounded during
 * a throttling storm.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSec > 0)) throw new Error(`rate must be > 0 per second, got ${ratePerSec}`);
    if (!(burst >= 1)) throw new Error(`burst must be ≥ 1, got ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSec) / 1000);
    this.last = t;
  }

  /** Takes a token and returns 0, or returns the ms until one will be there (taking nothing). */
  tryTake(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec);
  }

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.tryTake();
      if (wait === 0) return;
      await sleep(wait, signal);
    }
  }

  /** This bucket as a `CallBudget` (one process's, so the pool does not matter). */
  asBudget(): CallBudget {
    return {
      take: async (_pool, cost, signal) => {
        for (let i = 0; i < cost; i++) await this.take(signal);
      },
    };
  }

  /** The server said "Rate exceeded": start again from an empty bucket. */
  penalize(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  get available(): number {
    this.refill();
    return this.tokens;
  }
}
