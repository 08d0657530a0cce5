/**
 * Knows whether the gateway's Redis connection reaches a primary that accepts writes, for
 * `/readyz`. A demoted primary (REPLICAOF, a failover in progress) still answers PING, so a probe
 * that only pinged stayed green while every claim failed with READONLY. The answer is cached for
 * `ttlMs` and concurrent probes share one ROLE call, so probes never hammer Redis.
 */
import type { Redis } from "ioredis";
import { isWritablePrimary } from "../redis/index.js";

export type PrimaryState = { ok: true } | { ok: false; reason: string };

export class PrimaryCheck {
  private last?: { atMs: number; state: PrimaryState };
  private inflight?: Promise<PrimaryState>;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached answer when fresh, else one ROLE round trip (shared by concurrent callers). */
  state(): Promise<PrimaryState> {
    if (this.last && this.now() - this.last.atMs < this.ttlMs) return Promise.resolve(this.last.state);
    this.inflight ??= this.probe().then((state) => {
      this.last = { atMs: this.now(), state };
      this.inflight = undefined;
      return state;
    });
    return this.inflight;
  }

  private async probe(): Promise<PrimaryState> {
    if (this.redis.status !== "ready") return { ok: false, reason: `connection ${this.redis.status}` };
    try {
      if (await isWritablePrimary(this.redis)) return { ok: true };
      return { ok: false, reason: "the connection reaches a read-only replica, not a writable primary" };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }
}
