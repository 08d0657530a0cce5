/**
 * Defence in depth on a partial observation: the planner holds everything back when ECS could not
 * be observed, and the reconciler's act step must refuse on its own too. Here the planner is
 * deliberately broken — it plans as if the observation were complete — and ECS is made to fail
 * (ListTasks denied; then ListTasks answering and DescribeTasks denied). The broken planner does
 * propose launches; the emulator's call log must show none was made, and Redis must be unchanged.
 * A real reconciler (list mode, one pass at a time) against the emulator over HTTP.
 */
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { EcsDriver } from "../../pkg/ecs/index.js";
import type { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { plan, type Action, type PlanFn } from "../../pkg/plan/index.js";
import { Reconciler, createDesiredSource } from "../../pkg/reconciler/index.js";
import { recordStates, startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { poolSnapshot } from "./snapshot.js";

let server: PrivateRedis;
let redis: Redis;
let emu: Emulator;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  const t = await startTestEmulator();
  t.client.destroy();
  emu = t.emu;
});
afterAll(async () => {
  await emu?.stop();
  redis?.disconnect();
  await server?.stop();
});

/** The pool's Redis state but the state-birth mark a pass writes on first sight of an empty pool. */
async function records(r: Redis, keys: PoolKeys): Promise<Record<string, unknown>> {
  const s = await poolSnapshot(r, keys);
  delete s[`${keys.prefix}born`];
  return s;
}

const writes = (): number => {
  const c = emu.control.calls();
  const n = (op: string): number => (c[op] ? c[op].ok + c[op].error + c[op].throttled : 0);
  return n("RunTask") + n("StopTask");
};

/** Plans as if every observation were complete: what a planner that forgot the rule would do. */
function brokenPlanner(proposed: Action[][]): PlanFn {
  return (desired, observed, now, timings) => {
    const p = plan(desired, { ...observed, complete: true }, now, timings);
    proposed.push(p.actions);
    return p;
  };
}

describe("reconciler: a partial observation", () => {
  it("the act step refuses what a broken planner proposes while ListTasks or DescribeTasks fails", async () => {
    const pool = uniquePool("partial");
    const log = createLogger({ level: "silent" });
    const driver = new EcsDriver({
      cluster: "default",
      pool,
      endpoint: emu.endpoint,
      retry: { maxAttempts: 1 },
    });
    const proposed: Action[][] = [];
    const rec = new Reconciler({
      pool,
      redis,
      ecs: driver,
      store: new PoolStore(redis, pool),
      desired: createDesiredSource({ redis, pool, log }),
      plan: brokenPlanner(proposed),
      taskDefinition: FAMILY,
      resyncMs: 600_000,
      leaseTtlMs: 60_000,
      metrics: createMetrics(new Registry(), { defaults: false }),
      log,
      watchConfigKey: false,
      fastRefill: false,
    });
    const keys = rec.keys;
    const setDesired = (minWarm: number): Promise<unknown> =>
      redis.set(
        keys.config,
        JSON.stringify({ minWarm, maxWarm: 6, replenishThreshold: 0, maxSurge: 0, maxTasks: 10 }),
      );
    try {
      expect(await rec.lease.tryAcquire()).toBeTruthy();

      // 1. ListTasks denied: nothing can be seen. A complete-looking empty pool wants 2 launches.
      await setDesired(2);
      const denyList = emu.control.addFault({
        kind: "error",
        op: "ListTasks",
        status: 400,
        code: "AccessDeniedException",
      });
      const w0 = writes();
      const snap0 = await records(redis, keys);
      expect(await rec.pass("resync")).toBe("partial");
      emu.control.clearFaults(denyList);
      expect(proposed.at(-1)).toContainEqual(expect.objectContaining({ kind: "run", count: 2 }));
      expect(writes() - w0).toBe(0);
      expect(await records(redis, keys)).toEqual(snap0);

      // With ECS back the same planner's launch goes out: the refusal above was the partial one.
      expect(await rec.pass("resync")).toBe("ok");
      expect(writes() - w0).toBe(1);
      await waitFor(
        "2 running",
        () =>
          emu.control.tasks().filter((t) => t.startedBy === pool && t.lastStatus === "RUNNING").length === 2,
      );
      for (const t of emu.control.tasks().filter((x) => x.startedBy === pool))
        await new TaskChannel(redis, pool, t.taskId).register({
          taskArn: t.taskArn,
          revision: t.taskDefinitionArn,
          endpoint: "127.0.0.1:9",
          token: "t0123456789abcdef",
        });
      expect((await recordStates(redis, keys)).warm).toBe(2);

      // 2. ListTasks answers, DescribeTasks is denied: half a picture. minWarm 4 wants 2 more.
      await setDesired(4);
      const denyDescribe = emu.control.addFault({
        kind: "error",
        op: "DescribeTasks",
        status: 400,
        code: "AccessDeniedException",
      });
      const w1 = writes();
      const snap1 = await records(redis, keys);
      expect(await rec.pass("resync")).toBe("partial");
      emu.control.clearFaults(denyDescribe);
      expect(proposed.at(-1)).toContainEqual(expect.objectContaining({ kind: "run" }));
      expect(writes() - w1).toBe(0);
      expect(await records(redis, keys)).toEqual(snap1);
      expect(emu.control.tasks().filter((t) => t.startedBy === pool)).toHaveLength(2);
    } finally {
      await rec.stop();
      driver.destroy();
    }
  });
});
