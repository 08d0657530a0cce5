import type { Redis } from "ioredis";
import { BudgetKeys } from "../keys/index.js";
import { LuaScripts, sleep } from "../util/index.js";

export interface SharedBudgetOptions {
  /** AWS account id (12 digits) or any stable name of the account. */
  account: string;
  region: string;
  /** API class sharing one limit, e.g. `ecs-read`, `ecs-write`. */
  api: string;
  /** Calls per second every pool and replica together may spend. */
  ratePerSec: number;
  /** Calls that may be spent at once from a full budget. */
  burst: number;
  /** A pool that asked within this window counts as sharing the budget (default 5 s). */
  activeWindowMs?: number;
}

export type BudgetAnswer =
  { ok: true; activePools: number } | { ok: false; waitMs: number; activePools: number };

type Script = "take";
let scripts: LuaScripts<Script> | undefined;

/**
 * An AWS call budget kept in Redis, so every pool and every reconciler replica of one account and
 * region draws from one limit (GCRA in one script: `lua/take-2.lua`), fairly between pools: a
 * busy pool is held to its share and never empties the budget for a pool that was quiet.
 * Time comes from Redis `TIME`, so replicas with skewed clocks agree.
 */
export class SharedBudget {
  readonly keys: BudgetKeys;
  private readonly windowMs: number;

  constructor(
    private readonly redis: Redis,
    readonly o: SharedBudgetOptions,
  ) {
    const problems: string[] = [];
    if (!(Number.isFinite(o.ratePerSec) && o.ratePerSec > 0))
      problems.push(`ratePerSec must be > 0, got ${o.ratePerSec}`);
    if (!(Number.isInteger(o.burst) && o.burst >= 1))
      problems.push(`burst must be an integer ≥ 1, got ${o.burst}`);
    const w = o.activeWindowMs ?? 5_000;
    if (!(Number.isFinite(w) && w > 0)) problems.push(`activeWindowMs must be > 0, got ${w}`);
    if (problems.length > 0) throw new Error(`budget ${o.api}: ${problems.join("; ")}`);
    this.keys = new BudgetKeys(o.account, o.region, o.api);
    this.windowMs = w;
    scripts ??= new LuaScripts<Script>("pkg/budget/lua");
  }

  /** Takes `cost` calls for `pool` now, or says how long to wait (taking nothing). */
  async tryTake(pool: string, cost = 1): Promise<BudgetAnswer> {
    if (!(Number.isInteger(cost) && cost >= 1)) throw new Error(`cost must be an integer ≥ 1, got ${cost}`);
    if (cost > this.o.burst) throw new Error(`cost ${cost} exceeds the budget's burst ${this.o.burst}`);
    const r = (await scripts!.run(
      this.redis,
      "take",
      [this.keys.tat, this.keys.active],
      [pool, this.o.ratePerSec, this.o.burst, cost, this.windowMs],
    )) as number[];
    if (r[0] === 1) return { ok: true, activePools: Number(r[1]) };
    return { ok: false, waitMs: Math.max(1, Number(r[1])), activePools: Number(r[2]) };
  }

  /** Waits until `cost` calls can be taken for `pool`, then takes them. */
  async take(pool: string, cost = 1, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const a = await this.tryTake(pool, cost);
      if (a.ok) return;
      await sleep(a.waitMs, signal);
    }
  }
}
