import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PoolKeys, REPLICAS_KEY } from "../../pkg/keys/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { packageRoot } from "../../pkg/util/index.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const LEASE_TTL_MS = 2_000;
const FLEET_TTL_MS = 2_000;
const POOLS = Array.from({ length: 30 }, (_, i) => `fleet-${String(i).padStart(2, "0")}`);

/**
 * Three replica processes share 30 pools (test/fleet/replica-main.ts, built to dist/): they split
 * them evenly by their leases; kill -9 of one hands its pools to the others within the TTL, and
 * the act log each pool keeps in Redis (written only under the pool's current epoch) shows no
 * pool ever had two acting leaders.
 */
describe("fleet: pools sharded over reconciler replicas by their leases", () => {
  let server: PrivateRedis;
  let redis: Redis;
  const procs = new Map<string, ChildProcess>();
  const main = join(packageRoot(), "dist", "test", "fleet", "replica-main.js");

  const startReplica = (id: string): void => {
    const c = spawn(process.execPath, [main, server.url, id, String(FLEET_TTL_MS), String(LEASE_TTL_MS)], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    procs.set(id, c);
  };
  const holders = async (): Promise<Map<string, string | null>> => {
    const out = new Map<string, string | null>();
    for (const p of POOLS) out.set(p, await redis.get(new PoolKeys(p).leader));
    return out;
  };
  const countBy = (m: Map<string, string | null>): Record<string, number> => {
    const c: Record<string, number> = {};
    for (const v of m.values()) c[v ?? "none"] = (c[v ?? "none"] ?? 0) + 1;
    return c;
  };

  beforeAll(async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx tsc -p .\` first`);
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    const reg = new PoolRegistry(redis);
    for (const p of POOLS) await reg.create(p, { who: "test" });
  });
  afterAll(async () => {
    for (const c of procs.values()) if (c.exitCode === null) c.kill("SIGKILL");
    redis?.disconnect();
    await server?.stop();
  });

  it("3 replicas split 30 pools 10/10/10; kill -9 of one moves its pools within the TTL, never two leaders", async () => {
    for (const id of ["r1", "r2", "r3"]) startReplica(id);
    await waitFor(
      "30 pools held, 10 per replica",
      async () => {
        const c = countBy(await holders());
        return c.r1 === 10 && c.r2 === 10 && c.r3 === 10 ? c : false;
      },
      20_000,
    );
    expect((await redis.zrange(REPLICAS_KEY, 0, -1)).sort()).toEqual(["r1", "r2", "r3"]);
    const before = await holders();
    const victims = POOLS.filter((p) => before.get(p) === "r2");

    procs.get("r2")!.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(
      "r2's pools taken over, 15 per survivor",
      async () => {
        const c = countBy(await holders());
        return c.r1 === 15 && c.r3 === 15 ? c : false;
      },
      20_000,
    );
    const takeoverMs = Date.now() - killedAt;
    // The replica's entry and its leases both expire within their TTLs; a round later it is served.
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + FLEET_TTL_MS);
    // A survivor that served a pool before still serves it: only r2's pools moved.
    const after = await holders();
    for (const p of POOLS) if (before.get(p) !== "r2") expect(after.get(p)).toBe(before.get(p));
    for (const p of victims) expect(["r1", "r3"]).toContain(after.get(p));

    // Let the new leaders act a little, then read every pool's act log: epochs only go up, and
    // one epoch is one replica's — no pool ever had two acting leaders.
    await new Promise((r) => setTimeout(r, 300));
    for (const p of POOLS) {
      const acts = (await redis.lrange(`${new PoolKeys(p).prefix}acts`, 0, -1)).map((s) => s.split(" "));
      expect(acts.length).toBeGreaterThan(0);
      const byEpoch = new Map<string, Set<string>>();
      let last = 0;
      for (const [epoch, replica] of acts) {
        expect(Number(epoch)).toBeGreaterThanOrEqual(last);
        last = Number(epoch);
        byEpoch.set(epoch!, (byEpoch.get(epoch!) ?? new Set()).add(replica!));
      }
      for (const [, rs] of byEpoch) expect(rs.size).toBe(1);
      // The pool's last acts are its current holder's (for a victim, never r2's after the kill).
      expect(acts.at(-1)?.[1]).toBe(after.get(p));
    }
  }, 60_000);

  it("a replica joining takes its fair share from the others (graceful handover)", async () => {
    startReplica("r4");
    await waitFor(
      "10 per replica again",
      async () => {
        const c = countBy(await holders());
        return c.r1 === 10 && c.r3 === 10 && c.r4 === 10 ? c : false;
      },
      20_000,
    );
  }, 30_000);
});
