/**
 * The invariant checker: what must hold whatever broke, read from ground truth only — Redis (the
 * task and claim records, the events stream) and the emulator's control API over HTTP (every task
 * ECS ever ran, how and when it stopped). Never from what a component says about itself.
 *
 *   1. no task served two claims;
 *   2. no claimed task ever warm again;
 *   3. idle tasks (starting or warm) never above maxWarm + maxSurge, all tasks never above maxTasks;
 *   4. no task stopped (StopTask) while claimed with a live lease.
 *
 * The events stream is tailed while a scenario runs (`EventLog.poll`), so its cap loses nothing.
 */
import type { Redis } from "ioredis";
import type { TaskSnapshot } from "../../hack/emulator/index.js";
import { ClaimKeys } from "../../pkg/claims/index.js";
import type { Served } from "./driver.js";

export async function emulatorTasks(endpoint: string, pool: string): Promise<TaskSnapshot[]> {
  const res = await fetch(`${endpoint}/_emulator/tasks`);
  if (!res.ok) throw new Error(`emulator control: HTTP ${res.status}`);
  const { tasks } = (await res.json()) as { tasks: TaskSnapshot[] };
  return tasks.filter((t) => t.startedBy === pool);
}

/** Every (task, claim) pairing the events stream ever showed, and registrations after a claim. */
export class EventLog {
  private last = "0-0";
  readonly claimsOf = new Map<string, Set<string>>();
  readonly firstClaimId = new Map<string, string>();
  readonly registerAfterClaim: string[] = [];
  readonly types: Record<string, number> = {};

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClaimKeys,
  ) {}

  async poll(): Promise<void> {
    for (;;) {
      const start = this.last === "0-0" ? "-" : `(${this.last}`;
      const batch = await this.redis.xrange(this.keys.events, start, "+", "COUNT", 1000);
      for (const [id, fields] of batch) {
        this.last = id;
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        this.types[f.type ?? "?"] = (this.types[f.type ?? "?"] ?? 0) + 1;
        if (!f.taskId) continue;
        if (f.type === "claim" && f.claimId) {
          const s = this.claimsOf.get(f.taskId) ?? new Set<string>();
          s.add(f.claimId);
          this.claimsOf.set(f.taskId, s);
          if (!this.firstClaimId.has(f.taskId)) this.firstClaimId.set(f.taskId, id);
        }
        if (f.type === "register" && this.firstClaimId.has(f.taskId)) this.registerAfterClaim.push(f.taskId);
      }
      if (batch.length < 1000) return;
    }
  }
}

export interface Bounds {
  maxWarm: number;
  maxSurge: number;
  maxTasks: number;
}

/** Samples ground truth while faults run: the idle and total task peaks, claimed tasks seen warm. */
export class Sampler {
  peakIdle = 0;
  peakLive = 0;
  samples = 0;
  readonly violations: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  readonly events: EventLog;
  private readonly keys: ClaimKeys;

  constructor(
    private readonly redis: Redis,
    private readonly endpoint: string,
    private readonly pool: string,
    private readonly bounds: Bounds,
  ) {
    this.keys = new ClaimKeys(pool);
    this.events = new EventLog(redis, this.keys);
  }

  start(everyMs = 300): this {
    this.timer = setInterval(() => void this.tick(), everyMs);
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    await this.tick();
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.events.poll();
      const [tasks, warm] = await Promise.all([
        emulatorTasks(this.endpoint, this.pool),
        this.redis.zrange(this.keys.warm, 0, -1),
      ]);
      const live = tasks.filter((t) => t.desiredStatus === "RUNNING");
      const states = await Promise.all(live.map((t) => this.redis.hget(this.keys.task(t.taskId), "state")));
      const idle = states.filter((s) => s === null || s === "starting" || s === "warm").length;
      this.peakIdle = Math.max(this.peakIdle, idle);
      this.peakLive = Math.max(this.peakLive, live.length);
      this.samples++;
      const b = this.bounds;
      if (idle > b.maxWarm + b.maxSurge)
        this.violations.push(
          `${idle} idle tasks running, above maxWarm ${b.maxWarm} + maxSurge ${b.maxSurge}`,
        );
      if (live.length > b.maxTasks)
        this.violations.push(`${live.length} tasks running, above maxTasks ${b.maxTasks}`);
      for (const id of warm)
        if (this.events.claimsOf.has(id)) this.violations.push(`task ${id} was claimed and is warm again`);
    } catch {
      // Redis or the emulator away during a fault: no sample this time.
    } finally {
      this.busy = false;
    }
  }
}

