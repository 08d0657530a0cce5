/**
 * The reconciler's Redis operations on one pool (contract: docs/redis-contract.md). Every state
 * change goes through a Lua script so it is atomic with the gateway's claims.
 */
import type { Redis } from "ioredis";
import type { TaskRecord } from "../plan/index.js";
import { ClaimKeys, ENDED_CLAIM_RETENTION_MS, EVENTS_MAXLEN } from "./claim-keys.js";
import { parseSnapshot, type UnrecognizedRecord } from "./records.js";
import { defineScripts, queueScript, runDeclared, runScript } from "./scripts.js";
import type { ExtraKey } from "../util/index.js";

/** Leases expired per script call; the loop repeats until none is left. */
const EXPIRE_BATCH = 500;

/**
 * A write refused because the caller's lease epoch is no longer the pool's: a newer leader's term
 * began. Nothing was changed; the caller must stop acting (the pass is abandoned).
 */
export class FencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FencedError";
  }
}

export interface PoolStoreOptions {
  /**
   * The caller's leader-lease epoch (its fencing token), read at every write. When set, the
   * cordon, expire, forget and record-launch scripts change nothing unless it is still the pool's
   * `epoch`, and the call throws FencedError (mark-orphan too). A deposed reconciler whose lease check passed just
   * before a takeover thus cannot write after it. Without it (tools, tests) writes are not fenced.
   */
  fence?: () => number;
}

export class PoolStore {
  private readonly keys: ClaimKeys;
  /** The task ids the last snapshot asked to declare (a hint for the next one). */
  private knownTasks: readonly ExtraKey[] = [];

  constructor(
    private readonly redis: Redis,
    readonly pool: string,
    private readonly opts: PoolStoreOptions = {},
  ) {
    this.keys = new ClaimKeys(pool);
    defineScripts(redis);
  }

  /** The epoch argument of a fenced script: the caller's epoch, or "" when not fenced. */
  private fenceArg(): string {
    return this.opts.fence ? String(this.opts.fence()) : "";
  }

  /**
   * All task records of the pool (for the planner) and the waiting-claim count, read consistently
   * enough for one pass. Records in a state the pool does not know are not planned (never claimed,
   * never stopped); they are listed in `unrecognized` for the caller to report.
   */
  async observe(): Promise<{ records: TaskRecord[]; waiting: number; unrecognized: UnrecognizedRecord[] }> {
    const k = this.keys;
    // The ids of the last snapshot are declared at once: one call while the set is unchanged.
    const reply = await runDeclared(
      this.redis,
      "snapshot",
      k,
      [k.tasks, k.claims, k.waiting],
      [""],
      this.knownTasks,
    );
    const { records, waiting, unrecognized } = parseSnapshot(reply);
    this.knownTasks = [...records, ...unrecognized].map((r) => ["task", r.taskId] as const);
    return { records, waiting, unrecognized };
  }

  /**
   * Record launches RunTask returned: `starting`, never overwriting an existing record (HSETNX
   * semantics). `fenced: false` writes whatever the epoch: ECS started these tasks, and a record
   * of a fact is never a deposed leader's decision (docs/claims.md, "Fencing").
   */
  async recordLaunches(
    tasks: { taskId: string; taskArn: string; revision: string }[],
    opts: { fenced?: boolean } = {},
  ): Promise<void> {
    if (tasks.length === 0) return;
    const fence = opts.fenced === false ? "" : this.fenceArg();
    const p = this.redis.pipeline();
    for (const t of tasks) {
      queueScript(
        this.redis,
        p,
        "record-launch",
        [this.keys.task(t.taskId), this.keys.tasks, this.keys.epoch],
        [t.taskId, t.taskArn, t.revision, fence],
      );
    }
    const results = await p.exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) {
      fenced(failed[0]);
      throw new Error(`recording ${tasks.length} launches`, { cause: failed[0] });
    }
  }

  /** starting|warm → draining only if not claimed (atomic, Lua). Returns false when it was claimed (or gone): then the caller must NOT stop it. */
  async cordon(taskId: string, reason: string): Promise<boolean> {
    const k = this.keys;
    const r = await runScript(
      this.redis,
      "cordon",
      [k.task(taskId), k.warm, k.events, k.inbox(taskId), k.epoch],
      [taskId, reason, this.fenceArg()],
    ).catch(rethrowFenced);
    return Number(r) === 1;
  }

  /**
   * Before an orphan stop (a live pool task with no record): writes a `draining` record so a late
   * registration is refused. False when a record exists (the bridge registered meanwhile): then
   * the caller must NOT stop it; the next pass sees the record.
   */
  async markOrphan(taskId: string, taskArn: string): Promise<boolean> {
    const k = this.keys;
    const r = await runScript(
      this.redis,
      "mark-orphan",
      [k.task(taskId), k.tasks, k.epoch],
      [taskId, taskArn, this.fenceArg()],
    ).catch(rethrowFenced);
    return Number(r) === 1;
  }

  /** Claims whose lease is past due (Redis TIME) → claimed task draining, claim expired, event. Returns the taskIds. */
  async expireLeases(): Promise<string[]> {
    const k = this.keys;
    const drained: string[] = [];
    for (;;) {
      const batch = (await runDeclared(
        this.redis,
        "expire",
        k,
        [k.claims, k.events, k.epoch],
        ["", "", EXPIRE_BATCH, k.readyChannel, ENDED_CLAIM_RETENTION_MS, this.fenceArg()],
      ).catch(rethrowFenced)) as string[];
      drained.push(...batch);
      // Fewer than a batch drained means the script saw fewer due claims (it drains every due one it reads).
      if (batch.length < EXPIRE_BATCH) {
        const stillDue = await this.redis.zcount(k.claims, "-inf", `(${await this.redisNowMs()}`);
        if (stillDue === 0) return drained;
      }
    }
  }

  /** Remove the record of a task ECS no longer has (and its warm-set entry). */
  async forget(taskId: string): Promise<void> {
    const k = this.keys;
    await runDeclared(
      this.redis,
      "forget",
      k,
      [k.task(taskId), k.tasks, k.warm, k.claims, k.inbox(taskId), k.epoch],
      [taskId, "", k.readyChannel, ENDED_CLAIM_RETENTION_MS, this.fenceArg()],
    ).catch(rethrowFenced);
  }

  /** Append to the events stream (capped). */
  async emit(type: string, fields: Record<string, string> = {}): Promise<void> {
    const flat = Object.entries(fields).flat();
    await this.redis.xadd(this.keys.events, "MAXLEN", "~", EVENTS_MAXLEN, "*", "type", type, ...flat);
  }

  private async redisNowMs(): Promise<number> {
    const [s, us] = await this.redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }
}

/** Throws FencedError when a script refused for a stale epoch. */
function fenced(err: unknown): void {
  if (err instanceof Error && err.message.startsWith("FENCED")) throw new FencedError(err.message);
}

function rethrowFenced(err: unknown): never {
  fenced(err);
  throw err;
}
