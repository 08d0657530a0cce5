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
/** Calls one claim may take before it fails (each a round trip; see runClaimScript). */
const CLAIM_ROUNDS = 16;

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
    // At most the first WARM_HEADS tasks: a claim that asked for the whole of `warm` (contention)
    // must not make every later claim declare it.
    const tasks = need.filter(([kind]) => kind === "task" || kind === "inbox").slice(0, 2 * WARM_HEADS);
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
  const args = (heads: number): (string | number)[] => [
    i.claimId,
    i.userId,
    i.leaseMs,
    i.waitMs > 0 ? "1" : "0",
    heads,
    i.idempotencyKey ? "1" : "0",
    IDEMPOTENCY_TTL_MS,
    i.waitMs,
    "",
    i.perUser,
    i.clientId === undefined ? 0 : i.perClient,
    i.maxWaiting,
  ];
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
    args(WARM_HEADS),
    hint?.extras,
    CLAIM_ROUNDS,
    (need) => hint?.learn(need),
    // A claim that lost every task it knew of to concurrent claims asks for more at once: 32, 32,
    // 256, 2,048 … heads, so it declares the whole of `warm` before long and cannot starve.
    (round) => args(round < 2 ? WARM_HEADS : WARM_HEADS * 8 ** (round - 1)),
  )) as [number, ...(string | number)[]];
}
