import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ClaimService } from "../../pkg/claims/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { DrainSource, parseDrain } from "../../pkg/reconciler/drain-source.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "./env.js";

const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));

describe("on-call drain (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  let svc: ClaimService | undefined;
  let responder: ReadyResponder | undefined;
  let sampler: NodeJS.Timeout | undefined;
  afterEach(async () => {
    clearInterval(sampler);
    await responder?.stop();
    await svc?.close();
    await w?.close();
    w = svc = responder = undefined;
  });

  it("replaces every idle task surge-first (warm never below minWarm), leaves the claimed one running", async () => {
    w = await startWorld();
    const world = w;
    await setDesired(world, { minWarm: 3, maxWarm: 10, replenishThreshold: 1, maxSurge: 2 });
    const rec = await world.startReconciler();
    await waitFor("3 warm", async () => (await world.states()).warm === 3, 30_000);

    svc = new ClaimService({ pool: world.pool, redis: world.redis, readyTimeoutMs: 10_000 });
    await svc.start();
    responder = await startReadyResponder(world.redis, new Redis(world.redisServer.url), world.pool);
    const claim = await svc.claim({ userId: "u1", waitMs: 0, leaseSeconds: 600 });
    expect(claim.outcome).toBe("ready");
    const claimedId = claim.outcome === "ready" ? claim.claim.taskId : "";
    await waitFor("3 warm + 1 claimed", async () => {
      const s = await world.states();
      return s.warm === 3 && s.claimed === 1 && (s.starting ?? 0) === 0;
    });
    const idleBefore = await world.redis.zrange(world.keys.warm, 0, -1);
    expect(idleBefore).toHaveLength(3);
    const launchesBefore = world.launches().length;

    // Surge first: sample the warm count from Redis throughout the drain.
    let minWarm = Infinity;
    sampler = setInterval(() => {
      void world.redis.zcard(world.keys.warm).then((n) => (minWarm = Math.min(minWarm, n)));
    }, 10);
    const [sec, usec] = await world.redis.time();
    const beforeMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    await world.redis.set(world.keys.drain, JSON.stringify({ beforeMs, by: "oncall", reason: "test" }));

    await waitFor(
      "every old idle task replaced",
      async () => {
        const warm = await world.redis.zrange(world.keys.warm, 0, -1);
        return warm.length === 3 && warm.every((id) => !idleBefore.includes(id));
      },
      30_000,
    );
    await settle();
    clearInterval(sampler);
    expect(minWarm).toBeGreaterThanOrEqual(3);
    // Ground truth: exactly three replacements, the old idle tasks stopped, the claimed one running.
    expect(world.launches().length - launchesBefore).toBe(3);
    const live = new Set(world.live().map((t) => t.taskId));
    for (const id of idleBefore) expect(live.has(id), `${id} stopped`).toBe(false);
    expect(live.has(claimedId)).toBe(true);
    expect(await world.redis.hget(world.keys.task(claimedId), "state")).toBe("claimed");
    expect(rec.reconciler.snapshot().drain).toEqual({ beforeMs });
  });

  it("a malformed drain key is ignored, logged once however many passes read it", async () => {
    w = await startWorld({ bridges: false });
    const world = w;
    const lines: string[] = [];
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const source = new DrainSource(
      world.redis,
      world.keys,
      createLogger({ level: "warn", destination: dest }),
    );
    await world.redis.set(world.keys.drain, "{not json");
    for (let i = 0; i < 5; i++) expect(await source.read()).toBeUndefined();
    expect(lines.filter((l) => l.includes("drain request ignored"))).toHaveLength(1);
    await world.redis.set(world.keys.drain, JSON.stringify({ beforeMs: 5, revision: "web:3", by: "x" }));
    expect(await source.read()).toEqual({ beforeMs: 5, revision: "web:3" });
    expect(parseDrain(JSON.stringify({ beforeMs: "soon" }))).toMatch(/^beforeMs: must be/);
    expect(parseDrain("[]")).toBe("must be a JSON object");
  });
});
