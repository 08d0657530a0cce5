import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ClaimService } from "../../pkg/claims/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import {
  buildConfig,
  createDesiredSource,
  startReconcilerProcess,
  type DesiredSource,
  type ReconcilerProcess,
} from "../../pkg/reconciler/index.js";
import { waitFor } from "../harness/index.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { setDesired, startWorld, type World } from "./env.js";

/**
 * The fast refill (docs/reconciler.md): a claim that takes the pool below replenishThreshold gets
 * its replacement launched while a full pass is stuck (its desired-state read held open here, the
 * way a pass over 10,000 records keeps the loop busy), reading no record: the Redis server's own
 * command counts show no HGETALL/SMEMBERS between the claim and the RunTask. Launches are counted
 * from the emulator's ground truth; the next full passes launch nothing more, and concurrent
 * claims never take the pool beyond its target.
 */
describe("fast refill (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  let svc: ClaimService | undefined;
  let responder: ReadyResponder | undefined;
  let proc: ReconcilerProcess | undefined;
  afterEach(async () => {
    gateOpen();
    await proc?.stop();
    await responder?.stop();
    await svc?.close();
    await w?.close();
    w = svc = responder = proc = undefined;
  });

  // A held gate makes the next pass's desired-state read wait: a pass "already running".
  let held: Promise<void> | undefined;
  let gateOpen: () => void = () => undefined;
  /** A pass is waiting at the gate (it has not read Redis yet). */
  let stuck = false;
  const holdPasses = (): void => {
    stuck = false;
    held = new Promise<void>((r) => (gateOpen = () => ((held = undefined), r())));
  };
  /** Holds the gate and waits until the next pass is stuck at it. */
  async function stickAPass(): Promise<void> {
    holdPasses();
    proc!.reconciler.trigger.poke();
    await waitFor("a pass stuck at the gate", () => stuck, 10_000);
  }

  const MIN_WARM = 8;
  async function start(): Promise<World> {
    const world = (w = await startWorld());
    await setDesired(world, {
      minWarm: MIN_WARM,
      maxWarm: MIN_WARM,
      replenishThreshold: MIN_WARM,
      maxSurge: 0,
    });
    responder = await startReadyResponder(world.redis, world.redis.duplicate(), world.pool);
    svc = new ClaimService({ pool: world.pool, redis: world.redis, limits: { minLeaseSeconds: 1 } });
    await svc.start();
    const cfg = buildConfig(world.flags({ "resync-interval": "1s" }));
    const log = createLogger({
      level: cfg.logLevel,
      bindings: { component: "reconciler", pool: world.pool },
    });
    const ref: { real?: DesiredSource } = {};
    const desired: DesiredSource = {
      read: async () => {
        while (held) {
          stuck = true;
          await held;
        }
        stuck = false;
        return ref.real!.read();
      },
    };
    proc = await startReconcilerProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log,
      host: "127.0.0.1",
      desired,
    });
    ref.real = createDesiredSource({ redis: proc.redis, pool: world.pool, log });
    await waitFor(
      "the pool warm",
      async () => (await world.redis.zcard(world.keys.warm)) === MIN_WARM,
      20_000,
    );
    return world;
  }

  async function commandCalls(world: World): Promise<Record<string, number>> {
    const info = await world.redis.info("commandstats");
    const out: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  }

  const claim = (userId: string) => svc!.claim({ userId, waitMs: 10_000, leaseSeconds: 600 });

  it.each([
    ["on", true],
    ["off", false],
  ])(
    "fast path %s: a claim crossing the threshold while a pass is stuck (replacement launched iff on)",
    async (_label, on) => {
      const world = await start();
      const rec = proc!.reconciler;
      rec.fast!.enabled = on;
      expect(world.launches()).toHaveLength(MIN_WARM);
      await stickAPass(); // the next pass starts and waits on its desired-state read
      const passes = rec.passes;
      const before = await commandCalls(world);
      const r = await claim("u1");
      expect(r.outcome).toBe("ready");
      if (on) {
        // The emulator holds the task before its RunTask answer is back: wait for both.
        await waitFor(
          "the replacement launched",
          async () => world.launches().length === MIN_WARM + 1 && rec.fast!.tasksLaunched > 0,
          10_000,
        );
        // No pass ran meanwhile, and no record was read: O(1) of the pool's size.
        expect(rec.passes).toBe(passes);
        const after = await commandCalls(world);
        expect((after.hgetall ?? 0) - (before.hgetall ?? 0)).toBe(0);
        expect((after.smembers ?? 0) - (before.smembers ?? 0)).toBe(0);
        expect((after.zcard ?? 0) - (before.zcard ?? 0)).toBeGreaterThanOrEqual(1);
        expect(rec.fast!.tasksLaunched).toBe(1);
      } else {
        // The pass alone refills: nothing is launched while it is stuck.
        await new Promise((res) => setTimeout(res, 1_500));
        expect(world.launches()).toHaveLength(MIN_WARM);
      }
      // The passes resume: the pool is whole again and nothing more is launched.
      gateOpen();
      await waitFor("two more passes", async () => rec.passes >= passes + 3, 10_000);
      await waitFor(
        "warm again",
        async () => (await world.redis.zcard(world.keys.warm)) === MIN_WARM,
        10_000,
      );
      await waitFor("two more passes", async () => rec.passes >= passes + 5, 10_000);
      expect(world.launches()).toHaveLength(MIN_WARM + 1);
      expect(world.live()).toHaveLength(MIN_WARM + 1);
      // The counts above can see a record read: the passes since read the records that changed
      // (HGETALL each; the record cache reads no more than that, the list mode every record).
      expect(((await commandCalls(world)).hgetall ?? 0) - (before.hgetall ?? 0)).toBeGreaterThan(0);
    },
    60_000,
  );

  it("an empty pool and bursts of queued claims: one launch per waiter, never more", async () => {
    const world = (w = await startWorld());
    await setDesired(world, { minWarm: 0, maxWarm: 20, replenishThreshold: 0, maxSurge: 0 });
    responder = await startReadyResponder(world.redis, world.redis.duplicate(), world.pool);
    svc = new ClaimService({ pool: world.pool, redis: world.redis, limits: { minLeaseSeconds: 1 } });
    await svc.start();
    proc = await world.startReconciler({ "resync-interval": "10m" });
    await waitFor("the first pass", async () => (await world.redis.get(world.keys.status)) !== null, 10_000);
    let served = 0;
    for (let round = 0; round < 4; round++) {
      // Waiters queue while tasks register and take them: the counters move under every refill.
      const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => claim(`r${round}-${i}`)));
      expect(rs.every((r) => r.outcome === "ready")).toBe(true);
      served += 4;
      const p = proc.reconciler.passes;
      await waitFor("a pass after the round", async () => proc!.reconciler.passes > p, 10_000);
      expect(world.launches()).toHaveLength(served);
    }
    expect(proc.reconciler.fast!.tasksLaunched).toBeGreaterThan(0);
  }, 60_000);

  it("concurrent claims, passes stuck and free: each claimed task replaced once, never beyond target", async () => {
    const world = await start();
    const rec = proc!.reconciler;
    let maxIdle = 0;
    const sampler = setInterval(() => {
      // Idle from ground truth: live pool tasks (emulator) less live claims (Redis).
      void world.redis.zcard(world.keys.claims).then((claimed) => {
        maxIdle = Math.max(maxIdle, world.live().length - claimed);
      });
    }, 20);
    try {
      let claimed = 0;
      for (const stuckPass of [true, false, true]) {
        if (stuckPass) await stickAPass();
        const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => claim(`u${claimed + i}`)));
        expect(rs.every((r) => r.outcome === "ready")).toBe(true);
        claimed += 5;
        await waitFor("replacements", async () => world.launches().length === MIN_WARM + claimed, 10_000);
        gateOpen();
        await waitFor(
          "warm again",
          async () => (await world.redis.zcard(world.keys.warm)) === MIN_WARM,
          15_000,
        );
        const p = rec.passes;
        await waitFor("two more passes", async () => rec.passes >= p + 2, 10_000);
        expect(world.launches()).toHaveLength(MIN_WARM + claimed);
      }
      expect(rec.fast!.tasksLaunched).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
    }
    // Idle (warm + starting) never went beyond the target (maxSurge 0): no overshoot at any time.
    expect(maxIdle).toBeLessThanOrEqual(MIN_WARM);
  }, 90_000);
});
