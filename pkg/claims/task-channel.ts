/**
 * The bridge's side of the claim protocol for one task: register warm, receive inbox messages
 * (BLPOP: no polling, no inbound control port), report ready or failure, end the session.
 */
import type { Redis } from "ioredis";
import { ClaimKeys, ENDED_CLAIM_RETENTION_MS } from "./claim-keys.js";
import { defineScripts, runDeclared, runScript } from "./scripts.js";

/** Waiting claims a registration asks to have declared at once (register-7+.lua). */
const WAITING_HEADS = 16;
import type { InboxMessage } from "./types.js";
import { isTransientRedisError, reconnectDelayMs } from "../redis/index.js";
import { sleep } from "../util/index.js";

export interface InboxWaitOptions {
  /** Aborted when the bridge stops: the wait ends instead of retrying. */
  signal?: AbortSignal;
  /** An inbox entry that is not a known message (only scripts write the list). */
  onMalformed?: (raw: string) => void;
  /** A transient failure (role change, lost connection) before the wait is retried. */
  onRetry?: (err: Error, failures: number) => void;
}

export type RegisterResult =
  | { outcome: "warm" }
  | { outcome: "claimed"; claimId: string; userId: string }
  | { outcome: "draining" }
  | { outcome: "already-registered"; state: string };

export type ReadyResult =
  | { outcome: "ready"; leaseExpiresAtMs: number }
  | { outcome: "failed" }
  | { outcome: "not-this-task" }
  | { outcome: "claim-ended"; state: string };

export class TaskChannel {
  private readonly keys: ClaimKeys;

  constructor(
    private readonly redis: Redis,
    pool: string,
    readonly taskId: string,
  ) {
    this.keys = new ClaimKeys(pool);
    defineScripts(redis);
  }

  async register(r: {
    taskArn: string;
    revision?: string;
    endpoint: string;
    token: string;
  }): Promise<RegisterResult> {
    const k = this.keys;
    const reply = (await runDeclared(
      this.redis,
      "register",
      k,
      [k.task(this.taskId), k.tasks, k.warm, k.waiting, k.claims, k.events, k.inbox(this.taskId)],
      [
        this.taskId,
        r.taskArn,
        r.revision ?? "",
        r.endpoint,
        r.token,
        WAITING_HEADS,
        ENDED_CLAIM_RETENTION_MS,
      ],
      [],
      // Registrations racing for the head of the queue: each call, at least one of them wins.
      32,
    )) as [number, string?, string?];
    switch (Number(reply[0])) {
      case 0:
        return { outcome: "warm" };
      case 1:
        return { outcome: "claimed", claimId: String(reply[1]), userId: String(reply[2]) };
      case -1:
        return { outcome: "draining" };
      default:
        return { outcome: "already-registered", state: String(reply[1]) };
    }
  }

  /**
   * Blocks until the next inbox message. `blocking` must be a connection of its own (BLPOP holds
   * it); disconnecting it is how a shutdown interrupts the wait (pass `signal`, aborted first, so
   * the loop ends with an AbortError instead of retrying). Malformed entries are skipped and
   * reported through `onMalformed`: only the scripts write this list.
   *
   * A failover never reaches the caller: UNBLOCKED (a demoted primary cut the wait), READONLY,
   * LOADING and a lost connection are retried with backoff until the inbox answers again, so no
   * role change ends a session. Only a non-transient error (NOPERM, a bug) is thrown.
   */
  async next(
    blocking: Redis,
    options: InboxWaitOptions | ((raw: string) => void) = {},
  ): Promise<InboxMessage> {
    const opts: InboxWaitOptions = typeof options === "function" ? { onMalformed: options } : options;
    let failures = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      let r: [string, string] | null;
      try {
        r = await blocking.blpop(this.keys.inbox(this.taskId), 0);
      } catch (err) {
        opts.signal?.throwIfAborted();
        // Closed on purpose (shutdown) or not transient: the caller decides.
        if (blocking.status === "end" || !isTransientRedisError(err)) throw err;
        failures++;
        opts.onRetry?.(err as Error, failures);
        await sleep(reconnectDelayMs(failures), opts.signal);
        continue;
      }
      failures = 0;
      if (!r) continue;
      const msg = parseInbox(r[1]);
      if (msg) return msg;
      opts.onMalformed?.(r[1]);
    }
  }

  async reportReady(claimId: string): Promise<ReadyResult> {
    return this.report(claimId, "ready", "");
  }

  async reportFailed(claimId: string, detail: string): Promise<ReadyResult> {
    return this.report(claimId, "failed", detail.slice(0, 500));
  }

  /** The agent exited or the bridge is stopping: the claim ends, the task drains. */
  async endSession(claimId: string, reason: string): Promise<void> {
    const k = this.keys;
    await runDeclared(
      this.redis,
      "release",
      k,
      [k.claim(claimId), k.claims, k.waiting, k.events],
      // ARGV[9], ARGV[10] "": a bridge has no access to quotas or Idempotency-Keys.
      [claimId, "", "ended", reason, "0", k.readyChannel, ENDED_CLAIM_RETENTION_MS, this.taskId, "", ""],
      [
        ["task", this.taskId],
        ["inbox", this.taskId],
      ],
    );
  }

  /** Leave the pool before exiting (SIGTERM while warm). False when a claim got here first. */
  async cordonSelf(reason: string): Promise<boolean> {
    const k = this.keys;
    const r = await runScript(
      this.redis,
      "cordon",
      // A bridge holds no lease: unfenced (ARGV[3] ""), so the script never reads KEYS[5]. It names
      // the task's own key there: the bridge's ACL user has no access to the epoch at all.
      [k.task(this.taskId), k.warm, k.events, k.inbox(this.taskId), k.task(this.taskId)],
      [this.taskId, reason, ""],
    );
    return Number(r) === 1;
  }

  /** The task's record as Redis holds it (for a bridge deciding what a late claim means). */
  async record(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.task(this.taskId));
  }

  private async report(claimId: string, outcome: "ready" | "failed", detail: string): Promise<ReadyResult> {
    const k = this.keys;
    const reply = (await runScript(
      this.redis,
      "ready",
      [k.task(this.taskId), k.claim(claimId), k.claims, k.events],
      [this.taskId, claimId, outcome, detail, k.readyChannel, ENDED_CLAIM_RETENTION_MS],
    )) as [number, (string | number)?];
    switch (Number(reply[0])) {
      case 1:
        return { outcome: "ready", leaseExpiresAtMs: Number(reply[1]) };
      case 0:
        return { outcome: "failed" };
      case -1:
        return { outcome: "not-this-task" };
      default:
        return { outcome: "claim-ended", state: String(reply[1]) };
    }
  }
}

function parseInbox(raw: string): InboxMessage | undefined {
  try {
    const m = JSON.parse(raw) as Record<string, unknown>;
    if (m.type === "init_user" && typeof m.claimId === "string" && typeof m.userId === "string") {
      return { type: "init_user", claimId: m.claimId, userId: m.userId };
    }
    if (m.type === "release" && typeof m.claimId === "string") {
      return { type: "release", claimId: m.claimId, reason: String(m.reason ?? "") };
    }
    if (m.type === "drain") return { type: "drain", reason: String(m.reason ?? "") };
  } catch {
    // fall through: malformed
  }
  return undefined;
}
