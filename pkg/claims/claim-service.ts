/**
 * The claim side of the pool as a library: what the gateway serves over HTTP and what an existing
 * session service calls directly. A claim resolves when the task's bridge reports the session
 * ready for that user (allocation latency = request → ready), not when a task is merely taken.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import type { ClaimOutcome, Metrics } from "../metrics/index.js";
import { ClaimKeys, ENDED_CLAIM_RETENTION_MS } from "./claim-keys.js";
import { DesiredLease } from "./desired-lease.js";
import { ClaimNotices } from "./notices.js";
import { checkClientId, NO_QUOTAS, rejected, watchCaller, type ClaimQuotas } from "./quotas.js";
import { readSummary, type PoolSummary } from "./summary.js";
import { defineScripts, runDeclared } from "./scripts.js";
import { runClaimScript, WarmHint } from "./claim-script.js";
import type {
  ClaimHandle,
  ClaimNotice,
  ClaimRequest,
  ClaimResult,
  ClaimState,
  HeartbeatResult,
  ReadyClaim,
  ReleaseResult,
} from "./types.js";
import {
  DEFAULT_LIMITS,
  validateClaimId,
  validateClaimRequest,
  validateLeaseSeconds,
  type ClaimLimits,
} from "./validate.js";

export interface ClaimServiceOptions {
  pool: string;
  /** Connection for commands and scripts. */
  redis: Redis;
  /** Connection for the notice subscription; `redis.duplicate()` when absent. */
  subscriber?: Redis;
  metrics?: Pick<Metrics, "claimsTotal" | "claimDuration" | "claimsWaiting">;
  limits?: Partial<ClaimLimits>;
  /** How long a taken warm task may take to report ready before the claim times out. */
  readyTimeoutMs?: number;
  /**
   * Claims that name no lease get the desired state's `leaseSeconds` (the `config` key) when it
   * is valid, else `limits.defaultLeaseSeconds`; either way at most `limits.maxLeaseSeconds`.
   * Default true.
   */
  leaseFromDesiredState?: boolean;
  /** Concurrent-claim quotas and the waiting-queue bound; none by default. */
  quotas?: Partial<ClaimQuotas>;
}

export class ClaimService {
  readonly pool: string;
  readonly limits: ClaimLimits;
  readonly quotas: ClaimQuotas;
  private readonly keys: ClaimKeys;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly ownSubscriber: boolean;
  private readonly notices: ClaimNotices;
  private readonly readyTimeoutMs: number;
  private readonly desiredLease?: DesiredLease;
  private readonly warmHint = new WarmHint();

  constructor(private readonly opts: ClaimServiceOptions) {
    this.pool = opts.pool;
    this.keys = new ClaimKeys(opts.pool);
    this.redis = opts.redis;
    this.ownSubscriber = !opts.subscriber;
    this.subscriber = opts.subscriber ?? opts.redis.duplicate();
    this.notices = new ClaimNotices(this.subscriber, this.keys.readyChannel);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.quotas = { ...NO_QUOTAS, ...opts.quotas };
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
    if (opts.leaseFromDesiredState !== false)
      this.desiredLease = new DesiredLease(this.redis, this.keys.config);
    defineScripts(this.redis);
  }

  /** Subscribes to claim notices; claims made before it resolves would wait for their timeout. */
  async start(): Promise<void> {
    await Promise.all([this.notices.start(), this.desiredLease?.refresh()]);
  }

  /** False while the notice subscription is down (claims would then answer only at their deadline). */
  get listening(): boolean {
    return this.subscriber.status === "ready";
  }

  async close(): Promise<void> {
    this.notices.close();
    if (this.ownSubscriber) this.subscriber.disconnect();
  }

  /**
   * Claims a task for a user and resolves once its bridge reports the session ready (or the claim
   * ends otherwise). Throws InvalidClaimInput for bad input; Redis errors propagate (the gateway
   * answers 503).
   */
  async claim(req: ClaimRequest): Promise<ClaimResult> {
    return (await this.begin(req)).result;
  }

