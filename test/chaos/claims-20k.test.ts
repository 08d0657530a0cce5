/**
 * Claims at volume with the reconciler killed: 200 concurrent library callers (ClaimService, the
 * gateway's own claim path) make 20,000 claims (2,000 in the default suite) against a pool that a
 * `warmpool reconciler` child process keeps refilling from the ECS emulator. Each served claim is
 * released at once, so its task drains and is stopped. The reconciler is kill -9'd and restarted
 * at fixed points of progress (3 times in the full run, once in the short one).
 *
 * Tasks are virtual; the in-process stand-in bridge registers them and answers init_user through
 * the real register and ready scripts. Everything asserted is counted from Redis (claim and task
 * records, the events stream) and the emulator's task list, never from the callers' answers alone.
 * The same invariants with real bridge processes: the second case, a smaller run.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ClaimService, type ClaimKeys } from "../../pkg/claims/index.js";
import type { ClaimResult } from "../../pkg/claims/types.js";
import { waitFor } from "../harness/index.js";
import { startChaosWorld, type ChaosWorld, type ReconcilerChild } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { FULL, figures, pick, sleep } from "./mode.js";

/** The emulator runs without throttling here, so the reconciler's own ECS call budget is raised to match. */
const RECONCILER_FLAGS = { "lease-ttl": "2s", "ecs-write-rate": "2000", "ecs-read-rate": "500" };

interface Run {
  claims: number;
  clients: number;
  /** Fractions of the claims made at which the reconciler is killed and restarted. */
  killAt: number[];
  desired: {
    minWarm: number;
    maxWarm: number;
    replenishThreshold: number;
    maxSurge: number;
    maxTasks: number;
  };
}

/**
 * How long a claim waits for a task, and for its bridge's ready report. Long enough that a claim
 * waiting through a reconciler restart on a loaded machine is still served: every claim must be.
 */
const WAIT_MS = 120_000;
const READY_TIMEOUT_MS = 60_000;

