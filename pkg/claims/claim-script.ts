/**
 * The claim script (claim-8+.lua) as a typed call: its fixed keys and arguments, and the warm
 * tasks it asks to have declared (every key it touches is in KEYS, for Redis Cluster).
 */
import type { Redis } from "ioredis";
import type { ExtraKey } from "../util/index.js";
import { IDEMPOTENCY_TTL_MS, type ClaimKeys } from "./claim-keys.js";
import { runDeclared } from "./scripts.js";

/** Warm tasks the script asks for at once: concurrent claims holding one list each find theirs. */
export const WARM_HEADS = 32;

export interface ClaimScriptInput {
  claimId: string;
  userId: string;
  leaseMs: number;
  /** Queue the claim when the pool is empty (waitMs > 0). */
  waitMs: number;
  idempotencyKey?: string;
  clientId?: string;
  perUser: number;
  perClient: number;
  maxWaiting: number;
}

/**
 * Remembers the warm tasks the script last asked for, so the next claim declares them at once
 * (one call instead of two while the head of `warm` is unchanged).
 */
export class WarmHint {
  private hint: ExtraKey[] = [];
  get extras(): readonly ExtraKey[] {
    return this.hint;
  }
  learn(need: ExtraKey[]): void {
    const tasks = need.filter(([kind]) => kind === "task" || kind === "inbox");
    if (tasks.length > 0) this.hint = tasks;
  }
}

/** Runs claim-8+.lua: the raw reply ({1, …} taken, {0, …} queued, negative codes: see the script). */
export async function runClaimScript(
  redis: Redis,
  k: ClaimKeys,
  i: ClaimScriptInput,
  hint?: WarmHint,
): Promise<[number, ...(string | number)[]]> {
  return (await runDeclared(
    redis,
    "claim",
    k,
    [
      k.warm,
      k.claims,
      k.waiting,
      k.events,
      k.claim(i.claimId),
      k.idempotency(i.idempotencyKey ?? "-"),
      k.userQuota(i.userId),
      k.clientQuota(i.clientId ?? "-"),
    ],
    [
      i.claimId,
      i.userId,
      i.leaseMs,
      i.waitMs > 0 ? "1" : "0",
      WARM_HEADS,
      i.idempotencyKey ? "1" : "0",
      IDEMPOTENCY_TTL_MS,
      i.waitMs,
      "",
      i.perUser,
      i.clientId === undefined ? 0 : i.perClient,
      i.maxWaiting,
    ],
    hint?.extras,
    16,
    (need) => hint?.learn(need),
  )) as [number, ...(string | number)[]];
}
