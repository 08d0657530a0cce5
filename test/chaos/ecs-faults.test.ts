/**
 * Scenario 3: ECS misbehaves, injected through the emulator's control API over HTTP — throttling
 * storms, 5xx, RunTask capacity failures, tasks dying before RUNNING while claims run (the deaths
 * are counted from the emulator and must equal the fault's firings); then, with the traffic
 * stopped, ListTasks lagging several seconds (replacements must be exactly the tasks lost, not
 * more) and one slow ListTasks answer (short: 3 s, inside the driver's 15 s timeout, so no pass
 * fails; full: one that never answers) that must not drain the pool.
 * The second block makes observations really fail (see there).
 */
import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fault, FaultView } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { startTraffic } from "./driver.js";
import { startChaosWorld, type ChaosWorld } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { figures, pick, sleep } from "./mode.js";

const DESIRED = { minWarm: 4, maxWarm: 6, replenishThreshold: 2, maxSurge: 2, maxTasks: 40 };
const PHASE_MS = pick(1_500, 10_000);
const RECOVERY_BOUND_MS = 20_000;

async function addFault(w: ChaosWorld, f: Fault): Promise<string> {
  const r = await fetch(`${w.emu.endpoint}/_emulator/faults`, { method: "POST", body: JSON.stringify(f) });
  if (r.status !== 201) throw new Error(`fault refused: ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

async function faultsFired(w: ChaosWorld): Promise<number> {
  const r = await fetch(`${w.emu.endpoint}/_emulator/faults`);
  return ((await r.json()) as { faults: FaultView[] }).faults.reduce((n, f) => n + f.fired, 0);
}

async function firedOf(w: ChaosWorld, kind: Fault["kind"]): Promise<number> {
  const r = await fetch(`${w.emu.endpoint}/_emulator/faults`);
  const { faults } = (await r.json()) as { faults: FaultView[] };
  return faults.filter((f) => f.fault.kind === kind).reduce((n, f) => n + f.fired, 0);
}

const calls = (w: ChaosWorld, op: string): number => {
  const c = w.emu.control.calls()[op];
  return c ? c.ok + c.error + c.throttled : 0;
};

const atTarget = async (w: ChaosWorld): Promise<boolean> => {
  const s = await w.states();
  return s.warm === 4 && !s.starting && !s.draining && w.live().length === 4;
};

describe("chaos: ECS faults", { timeout: 240_000 }, () => {
  let w: ChaosWorld;
  beforeAll(async () => {
    w = await startChaosWorld({ bridges: "stand-in" });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("throttling, 5xx, capacity failures, tasks dying before RUNNING, list lag, one transient timeout: invariants hold, the pool recovers", async () => {
    await w.setDesired(DESIRED);
    await w.spawnReconciler({ "resync-interval": "300ms" });
    await w.spawnReconciler({ "resync-interval": "300ms" });
    const gw = await w.spawnGateway();
    await waitFor("4 warm", () => atTarget(w), 30_000, 100);
    const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool).start();

    // Phase 1: faults while claims run.
    const traffic = startTraffic({ gatewayUrl: gw.url, clients: 2, holdMs: 200, waitMs: 10_000 });
    const storms: Fault[] = [
      { kind: "throttle", probability: 0.6, durationMs: PHASE_MS },
      { kind: "error", status: 500, code: "ServerException", probability: 0.4, durationMs: PHASE_MS },
      { kind: "runTaskFailure", reason: "CAPACITY_UNAVAILABLE", probability: 0.7, durationMs: PHASE_MS },
      { kind: "failToStart", probability: 0.5 },
    ];
    let diedByFault = 0;
    for (const f of storms) {
      const id = await addFault(w, f);
      await sleep(PHASE_MS + 300);
      if (f.kind === "failToStart") {
        // After the capacity failures the reconciler backs off launching: the phase lasts until
        // at least one launch has died (ground truth), so the deaths below are always exercised.
        await waitFor(
          "a task dying before RUNNING",
          async () => (await firedOf(w, "failToStart")) > 0,
          30_000,
          100,
        );
        // Read before it is deleted (a deleted fault leaves the list); after, no launch dies.
        diedByFault = await firedOf(w, "failToStart");
        await fetch(`${w.emu.endpoint}/_emulator/faults/${id}`, { method: "DELETE" });
      }
    }
    const ledger = await traffic.stop();
    const cleared = Date.now();
    await waitFor("back at target after the storms", () => atTarget(w), RECOVERY_BOUND_MS, 100);
    const recoveryMs = Date.now() - cleared;
    const died = w.launches().filter((t) => t.stopCode === "TaskFailedToStart").length;

    // Phase 2: ListTasks lags 3 s; two warm tasks vanish out of band. The launches still in
    // flight count as starting (expectations): exactly two replacements, not one per pass.
    await sleep(500);
    await addFault(w, { kind: "listLag", ms: 3_000 });
    const launchedBefore = w.launches().length;
    const ecs = new ECSClient({ endpoint: w.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    for (const t of w.live().slice(0, 2))
      await ecs.send(
        new StopTaskCommand({ cluster: "default", task: t.taskArn, reason: "chaos: out of band" }),
      );
    ecs.destroy();
    await waitFor("back at target under list lag", () => atTarget(w), RECOVERY_BOUND_MS, 100);
    await sleep(3_300); // longer than the lag: a late duplicate launch would show by now
    const lagReplacements = w.launches().length - launchedBefore;
    const firedBeforeClear = await faultsFired(w);
    await fetch(`${w.emu.endpoint}/_emulator/faults`, { method: "DELETE" });

    // Phase 3: a single transient timeout. Short: one ListTasks answer held 3 s. Full: one that
    // never answers, so the driver's 15 s request timeout fails that pass. Nothing is stopped.
    await sleep(500);
    const stopsBefore = calls(w, "StopTask");
    const runsBefore = calls(w, "RunTask");
    await addFault(
      w,
      pick<Fault>(
        { kind: "slow", op: "ListTasks", delayMs: 3_000, count: 1 },
        { kind: "slow", op: "ListTasks", hang: true, count: 1 },
      ),
    );
    await sleep(pick(4_000, 18_000));
    const stopsDuringTimeout = calls(w, "StopTask") - stopsBefore;
    const runsDuringTimeout = calls(w, "RunTask") - runsBefore;
    const stillAtTarget = await atTarget(w);

    const injected = diedByFault + firedBeforeClear + (await faultsFired(w));
    const verdict = await checkInvariants({
      redis: w.redis,
      endpoint: w.emu.endpoint,
      pool: w.pool,
      sampler,
      served: ledger.served,
    });
    figures("ecs-faults", {
      claims: ledger.served.length,
      answers: ledger.byStatus,
      faultsInjected: injected,
      diedBeforeRunning: died,
      recoveryMs,
      lagReplacements,
      stopsDuringTimeout,
      runsDuringTimeout,
      ...verdict.figures,
      violations: verdict.violations.length,
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.unclear).toEqual([]);
    expect(ledger.served.length).toBeGreaterThan(0);
    expect(injected).toBeGreaterThan(10);
    // Tasks really died before RUNNING (ground truth: stopCode TaskFailedToStart), exactly the
    // ones the fault killed, and the pool still came back to target.
    expect(died).toBeGreaterThan(0);
    expect(died).toBe(diedByFault);
    expect(lagReplacements).toBe(2);
    expect(stopsDuringTimeout).toBe(0);
    expect(runsDuringTimeout).toBe(0);
    expect(stillAtTarget).toBe(true);
  });
});

/**
 * ECS observations that really fail, with a reconciler that observes by listing (`--observe=list`:
 * every pass is a ListTasks + DescribeTasks walk). While ListTasks is refused, a task is stopped
 * out of band and minWarm raised (a complete observation would launch); while DescribeTasks is
 * refused (ListTasks answering: half a picture), minWarm and maxWarm are lowered (a complete one
 * would stop idle tasks). The emulator's call log must show no RunTask or StopTask in either
 * window, and the pool must act on both changes once ECS answers again (so the check can see an
 * action when there is one). Short: refusals (AccessDenied, not retried). Full: 500s for longer
 * than the driver's retries last.
 */
describe("chaos: ECS observations failing", { timeout: 180_000 }, () => {
  let w: ChaosWorld;
  beforeAll(async () => {
    w = await startChaosWorld({ bridges: "stand-in" });
  });
  afterAll(async () => {
    await w?.close();
  });

  const desired = (minWarm: number, maxWarm: number): Record<string, number> => ({
    minWarm,
    maxWarm,
    replenishThreshold: Math.min(2, minWarm),
    maxSurge: 0,
    maxTasks: 40,
  });
  const warmExactly = async (n: number): Promise<boolean> => {
    const s = await w.states();
    return s.warm === n && !s.starting && !s.draining && w.live().length === n;
  };
  // Each failure lasts until cleared, after the window's figures are read.
  const FAIL_MS = pick(2_500, 15_000);
  const failure = (op: string): Fault =>
    pick<Fault>(
      { kind: "error", op, status: 400, code: "AccessDeniedException" },
      { kind: "error", op, status: 500, code: "ServerException" },
    );
  const writes = (): { run: number; stop: number } => ({
    run: calls(w, "RunTask"),
    stop: calls(w, "StopTask"),
  });

  it("no RunTask or StopTask while ListTasks or DescribeTasks fails; both changes acted on once ECS answers", async () => {
    await w.setDesired(desired(4, 6));
    const rec = await w.spawnReconciler({
      observe: "list",
      "feed-queue-url": "",
      "resync-interval": "200ms",
    });
    const failIf = (what: string) => (e: Error) => {
      throw new Error(`${e.message}; ${what}; reconciler: ${rec.stderr().slice(-1500)}`);
    };
    await waitFor("4 warm", () => warmExactly(4), 30_000, 100).catch(failIf("start"));
    const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool).start();

    // Window 1: ListTasks refused. One warm task is stopped out of band and minWarm goes to 6.
    const list0 = w.emu.control.calls().ListTasks?.error ?? 0;
    const t1 = Date.now();
    await addFault(w, failure("ListTasks"));
    // From the first failed ListTasks on, every pass observes under the fault (passes run one at a
    // time): a pass that listed just before it may still act on what it saw, and is not counted.
    await waitFor(
      "a failed ListTasks",
      () => (w.emu.control.calls().ListTasks?.error ?? 0) > list0,
      10_000,
      10,
    );
    const w1 = writes();
    const launched1 = w.launches().length;
    const ecs = new ECSClient({ endpoint: w.emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    const victim = w.live()[0]!;
    await ecs.send(new StopTaskCommand({ cluster: "default", task: victim.taskArn, reason: "chaos" }));
    ecs.destroy();
    await w.setDesired(desired(6, 6));
    await sleep(FAIL_MS - (Date.now() - t1));
    const during1 = { run: calls(w, "RunTask") - w1.run, stop: calls(w, "StopTask") - w1.stop - 1 };
    const launchedDuring1 = w.launches().length - launched1;
    const listFailed = (w.emu.control.calls().ListTasks?.error ?? 0) - list0;
    await fetch(`${w.emu.endpoint}/_emulator/faults`, { method: "DELETE" });
    await waitFor("6 warm once ListTasks answers", () => warmExactly(6), 20_000, 100).catch(
      failIf("after window 1"),
    );

    // Window 2: DescribeTasks refused, ListTasks answering. minWarm and maxWarm go to 2.
    await sleep(500);
    const describe0 = w.emu.control.calls().DescribeTasks?.error ?? 0;
    const t2 = Date.now();
    await addFault(w, failure("DescribeTasks"));
    await waitFor(
      "a failed DescribeTasks",
      () => (w.emu.control.calls().DescribeTasks?.error ?? 0) > describe0,
      10_000,
      10,
    );
    const w2 = writes();
    const states2 = await w.states();
    await w.setDesired(desired(2, 2));
    await sleep(FAIL_MS - (Date.now() - t2));
    const during2 = { run: calls(w, "RunTask") - w2.run, stop: calls(w, "StopTask") - w2.stop };
    const statesDuring2 = await w.states();
    const describeFailed = (w.emu.control.calls().DescribeTasks?.error ?? 0) - describe0;
    await fetch(`${w.emu.endpoint}/_emulator/faults`, { method: "DELETE" });
    await waitFor("2 warm once DescribeTasks answers", () => warmExactly(2), 20_000, 100).catch(
      failIf("after window 2"),
    );

    const verdict = await checkInvariants({
      redis: w.redis,
      endpoint: w.emu.endpoint,
      pool: w.pool,
      sampler,
    });
    figures("ecs-observation-failing", {
      failMs: FAIL_MS,
      listTasksFailed: listFailed,
      describeTasksFailed: describeFailed,
      writesWhileListFailing: during1,
      writesWhileDescribeFailing: during2,
      ...verdict.figures,
      violations: verdict.violations.length,
    });
    // The observations did fail, pass after pass (the emulator answered errors).
    expect(listFailed).toBeGreaterThanOrEqual(2);
    expect(describeFailed).toBeGreaterThanOrEqual(2);
    // Nothing launched or stopped meanwhile (beyond the test's own StopTask), from the call log
    // and the task list; the Redis records stayed as they were while DescribeTasks failed.
    expect(during1).toEqual({ run: 0, stop: 0 });
    expect(launchedDuring1).toBe(0);
    expect(during2).toEqual({ run: 0, stop: 0 });
    expect(statesDuring2).toEqual(states2);
    expect(verdict.violations).toEqual([]);
  });
});
