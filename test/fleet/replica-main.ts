/**
 * One reconciler replica for the fleet tests, as a real process (run from dist/ after the build,
 * so a test can kill -9 it): a FleetManager whose runner for each pool holds the pool's real
 * leader lease and, while it holds it, "acts" every 50 ms through a script fenced by the pool's
 * epoch — so the test reads from Redis alone which replica acted for which pool, under which epoch.
 * argv: redisUrl replicaId fleetTtlMs leaseTtlMs
 */
import { Redis } from "ioredis";
import { FleetManager } from "../../pkg/fleet/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { LeaderLease } from "../../pkg/leader/index.js";
import { createLogger } from "../../pkg/log/index.js";

const [redisUrl, replicaId, fleetTtl, leaseTtl] = process.argv.slice(2);
if (!redisUrl || !replicaId || !fleetTtl || !leaseTtl)
  throw new Error("usage: redisUrl replicaId fleetTtlMs leaseTtlMs");
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
redis.on("error", () => undefined);

/** Appends `epoch replica` to the pool's act log only while `epoch` is the pool's current one. */
const ACT = `if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return 1`;

const fleet = new FleetManager({
  redis,
  replicaId,
  ttlMs: Number(fleetTtl),
  log: createLogger({ level: "warn", bindings: { replica: replicaId } }),
  startPool: async (pool) => {
    const keys = new PoolKeys(pool);
    const lease = new LeaderLease({ redis, keys, ttlMs: Number(leaseTtl), holderId: replicaId });
    lease.start();
    const timer = setInterval(() => {
      const epoch = lease.epoch;
      if (epoch > 0)
        redis.eval(ACT, 2, keys.epoch, `${keys.prefix}acts`, epoch, replicaId).catch(() => undefined);
    }, 50);
    return {
      stop: async () => {
        clearInterval(timer);
        await lease.stop();
      },
    };
  },
  onRound: (served) => process.stdout.write(`${JSON.stringify({ served: served.length })}\n`),
});
fleet.start();
const shutdown = (): void => {
  void fleet.stop().then(() => {
    redis.disconnect();
    process.exit(0);
  });
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
