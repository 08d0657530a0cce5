/**
 * The claim script (claim-8+.lua) as a typed call: its fixed keys and arguments, and the warm
 * tasks it asks to have declared (every key it touches is in KEYS, for Redis Cluster).
 */
import type { Redis } from "ioredis";
import { neededKeys, type ExtraKey } from "../util/index.js";
import { IDEMPOTENCY_TTL_MS, type ClaimKeys } from "./claim-keys.js";
import { extraKey, runScript } from "./scripts.js";

/** Warm tasks the script asks for at once: concurrent claims holding one list each find theirs. */
export const WARM_HEADS = 128;
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
  private readonly given = new Set<string>();
  /** Task ids for one claim to declare (each handed out once). */
  take(n = PER_CLAIM): ExtraKey[] {
    const ids = this.queue.splice(0, n);
    if (this.given.size > 100_000) this.given.clear();
    for (const id of ids) this.given.add(id);
    return ids.flatMap((id) => [["task", id] as const, ["inbox", id] as const]);
  }
  /** Tasks a claim was given and did not take: first in line for the next claims. */
  giveBack(ids: string[]): void {
    for (const id of ids) this.given.delete(id);
    this.queue.unshift(...ids.filter((id) => !this.queue.includes(id)));
  }
  /** The warm tasks an answer named (the current heads) that no claim of this process holds. */
  learn(need: ExtraKey[]): void {
    const ids = need.filter(([kind, id]) => kind === "task" && !this.given.has(id)).map(([, id]) => id);
    if (ids.length > 0) this.queue = ids;
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
  const keys = [
    k.warm,
    k.claims,
    k.waiting,
    k.events,
    k.claim(i.claimId),
    k.idempotency(i.idempotencyKey ?? "-"),
    k.userQuota(i.userId),
    k.clientQuota(i.clientId ?? "-"),
  ];
  // Each call declares the quota entries asked for so far and warm tasks no other claim of this
  // process holds: from the hint while it lasts, else those the script just named. One that lost
  // every task it knew of asks for more heads as calls repeat (128 four times, then 512, 2,048 …): it declares
  // the whole of `warm` before long and cannot starve.
  const claims = new Map<string, ExtraKey>();
  // Tasks from the hint this claim still holds (given back unless taken or found gone).
  let handed: string[] = [];
  const fromHint = (): ExtraKey[] => {
    const t = hint?.take() ?? [];
    for (const [kind, id] of t) if (kind === "task") handed.push(id);
    return t;
  };
  let tasks: ExtraKey[] = fromHint();
  for (let round = 0; round < CLAIM_ROUNDS; round++) {
    const heads = round < 4 ? WARM_HEADS : WARM_HEADS * 4 ** (round - 3);
    const list = [...claims.values(), ...tasks];
    const reply = await runScript(
      redis,
      "claim",
      [...keys, ...list.map((e) => extraKey(k, e))],
      [...args(heads), list.length, ...list.flat()],
    );
    const need = neededKeys(reply);
    if (!need) {
      const r = reply as [number, ...(string | number)[]];
      const took = Number(r[0]) === 1 ? String(r[2]) : undefined;
      hint?.giveBack(handed.filter((id) => id !== took));
      return r;
    }
    const named = need.filter(([kind]) => kind === "task" || kind === "inbox");
    // The script asks for warm tasks only when none it was given is still warm: those are gone
    // for good (claimed elsewhere) and must not go back to the hint, or every later claim of
    // this process would declare them again and pay a second round trip.
    if (named.length > 0) {
      const gone = new Set(tasks.filter(([kind]) => kind === "task").map(([, id]) => id));
      handed = handed.filter((id) => !gone.has(id));
    }
    hint?.learn(need);
    for (const e of need) if (e[0] === "claim") claims.set(e[1], e);
    const mine = round < 4 ? fromHint() : [];
    tasks = mine.length > 0 ? mine : named;
  }
  throw new Error(`script claim: still asking for undeclared keys after ${CLAIM_ROUNDS} calls`);
}
