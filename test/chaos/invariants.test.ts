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

const setDesired = (pool: string, d: Record<string, number>): Promise<unknown> =>
  redis.set(new ClaimKeys(pool).config, JSON.stringify({ replenishThreshold: 0, ...d }));

async function launch(pool: string, count: number): Promise<void> {
  await ecs.send(new RunTaskCommand({ taskDefinition: FAMILY, startedBy: pool, count }));
}

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
    // Bounds of 0 idle and 1 task (from the desired state in Redis): the two still running are over both.
    await setDesired(pool, { minWarm: 0, maxWarm: 0, maxSurge: 0, maxTasks: 1 });
    const sampler = new Sampler(redis, emu.endpoint, pool);
    await sampler.tick();
    const v = await checkInvariants({ redis, endpoint: emu.endpoint, pool, sampler });
    const text = v.violations.join("\n");
    expect(text).toContain(`task ${a} served 2 claims`);
    expect(text).toContain(`claimed task ${b} is in the warm set`);
    expect(text).toContain(`claimed task ${b} has state warm`);
    expect(text).toMatch(new RegExp(`task ${c} stopped at \\d+ while claim c4 holds a lease`));
    expect(text).toMatch(/2 idle tasks running \(up from 0\), above target 0 \+ maxSurge 0/);
    expect(text).toMatch(/2 tasks running, above maxTasks 1/);
    expect(v.figures.stoppedByStopTask).toBe(1);
  });

  it("reports nothing for a clean pool", async () => {
    const pool = uniquePool("inv");
    await setDesired(pool, { minWarm: 5, maxWarm: 5, maxSurge: 1, maxTasks: 10 });
    const sampler = new Sampler(redis, emu.endpoint, pool);
    await sampler.tick();
    const v = await checkInvariants({ redis, endpoint: emu.endpoint, pool, sampler });
    expect(v.violations).toEqual([]);
  });

  it("bounds idle tasks by target + maxSurge, the target from minWarm and waiting claims, not by maxWarm", async () => {
    // Three idle tasks, minWarm 1, maxWarm 5, no surge: under maxWarm + maxSurge (the old bound,
    // which passed this), but two above the target while no claim waits.
    const pool = uniquePool("inv");
    await setDesired(pool, { minWarm: 1, maxWarm: 5, maxSurge: 0, maxTasks: 10 });
    await launch(pool, 3);
    const sampler = new Sampler(redis, emu.endpoint, pool);
    await sampler.tick();
    expect(sampler.violations).toEqual(["3 idle tasks running (up from 0), above target 1 + maxSurge 0"]);
    // No rise since: not reported again (surplus is never trimmed below maxWarm; only launches raise idle).
    await sampler.tick();
    expect(sampler.violations).toHaveLength(1);
  });

  it("two waiting claims raise the target: three idle tasks for minWarm 1 are within it", async () => {
    const pool = uniquePool("inv");
    const keys = new ClaimKeys(pool);
    await setDesired(pool, { minWarm: 1, maxWarm: 5, maxSurge: 0, maxTasks: 10 });
    await redis.rpush(keys.waiting, "w1", "w2");
    await launch(pool, 3);
    const sampler = new Sampler(redis, emu.endpoint, pool);
    await sampler.tick();
    expect(sampler.violations).toEqual([]);
    expect(sampler.lastBounds).toEqual({ target: 3, maxSurge: 0, maxTasks: 10 });
  });

  it("claims that waited between two samples (miss events) raise the target too; a later rise beyond it is reported", async () => {
    const pool = uniquePool("inv");
    const keys = new ClaimKeys(pool);
    await setDesired(pool, { minWarm: 1, maxWarm: 5, maxSurge: 0, maxTasks: 10 });
    await launch(pool, 1);
    const sampler = new Sampler(redis, emu.endpoint, pool, 0);
    await sampler.tick();
    // Two claims missed and were served between the samples: the waiting list is empty again.
    await redis.xadd(keys.events, "*", "type", "miss", "claimId", "m1");
    await redis.xadd(keys.events, "*", "type", "miss", "claimId", "m2");
    await launch(pool, 2);
    await sampler.tick();
    expect(sampler.violations).toEqual([]);
    // With the window of 0 ms, the raised target is gone by the next sample: one launch more is over it.
    await launch(pool, 1);
    await sampler.tick();
    expect(sampler.violations).toEqual(["4 idle tasks running (up from 3), above target 1 + maxSurge 0"]);
  });

  it("a failed sample is a violation unless an outage was declared; then it is counted", async () => {
    const pool = uniquePool("inv");
    await setDesired(pool, { minWarm: 1, maxWarm: 1, maxSurge: 0, maxTasks: 10 });
    // An emulator that does not answer (a closed port).
    const gone = new Sampler(redis, "http://127.0.0.1:9", pool);
    await gone.tick();
    const v1 = await checkInvariants({ redis, endpoint: emu.endpoint, pool, sampler: gone });
    expect(v1.violations.join("\n")).toMatch(/a sample at \d+ failed outside a declared outage/);
    expect(v1.violations.join("\n")).toContain("no mid-run sample succeeded");
    // Redis away (a client whose connection is closed), declared as an outage, then back.
    const r2 = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    r2.on("error", () => undefined);
    await waitFor("second client", () => r2.status === "ready");
    const declared = new Sampler(r2, emu.endpoint, pool);
    r2.disconnect();
    declared.outage(true);
    await declared.tick();
    declared.outage(false);
    await waitFor("closed", () => r2.status === "end");
    await r2.connect();
    const v2 = await checkInvariants({ redis, endpoint: emu.endpoint, pool, sampler: declared });
    expect(v2.violations).toEqual([]);
    expect(v2.figures.failedSamples).toBe(1);
    expect(v2.figures.samples).toBe(1);
    r2.disconnect();
  });
});
