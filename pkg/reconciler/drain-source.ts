import type { Redis } from "ioredis";
import type { PoolKeys } from "../keys/index.js";
import type { Logger } from "../log/index.js";

/** On-call's drain request as the planner takes it (`Observed.drain`). */
export interface DrainInForce {
  revision?: string;
  beforeMs: number;
}

/**
 * Reads the pool's `drain` key each pass (JSON `{ revision?, beforeMs, by, reason }`, written by
 * `warmpool ctl drain`). It knows the last raw value it logged about, so a malformed value is
 * logged once, not once per pass, and is otherwise ignored (no drain). A Redis error is thrown:
 * the pass then fails like any other Redis read.
 */
export class DrainSource {
  private lastBadRaw: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: PoolKeys,
    private readonly log: Logger,
  ) {}

  async read(): Promise<DrainInForce | undefined> {
    const raw = await this.redis.get(this.keys.drain);
    if (raw === null) {
      this.lastBadRaw = undefined;
      return undefined;
    }
    const problem = parseDrain(raw);
    if (typeof problem === "string") {
      if (this.lastBadRaw !== raw) {
        this.lastBadRaw = raw;
        this.log.warn(
          { key: this.keys.drain, value: raw.slice(0, 200) },
          `drain request ignored: ${problem}`,
        );
      }
      return undefined;
    }
    this.lastBadRaw = undefined;
    return problem;
  }
}

/** The request, or one line naming what is wrong with it. */
export function parseDrain(raw: string): DrainInForce | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return "not JSON";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "must be a JSON object";
  const o = v as { beforeMs?: unknown; revision?: unknown };
  if (typeof o.beforeMs !== "number" || !Number.isFinite(o.beforeMs) || o.beforeMs < 0)
    return "beforeMs: must be a number of milliseconds ≥ 0";
  if (o.revision !== undefined && (typeof o.revision !== "string" || o.revision === ""))
    return "revision: must be a non-empty string when present";
  return { beforeMs: o.beforeMs, ...(typeof o.revision === "string" ? { revision: o.revision } : {}) };
}
