/**
 * Knows which pools one gateway serves and holds a ClaimService for each: the default pool
 * (`--pool`, behind the single-pool alias routes) always, and every pool of the registry
 * (`wp:pools`, pkg/pools) on first use. The services share the process's command and subscriber
 * connections and its metrics; each keeps its own keys, desired lease and quota keys, so limits
 * stay per pool. A registry answer is cached for `cacheMs`, so a claim costs no extra round trip
 * while the cache is fresh; an unknown name is never cached (a pool just created is served at once).
 */
import type { ClaimService } from "../claims/index.js";
import { closestName } from "../config/suggest.js";
import { assertPoolName } from "../keys/index.js";
import type { PoolRegistry } from "../pools/index.js";
import { type PoolEntry } from "../pools/index.js";
import { HttpError } from "./http-io.js";

export interface GatewayPoolsOptions {
  /** The default pool's service (alias routes); absent: only `/v1/pools/{pool}/…` routes answer. */
  defaultService?: ClaimService;
  /** Reads the registry; absent: the gateway serves its default pool only. */
  registry?: PoolRegistry;
  /** Builds and starts the service of a registered pool (shared connections, metrics, limits). */
  create?: (pool: string) => Promise<ClaimService>;
  /** How long a registry entry is trusted, ms (default 2,000). */
  cacheMs?: number;
  /** The notice connection the created services share (for /readyz when there is no default pool). */
  subscriber?: { readonly status: string };
}

/** A pool as `GET /v1/pools` lists it. */
export interface ServedPool {
  name: string;
  state: "active" | "deleting";
  labels: Record<string, string>;
  default: boolean;
}

export class GatewayPools {
  private readonly services = new Map<string, Promise<ClaimService>>();
  private readonly entries = new Map<string, { entry: PoolEntry; until: number }>();
  private readonly cacheMs: number;

  constructor(private readonly opts: GatewayPoolsOptions) {
    this.cacheMs = opts.cacheMs ?? 2_000;
    if (opts.defaultService) {
      this.services.set(opts.defaultService.pool, Promise.resolve(opts.defaultService));
    }
  }

  get defaultPool(): string | undefined {
    return this.opts.defaultService?.pool;
  }

  get defaultService(): ClaimService | undefined {
    return this.opts.defaultService;
  }

  /** False while the claim notice subscription is down. */
  get listening(): boolean {
    if (this.opts.defaultService) return this.opts.defaultService.listening;
    return this.opts.subscriber === undefined || this.opts.subscriber.status === "ready";
  }

  /**
   * The service of `name`. Throws HttpError: 400 naming the rule for a name no pool can have,
   * 404 (with a "did you mean") for a pool that is not registered, and — when `forNewClaim` —
   * 409 for a pool being deleted (its claims can still be renewed, read and released).
   */
  async resolve(name: string, forNewClaim: boolean): Promise<ClaimService> {
    if (name === this.defaultPool) return this.opts.defaultService!;
    try {
      assertPoolName(name);
    } catch (e) {
      const rule = (e as Error).message.replace(/^invalid pool name "(?:[^"\\]|\\.)*": /, "");
      throw new HttpError(400, `pool: ${rule} (got ${JSON.stringify(name)})`, {}, { field: "pool" });
    }
    const entry = await this.entry(name);
    if (!entry) throw await this.unknown(name);
    if (forNewClaim && entry.state === "deleting") {
      throw new HttpError(
        409,
        `pool: ${name} is being deleted; it takes no new claims (live ones can still be renewed and released)`,
        {},
        { kind: "pool-deleting", field: "pool", pool: name },
      );
    }
    let s = this.services.get(name);
    if (!s) {
      if (!this.opts.create) throw await this.unknown(name);
      s = this.opts.create(name);
      this.services.set(name, s);
      // A failed start (Redis down) is not remembered: the next request tries again.
      s.catch(() => this.services.delete(name));
    }
    return s;
  }

  /** Every pool this gateway serves: the default and the registered ones, by name. */
  async list(): Promise<ServedPool[]> {
    const out = new Map<string, ServedPool>();
    const d = this.defaultPool;
    if (d !== undefined) out.set(d, { name: d, state: "active", labels: {}, default: true });
    for (const e of (await this.opts.registry?.list()) ?? []) {
      out.set(e.name, { name: e.name, state: e.state, labels: e.labels, default: e.name === d });
    }
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The services started so far (the default first). */
  async started(): Promise<ClaimService[]> {
    const settled = await Promise.allSettled([...this.services.values()]);
    return settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  }

  /** Refreshes the gauges of every started service (before a scrape). */
  async refreshGauges(): Promise<void> {
    await Promise.all((await this.started()).map((s) => s.refreshGauges().catch(() => undefined)));
  }

  /** Closes every service this object started (the default one is its owner's to close). */
  async close(): Promise<void> {
    const mine = (await this.started()).filter((s) => s !== this.opts.defaultService);
    this.services.clear();
    await Promise.all(mine.map((s) => s.close()));
  }

  private async entry(name: string): Promise<PoolEntry | undefined> {
    const now = Date.now();
    const hit = this.entries.get(name);
    if (hit && hit.until > now) return hit.entry;
    const e = await this.opts.registry?.get(name);
    if (e) this.entries.set(name, { entry: e, until: now + this.cacheMs });
    else this.entries.delete(name);
    return e;
  }

  private async unknown(name: string): Promise<HttpError> {
    const names = (await this.list()).map((p) => p.name);
    const guess = closestName(name, names);
    const hint = guess
      ? `; did you mean ${JSON.stringify(guess)}?`
      : names.length > 0 && names.length <= 10
        ? ` (served: ${names.join(", ")})`
        : " (GET /v1/pools lists them)";
    return new HttpError(
      404,
      `pool: no pool ${JSON.stringify(name)} is registered${hint}`,
      {},
      { field: "pool", pool: name },
    );
  }
}
