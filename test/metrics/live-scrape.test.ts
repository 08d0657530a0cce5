import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGateway } from "../../pkg/gateway/index.js";
import { createMetrics, M } from "../../pkg/metrics/index.js";
import type { ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { waitFor } from "../harness/index.js";
import { setDesired, startWorld, type World } from "../reconciler/env.js";
import { runTool } from "./promtool.js";

/**
 * `promtool check metrics` on live scrapes of the real reconciler and gateway (their own
 * /metrics endpoints), after the reconciler has filled a pool from the ECS emulator and the
 * gateway has served claims from it.
 */
const TOKEN = "metrics-test-token";
const exportedNames = (exposition: string): Set<string> =>
  new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
const sampledNames = (exposition: string): Set<string> =>
  new Set(
    exposition
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)?.[0] ?? "").replace(/_(bucket|sum|count)$/, "")),
  );

describe("live scrapes of the reconciler and the gateway", () => {
  let world: World;
  let reconciler: ReconcilerProcess;
  let gateway: Awaited<ReturnType<typeof runGateway>>;

  beforeAll(async () => {
    world = await startWorld();
    await setDesired(world, { minWarm: 2, maxWarm: 4, replenishThreshold: 1, maxTasks: 8, leaseSeconds: 60 });
    reconciler = await world.startReconciler({}, createMetrics(new Registry()));
    gateway = await runGateway({
      pool: world.pool,
      redisUrl: world.redisServer.url,
      host: "127.0.0.1",
      port: 0,
      tokens: TOKEN,
      defaultLeaseSeconds: 60,
      defaultWaitMs: 2_000,
      maxWaitMs: 5_000,
      readyTimeoutMs: 500,
      retryAfterSeconds: 1,
    });
    await waitFor("two warm tasks", async () => ((await world.states()).warm ?? 0) >= 2, 30_000, 100);
    // One claim; its stand-in bridge never answers, so whatever the outcome, claim metrics move.
    await fetch(`${gateway.url}/v1/claims`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ userId: "alice" }),
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
  });

  it.each([
    ["reconciler", () => `${reconciler.ops.url}/metrics`, [M.tasks, M.leader, M.reconcileTotal]],
    ["gateway", () => `${gateway.url}/metrics`, [M.claimsTotal, M.claimDuration]],
  ] as const)("%s: promtool check metrics is clean", async (_name, url, expected) => {
    const res = await fetch(url());
    expect(res.status).toBe(200);
    const exposition = await res.text();
    const lint = await runTool("promtool", ["check", "metrics"], exposition);
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.code).toBe(0);
    // Only contract names, and the ones this process owns carry samples.
    const contract = new Set<string>(Object.values(M));
    const foreign = [...exportedNames(exposition)].filter(
      (n) => n.startsWith("warmpool_") && !n.startsWith("warmpool_process_") && !contract.has(n),
    );
    expect(foreign).toEqual([]);
    const sampled = sampledNames(exposition);
    for (const name of expected) expect(sampled, name).toContain(name);
  });
});