  /**
   * The claim in two steps: resolves when the claim script has answered (a warm task taken, or the
   * claim queued), with `result` settling as `claim()` does. Same validation, errors and metrics.
   */
  async begin(req: ClaimRequest): Promise<ClaimHandle> {
    const t0 = performance.now();
    const desired = req.leaseSeconds === undefined ? this.desiredLease?.current() : undefined;
    // The desired state's lease applies to claims that name none, capped like any named lease.
    const limits =
      desired === undefined
        ? this.limits
        : { ...this.limits, defaultLeaseSeconds: Math.min(desired, this.limits.maxLeaseSeconds) };
    const v = validateClaimRequest(req, limits);
    checkClientId(req.clientId);
    let handle: ClaimHandle;
    try {
      handle = await this.takeOrQueue(v.userId, v.leaseMs, v.waitMs, v.idempotencyKey, req.clientId);
    } catch (e) {
      this.observe("error", t0);
      throw e;
    }
    const abandoned = watchCaller(req.signal, handle, (id) => this.abandon(id));
    // One claim, one sample: an Idempotency-Key replay was counted by the call that made the claim;
    // a conflict (the key belongs to another user) is the caller's mistake, like a 400.
    const counted = handle.stage !== "replayed";
    const result = handle.result.then(
      (r) => {
        abandoned.stop();
        if (!counted) return r;
        if (r.outcome === "ready") this.observe(r.claim.warm ? "hit" : "queued", t0);
        else if (r.outcome === "timeout") this.observe("timeout", t0);
        else if (r.outcome === "rejected") this.observe("rejected", t0);
        else if (r.outcome === "ended" && abandoned.fired) this.observe("abandoned", t0);
        // failed: the bridge could not prepare the session; ended: its task went away first.
        else if (r.outcome === "failed" || r.outcome === "ended") this.observe("error", t0);
        return r;
      },
      (e: unknown) => {
        abandoned.stop();
        this.observe("error", t0);
        throw e;
      },
    );
    // A caller that only looks at the stage must not leave an unhandled rejection behind.
    result.catch(() => undefined);
    return { ...handle, result };
  }

  /**
   * Ends a claim whose caller went away before the answer: like `release`, and its
   * Idempotency-Key is freed so a retry with the same key makes a new claim.
   */
  async abandon(claimId: string): Promise<ReleaseResult> {
    validateClaimId(claimId);
    const r = await this.endClaim(claimId, "released", "caller-gone", false, true);
    if (r.code === 2) return { outcome: "released", taskId: r.detail };
    if (r.code === 1) return { outcome: "released" };
    if (r.code === 0) return { outcome: "already-ended", state: r.detail as ClaimState };
    return { outcome: "unknown" };
  }

  async heartbeat(claimId: string, leaseSeconds?: number): Promise<HeartbeatResult> {
    validateClaimId(claimId);
    const leaseMs = leaseSeconds === undefined ? "" : validateLeaseSeconds(leaseSeconds, this.limits) * 1000;
    const k = this.keys;
    const r = (await runDeclared(
      this.redis,
      "heartbeat",
      k,
      [k.claim(claimId), k.claims, k.events],
      [claimId, leaseMs, "", k.readyChannel, ENDED_CLAIM_RETENTION_MS],
    )) as [number, (string | number)?];
    switch (Number(r[0])) {
      case 1:
        return { outcome: "renewed", leaseExpiresAtMs: Number(r[1]) };
      case -1:
        return { outcome: "unknown" };
      case -3:
        return { outcome: "expired" };
      case -5:
        return { outcome: "waiting" };
      default:
        return { outcome: "ended", state: String(r[1]) as ClaimState };
    }
  }

