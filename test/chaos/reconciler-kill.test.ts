/**
 * Scenario 1: kill -9 of the leading reconciler every few seconds while claims run through the
 * gateway, two reconciler processes up at all times (each killed leader is replaced by a fresh
 * process, as an orchestrator would). Invariants from Redis and the emulator afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { startTraffic } from "./driver.js";
import { startChaosWorld, type ChaosWorld, type ReconcilerChild } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { figures, pick, sleep } from "./mode.js";

const DESIRED = { minWarm: 4, maxWarm: 6, replenishThreshold: 2, maxSurge: 2, maxTasks: 40 };
const RUN_MS = pick(9_000, 60_000);
const KILL_EVERY_MS = pick(3_000, 4_000);
const RECOVERY_BOUND_MS = 20_000;

describe("chaos: kill -9 of the leading reconciler while claims run", { timeout: RUN_MS + 120_000 }, () => {
  let w: ChaosWorld;
  beforeAll(async () => {
    w = await startChaosWorld({ bridges: "stand-in" });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("no double claim, no claimed task warm again, no stop under a live lease; back at target after the last kill", async () => {
    await w.setDesired(DESIRED);
    const recs: ReconcilerChild[] = [await w.spawnReconciler(), await w.spawnReconciler()];
    const gw = await w.spawnGateway();
    await waitFor("4 warm", async () => (await w.states()).warm === 4, 30_000);
    const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool).start();
    const traffic = startTraffic({ gatewayUrl: gw.url, clients: 2, holdMs: 300, waitMs: 8_000 });
    const t0 = Date.now();
    let kills = 0;
    const epochs: number[] = [];
    while (Date.now() - t0 < RUN_MS) {
      await sleep(KILL_EVERY_MS);
      const pid = await w.leaderPid();
      const leader = recs.find((r) => r.pid === pid && r.child.exitCode === null);
      if (!leader) continue;
      leader.child.kill("SIGKILL");
      await leader.exited;
      kills++;
      recs.splice(recs.indexOf(leader), 1);
      recs.push(await w.spawnReconciler());
      epochs.push(Number(await w.redis.get(w.keys.epoch)));
    }
    const ledger = await traffic.stop();
    const cleared = Date.now();
    let last = "";
    await waitFor(
      "back at target: 4 warm, nothing starting or draining",
      async () => {
        const s = await w.states();
        last = `records ${JSON.stringify(s)}, ${w.live().length} live in ECS`;
        return s.warm === 4 && !s.starting && !s.draining && w.live().length === 4;
      },
      RECOVERY_BOUND_MS,
      100,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}; at the end: ${last}; status: ${recs.map((r) => r.stderr().slice(-600)).join(" | ")}`,
      );
    });
    const recoveryMs = Date.now() - cleared;
    await sleep(1_500);
    const verdict = await checkInvariants({
      redis: w.redis,
      endpoint: w.emu.endpoint,
      pool: w.pool,
      sampler,
      served: ledger.served,
    });
    figures("reconciler-kill", {
      kills,
      claims: ledger.served.length,
      answers: ledger.byStatus,
      epoch: Number(await w.redis.get(w.keys.epoch)),
      recoveryMs,
      ...verdict.figures,
      violations: verdict.violations.length,
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.unclear).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(Math.floor(RUN_MS / KILL_EVERY_MS) - 1);
    expect(ledger.served.length).toBeGreaterThan(kills);
    // Each kill handed the lease to a new term: the fencing epoch went up every time.
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThanOrEqual(epochs[i - 1]!);
    // Exactly at target once the faults stop: 4 idle tasks running, all warm.
    expect(w.live()).toHaveLength(4);
    expect(recs.filter((r) => r.child.exitCode === null)).toHaveLength(2);
  });
});
