import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import type { Logger } from "../log/index.js";
import { isTransientRedisError, reconnectDelayMs, redisErrorCode } from "../redis/index.js";
import { sleep } from "../util/index.js";
import { leaseScripts, type LeaseScript } from "./scripts.js";

/** Thrown by `assertHeld()` when this process may no longer act for the pool. */
export class LeaseLostError extends Error {
  constructor(message = "leader lease lost") {
    super(message);
    this.name = "LeaseLostError";
  }
}

export interface LeaderLeaseOptions {
  redis: Redis;
  keys: PoolKeys;
  /** Lease time-to-live; a standby takes over at most this long after the holder dies. */
  ttlMs?: number;
  /** Unique per process; defaults to host:pid:random. */
  holderId?: string;
  logger?: Logger;
  /** Called when this process gains or loses the lease. */
  onChange?: (held: boolean, epoch: number) => void;
}

type Call = (...args: (string | number)[]) => Promise<unknown>;

/**
 * A Redis lease (`leader`, SET NX PX) with a fencing epoch (`epoch`, INCR on every new term).
 * The holder renews at a third of the TTL with a compare-and-renew script and trusts its lease
 * only until `validUntil` (the time it sent the last successful renew plus TTL minus a margin),
 * so a holder cut off from Redis stops acting before a standby can take over. A standby polls
 * at the holder's remaining PTTL, so it takes over as soon as the key expires.
 */
export class LeaderLease {
  readonly holderId: string;
  readonly ttlMs: number;
  private heldEpoch = 0;
  private validUntil = 0;
  private controller = new AbortController();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake = new AbortController();
  private watchdog: NodeJS.Timeout | undefined;
  private readonly cmd: { acquire: Call; renew: Call; release: Call };
  /** Lease calls that failed (Redis away, READONLY on a demoted primary …) since start. */
  failures = 0;

  constructor(private readonly opts: LeaderLeaseOptions) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    if (!(this.ttlMs >= 300)) throw new Error(`lease ttl must be ≥ 300 ms, got ${this.ttlMs}`);
    this.holderId = opts.holderId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    const scripts = leaseScripts(opts.redis);
    const call =
      (name: LeaseScript, keys: number): Call =>
      (...a) =>
        scripts.run(opts.redis, name, a.slice(0, keys).map(String), a.slice(keys));
    this.cmd = { acquire: call("acquire", 2), renew: call("renew", 2), release: call("release", 1) };
    this.controller.abort(); // not held until acquired
  }

  /** True while the lease is ours and locally still valid. */
  get held(): boolean {
    return this.heldEpoch > 0 && performance.now() < this.validUntil;
  }

  /** The fencing token of the current term (0 when not held). */
  get epoch(): number {
    return this.held ? this.heldEpoch : 0;
  }

  /** Aborted the moment the lease is lost; a pass passes it to everything it awaits. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  assertHeld(): void {
    if (!this.held) {
      if (this.heldEpoch > 0) this.lose("lease validity ran out before a renew succeeded");
      throw new LeaseLostError();
    }
  }

  /** One attempt to take or keep the lease. Returns ms until the next attempt is worth it. */
  async tryAcquire(): Promise<number> {
    const sentAt = performance.now();
    const res = (await this.cmd.acquire(
      this.opts.keys.leader,
      this.opts.keys.epoch,
      this.holderId,
      this.ttlMs,
    )) as [number, number, string?];
    const [code, n] = res;
    if (code === 1 || code === 2) {
      const wasHeld = this.held;
      this.heldEpoch = Number(n);
      this.extend(sentAt);
      if (!wasHeld) {
        this.controller = new AbortController();
        this.opts.logger?.info({ epoch: this.heldEpoch, holder: this.holderId }, "leader lease acquired");
        this.opts.onChange?.(true, this.heldEpoch);
      }
      return this.renewEvery();
    }
    if (this.heldEpoch > 0) this.lose(`lease now held by ${res[2] ?? "another holder"}`);
    return Math.max(20, Math.min(Number(n) + 5, this.renewEvery()));
  }

  /** Compare-and-renew; false ⇒ the lease is gone (another holder, or it expired). */
  async renew(): Promise<boolean> {
    if (this.heldEpoch === 0) return false;
    const sentAt = performance.now();
    const ok = (await this.cmd.renew(
      this.opts.keys.leader,
      this.opts.keys.epoch,
      this.holderId,
      this.ttlMs,
      this.heldEpoch,
    )) as number;
    if (ok === 1) {
      this.extend(sentAt);
      return true;
    }
    this.lose("renew refused: the lease was taken over");
    return false;
  }

  /** Starts the background acquire/renew loop. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops the loop and releases the lease if held (shutdown: a standby takes over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.loop;
    await this.release();
  }

  async release(): Promise<void> {
    const had = this.heldEpoch > 0;
    this.heldEpoch = 0;
    this.validUntil = 0;
    clearTimeout(this.watchdog);
    this.controller.abort(new LeaseLostError("lease released"));
    if (!had) return;
    try {
      await this.cmd.release(this.opts.keys.leader, this.holderId);
      this.opts.logger?.info({ holder: this.holderId }, "leader lease released");
    } catch (err) {
      this.opts.logger?.warn({ err: String(err) }, "releasing the lease failed; it expires by its TTL");
    }
    this.opts.onChange?.(false, 0);
  }

  /** Trusts the lease until TTL×0.9 after the successful call was sent; a watchdog enforces it. */
  private extend(sentAt: number): void {
    this.validUntil = sentAt + this.ttlMs * 0.9;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(
      () => {
        if (this.heldEpoch > 0 && !this.held) this.lose("lease validity ran out before a renew succeeded");
      },
      Math.max(1, this.validUntil - performance.now() + 1),
    );
    this.watchdog.unref();
  }

  private renewEvery(): number {
    return Math.max(50, Math.floor(this.ttlMs / 3));
  }

  private lose(why: string): void {
    if (this.heldEpoch === 0) return;
    this.opts.logger?.warn({ epoch: this.heldEpoch, why }, "leader lease lost: stopping all actions");
    this.heldEpoch = 0;
    this.validUntil = 0;
    this.controller.abort(new LeaseLostError(why));
    this.opts.onChange?.(false, 0);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let next = this.renewEvery();
      try {
        if (this.heldEpoch > 0 && !this.held) this.lose("lease validity ran out before a renew succeeded");
        if (this.heldEpoch > 0) await this.renew();
        else next = await this.tryAcquire();
        failures = 0;
      } catch (err) {
        // Redis unreachable, or a demoted primary refusing the write (READONLY): not held this
        // round, tried again with backoff — never a permanent failure. A held lease stays trusted
        // only until its validity runs out, so a standby on the new primary can take over safely.
        failures++;
        this.failures++;
        const transient = isTransientRedisError(err);
        const line = { err: String(err), code: redisErrorCode(err), failures };
        if (transient) this.opts.logger?.debug(line, "lease call failed (transient): retrying");
        else this.opts.logger?.warn(line, "lease call failed: retrying");
        next = Math.min(next, reconnectDelayMs(failures));
        if (this.heldEpoch > 0 && !this.held) this.lose("Redis unreachable past the lease validity");
      }
      if (this.stopped) break;
      try {
        await sleep(next, this.wake.signal);
      } catch {
        /* woken for shutdown */
      }
    }
  }
}
