import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { REPLICAS_KEY } from "../keys/index.js";
import type { Logger } from "../log/index.js";
import { PoolRegistry } from "../pools/index.js";
import { LuaScripts, sleep } from "../util/index.js";
import { assignPools, poolsOf } from "./assign.js";

/** What the fleet runs for one pool it serves: a reconciler with its own lease (pkg/reconciler). */
export interface PoolRunner {
  /** Finishes or abandons the pass in progress and releases the pool's lease. */
  stop(): Promise<void>;
}

export interface FleetOptions {
  redis: Redis;
  /** Starts serving one pool; a failure is retried with backoff for that pool alone. */
  startPool: (pool: string) => Promise<PoolRunner>;
  log: Logger;
  replicaId?: string;
  /** A replica that has not said it is alive for this long is gone; its pools move (default 5 s). */
  ttlMs?: number;
  /** Only these pools (`--pools a,b`); default every registered pool. */
  names?: readonly string[];
  /** Only pools with these labels (`--pool-selector k=v`). */
  selector?: Record<string, string>;
  /** Called after every round with the pools this replica serves. */
  onRound?: (served: readonly string[], replicas: readonly string[]) => void;
}

type Script = "heartbeat";
let scripts: LuaScripts<Script> | undefined;

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 60_000;

/**
 * Serves many pools from one process, and splits them between replicas: every round (a third of
 * the TTL) it says it is alive in `wp:replicas`, reads the registry and the live replicas,
 * computes the same assignment every replica computes (assign.ts), starts a runner for each pool
 * newly its own and stops (releasing the lease) each one no longer its own. A dead replica drops
 * out of `wp:replicas` within the TTL; its pools' leases expire within theirs, and the replicas
 * that now own them take over. Pools are independent: one failing to start is backed off alone.
 */
export class FleetManager {
  readonly replicaId: string;
  private readonly ttlMs: number;
  private readonly registry: PoolRegistry;
  private readonly runners = new Map<string, PoolRunner>();
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;
  private replicas: string[] = [];
  private assignment: ReadonlyMap<string, string> = new Map();

  constructor(private readonly o: FleetOptions) {
    this.replicaId = o.replicaId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.ttlMs = o.ttlMs ?? 5_000;
    if (!(this.ttlMs >= 300)) throw new Error(`fleet ttl must be ≥ 300 ms, got ${this.ttlMs}`);
    this.registry = new PoolRegistry(o.redis);
    scripts ??= new LuaScripts<Script>("pkg/fleet/lua");
  }

  /** The pools this replica serves now. */
  get served(): string[] {
    return [...this.runners.keys()].sort();
  }

  get liveReplicas(): readonly string[] {
    return this.replicas;
  }

  /** The replica that serves `pool` by the last round's assignment; undefined: no live replica does. */
  ownerOf(pool: string): string | undefined {
    return this.assignment.get(pool);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops every runner (releasing their leases), then leaves the replica set. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.loop;
    await Promise.all([...this.runners.values()].map((r) => r.stop().catch(() => undefined)));
    this.runners.clear();
    try {
      await this.heartbeat(true);
    } catch (e) {
      this.o.log.warn({ err: String(e) }, "leaving the replica set failed; it expires by its TTL");
    }
  }

  /** One round: heartbeat, read the registry, start and stop runners. Exposed for tests. */
  async round(): Promise<void> {
    this.replicas = await this.heartbeat(false);
    const pools = (
      await this.registry.select({
        ...(this.o.names ? { names: this.o.names } : {}),
        ...(this.o.selector ? { selector: this.o.selector } : {}),
      })
    ).map((e) => e.name);
    this.assignment = assignPools(pools, this.replicas);
    const mine = new Set(poolsOf(this.assignment, this.replicaId));
    const stops = [...this.runners.keys()].filter((p) => !mine.has(p));
    await Promise.all(
      stops.map(async (p) => {
        const r = this.runners.get(p)!;
        this.runners.delete(p);
        this.o.log.info({ pool: p }, "pool handed over: stopping its reconciler");
        await r
          .stop()
          .catch((e: unknown) => this.o.log.warn({ pool: p, err: String(e) }, "stopping a pool failed"));
      }),
    );
    const now = Date.now();
    const starts = [...mine].filter(
      (p) => !this.runners.has(p) && (this.failures.get(p)?.retryAt ?? 0) <= now,
    );
    await Promise.all(
      starts.map(async (p) => {
        try {
          const runner = await this.o.startPool(p);
          if (this.stopCtl.signal.aborted) {
            await runner.stop();
            return;
          }
          this.runners.set(p, runner);
          this.failures.delete(p);
          this.o.log.info({ pool: p }, "serving pool");
        } catch (e) {
          const count = (this.failures.get(p)?.count ?? 0) + 1;
          const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (count - 1));
          this.failures.set(p, { count, retryAt: Date.now() + wait });
          this.o.log.warn(
            { pool: p, err: String(e), retryInMs: wait },
            "starting a pool failed; backing off",
          );
        }
      }),
    );
    this.o.onRound?.(this.served, this.replicas);
  }

  private async heartbeat(leave: boolean): Promise<string[]> {
    return (await scripts!.run(
      this.o.redis,
      "heartbeat",
      [REPLICAS_KEY],
      [this.replicaId, this.ttlMs, leave ? "1" : "0"],
    )) as string[];
  }

  private async run(): Promise<void> {
    const every = Math.max(100, Math.floor(this.ttlMs / 3));
    while (!this.stopCtl.signal.aborted) {
      try {
        await this.round();
      } catch (e) {
        this.o.log.warn({ err: String(e) }, "fleet round failed; retrying");
      }
      await sleep(every, this.stopCtl.signal).catch(() => undefined);
    }
  }
}
