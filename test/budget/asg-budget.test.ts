import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics, type Metrics } from "../../pkg/metrics/index.js";
import { PoolRegistry } from "../../pkg/pools/index.js";
import { buildConfig, startFleetProcess, type FleetProcess } from "../../pkg/reconciler/index.js";
import { figures, sleep } from "../chaos/mode.js";
import { registerRunningTasks } from "../fleet/bridge-stand-in.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { startPrivateRedis, waitFor, type PrivateRedis } from "../harness/index.js";

const N = 8;
const POOLS = Array.from({ length: N }, (_, i) => `asgb-${i}`);
const group = (pool: string): string => `${pool}-group`;
/** Auto Scaling calls/s the whole account may spend in this test: a fraction of what 8 pools ask. */
const ASG_RATE = 2;
const RUN_MS = 12_000;
const ASG_OPS = new Set([
  "DescribeAutoScalingGroups",
  "DescribeWarmPool",
  "PutWarmPool",
  "SetDesiredCapacity",
  "SetInstanceProtection",
]);

/**
 * 8 pools, each with its own Auto Scaling group, in one reconciler process whose capacity passes
 * would make ≈ 1 Auto Scaling call/s per pool (a pass every 500 ms, the capacity observation at
 * most every 2 s): every Auto Scaling call of every pool spends from the shared `autoscaling`
 * budget, so the emulator's count of them stays within `--budget-asg × t + burst`, every pool's
 * group is still observed, and the budget metrics say what was configured and spent.
 */
describe("Auto Scaling calls of many pools draw from one shared budget (real Redis, emulator over HTTP)", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let emu: Emulator;
  let proc: FleetProcess | undefined;
  let stopBridges = (): void => undefined;
  let metrics: Metrics;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    ({ emu } = await startTestEmulator({
      autoScaling: {
        groups: POOLS.map((p) => ({
          name: group(p),
          minSize: 0,
          maxSize: 4,
          desiredCapacity: 1,
          cluster: "default",
          capacity: { cpu: 2048, memory: 4096 },
        })),
      },
    }));
    const reg = new PoolRegistry(redis);
    for (const p of POOLS) {
      await reg.create(p, { who: "test" });
      await redis.set(
        new PoolKeys(p).config,
        JSON.stringify({
          minWarm: 1,
          maxWarm: 4,
          replenishThreshold: 1,
          asg: { groupName: group(p), tasksPerInstance: 4, poolState: "Hibernated" },
        }),
      );
    }
    stopBridges = registerRunningTasks(emu, redis);
  });
  afterAll(async () => {
    stopBridges();
    await proc?.stop();
    await emu?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  it(`${N} pools' Auto Scaling calls stay within --budget-asg=${ASG_RATE}, every pool's group observed`, async () => {
    const cfg = buildConfig({
      "all-pools": true,
      cluster: "default",
      "task-definition": FAMILY,
      "redis-url": server.url,
      "endpoint-url": emu.endpoint,
      "resync-interval": "500ms",
      "lease-ttl": "3s",
      "fleet-ttl": "2s",
      "metrics-port": "0",
      "log-level": process.env.WARMPOOL_TEST_LOG ?? "silent",
      "relist-interval": "30s",
      "budget-ecs-read": "20",
      "budget-ecs-write": "20",
      "budget-asg": String(ASG_RATE),
      "aws-account": "acct-asg",
    });
    metrics = createMetrics(new Registry(), { defaults: false });
    emu.control.resetCalls();
    const t0 = Date.now();
    proc = await startFleetProcess(cfg, {
      metrics,
      log: createLogger({ level: cfg.logLevel }),
      host: "127.0.0.1",
    });
    const asgCalls = () => emu.control.callLog().filter((c) => ASG_OPS.has(c.op));
    // Fair between pools: every pool's group is described, though all of them ask at once.
    await waitFor(
      "every pool's group described",
      () => {
        const seen = new Set(asgCalls().map((c) => c.subject));
        return POOLS.every((p) => seen.has(group(p)));
      },
      RUN_MS + 10_000,
      100,
    );
    await sleep(Math.max(0, RUN_MS - (Date.now() - t0)));
    await proc.stop();
    const elapsedS = (Date.now() - t0) / 1000;
    const calls = asgCalls();
    const perGroup: Record<string, number> = {};
    for (const c of calls) perGroup[c.subject ?? "?"] = (perGroup[c.subject ?? "?"] ?? 0) + 1;
    const values = async (name: string): Promise<{ labels: Record<string, string>; value: number }[]> =>
      ((await metrics.registry.getSingleMetric(name)?.get())?.values ?? []) as {
        labels: Record<string, string>;
        value: number;
      }[];
    const spent = await values("warmpool_aws_budget_spent_calls_total");
    const configured = await values("warmpool_aws_budget_calls_per_second");
    const asgSpent = spent.find((v) => v.labels.api === "autoscaling");
    figures("asg budget", {
      pools: N,
      rate: ASG_RATE,
      elapsedS: Math.round(elapsedS * 10) / 10,
      asgCalls: calls.length,
      perS: Math.round((calls.length / elapsedS) * 100) / 100,
      perGroup,
      spent: asgSpent?.value,
    });
    // GCRA: over any window the budget lets through at most rate × t + burst (burst = ⌈rate⌉).
    expect(calls.length).toBeLessThanOrEqual(ASG_RATE * elapsedS + Math.ceil(ASG_RATE));
    // Per window too: no 4 s stretch holds more than the budget's 4 s worth plus its burst.
    const at = calls.map((c) => c.atMs);
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i]! - at[j]! > 4_000) j++;
      expect(i - j + 1).toBeLessThanOrEqual(ASG_RATE * 4 + Math.ceil(ASG_RATE) + 1);
    }
    // The budget was what held them back: the pools asked for more than it allowed.
    expect(calls.length).toBeGreaterThanOrEqual(ASG_RATE * (elapsedS - 4));
    for (const p of POOLS) expect(perGroup[group(p)] ?? 0).toBeGreaterThan(0);
    // Budget metrics per account and region, like the ECS classes: configured, and every attempt
    // this process sent (the emulator's count is the ground truth).
    expect(configured).toContainEqual({
      labels: { account: "acct-asg", region: "us-east-1", api: "autoscaling" },
      value: ASG_RATE,
    });
    expect(asgSpent?.labels).toEqual({ account: "acct-asg", region: "us-east-1", api: "autoscaling" });
    expect(asgSpent?.value).toBe(calls.length);
  }, 60_000);
});
