/**
 * Issue 14's table: ECS reads/min (and % of the account's 20/s), passes/min, claim → first RunTask
 * p50/p99 and the warm hit ratio, for N live pool tasks × a claim rate, with the older behaviour
 * (`--observe=list`: a full ListTasks + DescribeTasks per pass) beside the cache with the event
 * feed, in the same run. The emulator keeps ECS's default buckets (20/s reads, 40/s writes; no
 * --no-throttle); every call count is its ground truth. Each claim is released at once, as in the
 * issue's measurement, so every claim costs a StopTask and a replacement.
 *
 * The cache runs each rate twice in one process (one takeover relist): with the fast refill
 * off (`cache+feed`, every launch waits for a pass) and on (`cache+feed+fast`).
 *
 * Long: `npm run bench -- --feed` (or BENCH_FEED=1). Grid: BENCH_FEED_N (default 200,3000,10000),
 * BENCH_FEED_RATES (0.2,2,20), BENCH_FEED_SECONDS per cell (default 30), BENCH_FEED_MODES
 * (default cache,list; `cache` alone skips the slow list cells).
 */
import { randomBytes } from "node:crypto";
import { RegisterTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { startPrivateRedis } from "../../hack/redis/private-redis.js";
import { ClaimService, TaskChannel } from "../../pkg/claims/index.js";
import { EcsDriver, launchTasks } from "../../pkg/ecs/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { buildConfig, startReconcilerProcess, type ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { startReadyResponder } from "../claims/stand-in.js";
import { pct } from "./bench-stats.js";

export interface FeedBenchRow {
  n: number;
  rate: number;
  mode: "list" | "cache+feed" | "cache+feed+fast";
  readsPerMin: number;
  budgetPct: number;
  passesPerMin: number;
  runP50Ms: number;
  runP99Ms: number;
  warmHit: number;
  claims: number;
  /** Calls of the last full relist, spent once per relist interval (5 min), spread per minute. */
  relistPerMin: number;
}

const MIN_WARM = 10;
const ACCOUNT_READS_PER_MIN = 20 * 60;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const list = (v: string | undefined, d: number[]): number[] => (v ? v.split(",").map(Number) : d);

export async function runFeedBench(): Promise<FeedBenchRow[] | undefined> {
  if (!process.argv.includes("--feed") && !process.env.BENCH_FEED) {
    console.log("feed bench: skipped (run `npm run bench -- --feed`; it takes ~15 minutes)");
    return undefined;
  }
  process.env.AWS_ACCESS_KEY_ID ||= "bench";
  process.env.AWS_SECRET_ACCESS_KEY ||= "bench";
  const ns = list(process.env.BENCH_FEED_N, [200, 3_000, 10_000]);
  const rates = list(process.env.BENCH_FEED_RATES, [0.2, 2, 20]);
  const seconds = Number(process.env.BENCH_FEED_SECONDS ?? 30);
  const rows: FeedBenchRow[] = [];
  for (const n of ns) rows.push(...(await benchN(n, rates, seconds)));
  printTable(rows, seconds);
  return rows;
}

async function benchN(n: number, rates: number[], seconds: number): Promise<FeedBenchRow[]> {
  const redisServer = await startPrivateRedis();
  // ECS's default buckets; tasks start in ~0.3 s (Fargate's ~15 s × 0.02).
  const emu: Emulator = await startEmulator({
    timeScale: 0.02,
    eventRules: [{ name: "reconciler-feed", queueName: "ecs-events", clusters: ["default"] }],
  });
  const urlOf = (name: string): string => emu.control.queues().find((q) => q.name === name)!.url;
  const redis = new Redis(redisServer.url);
  const pool = `bench${n}`;
  const keys = new PoolKeys(pool);
  const log = createLogger({ level: (process.env.BENCH_LOG as "info" | undefined) ?? "silent" });
  const rows: FeedBenchRow[] = [];
  const stops: (() => Promise<unknown> | void)[] = [];
  try {
    const ecs = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1" });
    const td = (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "bench",
          containerDefinitions: [{ name: "agent", image: "bench", essential: true, memory: 128 }],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
    ecs.destroy();

    // N − minWarm live sessions: pool tasks, claimed with leases that never run out in the bench.
    // (maxTasks is at most 10,000: at N = 10,000 the sessions leave room for the warm tasks and the
    // replacements of released ones.)
    const sessions = Math.max(0, Math.min(n, 10_000 - 100) - MIN_WARM);
    console.log(`feed bench N=${n}: launching ${sessions} session tasks at ECS's write rate …`);
    const driver = new EcsDriver({ cluster: "default", pool, endpoint: emu.endpoint });
    stops.push(() => driver.destroy());
    const sessionIds = new Set<string>();
    const far = String(Date.now() + 86_400_000);
    const record = async (tasks: { taskId: string; taskArn: string }[]): Promise<void> => {
      const p = redis.pipeline();
      for (const t of tasks) {
        sessionIds.add(t.taskId);
        p.hset(keys.task(t.taskId), {
          state: "claimed",
          taskArn: t.taskArn,
          revision: td,
          createdAt: String(Date.now()),
          warmAt: String(Date.now()),
          claimId: `session-${t.taskId}`,
          leaseExpiresAt: far,
        });
        p.sadd(keys.tasks, t.taskId);
      }
      await p.exec();
    };
    // Ten launchers side by side (each sends RunTask batches of 10 one after another).
    const per = Math.ceil(sessions / 10);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        launchTasks(driver, Math.max(0, Math.min(per, sessions - i * per)), td, record),
      ),
    );
    // The bridges' own rule from now on: the sessions' start events are not theirs to read.
    emu.control.putEventRule({ name: "bench-bridges", queueName: "bridge-events", clusters: ["default"] });

    // Bridges: register every RUNNING pool task that is not a session, from their own event queue.
    const sqs = new SQSClient({ endpoint: emu.endpoint, region: "us-east-1" });
    let bridging = true;
    const bridgeUrl = urlOf("bridge-events");
    const bridge = async (): Promise<void> => {
      while (bridging) {
        const out = await sqs
          .send(
            new ReceiveMessageCommand({ QueueUrl: bridgeUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          )
          .catch(() => ({ Messages: [] }));
        const msgs = out.Messages ?? [];
        await Promise.all(
          msgs.map(async (m) => {
            const d = (JSON.parse(m.Body!) as { detail: Record<string, string> }).detail;
            const id = d.taskArn!.split("/").pop()!;
            if (d.lastStatus !== "RUNNING" || d.startedBy !== pool || sessionIds.has(id)) return;
            await new TaskChannel(redis, pool, id)
              .register({
                taskArn: d.taskArn!,
                revision: td,
                endpoint: "127.0.0.1:9",
                token: randomBytes(8).toString("hex"),
              })
              .catch(() => undefined);
          }),
        );
        if (msgs.length)
          await sqs
            .send(
              new DeleteMessageBatchCommand({
                QueueUrl: bridgeUrl,
                Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
              }),
            )
            .catch(() => undefined);
      }
    };
    const bridges = Array.from({ length: 3 }, () => bridge());
    stops.push(async () => {
      bridging = false;
      await Promise.all(bridges);
      sqs.destroy();
    });
    await redis.set(
      keys.config,
      JSON.stringify({
        minWarm: MIN_WARM,
        maxWarm: MIN_WARM + 10,
        replenishThreshold: MIN_WARM,
        maxTasks: Math.min(10_000, n + 200),
      }),
    );
    const responder = await startReadyResponder(redis, redis.duplicate(), pool);
    stops.push(() => responder.stop());
    const svc = new ClaimService({ pool, redis, limits: { minLeaseSeconds: 1 } });
    await svc.start();
    stops.push(() => svc.close());

    // The cache first: the list phase leaves the event queue a backlog no one reads.
    const modes = (process.env.BENCH_FEED_MODES ?? "cache,list").split(",");
    for (const mode of (["cache+feed", "list"] as const).filter((m) => modes.includes(m.split("+")[0]!))) {
      const flags: Record<string, string> = {
        pool,
        cluster: "default",
        "task-definition": "bench",
        "redis-url": redisServer.url,
        "endpoint-url": emu.endpoint,
        "resync-interval": "10s",
        "lease-ttl": "5s",
        "metrics-port": "0",
        "log-level": process.env.BENCH_LOG ?? "silent",
        // The write side is the workload's own (every released claim is a StopTask and a launch).
        "ecs-write-budget": "40",
        ...(mode === "list"
          ? { observe: "list" }
          : { observe: "cache", "feed-queue-url": urlOf("ecs-events"), "relist-interval": "5m" }),
      };
      const rec = await startReconcilerProcess(buildConfig(flags), {
        log,
        metrics: createMetrics(new Registry(), { defaults: false }),
        host: "127.0.0.1",
      });
      try {
        await waitUntil(async () => Number(await redis.zcard(keys.warm)) >= MIN_WARM, 600_000);
        if (mode === "cache+feed") await waitForSeed(rec, 600_000); // the takeover relist, once
        await sleep(3_000);
        for (const rate of rates) {
          if (mode === "list") {
            rows.push(await cell(emu, rec, svc, redis, keys, n, rate, mode, seconds));
            continue;
          }
          for (const fast of [false, true]) {
            rec.reconciler.fast!.enabled = fast;
            const m = fast ? "cache+feed+fast" : "cache+feed";
            rows.push(await cell(emu, rec, svc, redis, keys, n, rate, m, seconds));
          }
        }
      } finally {
        await rec.stop();
      }
    }
  } finally {
    for (const s of stops.reverse()) await s();
    redis.disconnect();
    await emu.stop();
    await redisServer.stop();
  }
  return rows;
}

async function cell(
  emu: Emulator,
  rec: ReconcilerProcess,
  svc: ClaimService,
  redis: Redis,
  keys: PoolKeys,
  n: number,
  rate: number,
  mode: FeedBenchRow["mode"],
  seconds: number,
): Promise<FeedBenchRow> {
  // Let the pool settle back to minWarm after the last cell.
  await waitUntil(async () => Number(await redis.zcard(keys.warm)) >= MIN_WARM, 120_000).catch(
    () => undefined,
  );
  const reads = (): number => {
    const c = emu.control.calls();
    const sum = (op: string): number => (c[op]?.ok ?? 0) + (c[op]?.throttled ?? 0) + (c[op]?.error ?? 0);
    return sum("ListTasks") + sum("DescribeTasks") + sum("DescribeTaskDefinition");
  };
  const runs = (): number => emu.control.calls().RunTask?.ok ?? 0;
  // RunTask timestamps from the emulator's own count, polled every millisecond or so.
  const runTimes: number[] = [];
  let polling = true;
  let lastRuns = runs();
  const poller = (async () => {
    while (polling) {
      const r = runs();
      if (r > lastRuns) runTimes.push(performance.now());
      lastRuns = r;
      await new Promise((res) => setImmediate(res));
    }
  })();
  const reads0 = reads();
  const passes0 = rec.reconciler.passes;
  const t0 = performance.now();
  const claimTimes: number[] = [];
  let hits = 0;
  let total = 0;
  const pending: Promise<void>[] = [];
  const gapMs = 1000 / rate;
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    const due = t0 + i * gapMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() - t0 >= seconds * 1000) break;
    pending.push(
      (async () => {
        const r = await svc.claim({ userId: `u${i}`, waitMs: 10_000, leaseSeconds: 60 });
        total++;
        if (r.outcome !== "ready") return;
        claimTimes.push(performance.now());
        if (r.claim.warm) hits++;
        await svc.release(r.claim.claimId).catch(() => undefined);
      })(),
    );
  }
  await Promise.all(pending);
  const elapsedMin = (performance.now() - t0) / 60_000;
  const readsDone = reads() - reads0;
  const passes = rec.reconciler.passes - passes0;
  await sleep(1_000);
  polling = false;
  await poller;
  // Every claim takes the pool below its threshold (replenishThreshold = minWarm): claim → the
  // first RunTask the emulator answered after it.
  const lat = claimTimes
    .map((c) => runTimes.find((r) => r >= c))
    .map((r, i) => (r === undefined ? undefined : r - claimTimes[i]!))
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  // A cell is shorter than the relist interval: its relist's calls are added spread over 5 min.
  const o = rec.reconciler.snapshot().observe;
  const relistPerMin = o && "lastRelist" in o && o.lastRelist ? Math.round(o.lastRelist.calls / 5) : 0;
  const perMin = readsDone / elapsedMin + relistPerMin;
  const row: FeedBenchRow = {
    n,
    rate,
    mode,
    relistPerMin,
    readsPerMin: Math.round(perMin),
    budgetPct: Math.round((perMin / ACCOUNT_READS_PER_MIN) * 1000) / 10,
    passesPerMin: Math.round(passes / elapsedMin),
    runP50Ms: Math.round(pct(lat, 50)),
    runP99Ms: Math.round(pct(lat, 99)),
    warmHit: total ? Math.round((hits / total) * 1000) / 10 : NaN,
    claims: total,
  };
  const fast = rec.reconciler.fast;
  console.log(
    `feed bench ${JSON.stringify(row)}${fast ? ` fast: ${JSON.stringify({ launched: fast.tasksLaunched, held: fast.held })}` : ""}`,
  );
  return row;
}

