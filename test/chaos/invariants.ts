/**
 * The invariant checker: what must hold whatever broke, read from ground truth only — Redis (the
 * task and claim records, the events stream) and the emulator's control API over HTTP (every task
 * ECS ever ran, how and when it stopped). Never from what a component says about itself.
 *
 *   1. no task served two claims;
 *   2. no claimed task ever warm again;
 *   3. a rise in idle tasks (starting or warm) never above target + maxSurge (the target from the
 *      desired state and waiting claims in Redis, see Sampler), all tasks never above maxTasks;
 *   4. no task stopped (StopTask) while claimed with a live lease.
 *
 * The events stream is tailed while a scenario runs (`EventLog.poll`), so its cap loses nothing.
 */
import type { Redis } from "ioredis";
import type { TaskSnapshot } from "../../hack/emulator/index.js";
import { ClaimKeys } from "../../pkg/claims/index.js";
import { parseDesiredState, type DesiredState } from "../../pkg/config/index.js";
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

/** What bounds a sample: the desired state as the reconciler reads it, from the pool's config key. */
export interface SampleBounds {
  /** min(maxWarm, minWarm + waiting claims) at its highest over the window (maxWarm when adaptive). */
  target: number;
  maxSurge: number;
  maxTasks: number;
}

/** A sample that could not be taken, and whether a scenario had declared the outage that explains it. */
export interface FailedSample {
  at: number;
  error: string;
  declared: boolean;
}

/**
 * Samples ground truth while faults run: idle and total task peaks, claimed tasks seen warm.
 *
 * The idle bound is the README's: a rise in idle tasks (warm, starting, or not yet recorded) never
 * takes them above target + maxSurge, target being the reconciler's own rule
 * (min(maxWarm, minWarm + waiting claims); maxWarm under the adaptive policy) at its highest over
 * the last `windowMs` (a launch decided on a higher target shows up a little later). The desired
 * state is read from Redis at each sample; the waiting count is LLEN of the waiting list at each
 * sample plus the `miss` events in between (a claim joins the list only after a miss), so a queue
 * that filled and drained between two samples still raises the target it allowed. Idle tasks are
 * never trimmed below maxWarm, so only rises are checked: surplus left by waiters that gave up is
 * not a launch.
 *
 * A sample that fails is kept, not dropped: outside an outage the scenario declared
 * (`outage(true)` … `outage(false)`) it is a violation; inside, it is counted in the figures.
 */
export class Sampler {
  peakIdle = 0;
  peakLive = 0;
  samples = 0;
  readonly failed: FailedSample[] = [];
  readonly violations: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The bounds that held at the last sample (for figures and tests). */
  lastBounds: SampleBounds | undefined;
  private busy = false;
  private inOutage = false;
  private lastDesired: DesiredState | undefined;
  private prev: { idle: number; waiting: number; misses: number; desired: DesiredState } | undefined;
  private readonly window: { at: number; target: number; maxSurge: number }[] = [];
  readonly events: EventLog;
  private readonly keys: ClaimKeys;

  constructor(
    private readonly redis: Redis,
    private readonly endpoint: string,
    private readonly pool: string,
    private readonly windowMs = 5_000,
  ) {
    this.keys = new ClaimKeys(pool);
    this.events = new EventLog(redis, this.keys);
  }

  start(everyMs = 200): this {
    this.timer = setInterval(() => void this.tick(), everyMs);
    return this;
  }

  /** Declares a deliberate outage (Redis or the emulator away): samples failing meanwhile are expected. */
  outage(on: boolean): void {
    this.inOutage = on;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    await this.tick();
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const at = Date.now();
    try {
      await this.events.poll();
      const [tasks, warm, raw, waiting] = await Promise.all([
        emulatorTasks(this.endpoint, this.pool),
        this.redis.zrange(this.keys.warm, 0, -1),
        this.redis.get(this.keys.config),
        this.redis.llen(this.keys.waiting),
      ]);
      // An invalid value is ignored by the reconciler, which keeps the last good one: so here.
      const parsed = raw === null ? undefined : parseDesiredState(raw);
      if (parsed?.ok) this.lastDesired = parsed.value;
      const desired = this.lastDesired;
      if (!desired) throw new Error(`no valid desired state at ${this.keys.config}`);
      const live = tasks.filter((t) => t.desiredStatus === "RUNNING");
      const states = await Promise.all(live.map((t) => this.redis.hget(this.keys.task(t.taskId), "state")));
      const idle = states.filter((s) => s === null || s === "starting" || s === "warm").length;
      const misses = this.events.types.miss ?? 0;
      const prev = this.prev;
      // The most claims that can have waited since the last sample.
      const waitingHi = Math.max(waiting, prev ? prev.waiting + (misses - prev.misses) : waiting);
      const targetOf = (d: DesiredState): number =>
        d.policy === "adaptive" ? d.maxWarm : Math.min(d.maxWarm, d.minWarm + waitingHi);
      const surgeOf = (d: DesiredState): number => d.maxSurge;
      this.window.push({
        at,
        target: Math.max(targetOf(desired), prev ? targetOf(prev.desired) : 0),
        maxSurge: Math.max(surgeOf(desired), prev ? surgeOf(prev.desired) : 0),
      });
      while (this.window.length > 1 && this.window[0]!.at < at - this.windowMs) this.window.shift();
      const target = Math.max(...this.window.map((x) => x.target));
      const maxSurge = Math.max(...this.window.map((x) => x.maxSurge));
      this.lastBounds = { target, maxSurge, maxTasks: desired.maxTasks };
      this.peakIdle = Math.max(this.peakIdle, idle);
      this.peakLive = Math.max(this.peakLive, live.length);
      this.samples++;
      const before = prev?.idle ?? 0;
      if (idle > before && idle > target + maxSurge)
        this.violations.push(
          `${idle} idle tasks running (up from ${before}), above target ${target} + maxSurge ${maxSurge}`,
        );
      if (live.length > desired.maxTasks)
        this.violations.push(`${live.length} tasks running, above maxTasks ${desired.maxTasks}`);
      for (const id of warm)
        if (this.events.claimsOf.has(id)) this.violations.push(`task ${id} was claimed and is warm again`);
      this.prev = { idle, waiting, misses, desired };
    } catch (e) {
      this.failed.push({
        at,
        error: e instanceof Error ? e.message : String(e),
        declared: this.inOutage,
      });
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
    samples: number;
    /** Samples that failed inside a declared outage (any other failed sample is a violation). */
    failedSamples: number;
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
  for (const f of o.sampler.failed)
    if (!f.declared) violations.push(`a sample at ${f.at} failed outside a declared outage: ${f.error}`);
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
      samples: o.sampler.samples,
      failedSamples: o.sampler.failed.length,
    },
  };
}
