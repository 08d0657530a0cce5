/**
 * The checker itself: fed ground truth that breaks each invariant (written straight into Redis,
 * a real StopTask on the emulator), it must report every break. A checker that cannot fail would
 * make every scenario's "violations: 0" worthless.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { Sampler, checkInvariants } from "./invariants.js";

let server: PrivateRedis;
let redis: Redis;
let emu: Emulator;
let ecs: ECSClient;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  const t = await startTestEmulator();
  emu = t.emu;
  ecs = t.client;
});
afterAll(async () => {
  ecs?.destroy();
  await emu?.stop();
  redis?.disconnect();
  await server?.stop();
});

describe("invariant checker", () => {
  it("reports a task serving two claims, a claimed task warm again, a stop under a live lease, too many idle tasks", async () => {
    const pool = uniquePool("inv");
    const keys = new ClaimKeys(pool);
    const out = await ecs.send(new RunTaskCommand({ taskDefinition: FAMILY, startedBy: pool, count: 3 }));
    const [a, b, c] = out.tasks!.map((t) => t.taskArn!.split("/").pop()!);
    await waitFor("RUNNING", () => emu.control.tasks().every((t) => t.lastStatus === "RUNNING"));
    const now = Date.now();
    // a: two claims; b: claimed and warm again; c: stopped while its claim holds a lease.
    await redis.hset(keys.claim("c1"), { taskId: a!, state: "released", endedAt: String(now) });
    await redis.hset(keys.claim("c2"), { taskId: a!, state: "ready" });
    await redis.hset(keys.task(b!), { state: "warm", claimId: "c3" });
    await redis.hset(keys.claim("c3"), { taskId: b!, state: "ready" });
    await redis.zadd(keys.warm, now, b!);
    await redis.hset(keys.claim("c4"), { taskId: c!, state: "ready" });
    await redis.zadd(keys.claims, now + 60_000, "c4");
    await redis.sadd(keys.tasks, b!);
    await ecs.send(new StopTaskCommand({ cluster: "default", task: c!, reason: "test" }));
    // Bounds of 0 idle and 1 task: the two still running are over both.
    const sampler = new Sampler(redis, emu.endpoint, pool, { maxWarm: 0, maxSurge: 0, maxTasks: 1 });
    await sampler.tick();
    const v = await checkInvariants({ redis, endpoint: emu.endpoint, pool, sampler });
    const text = v.violations.join("\n");
    expect(text).toContain(`task ${a} served 2 claims`);
    expect(text).toContain(`claimed task ${b} is in the warm set`);
    expect(text).toContain(`claimed task ${b} has state warm`);
    expect(text).toMatch(new RegExp(`task ${c} stopped at \\d+ while claim c4 holds a lease`));
    expect(text).toMatch(/idle tasks running, above maxWarm 0 \+ maxSurge 0/);
    expect(text).toMatch(/2 tasks running, above maxTasks 1/);
    expect(v.figures.stoppedByStopTask).toBe(1);
  });

  it("reports nothing for a clean pool", async () => {
    const pool = uniquePool("inv");
    const sampler = new Sampler(redis, emu.endpoint, pool, { maxWarm: 5, maxSurge: 1, maxTasks: 10 });
    await sampler.tick();
    const v = await checkInvariants({ redis, endpoint: emu.endpoint, pool, sampler });
    expect(v.violations).toEqual([]);
  });
});
