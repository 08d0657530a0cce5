/**
 * PoolKeys knows every Redis key of one pool (DESIGN §4). All keys share the prefix
 * `wp:{<pool>}:` — the braces are a Redis Cluster hash tag, so every multi-key Lua script of a
 * pool stays in one slot. Nothing else in the code base spells a key.
 */
export class PoolKeys {
  readonly prefix: string;

  constructor(readonly pool: string) {
    assertPoolName(pool);
    this.prefix = `wp:{${pool}}:`;
  }

  get config(): string {
    return `${this.prefix}config`;
  }
  get configHistory(): string {
    return `${this.prefix}config:history`;
  }
  get warm(): string {
    return `${this.prefix}warm`;
  }
  /** Prefix of the per-task hashes; scripts append the task id. */
  get taskPrefix(): string {
    return `${this.prefix}task:`;
  }
  task(taskId: string): string {
    return `${this.prefix}task:${taskId}`;
  }
  /** Set of every task id the pool has a record for (any state). */
  get tasks(): string {
    return `${this.prefix}tasks`;
  }
  get claims(): string {
    return `${this.prefix}claims`;
  }
  get claimPrefix(): string {
    return `${this.prefix}claim:`;
  }
  claim(claimId: string): string {
    return `${this.prefix}claim:${claimId}`;
  }
  get idempotencyPrefix(): string {
    return `${this.prefix}idem:`;
  }
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }
  get waiting(): string {
    return `${this.prefix}waiting`;
  }
  get events(): string {
    return `${this.prefix}events`;
  }
  get leader(): string {
    return `${this.prefix}leader`;
  }
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
  /** On-call drain request (`ctl drain`): JSON `{ revision?, beforeMs, by, reason }`. */
  get drain(): string {
    return `${this.prefix}drain`;
  }
  /** Redis TIME (ms) when this Redis's pool state began; written once (SET NX) by the reconciler. */
  get born(): string {
    return `${this.prefix}born`;
  }
  get status(): string {
    return `${this.prefix}status`;
  }
}

const POOL_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A pool name becomes part of every key and of ECS `startedBy` (≤ 36 chars there). */
export function assertPoolName(pool: string): void {
  if (!POOL_NAME.test(pool) || pool.length > 36) {
    throw new Error(
      `invalid pool name ${JSON.stringify(pool)}: must match ${POOL_NAME.source} and be at most 36 characters (it is ECS startedBy)`,
    );
  }
}

/** The pool registry (pkg/pools): hash pool name → entry JSON. One key for the control plane. */
export const REGISTRY_KEY = "wp:pools";

/** Live reconciler replicas (pkg/fleet): zset replica id → expiry (ms, Redis TIME). */
export const REPLICAS_KEY = "wp:replicas";
