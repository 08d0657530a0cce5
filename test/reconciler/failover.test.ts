import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntry, packageRoot } from "../../pkg/util/index.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));
const LEASE_TTL_MS = 3_000;

/** Runs the built CLI (`tsc` emits dist/; hack/check-everything.sh builds before testing). */
function spawnReconciler(w: World): ChildProcess {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [k, v] of Object.entries(w.flags({ "lease-ttl": `${LEASE_TTL_MS}ms` }))) {
    env[`WARMPOOL_${k.toUpperCase().replace(/-/g, "_")}`] = v;
  }
  env.WARMPOOL_LOG_LEVEL = "warn";
  return spawn(process.execPath, [cliEntry(), "reconciler"], { env, stdio: ["ignore", "ignore", "pipe"] });
}

const exited = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once("exit", (code) => r(code)));

describe("leader failover between reconciler processes", () => {
  let w: World;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    if (!existsSync(join(packageRoot(), "dist", "cmd", "reconciler.js"))) {
      throw new Error("dist/ is missing the reconciler: run `npx tsc -p .` first");
    }
    w = await startWorld();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await w?.close();
  });

  it("kill -9 of the leader → the standby takes over within the lease TTL; the pool ends exactly at target; SIGTERM exits 0 and releases", async () => {
    await setDesired(w, { minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
    const a = spawnReconciler(w);
    const b = spawnReconciler(w);
    children.push(a, b);
    const holderPid = async (): Promise<number | undefined> => {
      const id = await w.redis.get(w.keys.leader);
      return id ? Number(id.split(":")[1]) : undefined;
    };
    await waitFor("5 warm", async () => (await w.states()).warm === 5, 30_000);
    await settle();
    expect(w.launches()).toHaveLength(5);
    const leaderPid = await holderPid();
    expect([a.pid, b.pid]).toContain(leaderPid);
    const [leader, standby] = leaderPid === a.pid ? [a, b] : [b, a];

    leader.kill("SIGKILL");
    const killedAt = Date.now();
    await exited(leader);
    // While nobody leads, 2 tasks vanish: the new leader must replace exactly those.
    const ecs = new ECSClient({ endpoint: w.emu.endpoint, region: "us-east-1" });
    for (const t of w.live().slice(0, 2)) {
      await ecs.send(new StopTaskCommand({ cluster: "default", task: t.taskArn, reason: "out of band" }));
    }
    ecs.destroy();
    await waitFor("standby to lead", async () => (await holderPid()) === standby.pid, 15_000, 20);
    const takeover = Date.now() - killedAt;
    console.log(`leader killed; standby took over after ${takeover} ms (lease TTL ${LEASE_TTL_MS} ms)`);
    expect(takeover).toBeLessThan(LEASE_TTL_MS + 1_000); // margin for a shared 2-core machine
    await waitFor("replacements", () => w.launches().length === 7, 20_000);
    await waitFor("5 warm again", async () => (await w.states()).warm === 5, 20_000);
    await settle(2_000);
    expect(w.launches()).toHaveLength(7);
    expect(w.live()).toHaveLength(5);
    expect(Number(await w.redis.get(w.keys.epoch))).toBe(2);

    standby.kill("SIGTERM");
    expect(await exited(standby)).toBe(0);
    expect(await w.redis.get(w.keys.leader)).toBeNull();
  });
});
