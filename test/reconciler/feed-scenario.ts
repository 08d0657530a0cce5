/**
 * One scenario for every event-feed fault (issue 14 "Must show"): a pool at its target with the
 * feed on, a fault set on the emulator's event feed or queue, then two tasks stopped behind the
 * reconciler's back and one claimed and released. Whatever the fault, counted from the emulator's
 * ground truth: no task started beyond target + the claimed one, no task stopped but the two
 * stopped out of band and the released one, the pool exact at target after the next relist, and
 * the drift the relists found reported.
 */
import { StopTaskCommand, ECSClient } from "@aws-sdk/client-ecs";
import { Registry } from "prom-client";
import { expect } from "vitest";
import type { Fault } from "../../hack/emulator/index.js";
import { ClaimService } from "../../pkg/claims/index.js";
import { createMetrics, type Metrics } from "../../pkg/metrics/index.js";
import type { ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { waitFor } from "../harness/index.js";
import { metricValue, setDesired, startWorld, type World } from "./env.js";

export const TARGET = 4;
export const OUT_OF_BAND = "test: stopped out of band";

export interface ScenarioResult {
  world: World;
  metrics: Metrics;
  rec: ReconcilerProcess;
  /** Most pool tasks ECS held as desired RUNNING at any sample. */
  maxLive: number;
  drift: number;
  feed: Record<string, number>;
}

export interface Scenario {
  faults: Fault[];
  /** Relist interval of the reconciler (default 3s). */
  relist?: string;
  /** Runs after the faults are set, before the claim and the out-of-band stops. */
  during?: (w: World, rec: ReconcilerProcess) => Promise<void>;
  /** Runs right after the out-of-band stops (e.g. a leader change); may hand over to a new process. */
  afterStops?: (
    w: World,
    rec: ReconcilerProcess,
    start: () => Promise<ReconcilerProcess>,
  ) => Promise<ReconcilerProcess | void>;
  /** Clear the faults before waiting for the pool to settle (a queue that comes back). */
  clearBeforeSettle?: boolean;
}

export class FeedHarness {
  world: World | undefined;
  private svc: ClaimService | undefined;
  private responder: ReadyResponder | undefined;
  private sampler: NodeJS.Timeout | undefined;

  async close(): Promise<void> {
    clearInterval(this.sampler);
    await this.responder?.stop();
    await this.svc?.close();
    await this.world?.close();
    this.world = this.svc = this.responder = undefined;
  }

  async run(s: Scenario): Promise<ScenarioResult> {
    const w = (this.world = await startWorld({ feed: true }));
    await setDesired(w, { minWarm: TARGET, maxWarm: TARGET + 2, replenishThreshold: TARGET, maxTasks: 20 });
    this.responder = await startReadyResponder(w.redis, w.redis.duplicate(), w.pool);
    this.svc = new ClaimService({ pool: w.pool, redis: w.redis, limits: { minLeaseSeconds: 1 } });
    await this.svc.start();
    const metrics = createMetrics(new Registry(), { defaults: false });
    const start = (): Promise<ReconcilerProcess> =>
      w.startReconciler({ "relist-interval": s.relist ?? "3s", "resync-interval": "2s" }, metrics);
    let rec = await start();
    let maxLive = 0;
    this.sampler = setInterval(() => (maxLive = Math.max(maxLive, w.live().length)), 20);
    await waitFor("the pool at target", async () => (await w.states()).warm === TARGET, 20_000);
    expect(w.launches()).toHaveLength(TARGET);

    for (const f of s.faults) w.emu.control.addFault(f);
    if (s.during) await s.during(w, rec);

    // One claim, released: its task is stopped (never back to the pool) and replaced.
    const c = await this.svc.claim({ userId: "u1", waitMs: 20_000, leaseSeconds: 60 });
    if (c.outcome !== "ready") throw new Error(`claim not served: ${c.outcome}`);
    expect((await this.svc.release(c.claim.claimId)).outcome).toBe("released");
    const claimed = c.claim.taskId;
    await waitFor(
      "the released task stopped",
      () => w.emu.control.task(claimed)?.desiredStatus === "STOPPED",
      20_000,
    );
    // Two warm tasks stopped behind the reconciler's back.
    const ecs = new ECSClient({ endpoint: w.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    const victims = (await w.redis.zrange(w.keys.warm, 0, 1)).slice(0, 2);
    for (const id of victims) {
      const arn = w.emu.control.task(id)!.taskArn;
      await ecs.send(new StopTaskCommand({ cluster: "default", task: arn, reason: OUT_OF_BAND }));
    }
    ecs.destroy();
    if (s.afterStops) rec = (await s.afterStops(w, rec, start)) ?? rec;

    if (s.clearBeforeSettle) w.emu.control.clearFaults();
    const expectedLaunches = TARGET + victims.length + 1;
    let last = "";
    await waitFor(
      "the pool exact at target again, every replacement launched",
      async () => {
        const st = await w.states();
        last = JSON.stringify({ st, live: w.live().length, launches: w.launches().length });
        return st.warm === TARGET && w.live().length === TARGET && w.launches().length === expectedLaunches;
      },
      45_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${last}`);
    });
    // After the next relist, still exact (nothing more launched or stopped).
    const relists = async (): Promise<number> =>
      metricValue(metrics, "relistsTotal", { pool: w.pool, kind: "full", result: "ok" });
    const before = await relists();
    await waitFor("the next relist", async () => (await relists()) > before, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.launches()).toHaveLength(expectedLaunches);
    expect(w.live()).toHaveLength(TARGET);
    expect((await w.states()).warm).toBe(TARGET);
    // No task stopped that should live: only the two stopped out of band and the released one.
    const reasons = w
      .launches()
      .filter((t) => t.desiredStatus === "STOPPED")
      .map((t) => t.stoppedReason)
      .sort();
    expect(reasons).toEqual([OUT_OF_BAND, OUT_OF_BAND, "warmpool: released"].sort());
    // Never more than the target plus the one claimed task live at once.
    expect(maxLive).toBeLessThanOrEqual(TARGET + 1);
    const drift =
      (await metricValue(metrics, "cacheDriftTotal", { pool: w.pool, kind: "full" })) +
      (await metricValue(metrics, "cacheDriftTotal", { pool: w.pool, kind: "targeted" }));
    const feed: Record<string, number> = {};
    for (const outcome of ["applied", "duplicate", "stale", "foreign", "malformed"])
      feed[outcome] = await metricValue(metrics, "feedEventsTotal", { pool: w.pool, outcome });
    return { world: w, metrics, rec, maxLive, drift, feed };
  }
}