  /** Ends the claim; its task drains and is stopped by the reconciler (never reused). */
  async release(claimId: string, reason = "released"): Promise<ReleaseResult> {
    validateClaimId(claimId);
    const r = await this.endClaim(claimId, "released", reason, false);
    if (r.code === 2) return { outcome: "released", taskId: r.detail };
    if (r.code === 1) return { outcome: "released" };
    if (r.code === 0) return { outcome: "already-ended", state: r.detail as ClaimState };
    return { outcome: "unknown" };
  }

  /** The pool at a glance, in O(1) Redis work whatever the pool's size (pkg/claims/summary.ts). */
  async summary(): Promise<PoolSummary> {
    const s = await readSummary(this.redis, this.keys);
    this.opts.metrics?.claimsWaiting.set({ pool: this.pool }, s.waiting);
    return s;
  }

  /** Refreshes gauges this service owns (before a scrape). */
  async refreshGauges(): Promise<void> {
    const waiting = await this.redis.llen(this.keys.waiting);
    this.opts.metrics?.claimsWaiting.set({ pool: this.pool }, waiting);
  }

  private async takeOrQueue(
    userId: string,
    leaseMs: number,
    waitMs: number,
    idem?: string,
    clientId?: string,
  ): Promise<ClaimHandle> {
    const k = this.keys;
    const q = this.quotas;
    const claimId = randomUUID();
    // Listen before the claim exists, so a ready notice can never come before the listener.
    const pending = this.notices.expect(claimId);
    let reply: [number, ...(string | number)[]];
    try {
      reply = await runClaimScript(
        this.redis,
        k,
        {
          claimId,
          userId,
          leaseMs,
          waitMs,
          ...(idem ? { idempotencyKey: idem } : {}),
          ...(clientId !== undefined ? { clientId } : {}),
          perUser: q.perUser,
          perClient: q.perClient,
          maxWaiting: q.maxWaiting,
        },
        this.warmHint,
      );
    } catch (e) {
      pending.cancel();
      throw e;
    }
    switch (Number(reply[0])) {
      case 1:
        pending.arm(Math.max(this.readyTimeoutMs, waitMs));
        return {
          stage: "assigned",
          claimId,
          taskId: String(reply[2]),
          result: pending.promise.then((n) => this.settle(claimId, n)),
        };
      case 0:
        pending.arm(waitMs);
        return { stage: "queued", claimId, result: pending.promise.then((n) => this.settle(claimId, n)) };
      case -1:
        pending.cancel();
        return {
          stage: "settled",
          claimId,
          result: Promise.resolve({
            outcome: "timeout",
            claimId,
            reason: "the pool has no warm task and waitMs is 0",
          }),
        };
      case 2: {
        pending.cancel();
        const earlier = String(reply[1]);
        return { stage: "replayed", claimId: earlier, result: this.replay(earlier, waitMs) };
      }
      case -4:
      case -5: {
        pending.cancel();
        return { stage: "settled", result: Promise.resolve(rejected(reply, userId)) };
      }
      default:
        pending.cancel();
        return {
          stage: "settled",
          result: Promise.resolve({
            outcome: "conflict",
            reason: "Idempotency-Key was already used for another userId",
          }),
        };
    }
  }

  /** Turns the notice (or its absence) into a result; without one, the claim is cancelled atomically. */
  private async settle(claimId: string, n: ClaimNotice | undefined, replayed = false): Promise<ClaimResult> {
    if (n?.state === "ready") return { outcome: "ready", claim: readyFrom(n), replayed };
    if (n?.state === "failed")
      return { outcome: "failed", claimId, reason: n.detail ?? "the task failed to start the session" };
    if (n) return { outcome: "ended", claimId, state: n.state, replayed };
    // No notice in time (or one lost while the subscription was down): cancel unless it is ready.
    const r = await this.endClaim(claimId, "timeout", "claim-timeout", true);
    if (r.code === 3 || (r.code === 0 && r.detail === "ready")) {
      const ready = await this.readClaim(claimId);
      if (ready) return { outcome: "ready", claim: ready, replayed };
    }
    if (r.code === 0 && r.detail === "failed") {
      const detail = await this.redis.hget(this.keys.claim(claimId), "detail");
      return { outcome: "failed", claimId, reason: detail ?? "the task failed to start the session" };
    }
    if (r.code === 0 && r.detail !== "timeout")
      return { outcome: "ended", claimId, state: r.detail as ClaimState, replayed };
    const why = r.code === 2 ? "the task did not report ready in time" : "no task became warm within waitMs";
    return { outcome: "timeout", claimId, reason: why };
  }

