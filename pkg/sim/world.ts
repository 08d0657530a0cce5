/**
 * The simulated world the planner looks at: the ECS side (tasks with their lastStatus, visible
 * in ListTasks after a lag, gone after a stop delay) and the Redis side (task records walking
 * starting → warm → claimed → draining, the warm set ordered by warmAt, the FIFO of waiting
 * claims). It applies the planner's actions with the same guards the Lua scripts have (cordon
 * only if not claimed, register refused when draining) and serves claims like the claim script.
 */
import type { Action, EcsTask, Observed, PoolTaskState, TaskRecord } from "../plan/index.js";
import type { Ledger } from "./ledger.js";
import { Prng } from "./prng.js";
import type { EcsModel } from "./scenario.js";

export interface SimTask {
  id: string;
  ecs: EcsTask;
  visibleAtMs: number;
  runningAtMs: number;
  /** When its bridge registers; undefined: never. */
  registerAtMs: number | undefined;
  stoppedAtMs?: number;
  warmAtMs?: number;
  claimedAtMs?: number;
  releasedAtMs?: number;
  servedClaims: number;
  /** The claim it serves, until released. */
  claim?: Claim;
}

export interface Claim {
  id: string;
  arrivedAtMs: number;
  sessionMs: number;
  servedAtMs?: number;
  task?: SimTask;
  released?: boolean;
}

/** Side effects the engine schedules on the virtual clock. */
export interface Scheduler {
  register(task: SimTask, atMs: number): void;
  stopped(task: SimTask, atMs: number): void;
  release(claim: Claim, atMs: number): void;
  /** A claim was served (hit at once or from the waiting queue). */
  served(claim: Claim, waitMs: number, hit: boolean): void;
  /** A launch finished registering: RunTask → warm duration, for the start-time window. */
  started(durationMs: number): void;
}

export interface Counters {
  runTaskCalls: number;
  tasksLaunched: number;
  runFailures: number;
  launchThrottled: number;
  stopTaskCalls: number;
  stopsByReason: Record<string, number>;
  neverRegistered: number;
  registerRefused: number;
}

export class World {
  readonly tasks = new Map<string, SimTask>();
  readonly records = new Map<string, TaskRecord>();
  /** Every task ever launched, for task-hour accounting. */
  readonly history: SimTask[] = [];
  readonly counters: Counters = {
    runTaskCalls: 0,
    tasksLaunched: 0,
    runFailures: 0,
    launchThrottled: 0,
    stopTaskCalls: 0,
    stopsByReason: {},
    neverRegistered: 0,
    registerRefused: 0,
  };
  readonly counts: Record<PoolTaskState, number> = { starting: 0, warm: 0, claimed: 0, draining: 0 };
  private warmQueue: SimTask[] = [];
  private warmHead = 0;
  private waitingQueue: Claim[] = [];
  private waitingHead = 0;
  private tokens: number;
  private tokensAtMs = 0;
  private seq = 0;
  private failures = new Map<string, { reason: string; count: number; lastAtMs: number }>();
  private lastRunAtMs: number | undefined;
  private rng: Prng;
  private startSigma: number;

  constructor(
    private readonly ecsModel: EcsModel,
    private readonly leaseMs: number,
    private readonly warmAllocMs: number,
    private readonly sched: Scheduler,
    private readonly ledger: Ledger,
    seed: number,
  ) {
    this.tokens = ecsModel.launchBurst;
    this.rng = new Prng(seed, "ecs");
    this.startSigma = Math.log(ecsModel.startP90Ms / ecsModel.startMedianMs) / 1.2815515655446004;
  }

  get waiting(): number {
    return this.waitingQueue.length - this.waitingHead;
  }

  /** Claims still queued, oldest first. */
  pendingClaims(): readonly Claim[] {
    return this.waitingQueue.slice(this.waitingHead);
  }

  /** What one pass observes now: ECS tasks visible in ListTasks, every Redis record. */
  observe(nowMs: number, revision: string, eventTriggered: boolean, backoffWindowMs: number): Observed {
    const ecs: EcsTask[] = [];
    for (const t of this.tasks.values()) {
      if (t.visibleAtMs > nowMs) continue;
      if (t.ecs.lastStatus !== "RUNNING" && t.ecs.desiredStatus === "RUNNING" && t.runningAtMs <= nowMs) {
        t.ecs.lastStatus = "RUNNING";
        t.ecs.startedAtMs = t.runningAtMs;
      }
      ecs.push(t.ecs);
    }
    const recentRunFailures = [];
    for (const f of this.failures.values())
      if (nowMs - f.lastAtMs <= backoffWindowMs) recentRunFailures.push(f);
    return {
      complete: true,
      ecs,
      records: [...this.records.values()],
      waiting: this.waiting,
      revision,
      recentRunFailures,
      lastRunAtMs: this.lastRunAtMs,
      eventTriggered,
    };
  }

