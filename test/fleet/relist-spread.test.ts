import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallRecord, Emulator } from "../../hack/emulator/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { buildConfig, startFleetProcess, type FleetProcess } from "../../pkg/reconciler/index.js";
import { figures } from "../chaos/mode.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const POOLS = Array.from({ length: 20 }, (_, i) => `spread-${String(i).padStart(2, "0")}`);
const RELIST_MS = 5_000;

/** The most entries of sorted `ts` inside any window of `width` ms. */
function densest(ts: number[], width: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < ts.length; i++) {
    while (ts[i]! - ts[j]! >= width) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/**
 * 20 pools whose leases one process takes together relist together once (on taking them), then
 * each at its own phase: counted from the emulator's call log (ListTasks by startedBy, with the
 * time it was answered), the pools' second relists are spread over the interval instead of
 * coming as one wave of reads `--relist-interval` later.
 */
describe("relists of pools that took their leases together are spread over the interval", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let proc: FleetProcess | undefined;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    ({ emu } = await startTestEmulator());
    const reg = new PoolRegistry(redis);
    for (const p of POOLS) {
      await reg.create(p, { who: "test" });
      // No tasks: only the observer's relists read ECS.
      await redis.set(new PoolKeys(p).config, JSON.stringify({ minWarm: 0, maxWarm: 1 }));
    }
  });
  afterAll(async () => {
    await proc?.stop();
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  it("20 pools: their second relists spread over the interval, not one wave", async () => {
    const cfg = buildConfig({
      "all-pools": true,
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": server.url,
      "endpoint-url": emu.endpoint,
      "resync-interval": "1s",
      "lease-ttl": "3s",
      "fleet-ttl": "2s",
      "metrics-port": "0",
      "log-level": process.env.WARMPOOL_TEST_LOG ?? "silent",
      "relist-interval": `${RELIST_MS}ms`,
      // A budget that holds nobody back: any spread seen is the schedule's, not the budget's pacing.
      "budget-ecs-read": "100",
    });
    emu.control.resetCalls();
    proc = await startFleetProcess(cfg, {
      metrics: createMetrics(new Registry(), { defaults: false }),
      log: createLogger({ level: cfg.logLevel }),
      host: "127.0.0.1",
    });
    const lists = (): Map<string, number[]> => {
      const by = new Map<string, number[]>();
      for (const c of emu.control.callLog() as CallRecord[])
        if (c.op === "ListTasks" && c.outcome === "ok" && c.subject && POOLS.includes(c.subject))
          by.set(c.subject, [...(by.get(c.subject) ?? []), c.atMs]);
      return by;
    };
    // Every pool's relist on taking its lease, then its next one (at most 1.6 intervals later).
    const by = await waitFor(
      "every pool relisted twice",
      (): Map<string, number[]> | undefined => {
        const m = lists();
        return POOLS.every((p) => (m.get(p)?.length ?? 0) >= 2) ? m : undefined;
      },
      RELIST_MS * 2 + 15_000,
      100,
    );
    const first = POOLS.map((p) => by.get(p)![0]!).sort((a, b) => a - b);
    const second = POOLS.map((p) => by.get(p)![1]!).sort((a, b) => a - b);
    const t0 = first[0]!;
    const window = RELIST_MS / 10;
    figures("relist spread", {
      pools: POOLS.length,
      relistMs: RELIST_MS,
      firstSpanMs: first.at(-1)! - t0,
      secondAtMs: second.map((t) => t - t0),
      densestSecond: densest(second, window),
    });
    // The relists on taking the leases came together (the premise; a quarter of the interval,
    // as a loaded machine takes a while to start 20 pools) …
    expect(densest(first, RELIST_MS / 4)).toBeGreaterThanOrEqual(POOLS.length / 2);
    // … the next ones did not: no tenth of the interval holds half the pools, and together they
    // cover at least a third of it. With a fixed interval all 20 fall into one window.
    expect(densest(second, window)).toBeLessThan(POOLS.length / 2);
    expect(second.at(-1)! - second[0]!).toBeGreaterThanOrEqual(RELIST_MS / 3);
  }, 60_000);
});
