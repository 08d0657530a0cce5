/**
 * A typed client of the gateway (api/openapi.json): claim with an Idempotency-Key and retries on
 * 503 + Retry-After, a heartbeat loop, release, the pool summary, the pools served; every call
 * cancellable with an AbortSignal and addressed to any pool (`pool`, per client or per call: the
 * `/v1/pools/{pool}/…` routes) or, without one, to the gateway's default pool. Answers are checked against the same zod schemas the gateway is built from, and
 * every refusal is a GatewayError carrying the RFC 9457 problem. Depends on `fetch` only.
 */
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import {
  ClaimSchema,
  ClaimStatusSchema,
  HeartbeatResponseSchema,
  PoolListSchema,
  PoolSummarySchema,
  ProblemSchema,
  ReleaseResponseSchema,
  type Claim,
  type ClaimRequestBody,
  type ClaimStatusBody,
  type HeartbeatResponse,
  type PoolListBody,
  type PoolSummaryBody,
  type Problem,
  type ReleaseResponse,
} from "../api/index.js";

export interface WarmpoolClientOptions {
  /** The gateway, e.g. `http://warmpool-gateway:8080`. */
  baseUrl: string;
  /** A bearer token the gateway accepts (WARMPOOL_GATEWAY_TOKENS / --tokens-file). */
  token: string;
  /** Defaults to the global fetch; pass one to add tracing, a proxy agent, or checks. */
  fetch?: typeof fetch;
  /** Retries of a claim answered 503 (or lost on the wire): attempts in all, default 5. */
  claimAttempts?: number;
  /** Cap of one wait between claim attempts, default 10 s; the gateway's Retry-After otherwise. */
  maxRetryDelayMs?: number;
  /**
   * The pool every call addresses (`/v1/pools/{pool}/…`) unless the call names one. Absent: the
   * gateway's default pool (its `--pool`, the `/v1/claims` routes).
   */
  pool?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** This call's pool, over the client's `pool`. A claim's heartbeats and release need the same. */
  pool?: string;
}

export interface ClaimOptions extends CallOptions {
  /** Same key ⇒ same claim. Default: a fresh UUID per claim() call, reused by its retries. */
  idempotencyKey?: string;
}

/** The gateway refused: `status` and the problem it sent (`problem.field` for bad input). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${problem.title}: ${problem.detail}`);
    this.name = "GatewayError";
  }

  /** The problem kind: the last segment of `problem.type` (e.g. `no-task-ready`). */
  get kind(): string {
    return this.problem.type.split(":").pop() ?? this.problem.type;
  }
}