  apply(actions: readonly Action[], nowMs: number): void {
    const pass = { failed: 0, launched: 0 };
    for (const a of actions) {
      switch (a.kind) {
        case "run":
          this.run(a.count, a.revision, nowMs, pass);
          break;
        case "cordon-stop": {
          const rec = this.records.get(a.taskId);
          if (rec?.state === "claimed") break; // the cordon script refuses: only if still warm/starting
          if (rec && rec.state !== "draining") this.setState(rec, "draining", nowMs, a.reason);
          this.stop(a.taskId, a.reason, nowMs);
          break;
        }
        case "stop":
          this.stop(a.taskId, a.reason, nowMs);
          break;
        case "expire-claims":
          for (const rec of this.records.values()) {
            if (rec.state === "claimed" && (rec.leaseExpiresAtMs ?? Infinity) < nowMs)
              this.setState(rec, "draining", nowMs, "lease-expired");
          }
          break;
        case "forget": {
          const rec = this.records.get(a.taskId);
          if (rec) {
            this.counts[rec.state]--;
            this.records.delete(a.taskId);
          }
          break;
        }
      }
    }
    // As the reconciler keeps its backoff input: a pass whose RunTask calls failed counts once
    // (per reason) however many tasks it asked for; a pass that launched cleanly clears it.
    if (pass.failed > 0) {
      const reason = "RESOURCE:MEMORY";
      const f = this.failures.get(reason) ?? { reason, count: 0, lastAtMs: nowMs };
      f.count += 1;
      f.lastAtMs = nowMs;
      this.failures.set(reason, f);
    } else if (pass.launched > 0) this.failures.clear();
  }

  /** A claim arrives: the oldest warm task, or the back of the waiting queue. */
  claim(c: Claim, nowMs: number): boolean {
    for (;;) {
      const t = this.warmQueue[this.warmHead];
      if (t === undefined) break;
      this.warmHead++;
      const rec = this.records.get(t.id);
      if (rec?.state !== "warm") continue; // cordoned or forgotten since: not claimable
      this.serve(c, t, rec, nowMs, true);
      return true;
    }
    this.waitingQueue.push(c);
    return false;
  }

