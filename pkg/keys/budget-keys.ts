/**
 * The keys of one shared AWS call budget: every pool and every reconciler replica calling one
 * API class in one account and region spends from it. The braces are a Redis Cluster hash tag,
 * so the budget's script touches one slot, whatever pools ask.
 */
export class BudgetKeys {
  readonly prefix: string;

  constructor(
    readonly account: string,
    readonly region: string,
    /** The API class: `ecs-read` (List/Describe), `ecs-write` (Run/Stop), `autoscaling` … */
    readonly api: string,
  ) {
    for (const [what, v] of [
      ["account", account],
      ["region", region],
      ["api", api],
    ] as const) {
      if (!BUDGET_PART.test(v)) {
        throw new Error(`invalid budget ${what} ${JSON.stringify(v)}: must match ${BUDGET_PART.source}`);
      }
    }
    this.prefix = `wp:budget:{${account}:${region}:${api}}:`;
  }

  /** Hash: `_` → the budget's theoretical arrival time (ms), `<pool>` → that pool's. */
  get tat(): string {
    return `${this.prefix}tat`;
  }
  /** Zset: pool → when it last asked (ms): the pools sharing the budget now. */
  get active(): string {
    return `${this.prefix}active`;
  }
}

const BUDGET_PART = /^[a-z0-9][a-z0-9-]{0,62}$/;
