/**
 * Scenario 1: kill -9 of the leading reconciler every few seconds while claims run through the
 * gateway, two reconciler processes up at all times (each killed leader is replaced by a fresh
 * process, as an orchestrator would). After each takeover the fencing epoch (read once another
 * process holds the lease) must be above the killed leader's, and a write carrying the killed
 * leader's epoch (recording a launch through the real script) must be refused by Redis and change
 * nothing.
 * Invariants from Redis and the emulator afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FencedError, PoolStore } from "../../pkg/claims/index.js";
import { waitFor } from "../harness/index.js";
import { startTraffic } from "./driver.js";
import { startChaosWorld, type ChaosWorld, type ReconcilerChild } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { figures, pick, sleep } from "./mode.js";

const DESIRED = { minWarm: 4, maxWarm: 6, replenishThreshold: 2, maxSurge: 2, maxTasks: 40 };
const KILLS = pick(2, 15);
const KILL_EVERY_MS = pick(2_000, 4_000);
const RECOVERY_BOUND_MS = 20_000;

describe(
  "chaos: kill -9 of the leading reconciler while claims run",
  { timeout: KILLS * (KILL_EVERY_MS + 20_000) + 120_000 },
  () => {
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
      let kills = 0;
      const terms: { before: number; after: number; fencedRefused: boolean; recordKept: boolean }[] = [];
      for (let i = 0; i < KILLS; i++) {
        await sleep(KILL_EVERY_MS);
        let leader: ReconcilerChild | undefined;
        await waitFor("a live leader", async () => {
          const pid = await w.leaderPid();
          leader = recs.find((r) => r.pid === pid && r.child.exitCode === null);
          return leader !== undefined;
        });
        // The old leader's term, read while it still holds the lease.
        const before = Number(await w.redis.get(w.keys.epoch));
        leader!.child.kill("SIGKILL");
        await leader!.exited;
        kills++;
        recs.splice(recs.indexOf(leader!), 1);
        recs.push(await w.spawnReconciler());
        // After the takeover: another live process holds the lease, under a new epoch.
        await waitFor(
          "takeover",
          async () => {
            const pid = await w.leaderPid();
            return pid !== undefined && pid !== leader!.pid && recs.some((r) => r.pid === pid);
          },
          20_000,
          50,
        );
        const after = Number(await w.redis.get(w.keys.epoch));
        // A write under the old term is refused by Redis and changes nothing: recording a launch
        // (the real script) with the killed leader's epoch.
        const probe = `fence-probe-${i}`;
        const stale = new PoolStore(w.redis, w.pool, { fence: () => before });
        const fencedRefused = await stale
          .recordLaunches([
            { taskId: probe, taskArn: `arn:aws:ecs:us-east-1:0:task/default/${probe}`, revision: "x" },
          ])
          .then(
            () => false,
            (e: Error) => e instanceof FencedError,
          );
        const recordKept =
          (await w.redis.exists(w.keys.task(probe))) === 0 &&
          (await w.redis.sismember(w.keys.tasks, probe)) === 0;
        terms.push({ before, after, fencedRefused, recordKept });
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
        epochs: terms.map((t) => `${t.before}->${t.after}`),
        claims: ledger.served.length,
        answers: ledger.byStatus,
        epoch: Number(await w.redis.get(w.keys.epoch)),
        recoveryMs,
        ...verdict.figures,
        violations: verdict.violations.length,
      });
      expect(verdict.violations).toEqual([]);
      expect(ledger.unclear).toEqual([]);
      expect(kills).toBe(KILLS);
      expect(ledger.served.length).toBeGreaterThan(kills);
      // Each kill handed the lease to a new term: the fencing epoch, read after the takeover, is
      // above the old leader's; a write under the old epoch is refused by Redis and changes nothing.
      for (const t of terms) {
        expect(t.after, JSON.stringify(t)).toBeGreaterThan(t.before);
        expect(t.fencedRefused, JSON.stringify(t)).toBe(true);
        expect(t.recordKept, JSON.stringify(t)).toBe(true);
      }
      // Exactly at target once the faults stop: 4 idle tasks running, all warm.
      expect(w.live()).toHaveLength(4);
      expect(recs.filter((r) => r.child.exitCode === null)).toHaveLength(2);
    });
  },
);