  /** The bridge of `t` registers: hand it to the oldest waiter, else it joins the warm set. */
  register(t: SimTask, nowMs: number): void {
    if (t.stoppedAtMs !== undefined || t.ecs.desiredStatus === "STOPPED") return;
    let rec = this.records.get(t.id);
    if (rec?.state === "draining") {
      this.counters.registerRefused++; // cordoned before it registered: the bridge exits
      return;
    }
    if (rec && rec.state !== "starting") {
      if (rec.state === "claimed") this.ledger.violations.warmAfterClaim++;
      return;
    }
    if (!rec) {
      rec = { taskId: t.id, taskArn: t.ecs.taskArn, state: "starting", createdAtMs: t.ecs.createdAtMs };
      rec.revision = t.ecs.taskDefinitionArn;
      this.records.set(t.id, rec);
      this.counts.starting++;
    }
    this.sched.started(nowMs - t.ecs.createdAtMs);
    if (t.servedClaims > 0) this.ledger.violations.warmAfterClaim++;
    rec.warmAtMs = nowMs;
    t.warmAtMs = nowMs;
    const waiter = this.waitingQueue[this.waitingHead];
    if (waiter) {
      this.waitingHead++;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waitingQueue.length) {
        this.waitingQueue = this.waitingQueue.slice(this.waitingHead);
        this.waitingHead = 0;
      }
      this.serve(waiter, t, rec, nowMs, false);
      return;
    }
    this.setState(rec, "warm", nowMs);
    this.warmQueue.push(t);
    if (this.warmHead > 1024 && this.warmHead * 2 > this.warmQueue.length) {
      this.warmQueue = this.warmQueue.slice(this.warmHead);
      this.warmHead = 0;
    }
  }

  /** The session ends: the claim is released and the task drains (never back to the pool). */
  release(c: Claim, nowMs: number): void {
    const t = c.task;
    if (!t || c.released) return;
    c.released = true;
    t.claim = undefined;
    t.releasedAtMs = nowMs;
    const rec = this.records.get(t.id);
    if (rec?.state === "claimed") this.setState(rec, "draining", nowMs, "released");
  }

  stopped(t: SimTask, nowMs: number): void {
    t.stoppedAtMs = nowMs;
    t.ecs.lastStatus = "STOPPED";
    t.ecs.stoppedAtMs = nowMs;
    this.tasks.delete(t.id);
    this.ledger.transition(t.id, nowMs, "stopped");
  }

  private serve(c: Claim, t: SimTask, rec: TaskRecord, nowMs: number, hit: boolean): void {
    if (t.servedClaims > 0) this.ledger.violations.servedTwice++;
    t.servedClaims++;
    t.claim = c;
    t.claimedAtMs = nowMs;
    c.task = t;
    c.servedAtMs = nowMs;
    rec.claimId = c.id;
    const endMs = nowMs + this.warmAllocMs + c.sessionMs;
    rec.leaseExpiresAtMs = endMs + this.leaseMs; // heartbeats keep the lease alive until release
    this.setState(rec, "claimed", nowMs);
    const waitMs = nowMs - c.arrivedAtMs + this.warmAllocMs;
    this.ledger.claim({ claimId: c.id, arrivedAtMs: c.arrivedAtMs, taskId: t.id, servedAtMs: nowMs, hit });
    this.sched.served(c, waitMs, hit);
    this.sched.release(c, endMs);
  }

  private run(
    count: number,
    revision: string,
    nowMs: number,
    pass: { failed: number; launched: number },
  ): void {
    this.lastRunAtMs = nowMs;
    this.tokens = Math.min(
      this.ecsModel.launchBurst,
      this.tokens + ((nowMs - this.tokensAtMs) * this.ecsModel.launchPerS) / 1000,
    );
    this.tokensAtMs = nowMs;
    for (let left = count; left > 0; left -= 10) {
      this.counters.runTaskCalls++; // RunTask takes at most 10 tasks per call
      let failed = 0;
      for (let i = 0; i < Math.min(10, left); i++) {
        if (this.tokens < 1) {
          this.counters.launchThrottled++;
          continue;
        }
        this.tokens--;
        if (this.rng.chance(this.ecsModel.runFailureProb)) {
          failed++;
          continue;
        }
        this.launch(revision, nowMs);
        pass.launched++;
      }
      this.counters.runFailures += failed;
      pass.failed += failed;
    }
  }

  private launch(revision: string, nowMs: number): void {
    const id = `t${(++this.seq).toString(36).padStart(6, "0")}`;
    const startMs = this.rng.lognormal(this.ecsModel.startMedianMs, this.startSigma);
    const registers = !this.rng.chance(this.ecsModel.neverRegisterProb);
    const ecs: EcsTask = {
      taskId: id,
      taskArn: `arn:aws:ecs:sim:000000000000:task/pool/${id}`,
      lastStatus: "PROVISIONING",
      desiredStatus: "RUNNING",
      taskDefinitionArn: revision,
      createdAtMs: nowMs,
    };
    const t: SimTask = {
      id,
      ecs,
      visibleAtMs: nowMs + this.ecsModel.listLagMs,
      runningAtMs: nowMs + startMs * 0.9,
      registerAtMs: registers ? nowMs + startMs : undefined,
      servedClaims: 0,
    };
    this.tasks.set(id, t);
    this.history.push(t);
    const rec: TaskRecord = {
      taskId: id,
      taskArn: ecs.taskArn,
      state: "starting",
      revision,
      createdAtMs: nowMs,
    };
    this.records.set(id, rec);
    this.counts.starting++;
    this.ledger.transition(id, nowMs, "starting");
    this.counters.tasksLaunched++;
    if (!registers) this.counters.neverRegistered++;
    if (t.registerAtMs !== undefined) this.sched.register(t, t.registerAtMs);
  }

  private stop(taskId: string, reason: string, nowMs: number): void {
    const t = this.tasks.get(taskId);
    this.counters.stopTaskCalls++;
    this.counters.stopsByReason[reason] = (this.counters.stopsByReason[reason] ?? 0) + 1;
    if (!t || t.ecs.desiredStatus === "STOPPED") return;
    if (t.claim && !t.claim.released) {
      this.ledger.violations.liveClaimStopped++;
      t.claim.released = true;
      t.releasedAtMs = nowMs;
      t.claim = undefined;
    }
    t.ecs.desiredStatus = "STOPPED";
    if (t.ecs.lastStatus === "RUNNING" || t.runningAtMs <= nowMs) t.ecs.lastStatus = "STOPPING";
    this.sched.stopped(t, nowMs + this.ecsModel.stopDelayMs);
  }

  private setState(rec: TaskRecord, to: PoolTaskState, nowMs: number, drainReason?: string): void {
    this.counts[rec.state]--;
    this.counts[to]++;
    rec.state = to;
    if (drainReason) rec.drainReason = drainReason;
    this.ledger.transition(rec.taskId, nowMs, to);
  }
}
