/**
 * Reconciler benchmark (issue: "10,000 virtual tasks in the emulator"). The emulator runs in its
 * own process (`warmpool emulator`) so CPU figures are the reconciler's alone; call counts come
 * from the emulator's ground truth (GET /_emulator/calls), not from the reconciler's metrics.
 *
 * Measures: ECS calls of each of 5 steady-state passes (each must be exactly ⌈N/100⌉ ListTasks
 * and ⌈N/100⌉ DescribeTasks, zero writes: every pass and every kind is a target of its own), CPU
 * ms per pass and for the planner alone, heap after a full collection (needs --expose-gc, which
 * run.ts provides; without it the heap is not reported), and the delay from a plain SET of the
 * config key to the first RunTask (event path, resync 10 min away).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { ECSClient, RegisterTaskDefinitionCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { startPrivateRedis } from "../../hack/redis/private-redis.js";
import { PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { DEFAULT_DESIRED } from "../../pkg/config/index.js";
import { EcsDriver, launchTasks, observeEcs } from "../../pkg/ecs/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { DEFAULT_TIMINGS, plan, type Observed } from "../../pkg/plan/index.js";
import { Reconciler, createDesiredSource } from "../../pkg/reconciler/index.js";
import { cliEntry } from "../../pkg/util/index.js";
import { BenchRecorder } from "./bench-stats.js";

export interface PassCalls {
  listTasks: number;
  describeTasks: number;
  /** RunTask + StopTask. */
  writes: number;
  /** Every other ECS call the pass made (none expected). */
  other: number;
}

export interface ReconcilerBenchReport {
  tasks: number;
  /** ECS calls of each measured steady-state pass, from the emulator's call log. */
  steadyPasses: PassCalls[];
  /** ⌈N/100⌉: the ListTasks and the DescribeTasks each pass must make. */
  expectedPerKind: number;
  passCpuMs: { median: number; samples: number[] };
  passWallMs: { median: number; samples: number[] };
  plannerCpuMs: { median: number; samples: number[] };
  /** After global.gc(); null when the process was started without --expose-gc. */
  heapUsedMb: number | null;
  rssMb: number;
  configToFirstRunTaskMs: { median: number; samples: number[] };
}

type Calls = Record<string, { ok: number; throttled: number; error: number }>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

async function startEmulatorProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [cliEntry(), "emulator", "--port", "0", "--time-scale", "0.001", "--no-throttle"],
    // WARMPOOL_* variables are flags of the root CLI: pass none the emulator does not know.
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WARMPOOL_"))),
    },
  );
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", (l) => resolve(l.trim()));
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { endpoint: first, child };
}

