import type { Redis } from "ioredis";
import {
  DEFAULT_DESIRED,
  formatConfigErrors,
  parseDesiredState,
  type DesiredState,
} from "../config/index.js";
import { PoolKeys } from "../keys/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { DesiredReading, DesiredSource } from "./ports.js";

export interface DesiredSourceOptions {
  redis: Redis;
  pool: string;
  log: Logger;
  metrics?: Metrics;
  /** Written into `config:history` entries as who recorded them. */
  recorder?: string;
}

/** Entries kept in `config:history` (approximate trim). */
const HISTORY_MAXLEN = 1_000;

/**
 * Reads `wp:{pool}:config` every pass and keeps the last good desired state. A rejected value
 * is reported once per distinct value — one log line naming the field(s) and rule(s),
 * warmpool_config_rejections_total, an entry in `config:history` — and the last good one (or
 * the defaults) stays in force. A missing key means the defaults.
 */
export function createDesiredSource(o: DesiredSourceOptions): DesiredSource & { changed: boolean } {
  const keys = new PoolKeys(o.pool);
  let lastGood: DesiredState | undefined;
  let lastRaw: string | null | undefined;
  let lastRejection: string | undefined;
  let changed = false;
  return {
    get changed() {
      return changed;
    },
    async read(): Promise<DesiredReading> {
      const raw = await o.redis.get(keys.config);
      const seen = raw !== lastRaw;
      lastRaw = raw;
      if (raw === null) {
        changed =
          seen && lastGood !== undefined && JSON.stringify(lastGood) !== JSON.stringify(DEFAULT_DESIRED);
        lastGood = undefined;
        return { desired: { ...DEFAULT_DESIRED }, status: "missing", changed };
      }
      const r = parseDesiredState(raw);
      if (r.ok) {
        changed = JSON.stringify(r.value) !== JSON.stringify(lastGood);
        if (seen) {
          await o.redis
            .xadd(
              keys.configHistory,
              "MAXLEN",
              "~",
              HISTORY_MAXLEN,
              "*",
              "outcome",
              "accepted",
              "value",
              raw,
              "by",
              o.recorder ?? "reconciler",
            )
            .catch(() => undefined);
          if (changed) o.log.info({ desired: r.value }, "desired state accepted");
        }
        lastGood = r.value;
        return { desired: r.value, status: "valid", changed };
      }
      changed = false;
      if (seen) {
        lastRejection = formatConfigErrors(r.errors);
        o.metrics?.configRejectionsTotal.inc({ pool: o.pool });
        o.log.error(
          { fields: r.errors.map((e) => e.field), rules: r.errors.map((e) => e.rule) },
          `desired state rejected, keeping the ${lastGood ? "last good one" : "defaults"}: ${lastRejection}`,
        );
        await o.redis
          .xadd(
            keys.configHistory,
            "MAXLEN",
            "~",
            HISTORY_MAXLEN,
            "*",
            "outcome",
            "rejected",
            "value",
            raw.slice(0, 4_096),
            "errors",
            lastRejection,
            "by",
            o.recorder ?? "reconciler",
          )
          .catch(() => undefined);
      }
      return {
        desired: lastGood ?? { ...DEFAULT_DESIRED },
        status: "invalid",
        ...(lastRejection ? { rejection: lastRejection } : {}),
        changed,
      };
    },
  };
}
