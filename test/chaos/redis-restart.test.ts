/**
 * Scenario 2a: Redis killed (-9) and restarted during claims (AOF with fsync always, so the
 * restart keeps every acknowledged write). While it is away the gateway answers clear 503s and the
 * reconciler stops nothing; afterwards nothing is double-claimed and the pool is back at target.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../harness/index.js";
import { clearError, startTraffic } from "./driver.js";
import { GATEWAY_TOKEN, startChaosWorld, type ChaosWorld } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { figures, pick, sleep } from "./mode.js";

const DESIRED = { minWarm: 4, maxWarm: 6, replenishThreshold: 2, maxSurge: 2, maxTasks: 40 };
const OUTAGES = pick(1, 3);
const OUTAGE_MS = pick(3_000, 8_000);
const RECOVERY_BOUND_MS = 20_000;

const stopCalls = (w: ChaosWorld): number => {
  const c = w.emu.control.calls().StopTask;
  return c ? c.ok + c.error + c.throttled : 0;
};

describe("chaos: Redis restarted during claims", { timeout: 180_000 }, () => {
  let w: ChaosWorld;
  beforeAll(async () => {
    w = await startChaosWorld({
      bridges: "stand-in",
      redisArgs: ["--appendonly", "yes", "--appendfsync", "always"],
    });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("503s with a reason while Redis is away, no StopTask meanwhile, nothing double-claimed, back at target", async () => {
    await w.setDesired(DESIRED);
    await w.spawnReconciler({ "lease-ttl": "2s" });
    await w.spawnReconciler({ "lease-ttl": "2s" });
    const gw = await w.spawnGateway();
    await waitFor("4 warm", async () => (await w.states()).warm === 4, 30_000);
    const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool, DESIRED).start();
    const traffic = startTraffic({ gatewayUrl: gw.url, clients: 2, holdMs: 300, waitMs: 4_000 });
    const during = { claims: 0, clear503: 0, unclear: [] as string[], readyz503: 0, stops: 0 };
    const recoveries: number[] = [];
    for (let i = 0; i < OUTAGES; i++) {
      await sleep(2_000);
      await w.redisServer.kill();
      const stopsBefore = stopCalls(w);
      const awayUntil = Date.now() + OUTAGE_MS;
      while (Date.now() < awayUntil) {
        const r = await fetch(`${gw.url}/v1/claims`, {
          method: "POST",
          headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ userId: "probe", waitMs: 0 }),
        });
        const text = await r.text();
        during.claims++;
        if (r.status === 503 && clearError(r.status, text) && r.headers.get("retry-after")) during.clear503++;
        else during.unclear.push(`${r.status} ${text.slice(0, 120)}`);
        if ((await fetch(`${gw.url}/readyz`)).status === 503) during.readyz503++;
        await sleep(200);
      }
      during.stops += stopCalls(w) - stopsBefore;
      await w.redisServer.restart();
      const back = Date.now();
      await waitFor("gateway ready again", async () => (await fetch(`${gw.url}/readyz`)).ok, 20_000, 100);
      recoveries.push(Date.now() - back);
    }
    await sleep(2_000);
    const ledger = await traffic.stop();
    const cleared = Date.now();
    await waitFor(
      "back at target",
      async () => {
        const s = await w.states();
        return s.warm === 4 && !s.starting && !s.draining && w.live().length === 4;
      },
      RECOVERY_BOUND_MS,
      100,
    );
    const recoveryMs = Date.now() - cleared;
    const verdict = await checkInvariants({
      redis: w.redis,
      endpoint: w.emu.endpoint,
      pool: w.pool,
      sampler,
      served: ledger.served,
    });
    figures("redis-restart", {
      outages: OUTAGES,
      outageMs: OUTAGE_MS,
      claims: ledger.served.length,
      answers: ledger.byStatus,
      probesDuringOutage: during.claims,
      clear503: during.clear503,
      stopTaskDuringOutage: during.stops,
      gatewayReadyAfterMs: recoveries,
      recoveryMs,
      ...verdict.figures,
      violations: verdict.violations.length,
    });
    expect(verdict.violations).toEqual([]);
    expect(during.unclear).toEqual([]);
    expect(during.clear503).toBe(during.claims);
    expect(during.readyz503).toBe(during.claims);
    expect(during.stops).toBe(0);
    // Traffic's own refusals during the outage were clear too (503 with a reason, or a refused
    // connection never happened: the gateway stayed up).
    expect(ledger.unclear).toEqual([]);
    expect(ledger.served.length).toBeGreaterThan(0);
    expect(w.live()).toHaveLength(4);
  });
});