export async function runReconcilerBench(
  bench: BenchRecorder = new BenchRecorder(),
  n = Number(process.env.BENCH_TASKS ?? 10_000),
): Promise<ReconcilerBenchReport> {
  process.env.AWS_ACCESS_KEY_ID ||= "bench";
  process.env.AWS_SECRET_ACCESS_KEY ||= "bench";
  const log = createLogger({ level: (process.env.BENCH_LOG as "info" | undefined) ?? "silent" });
  const redisServer = await startPrivateRedis();
  const { endpoint, child } = await startEmulatorProcess();
  const redis = new Redis(redisServer.url);
  const control = async (method: "GET" | "DELETE", path: "calls"): Promise<unknown> => {
    const r = await fetch(`${endpoint}/_emulator/${path}`, { method });
    return method === "GET" ? ((await r.json()) as { calls: unknown }).calls : undefined;
  };
  try {
    const pool = "bench";
    const keys = new PoolKeys(pool);
    const ecs = new ECSClient({ endpoint, region: "us-east-1" });
    const td = (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "bench",
          containerDefinitions: [{ name: "agent", image: "bench", essential: true, memory: 128 }],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
    // The emulator's buckets are off and the driver's raised: the bench measures work, not waits.
    // (At ECS's own 20/s read bucket, the 200 reads of a 10,000-task pass take ~5 s after the burst.)
    const fast = { ratePerSec: 100_000, burst: 100_000 };
    const driver = new EcsDriver({
      cluster: "default",
      pool,
      endpoint,
      limits: { read: fast, write: fast },
      concurrency: 16,
    });
    const store = new PoolStore(redis, pool);

    console.log(`reconciler bench: launching ${n} virtual tasks …`);
    const per = Math.ceil(n / 10);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        launchTasks(driver, Math.min(per, n - i * per), td, (tasks) =>
          store.recordLaunches(tasks.map((t) => ({ taskId: t.taskId, taskArn: t.taskArn, revision: td }))),
        ),
      ),
    );
    for (;;) {
      const o = await observeEcs(driver);
      if (o.tasks.filter((t) => t.lastStatus === "RUNNING").length >= n) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const all = (await observeEcs(driver)).tasks;
    for (let i = 0; i < all.length; i += 500) {
      await Promise.all(
        all.slice(i, i + 500).map((t) =>
          new TaskChannel(redis, pool, t.taskId).register({
            taskArn: t.taskArn,
            revision: td,
            endpoint: "127.0.0.1:9",
            token: randomBytes(8).toString("hex"),
          }),
        ),
      );
    }
    console.log(`reconciler bench: ${all.length} tasks RUNNING and registered warm; measuring passes …`);
    const desired = { minWarm: n - 10, maxWarm: n, replenishThreshold: 3, maxTasks: n };
    await redis.set(keys.config, JSON.stringify(desired));

    const rec = new Reconciler({
      pool,
      redis,
      ecs: driver,
      store,
      desired: createDesiredSource({ redis, pool, log }),
      plan,
      taskDefinition: "bench",
      resyncMs: 600_000,
      leaseTtlMs: 60_000,
      metrics: createMetrics(new Registry(), { defaults: false }),
      log,
      watchConfigKey: false,
    });
    await rec.lease.tryAcquire();
    for (let i = 0; i < 2; i++) await rec.pass("resync"); // warm-up: JIT, script load, revision cache

    const cpu: number[] = [];
    const wall: number[] = [];
    const steadyPasses: PassCalls[] = [];
    for (let i = 0; i < 5; i++) {
      await control("DELETE", "calls");
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const result = await rec.pass("resync");
      wall.push(round(performance.now() - t0));
      cpu.push(round(cpuMs(process.cpuUsage(c0))));
      const calls = (await control("GET", "calls")) as Calls;
      const ok = (op: string): number =>
        (calls[op]?.ok ?? 0) + (calls[op]?.throttled ?? 0) + (calls[op]?.error ?? 0);
      const known = ["ListTasks", "DescribeTasks", "RunTask", "StopTask"];
      steadyPasses.push({
        listTasks: ok("ListTasks"),
        describeTasks: ok("DescribeTasks"),
        writes: ok("RunTask") + ok("StopTask"),
        other: Object.keys(calls)
          .filter((op) => !known.includes(op))
          .reduce((sum, op) => sum + ok(op), 0),
      });
      if (result !== "ok") throw new Error(`steady-state pass ended ${result}`);
    }

    // The planner alone, on the same observation.
    const { records, waiting } = await store.observe();
    const obs = await observeEcs(driver, {
      knownArns: records.flatMap((r) => (r.taskArn ? [r.taskArn] : [])),
    });
    const observed: Observed = {
      complete: true,
      ecs: obs.tasks,
      records,
      waiting,
      revision: td,
      eventTriggered: false,
    };
    const planner: number[] = [];
    for (let i = 0; i < 12; i++) {
      const c0 = process.cpuUsage();
      const p = plan({ ...DEFAULT_DESIRED, ...desired }, observed, Date.now(), DEFAULT_TIMINGS);
      if (i >= 2) planner.push(round(cpuMs(process.cpuUsage(c0)), 2));
      if (p.actions.length > 0) throw new Error(`steady state planned actions: ${p.reason}`);
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const mem = process.memoryUsage();
    await rec.stop();

    // Config change → first RunTask, through the event path (the loop's resync is 10 min away).
    const loop = new Reconciler({
      pool,
      redis,
      ecs: driver,
      store,
      desired: createDesiredSource({ redis, pool, log }),
      plan,
      taskDefinition: "bench",
      resyncMs: 600_000,
      leaseTtlMs: 60_000,
      log,
    });
    await loop.start();
    const delays: number[] = [];
    console.log("reconciler bench: config change → first RunTask …");
    for (let rep = 0; rep < 3; rep++) {
      // Free room for 5 launches while paused (paused: observe, act on nothing).
      await redis.set(keys.config, JSON.stringify({ ...desired, paused: true }));
      await new Promise((r) => setTimeout(r, 300));
      const live = (await observeEcs(driver)).tasks.filter((t) => t.desiredStatus === "RUNNING");
      for (const t of live.slice(0, 5)) {
        await ecs.send(new StopTaskCommand({ cluster: "default", task: t.taskArn, reason: "bench" }));
      }
      await new Promise((r) => setTimeout(r, 1_000)); // stopped in ECS; no pass runs until the next change
      await control("DELETE", "calls");
      const setAt = Date.now();
      await redis.set(keys.config, JSON.stringify({ ...desired, minWarm: n, paused: false }));
      let firstRunAt: number | undefined;
      for (let t = 0; t < 600 && firstRunAt === undefined; t++) {
        const calls = (await control("GET", "calls")) as Calls;
        if ((calls.RunTask?.ok ?? 0) > 0) firstRunAt = Date.now();
        else await new Promise((r) => setTimeout(r, 5));
      }
      if (firstRunAt === undefined) throw new Error("no RunTask after the config change");
      delays.push(firstRunAt - setAt);
      await new Promise((r) => setTimeout(r, 1_500));
    }
    await loop.stop();
    driver.destroy();
    ecs.destroy();

    const report: ReconcilerBenchReport = {
      tasks: n,
      steadyPasses,
      expectedPerKind: Math.ceil(n / 100),
      passCpuMs: { median: median(cpu), samples: cpu },
      passWallMs: { median: median(wall), samples: wall },
      plannerCpuMs: { median: median(planner), samples: planner },
      heapUsedMb: gc ? round(mem.heapUsed / 2 ** 20) : null,
      rssMb: round(mem.rss / 2 ** 20),
      configToFirstRunTaskMs: { median: median(delays), samples: delays },
    };
    printReport(report);
    bench.record("reconciler", report);
    checkTargets(bench, report);
    return report;
  } finally {
    redis.disconnect();
    child.kill("SIGTERM");
    await redisServer.stop();
  }
}

function printReport(r: ReconcilerBenchReport): void {
  console.log(
    [
      `reconciler, ${r.tasks.toLocaleString("en-US")} virtual tasks (emulator in its own process; calls from its ground truth)`,
      ...r.steadyPasses.map(
        (p, i) =>
          `  steady pass ${i + 1}: ${p.listTasks} ListTasks + ${p.describeTasks} DescribeTasks, ${p.writes} writes, ${p.other} other calls`,
      ),
      `  CPU per pass:       median ${r.passCpuMs.median} ms  (samples ${r.passCpuMs.samples.join(", ")})`,
      `  wall per pass:      median ${r.passWallMs.median} ms`,
      `  planner alone:      median ${r.plannerCpuMs.median} ms CPU`,
      r.heapUsedMb === null
        ? `  heap used:          not measured (start node with --expose-gc; rss ${r.rssMb} MB)`
        : `  heap used:          ${r.heapUsedMb} MB after a full GC (rss ${r.rssMb} MB)`,
      `  config SET → first RunTask: median ${r.configToFirstRunTaskMs.median} ms  (samples ${r.configToFirstRunTaskMs.samples.join(", ")})`,
    ].join("\n"),
  );
}

/** Every pass, every kind: exactly ⌈N/100⌉ ListTasks and ⌈N/100⌉ DescribeTasks, nothing else. */
function checkTargets(rec: BenchRecorder, r: ReconcilerBenchReport): void {
  const e = r.expectedPerKind;
  if (r.steadyPasses.length !== 5)
    throw new Error(`expected 5 steady passes, measured ${r.steadyPasses.length}`);
  for (const [i, p] of r.steadyPasses.entries()) {
    const at = `steady pass ${i + 1} of ${r.steadyPasses.length}, ${r.tasks} tasks`;
    rec.target(
      `reconciler.pass${i + 1}.listTasks`,
      `${at}: ListTasks = ⌈N/100⌉`,
      p.listTasks,
      "==",
      e,
      "calls",
    );
    rec.target(
      `reconciler.pass${i + 1}.describeTasks`,
      `${at}: DescribeTasks = ⌈N/100⌉`,
      p.describeTasks,
      "==",
      e,
      "calls",
    );
    rec.target(`reconciler.pass${i + 1}.writes`, `${at}: RunTask + StopTask = 0`, p.writes, "==", 0, "calls");
    rec.target(`reconciler.pass${i + 1}.other`, `${at}: other ECS calls = 0`, p.other, "==", 0, "calls");
  }
}
