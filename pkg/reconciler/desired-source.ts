import type { Redis } from "ioredis";
import { ConfigStore, DesiredStateSource, type ConfigError, type DesiredState } from "../config/index.js";
import { PoolKeys } from "../keys/index.js";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { DesiredReading, DesiredSource } from "./ports.js";

export interface DesiredSourceOptions {
  redis: Redis;
  pool: string;
  log: Logger;
  metrics?: Metrics;
  /** Who observes (the holder id), for the history's `why`. */
  observer?: string;
  /** Checks a schema-valid desired state against the world (DesiredStateSourceOptions.check). */
  check?: (d: DesiredState) => Promise<ConfigError[]>;
}

/**
 * A desired-state check against ECS: a `taskDefinition` ECS does not have (or has deregistered)
 * is rejected like a schema error, so a typo never stops the pool refilling or starts a rollout
 * to nothing. Transient ECS errors throw: the value is accepted for now and checked again.
 */
export function taskDefinitionCheck(
  resolve: (td: string) => Promise<string>,
): (d: DesiredState) => Promise<ConfigError[]> {
  return async (d) => {
    if (d.taskDefinition === undefined) return [];
    try {
      await resolve(d.taskDefinition);
      return [];
    } catch (err) {
      if ((err as Error).name !== "TaskDefinitionUnusable") throw err;
      const detail = (err as { detail?: string }).detail ?? (err as Error).message;
      return [
        {
          field: "taskDefinition",
          rule: "exists",
          message: `taskDefinition: ECS cannot run ${JSON.stringify(d.taskDefinition)} (${detail})`,
        },
      ];
    }
  };
}

/**
 * The reconciler's reading of `wp:{pool}:config` each pass, over pkg/config's store and
 * last-good tracker (which also writes `config:history`, once per distinct value). What this
 * adds is what the process says about it, each once per distinct value: one log line naming the
 * field(s) and rule(s) of a rejection plus warmpool_config_rejections_total; "defaults" when the
 * key is missing; "accepted" when a new value takes effect.
 */
export function createDesiredSource(o: DesiredSourceOptions): DesiredSource {
  const source = new DesiredStateSource(new ConfigStore(o.redis, new PoolKeys(o.pool)), {
    ...(o.observer ? { observer: o.observer } : {}),
    ...(o.check ? { check: o.check } : {}),
  });
  return {
    async read(): Promise<DesiredReading> {
      const u = await source.read();
      if (u.status === "invalid" && u.rawChanged) {
        o.metrics?.configRejectionsTotal.inc({ pool: o.pool });
        o.log.error(
          { fields: u.errors.map((e) => e.field), rules: u.errors.map((e) => e.rule), inForce: u.source },
          `desired state rejected, the ${u.source === "last-good" ? "last good one" : "defaults"} stay in force: ${u.rejection ?? ""}`,
        );
      } else if (u.status === "missing" && u.firstMissing) {
        o.log.info({ desired: u.desired }, "no desired state in Redis: running on the defaults");
      } else if (u.status === "valid" && u.changed) {
        o.log.info({ desired: u.desired }, "desired state in force");
      }
      return {
        desired: u.desired,
        status: u.status,
        changed: u.changed,
        ...(u.rejection ? { rejection: u.rejection } : {}),
      };
    },
  };
}
