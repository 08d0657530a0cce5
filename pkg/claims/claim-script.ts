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

/** Warm tasks from the hint one claim declares up front. */
const PER_CLAIM = 2;

/**
 * Remembers the warm tasks the script last asked for and hands each claim a few of them that no
 * other claim of this process was given, so concurrent claims declare disjoint tasks and each
 * finds one in one call; when they run out (or were taken elsewhere) the script asks for the
 * next heads, which refill the hint.
 */
export class WarmHint {
  private queue: string[] = [];
  /** Task ids for one claim to declare (each handed out once). */
  take(n = PER_CLAIM): ExtraKey[] {
    return this.queue.splice(0, n).flatMap((id) => [["task", id] as const, ["inbox", id] as const]);
  }
  learn(need: ExtraKey[]): void {
    const ids = need.filter(([kind]) => kind === "task").map(([, id]) => id);
    if (ids.length > 0) this.queue = ids.slice(0, 4 * WARM_HEADS);
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
    hint?.take(),
    CLAIM_ROUNDS,
    (need) => hint?.learn(need),
    // A claim that lost every task it knew of to concurrent claims asks for more at once: 32, 32,
    // 256, 2,048 … heads, so it declares the whole of `warm` before long and cannot starve.
    (round) => args(round < 2 ? WARM_HEADS : WARM_HEADS * 8 ** (round - 1)),
  )) as [number, ...(string | number)[]];
}
