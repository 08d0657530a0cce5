import { randomBytes } from "node:crypto";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ClaimService } from "../../pkg/claims/index.js";
import { LeaderLease } from "../../pkg/leader/index.js";
import type { StatusReport } from "../../pkg/ctl/index.js";
import { waitFor } from "../harness/index.js";
import { startReadyResponder } from "../claims/stand-in.js";
import { FAMILY } from "../ecs/env.js";
import { metricValue, setDesired, startWorld, type World } from "../reconciler/env.js";
import { Registry } from "prom-client";
import { createMetrics } from "../../pkg/metrics/index.js";
import { ctl } from "./env.js";

/**
 * `ctl status` against a live pool: real Redis, the ECS emulator over HTTP, the real reconciler
 * and the real register script standing in for bridges. Each unhealthy case is produced by the
 * components themselves (a stopped reconciler, a lease holder that stopped passing, a bad SET, a
 * paused pool with a queued claim), never by writing the status key by hand.
 */
describe("ctl status on a live pool", () => {
  let w: World | undefined;
  const extra: { close(): Promise<void> | void }[] = [];
  afterEach(async () => {
    for (const x of extra.splice(0)) await x.close();
    await w?.close();
    w = undefined;
  });
  const status = (world: World, ...args: string[]) =>
    ctl(["ctl", "status", "--redis-url", world.redisServer.url, "--pool", world.pool, ...args]);
  const report = async (world: World, ...args: string[]) => {
    const r = await status(world, "-o", "json", ...args);
    return { code: r.code, report: JSON.parse(r.out) as StatusReport };
  };

  it("healthy: exit 0, counts equal ground truth (emulator, Redis), leader and last pass shown", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 4, maxWarm: 10, replenishThreshold: 2 });
    await world.startReconciler();
    await waitFor("4 warm", async () => (await world.states()).warm === 4, 20_000);
    const { code, report: r } = await waitFor(
      "healthy",
      async () => {
        const x = await report(world);
        return x.code === 0 && x.report.actual.warm === 4 ? x : undefined;
      },
      10_000,
    );
    expect(code).toBe(0);
    expect(r.health).toMatchObject({ healthy: true, exitCode: 0, problems: [] });
    expect(r.actual.warm).toBe(world.live().length);
    expect(r.leader?.holder).toBe(await world.redis.get(world.keys.leader));
    expect(r.desired).toMatchObject({ key: "valid", inForce: { minWarm: 4, maxWarm: 10 } });
    expect(r.target).toBe(4);
    expect(r.revisions).toEqual([
      { revision: world.taskDefinitionArn, target: true, starting: 0, warm: 4, claimed: 0, draining: 0 },
    ]);
    const text = await status(world);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^pool \S+ {2}HEALTHY/);
    expect(text.out).toMatch(/^warm\s+4\s+4 \(min 4, max 10\)$/m);
    expect(text.out).toMatch(/^leader\s+\S+:\d+:\w+\s+epoch \d+/m);
    expect(text.out).toMatch(/^last pass\s+\S+ ago\s+#\d+ ok/m);
  });

  it("no leader → exit 10; a leader that stopped passing → exit 11 after --stale-after", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 1, maxWarm: 5, replenishThreshold: 0 });
    const rec = await world.startReconciler();
    await waitFor("1 warm", async () => (await world.states()).warm === 1, 20_000);
    await waitFor("a pass published", () => world.redis.get(world.keys.status));
    await rec.stop(); // releases the lease: nobody leads
    const none = await status(world);
    expect(none.code).toBe(10);
    expect(none.out).toMatch(/✗ no reconciler holds the leader lease/);

    // A holder that keeps its lease but no longer passes (a hung reconciler).
    const conn = new Redis(world.redisServer.url);
    const lease = new LeaderLease({ redis: conn, keys: world.keys, ttlMs: 5_000 });
    lease.start();
    extra.push({ close: async () => (await lease.stop(), conn.disconnect()) });
    await waitFor("the hung holder leads", () => lease.held);
    const stale = await waitFor(
      "stale",
      async () => {
        const r = await status(world, "--stale-after", "1");
        return r.code === 11 ? r : undefined;
      },
      15_000,
    );
    expect(stale.out).toMatch(/✗ the last pass is \d+s old \(stale after 1s\)/);
    expect(stale.out).not.toMatch(/no reconciler holds/);
  });

  it("invalid desired state → exit 12, naming the field, the rule and the last good one in force", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 2, maxWarm: 5, replenishThreshold: 1 });
    await world.startReconciler();
    await waitFor("2 warm", async () => (await world.states()).warm === 2, 20_000);
    await world.redis.set(world.keys.config, JSON.stringify({ minWarm: 2, maxwarm: 5 }));
    const r = await waitFor(
      "exit 12",
      async () => {
        const x = await status(world);
        return x.code === 12 ? x : undefined;
      },
      10_000,
    );
    expect(r.out).toMatch(/✗ the config key holds an invalid desired state .*: maxwarm/);
    expect(r.out).toMatch(/desired\s+INVALID \(last good in force\)\n\s+minWarm 2, maxWarm 5, threshold 1/);
    expect(r.out).toMatch(/maxwarm: unknown field; did you mean `maxWarm`\? \[unknown-field\]/);
  });

  it("exhausted (no warm task, claims waiting) → exit 13", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 0, maxWarm: 5, replenishThreshold: 0, paused: true });
    await world.startReconciler();
    await waitFor("a pass", () => world.redis.get(world.keys.status));
    const claims = new ClaimService({ pool: world.pool, redis: world.redis });
    await claims.start();
    extra.push({ close: () => claims.close() });
    const pending = claims.claim({ userId: "u-1", waitMs: 20_000 });
    const r = await waitFor(
      "exit 13",
      async () => {
        const x = await status(world);
        return x.code === 13 ? x : undefined;
      },
      10_000,
    );
    expect(r.out).toMatch(/✗ pool exhausted: no warm task and 1 claim\(s\) waiting/);
    expect(r.out).toMatch(/! paused/);
    const list = await ctl([
      "ctl",
      "claims",
      "list",
      "--redis-url",
      world.redisServer.url,
      "--pool",
      world.pool,
    ]);
    expect(list.out).toMatch(/waiting\s+u-1\s+-\s+\S+\s+-\s+#1/);
    void pending.catch(() => undefined); // ends when the service closes
  });

  it("rollout: a new revision shows by revision, old claimed tasks untouched; --watch redraws until stopped", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 3, maxWarm: 6, replenishThreshold: 3, maxSurge: 2 });
    const metrics = createMetrics(new Registry(), { defaults: false });
    await world.startReconciler({}, metrics);
    await waitFor("3 warm", async () => (await world.states()).warm === 3, 20_000);
    const responder = await startReadyResponder(world.redis, world.redis.duplicate(), world.pool);
    extra.push({ close: () => responder.stop() });
    const claims = new ClaimService({ pool: world.pool, redis: world.redis });
    await claims.start();
    extra.push({ close: () => claims.close() });
    const taken = await claims.claim({ userId: `u-${randomBytes(2).toString("hex")}`, waitMs: 5_000 });
    if (taken.outcome !== "ready") throw new Error(`claim: ${JSON.stringify(taken)}`);
    const claimedTask = taken.claim.taskId;
    await waitFor("3 warm again", async () => (await world.states()).warm === 3, 20_000);
    // Sampled all through the rollout: warm tasks in Redis (never below minWarm: surge first) and
    // the rollout gauge (progress visible in metrics).
    const warmSeen: number[] = [];
    const outdatedSeen: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        warmSeen.push((await world.states()).warm ?? 0);
        outdatedSeen.push(await metricValue(metrics, "rolloutOutdated", { pool: world.pool }));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const ecs = new ECSClient({ endpoint: world.emu.endpoint, region: "us-east-1" });
    const v2 = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        containerDefinitions: [{ name: "agent", image: "warmpool/agent:v2", essential: true, memory: 128 }],
      }),
    );
    ecs.destroy();
    const newArn = v2.taskDefinition!.taskDefinitionArn!;
    const set = await ctl([
      "ctl",
      "config",
      "set",
      `taskDefinition=${FAMILY}:${v2.taskDefinition!.revision}`,
      "--redis-url",
      world.redisServer.url,
      "--pool",
      world.pool,
    ]);
    expect(set.code, set.err).toBe(0);
    const done = await waitFor(
      "3 warm on the new revision",
      async () => {
        const x = await report(world);
        const t = x.report.revisions.find((v) => v.revision === newArn);
        const o = x.report.revisions.find((v) => v.revision === world.taskDefinitionArn);
        return t?.target && t.warm === 3 && o && o.warm + o.starting === 0 ? x.report : undefined;
      },
      30_000,
    );
    await waitFor(
      "the gauge back at 0",
      async () => (await metricValue(metrics, "rolloutOutdated", { pool: world.pool })) === 0,
      10_000,
    );
    sampling = false;
    await sampler;
    expect(Math.min(...warmSeen)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...outdatedSeen)).toBeGreaterThanOrEqual(1);
    const old = done.revisions.find((v) => v.revision === world.taskDefinitionArn);
    expect(old).toMatchObject({ target: false, warm: 0, starting: 0, claimed: 1 });
    // The claimed task finished nothing yet: still claimed in Redis, still running in ECS.
    expect(await world.redis.hget(world.keys.task(claimedTask), "state")).toBe("claimed");
    expect(world.live().some((t) => t.taskId === claimedTask)).toBe(true);
    const text = await status(world);
    expect(text.out).toMatch(
      /rollout\s+\S+:1 → \S+:2: 3 new warm, old idle all replaced, 1 old claimed finishing/,
    );

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 1_500);
    const watched = await ctl(
      [
        "ctl",
        "status",
        "--watch",
        "--interval",
        "0.2",
        "--redis-url",
        world.redisServer.url,
        "--pool",
        world.pool,
      ],
      { signal: ac.signal },
    );
    const frames = watched.out.split(/^pool /m).filter(Boolean);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(watched.out).toMatch(/\(target\)/);
  });
});