/** Final claim record states in Redis, by state. */
async function claimStates(redis: Redis, keys: ClaimKeys): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${keys.claimPrefix}*`, "COUNT", 1000);
    cursor = next;
    const ids = found.filter((k) => !k.slice(keys.claimPrefix.length).includes(":"));
    const st = await Promise.all(ids.map((k) => redis.hget(k, "state")));
    for (const s of st) out[s ?? "none"] = (out[s ?? "none"] ?? 0) + 1;
  } while (cursor !== "0");
  return out;
}

async function runClaims(w: ChaosWorld, run: Run, name: string): Promise<void> {
  const t0 = Date.now();
  await w.setDesired({ ...run.desired, leaseSeconds: 60 });
  let rec: ReconcilerChild = await w.spawnReconciler(RECONCILER_FLAGS);
  let seen: Record<string, number> = {};
  await waitFor(
    `${run.desired.minWarm} warm`,
    async () => ((seen = await w.states()).warm ?? 0) >= run.desired.minWarm,
    60_000,
    100,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; states ${JSON.stringify(seen)}; reconciler: ${rec.stderr().slice(-2000)}`);
  });
  const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool).start();
  const redis = new Redis(w.redisServer.url);
  const svc = new ClaimService({ pool: w.pool, redis, readyTimeoutMs: READY_TIMEOUT_MS });
  await svc.start();

  const results: ClaimResult[] = [];
  let issued = 0;
  const clients = Promise.all(
    Array.from({ length: run.clients }, async (_, c) => {
      while (issued < run.claims) {
        issued++;
        const r = await svc.claim({ userId: `u${c}-${issued}`, waitMs: WAIT_MS, leaseSeconds: 60 });
        results.push(r);
        if (r.outcome === "ready") await svc.release(r.claim.claimId);
      }
    }),
  );
  let kills = 0;
  const killer = (async () => {
    for (const frac of run.killAt) {
      while (results.length < run.claims * frac) await sleep(20);
      rec.child.kill("SIGKILL");
      await rec.exited;
      kills++;
      rec = await w.spawnReconciler(RECONCILER_FLAGS);
    }
  })();
  await clients;
  await killer;
  await svc.close();
  redis.disconnect();
  // Let the sampler read the events stream's tail before the final check.
  await sleep(500);
  const verdict = await checkInvariants({ redis: w.redis, endpoint: w.emu.endpoint, pool: w.pool, sampler });
  const states = await claimStates(w.redis, w.keys);
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const served = results.flatMap((r) => (r.outcome === "ready" ? [r.claim] : []));
  const claimEvents = sampler.events.types.claim ?? 0;
  figures(name, {
    claims: results.length,
    outcomes,
    redisClaimStates: states,
    claimEvents,
    kills,
    ...verdict.figures,
    violations: verdict.violations.length,
    wallMs: Date.now() - t0,
  });

  expect(verdict.violations).toEqual([]);
  expect(kills).toBe(run.killAt.length);
  expect(results).toHaveLength(run.claims);
  // Every claim ended served (then released) or cleanly timed out — in Redis, not just in answers.
  expect(Object.keys(outcomes).every((o) => o === "ready" || o === "timeout")).toBe(true);
  expect(Object.keys(states).every((s) => s === "released" || s === "timeout")).toBe(true);
  expect((states.released ?? 0) + (states.timeout ?? 0)).toBe(run.claims);
  expect(states.released ?? 0).toBe(served.length);
  expect(states.timeout ?? 0).toBe(outcomes.timeout ?? 0);
  expect(await w.redis.llen(w.keys.waiting)).toBe(0);
  // Each served claim took its own task, and the events stream saw exactly the claims Redis holds.
  expect(new Set(served.map((c) => c.taskId)).size).toBe(served.length);
  // (A claim that timed out after its task was assigned also counts as that task's one claim.)
  expect(verdict.figures.claimedTasks).toBeGreaterThanOrEqual(served.length);
  expect(verdict.figures.claimedTasks).toBeLessThanOrEqual(served.length + (outcomes.timeout ?? 0));
  // Every claim was served (none timed out), by tasks the emulator really launched.
  expect(outcomes.timeout ?? 0).toBe(0);
  expect(served.length).toBe(run.claims);
  expect(verdict.figures.tasksLaunched).toBeGreaterThanOrEqual(served.length);
  // No duplicate launches across the kills: every task the emulator started was claimed, or is one
  // of at most maxWarm + maxSurge idle ones (those left at the end, or stopped while idle).
  expect(verdict.figures.tasksLaunched - verdict.figures.claimedTasks).toBeLessThanOrEqual(
    run.desired.maxWarm + run.desired.maxSurge,
  );
  // The mid-run bounds were really sampled, all through the run (one every 250 ms).
  expect(sampler.samples).toBeGreaterThanOrEqual(4);
}

describe("chaos: 20,000 claims with the reconciler killed", { timeout: FULL ? 3_600_000 : 300_000 }, () => {
  let w: ChaosWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("virtual tasks: no task served twice, no claimed task warm again, every claim served, none timed out", async () => {
    w = await startChaosWorld({
      bridges: "stand-in",
      emulator: { timeScale: 0.002, rateLimits: false },
    });
    await runClaims(
      w,
      {
        claims: pick(1_000, 20_000),
        clients: 200,
        killAt: pick([0.5], [0.25, 0.5, 0.75]),
        desired: { minWarm: 50, maxWarm: 200, replenishThreshold: 10, maxSurge: 0, maxTasks: 1_000 },
      },
      "claims-20k",
    );
  });

  it("real bridge processes: the same invariants on a smaller run", async () => {
    w = await startChaosWorld({
      bridges: "real",
      emulator: { timeScale: 0.002, rateLimits: false },
    });
    await runClaims(
      w,
      {
        claims: pick(40, 300),
        clients: 20,
        killAt: pick([0.5], [0.33, 0.66]),
        desired: { minWarm: 8, maxWarm: 20, replenishThreshold: 4, maxSurge: 0, maxTasks: 200 },
      },
      "claims-real-bridges",
    );
  });
});