  /** Same Idempotency-Key again: answer with the earlier claim, waiting for it if still pending. */
  private async replay(claimId: string, waitMs: number): Promise<ClaimResult> {
    const pending = this.notices.expect(claimId);
    const state = (await this.redis.hget(this.keys.claim(claimId), "state")) as ClaimState | null;
    if (state === "ready") {
      pending.cancel();
      const ready = await this.readClaim(claimId);
      if (ready) return { outcome: "ready", claim: ready, replayed: true };
    }
    if (state === "waiting" || state === "assigned") {
      pending.arm(Math.max(waitMs, state === "assigned" ? this.readyTimeoutMs : 0));
      const n = await pending.promise;
      if (n) return this.settle(claimId, n, true);
      const again = await this.readClaim(claimId);
      if (again) return { outcome: "ready", claim: again, replayed: true };
      return {
        outcome: "timeout",
        claimId,
        reason: "the earlier claim with this Idempotency-Key is still pending",
      };
    }
    pending.cancel();
    return { outcome: "ended", claimId, state: state ?? "timeout", replayed: true };
  }

  /** A ready claim as the caller receives it, or undefined when it is not ready. */
  private async readClaim(claimId: string): Promise<ReadyClaim | undefined> {
    const k = this.keys;
    const [state, taskId, warm] = await this.redis.hmget(k.claim(claimId), "state", "taskId", "warm");
    if (state !== "ready" || !taskId) return undefined;
    const [[, task], [, lease]] = (await this.redis
      .multi()
      .hmget(k.task(taskId), "endpoint", "token")
      .zscore(k.claims, claimId)
      .exec()) as [[unknown, (string | null)[]], [unknown, string | null]];
    return {
      claimId,
      taskId,
      endpoint: task[0] ?? "",
      token: task[1] ?? "",
      leaseExpiresAtMs: Number(lease ?? 0),
      warm: warm === "1",
    };
  }

  private async endClaim(
    claimId: string,
    final: "released" | "timeout",
    reason: string,
    keepReady: boolean,
    freeIdempotencyKey = false,
  ): Promise<{ code: number; detail?: string }> {
    const k = this.keys;
    const r = (await runDeclared(
      this.redis,
      "release",
      k,
      [k.claim(claimId), k.claims, k.waiting, k.events],
      [
        claimId,
        "",
        final,
        reason,
        keepReady ? "1" : "0",
        k.readyChannel,
        ENDED_CLAIM_RETENTION_MS,
        "",
        "1",
        freeIdempotencyKey ? "1" : "0",
      ],
    )) as [number, string?];
    return { code: Number(r[0]), ...(r[1] !== undefined ? { detail: String(r[1]) } : {}) };
  }

  private observe(outcome: ClaimOutcome, t0: number): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.claimsTotal.inc({ pool: this.pool, outcome });
    m.claimDuration.observe({ pool: this.pool, outcome }, (performance.now() - t0) / 1000);
  }
}

function readyFrom(n: Extract<ClaimNotice, { state: "ready" }>): ReadyClaim {
  return {
    claimId: n.claimId,
    taskId: n.taskId,
    endpoint: n.endpoint,
    token: n.token,
    leaseExpiresAtMs: n.leaseExpiresAtMs,
    warm: n.warm,
  };
}
