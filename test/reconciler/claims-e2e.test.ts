import { afterEach, describe, expect, it } from "vitest";
import { ClaimService, type ClaimResult } from "../../pkg/claims/index.js";
import { waitFor } from "../harness/index.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { setDesired, startWorld, type World } from "./env.js";

/**
 * Claims against the real reconciler: the cold path (pool at 0, claims wait, the reconciler
 * launches, the first tasks to register serve the claims in FIFO order), and the two ends of a
 * served claim (released; lease run out without heartbeats) each ending in a StopTask with that
 * reason. Counted from the emulator (launches, stop reasons) and Redis (records, the events stream).
 */
describe("claims with the reconciler (real Redis, emulator over HTTP)", () => {
  let w: World | undefined;
  let svc: ClaimService | undefined;
  let responder: ReadyResponder | undefined;
  afterEach(async () => {
    await responder?.stop();
    await svc?.close();
    await w?.close();
    w = svc = responder = undefined;
  });

  async function start(desired: Record<string, unknown>): Promise<World> {
    w = await startWorld();
    await setDesired(w, desired);
    responder = await startReadyResponder(w.redis, w.redis.duplicate(), w.pool);
    svc = new ClaimService({ pool: w.pool, redis: w.redis, limits: { minLeaseSeconds: 1 } });
    await svc.start();
    rec = await w.startReconciler({ "resync-interval": "10m" }); // every launch below is event-driven
    return w;
  }
  let rec: Awaited<ReturnType<World["startReconciler"]>> | undefined;

  it("cold path: pool at 0, claims wait, the reconciler launches, FIFO by registration order", async () => {
    const world = await start({ minWarm: 0, maxWarm: 10, replenishThreshold: 0 });
    await waitFor("the first pass", async () => (await world.redis.get(world.keys.status)) !== null, 10_000);
    expect(world.launches()).toHaveLength(0);
    const users = ["first", "second", "third"];
    const pending: Promise<ClaimResult>[] = [];
    for (const [i, userId] of users.entries()) {
      pending.push(svc!.claim({ userId, waitMs: 30_000 }));
      await waitFor("queued", async () => (await world.redis.llen(world.keys.waiting)) === i + 1, 5_000);
    }
    const results = await Promise.all(pending);
    // The reconciler launched for the waiters (its target counts them), not more.
    expect(world.launches()).toHaveLength(3);
    const registered = (await world.redis.xrange(world.keys.events, "-", "+"))
      .filter(([, f]) => f[1] === "register")
      .map(([, f]) => f[f.indexOf("taskId") + 1]);
    expect(registered).toHaveLength(3);
    for (const [i, r] of results.entries()) {
      expect(r.outcome).toBe("ready");
      if (r.outcome !== "ready") continue;
      expect(r.claim.warm).toBe(false);
      expect(r.claim.taskId).toBe(registered[i]);
      expect(await world.redis.hget(world.keys.task(r.claim.taskId), "userId")).toBe(users[i]);
    }
  });

  it("a released claim's task is stopped; a claim that stops heartbeating is expired and its task stopped", async () => {
    const world = await start({ minWarm: 2, maxWarm: 10, replenishThreshold: 2 });
    await waitFor("2 warm", async () => (await world.states()).warm === 2, 20_000);
    const released = await svc!.claim({ userId: "rel", waitMs: 5_000, leaseSeconds: 60 });
    const silent = await svc!.claim({ userId: "quiet", waitMs: 5_000, leaseSeconds: 1 });
    if (released.outcome !== "ready" || silent.outcome !== "ready") throw new Error("claims not served");
    expect((await svc!.release(released.claim.claimId)).outcome).toBe("released");
    const reasonOf = (taskId: string) => world.emu.control.task(taskId)?.stoppedReason;
    await waitFor("the released task stopped", () => reasonOf(released.claim.taskId) !== undefined, 15_000);
    expect(reasonOf(released.claim.taskId)).toBe("warmpool: released");
    // No heartbeat: past its 1 s lease the reconciler expires it and stops the task.
    await waitFor(
      "the silent claim's task stopped",
      () => reasonOf(silent.claim.taskId) !== undefined,
      20_000,
    );
    expect(reasonOf(silent.claim.taskId)).toBe("warmpool: lease-expired");
    expect(await world.redis.hget(world.keys.claim(silent.claim.claimId), "state")).toBe("expired");
    expect(await svc!.heartbeat(silent.claim.claimId)).toMatchObject({ outcome: "ended" });
    // Neither task ever went back to the pool; the pool refilled beside them.
    await waitFor("2 warm again", async () => (await world.states()).warm === 2, 20_000);
    const warm = await world.redis.zrange(world.keys.warm, 0, -1);
    expect(warm).not.toContain(released.claim.taskId);
    expect(warm).not.toContain(silent.claim.taskId);
  });

  it("a lease past due that cannot be expired (pool paused) does not wake the loop every second", async () => {
    const world = await start({ minWarm: 1, maxWarm: 10, replenishThreshold: 1 });
    await waitFor("1 warm", async () => (await world.states()).warm === 1, 20_000);
    const c = await svc!.claim({ userId: "held", waitMs: 5_000, leaseSeconds: 1 });
    expect(c.outcome).toBe("ready");
    await setDesired(world, { minWarm: 1, maxWarm: 10, replenishThreshold: 1, paused: true });
    await waitFor("paused in force", () => rec!.reconciler.snapshot().desired?.paused === true, 10_000);
    // Let the events of the change settle (a keyspace notification and the config entry).
    await new Promise((r) => setTimeout(r, 500));
    const passes = rec!.reconciler.passes;
    await new Promise((r) => setTimeout(r, 6_000)); // the lease falls due after 1 s
    // The one wake when the lease fell due (and a stray event or two), not one every second.
    expect(rec!.reconciler.passes - passes).toBeLessThanOrEqual(3);
    expect(world.emu.control.calls().StopTask?.ok ?? 0).toBe(0); // paused: nothing stopped
  });
});