export class WarmpoolClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly attempts: number;
  private readonly maxDelayMs: number;

  constructor(private readonly opts: WarmpoolClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.attempts = Math.max(1, opts.claimAttempts ?? 5);
    this.maxDelayMs = opts.maxRetryDelayMs ?? 10_000;
  }

  /**
   * Claims a warm task for `req.userId`; resolves when the session is ready. A 503 (no task in
   * time, Redis unavailable) or a lost connection is retried after Retry-After with the same
   * Idempotency-Key, so a retry never takes a second task. Other refusals throw GatewayError.
   */
  async claim(req: ClaimRequestBody, opts: ClaimOptions = {}): Promise<Claim> {
    const key = opts.idempotencyKey ?? randomUUID();
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs: number;
      try {
        return await this.call("POST", `${this.prefix(opts)}/claims`, ClaimSchema, {
          body: req,
          headers: { "idempotency-key": key },
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (e) {
        if (opts.signal?.aborted || attempt >= this.attempts) throw e;
        if (e instanceof GatewayError) {
          if (e.status !== 503) throw e;
          retryAfterMs = (e.retryAfterSeconds ?? 1) * 1000;
        } else if (e instanceof TypeError) {
          retryAfterMs = 500 * attempt; // fetch failed: connection refused or reset
        } else throw e;
      }
      await sleep(Math.min(retryAfterMs, this.maxDelayMs), opts.signal);
    }
  }

  /** Renews the lease (`leaseSeconds` from now, else the gateway's default). */
  heartbeat(claimId: string, opts: CallOptions & { leaseSeconds?: number } = {}): Promise<HeartbeatResponse> {
    const body = opts.leaseSeconds === undefined ? {} : { leaseSeconds: opts.leaseSeconds };
    return this.call(
      "POST",
      `${this.prefix(opts)}/claims/${encodeURIComponent(claimId)}/heartbeat`,
      HeartbeatResponseSchema,
      { body, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
  }

  /** Where the claim stands (state, task, lease); never its endpoint or token. 404 once forgotten. */
  status(claimId: string, opts: CallOptions = {}): Promise<ClaimStatusBody> {
    return this.call(
      "GET",
      `${this.prefix(opts)}/claims/${encodeURIComponent(claimId)}`,
      ClaimStatusSchema,
      opts,
    );
  }

  /** Releases the claim (idempotent): its task is stopped, never handed to anyone else. */
  release(claimId: string, opts: CallOptions = {}): Promise<ReleaseResponse> {
    return this.call(
      "DELETE",
      `${this.prefix(opts)}/claims/${encodeURIComponent(claimId)}`,
      ReleaseResponseSchema,
      opts,
    );
  }

  /** Task counts by state, claims waiting, age of the oldest warm task (of the pool addressed). */
  pool(opts: CallOptions = {}): Promise<PoolSummaryBody> {
    const p = this.prefix(opts);
    return this.call("GET", p === "/v1" ? "/v1/pool" : p, PoolSummarySchema, opts);
  }

  /** Every pool the gateway serves: its default pool and the registered ones. */
  pools(opts: Pick<CallOptions, "signal"> = {}): Promise<PoolListBody> {
    return this.call("GET", "/v1/pools", PoolListSchema, opts);
  }

  /** `/v1/pools/{pool}` for the call's or the client's pool; `/v1` (the default pool's aliases) for none. */
  private prefix(opts: CallOptions): string {
    const pool = opts.pool ?? this.opts.pool;
    return pool === undefined ? "/v1" : `/v1/pools/${encodeURIComponent(pool)}`;
  }

  /**
   * Heartbeats every `intervalMs` (default: a third of the lease) until stopped, aborted, or the
   * claim is gone (404/410: `ended` resolves with that error). Transient failures (503, network)
   * are reported to `onError` and retried at the next beat.
   */
  keepAlive(
    claimId: string,
    opts: CallOptions & { intervalMs?: number; leaseSeconds?: number; onError?: (e: unknown) => void } = {},
  ): Heartbeat {
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const interval = opts.intervalMs ?? ((opts.leaseSeconds ?? 60) * 1000) / 3;
    const ended = (async (): Promise<GatewayError | undefined> => {
      while (!signal.aborted) {
        try {
          await sleep(interval, signal);
          await this.heartbeat(claimId, {
            signal,
            ...(opts.pool !== undefined ? { pool: opts.pool } : {}),
            ...(opts.leaseSeconds !== undefined ? { leaseSeconds: opts.leaseSeconds } : {}),
          });
        } catch (e) {
          if (signal.aborted) return undefined;
          if (e instanceof GatewayError && (e.status === 404 || e.status === 410)) return e;
          opts.onError?.(e);
        }
      }
      return undefined;
    })();
    return {
      ended,
      stop: async () => {
        stop.abort();
        await ended;
      },
    };
  }

  /**
   * Claims, keeps the lease alive while `use` runs, and releases afterwards whatever happens:
   * the whole life of a session in one call. `use` gets a signal that aborts if the claim ends.
   */
  async withSession<T>(
    req: ClaimRequestBody,
    use: (claim: Claim, signal: AbortSignal) => Promise<T>,
    opts: ClaimOptions & { heartbeatMs?: number } = {},
  ): Promise<T> {
    const claim = await this.claim(req, opts);
    const lost = new AbortController();
    const pool = opts.pool !== undefined ? { pool: opts.pool } : {};
    const hb = this.keepAlive(claim.claimId, {
      ...pool,
      ...(opts.heartbeatMs !== undefined ? { intervalMs: opts.heartbeatMs } : {}),
      ...(req.leaseSeconds !== undefined ? { leaseSeconds: req.leaseSeconds } : {}),
    });
    void hb.ended.then((e) => e && lost.abort(e));
    try {
      return await use(claim, lost.signal);
    } finally {
      await hb.stop();
      await this.release(claim.claimId, pool).catch(() => undefined);
    }
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<z.infer<S>> {
    const res = await this.fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        accept: "application/json, application/problem+json",
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const p = ProblemSchema.safeParse(json);
      const problem: Problem = p.success
        ? p.data
        : {
            type: "urn:ecs-warmpool:problem:internal",
            title: res.statusText,
            status: res.status,
            detail: text,
          };
      const ra = Number(res.headers.get("retry-after"));
      throw new GatewayError(res.status, problem, Number.isFinite(ra) && ra >= 0 ? ra : undefined);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw new Error(`gateway ${method} ${path}: unexpected answer (${r.error.message})`);
    return r.data as z.infer<S>;
  }
}

export interface Heartbeat {
  /** Resolves when the loop ends: with the 404/410 error if the claim is gone, else undefined. */
  ended: Promise<GatewayError | undefined>;
  /** Ends the loop (an in-flight heartbeat is aborted). */
  stop(): Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
