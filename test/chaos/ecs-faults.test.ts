/**
 * Scenario 3: ECS misbehaves, injected through the emulator's control API over HTTP — throttling
 * storms, 5xx, RunTask capacity failures, tasks dying before RUNNING while claims run; then, with
 * the traffic stopped, ListTasks lagging several seconds (replacements must be exactly the tasks
 * lost, not more) and a single transient timeout (it must not drain the pool).
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
      { kind: "failToStart", probability: 0.5, durationMs: PHASE_MS },
    ];
    for (const f of storms) {
      await addFault(w, f);
      await sleep(PHASE_MS + 300);
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

    const injected = firedBeforeClear + (await faultsFired(w));
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
    expect(lagReplacements).toBe(2);
    expect(stopsDuringTimeout).toBe(0);
    expect(runsDuringTimeout).toBe(0);
    expect(stillAtTarget).toBe(true);
  });
});