async function waitForSeed(rec: ReconcilerProcess, ms: number): Promise<void> {
  await waitUntil(() => {
    const o = rec.reconciler.snapshot().observe;
    return o !== undefined && "lastRelist" in o && o.lastRelist?.result === "ok";
  }, ms);
}

async function waitUntil(f: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error("feed bench: timed out waiting");
    await sleep(50);
  }
}

function printTable(rows: FeedBenchRow[], seconds: number): void {
  const lines = [
    `| N | claims/s | observe | ECS reads/min (of which relist) | % of 20/s | passes/min | claim → RunTask p50 / p99 (ms) | warm hit (claims) |`,
    `|---:|---:|---|---:|---:|---:|---:|---:|`,
    ...rows.map(
      (r) =>
        `| ${r.n.toLocaleString("en-US")} | ${r.rate} | ${r.mode} | ${r.readsPerMin}${r.relistPerMin ? ` (${r.relistPerMin})` : ""} | ${r.budgetPct}% | ${r.passesPerMin} | ${r.runP50Ms} / ${r.runP99Ms} | ${r.warmHit}% (${r.claims}) |`,
    ),
  ];
  console.log(
    `\nfeed bench (${seconds} s per cell, emulator at ECS's default buckets):\n${lines.join("\n")}`,
  );
}
