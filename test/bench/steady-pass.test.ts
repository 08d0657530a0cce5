/**
 * The README's "steady-state pass: exactly ⌈N/100⌉ ListTasks + ⌈N/100⌉ DescribeTasks, 0 writes",
 * checked in `npm test` at a small N (the bench checks it at 10,000): a reconciler set up as the
 * bench sets it up (`--observe=list`, the pool at its target, every task warm) runs several
 * passes, and the emulator's own call log — not the reconciler's metrics — is read after each.
 * Every pass and every call kind is checked on its own; nothing else may be called.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { EcsDriver, launchTasks, observeEcs } from "../../pkg/ecs/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { plan } from "../../pkg/plan/index.js";
import { Reconciler, createDesiredSource } from "../../pkg/reconciler/index.js";
import { startTestEmulator, FAMILY } from "../ecs/env.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";

const N = 250; // 3 pages of ListTasks, 3 batches of DescribeTasks
const PASSES = 3;

describe("steady-state pass: ECS calls from the emulator's call log", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let driver: EcsDriver;
  let rec: Reconciler;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    const started = await startTestEmulator({ timeScale: 0.001, rateLimits: false });
    emu = started.emu;
    started.client.destroy();
    const pool = uniquePool("steady");
    const fast = { ratePerSec: 100_000, burst: 100_000 };
    driver = new EcsDriver({
      cluster: "default",
      pool,
      endpoint: emu.endpoint,
      limits: { read: fast, write: fast },
      concurrency: 8,
    });
    const store = new PoolStore(redis, pool);
    const td = started.taskDefinitionArn;
    await launchTasks(driver, N, td, (tasks) =>
      store.recordLaunches(tasks.map((t) => ({ taskId: t.taskId, taskArn: t.taskArn, revision: td }))),
    );
    await waitFor(
      `${N} tasks RUNNING`,
      async () => (await observeEcs(driver)).tasks.filter((t) => t.lastStatus === "RUNNING").length >= N,
      30_000,
    );
    for (const t of (await observeEcs(driver)).tasks) {
      await new TaskChannel(redis, pool, t.taskId).register({
        taskArn: t.taskArn,
        revision: td,
        endpoint: "127.0.0.1:9",
        token: randomBytes(8).toString("hex"),
      });
    }
    await redis.set(
      new PoolKeys(pool).config,
      JSON.stringify({ minWarm: N - 10, maxWarm: N, replenishThreshold: 3, maxTasks: N }),
    );
    const log = createLogger({ level: "silent" });
    rec = new Reconciler({
      pool,
      redis,
      ecs: driver,
      store,
      desired: createDesiredSource({ redis, pool, log }),
      plan,
      taskDefinition: FAMILY,
      resyncMs: 600_000,
      leaseTtlMs: 60_000,
      log,
      watchConfigKey: false,
    });
    expect(await rec.lease.tryAcquire()).toBeTruthy();
    for (let i = 0; i < 2; i++) await rec.pass("resync"); // revision cache, script load
  });

  afterAll(async () => {
    await rec?.stop();
    driver?.destroy();
    redis?.disconnect();
    await emu?.stop();
    await server?.stop();
  });

  it(`each of ${PASSES} passes over ${N} tasks: exactly ⌈N/100⌉ ListTasks and ⌈N/100⌉ DescribeTasks, 0 writes, nothing else`, async () => {
    const perKind = Math.ceil(N / 100);
    const seen: Record<string, number>[] = [];
    for (let i = 0; i < PASSES; i++) {
      emu.control.resetCalls();
      expect(await rec.pass("resync")).toBe("ok");
      const calls = emu.control.calls();
      seen.push(
        Object.fromEntries(
          Object.entries(calls).map(([op, c]) => [op, c.ok + c.throttled + c.error] as const),
        ),
      );
    }
    for (const pass of seen) {
      // Every operation named, so a write or an extra read shows up by name in the failure.
      expect(pass).toEqual({ ListTasks: perKind, DescribeTasks: perKind });
    }
    expect(emu.control.tasks().filter((t) => t.desiredStatus === "STOPPED")).toHaveLength(0);
  });
});