export interface Verdict {
  violations: string[];
  figures: {
    tasksLaunched: number;
    claimedTasks: number;
    stoppedByStopTask: number;
    peakIdle: number;
    peakLive: number;
  };
}

const STOPPED_STATES = new Set(["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]);

/** The final check, from Redis and the emulator; `served` is what clients were handed (201s). */
export async function checkInvariants(o: {
  redis: Redis;
  endpoint: string;
  pool: string;
  sampler: Sampler;
  served?: Served[];
}): Promise<Verdict> {
  const keys = new ClaimKeys(o.pool);
  await o.sampler.stop();
  const violations = [...new Set(o.sampler.violations)];
  // The mid-run bounds hold only if they were looked at: a sample fails while Redis or the
  // emulator is away, but a run where none succeeded checked nothing.
  if (o.sampler.samples === 0) violations.push("no mid-run sample succeeded: the bounds were never checked");
  const claimsOf = new Map<string, Set<string>>();
  const add = (taskId: string, claimId: string): void => {
    const s = claimsOf.get(taskId) ?? new Set<string>();
    s.add(claimId);
    claimsOf.set(taskId, s);
  };
  for (const [t, ids] of o.sampler.events.claimsOf) for (const c of ids) add(t, c);
  for (const s of o.served ?? []) add(s.taskId, s.claimId);
  const claimKeys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await o.redis.scan(cursor, "MATCH", `${keys.claimPrefix}*`, "COUNT", 1000);
    cursor = next;
    claimKeys.push(...found.filter((k) => !k.slice(keys.claimPrefix.length).includes(":")));
  } while (cursor !== "0");
  const claimRecords = new Map<string, Record<string, string>>();
  for (const k of claimKeys) {
    const h = await o.redis.hgetall(k);
    const claimId = k.slice(keys.claimPrefix.length);
    claimRecords.set(claimId, h);
    if (h.taskId) add(h.taskId, claimId);
  }
  const taskIds = await o.redis.smembers(keys.tasks);
  const records = new Map<string, Record<string, string>>();
  for (const id of taskIds) {
    const h = await o.redis.hgetall(keys.task(id));
    records.set(id, h);
    if (h.claimId) add(id, h.claimId);
  }

  // 1. one claim per task, ever
  for (const [taskId, ids] of claimsOf)
    if (ids.size > 1) violations.push(`task ${taskId} served ${ids.size} claims: ${[...ids].join(", ")}`);
  // 2. claimed never warm again
  const warm = new Set(await o.redis.zrange(keys.warm, 0, -1));
  for (const taskId of claimsOf.keys()) {
    if (warm.has(taskId)) violations.push(`claimed task ${taskId} is in the warm set`);
    if (records.get(taskId)?.state === "warm") violations.push(`claimed task ${taskId} has state warm`);
  }
  for (const t of o.sampler.events.registerAfterClaim) violations.push(`task ${t} registered after a claim`);
  // 4. no StopTask while claimed with a live lease
  const tasks = await emulatorTasks(o.endpoint, o.pool);
  let stoppedByStopTask = 0;
  for (const t of tasks) {
    if (t.stopCode !== "UserInitiated") continue;
    stoppedByStopTask++;
    const stopAt = Math.min(...t.history.filter((h) => STOPPED_STATES.has(h.status)).map((h) => h.at));
    for (const claimId of claimsOf.get(t.taskId) ?? []) {
      const c = claimRecords.get(claimId);
      if (!c) continue;
      if (c.state === "assigned" || c.state === "ready") {
        const lease = Number(await o.redis.zscore(keys.claims, claimId));
        if (lease > stopAt)
          violations.push(
            `task ${t.taskId} stopped at ${stopAt} while claim ${claimId} holds a lease to ${lease}`,
          );
      } else if (c.endedAt && stopAt + 5 < Number(c.endedAt)) {
        violations.push(
          `task ${t.taskId} stopped at ${stopAt}, before its claim ${claimId} ended (${c.state} at ${c.endedAt})`,
        );
      }
    }
  }
  return {
    violations,
    figures: {
      tasksLaunched: tasks.length,
      claimedTasks: claimsOf.size,
      stoppedByStopTask,
      peakIdle: o.sampler.peakIdle,
      peakLive: o.sampler.peakLive,
    },
  };
}
