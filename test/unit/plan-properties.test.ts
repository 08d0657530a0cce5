/**
 * Property tests of the planner's safety invariants over arbitrary worlds: every combination of
 * Redis state × ECS status × age × revision × lease, any valid desired state, any trigger.
 * Each invariant is checked against counts taken here from the raw input, not from the plan.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_DESIRED, type DesiredState } from "../../pkg/config/index.js";
import {
  DEFAULT_TIMINGS,
  RUN_TASK_MAX,
  isLive,
  plan,
  type EcsTask,
  type Observed,
  type TaskRecord,
} from "../../pkg/plan/index.js";

const NOW = 50_000_000;
const T = DEFAULT_TIMINGS;
const REV = "td:2";
const RUNS = 2_000;

const desiredArb: fc.Arbitrary<DesiredState> = fc
  .tuple(
    fc.integer({ min: 0, max: 30 }),
    fc.integer({ min: 0, max: 30 }),
    fc.integer({ min: 0, max: 30 }),
    fc.integer({ min: 0, max: 60 }),
  )
  .chain(([a, b, c, d]) => {
    const [replenishThreshold, minWarm, maxWarm, maxTasks] = [a, b, c, d].sort((x, y) => x - y) as [
      number,
      number,
      number,
      number,
    ];
    return fc.record({
      minWarm: fc.constant(minWarm),
      maxWarm: fc.constant(maxWarm),
      replenishThreshold: fc.constant(replenishThreshold),
      maxTasks: fc.constant(maxTasks),
      paused: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
      leaseSeconds: fc.constant(300),
      maxSurge: fc.integer({ min: 0, max: 4 }),
      policy: fc.constant("static" as const),
      adaptive: fc.constant({ ...DEFAULT_DESIRED.adaptive }),
    });
  });

const ageArb = fc.oneof(
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: T.visibilityGraceMs - 10, max: T.visibilityGraceMs + 10 }),
  fc.integer({ min: T.registerTimeoutMs - 10, max: T.registerTimeoutMs + 10 }),
  fc.integer({ min: 0, max: 3_600_000 }),
);

const taskArb = fc.record({
  state: fc.constantFrom(undefined, "starting", "warm", "claimed", "draining"),
  ecs: fc.constantFrom("live", "live", "pending", "stopping", "stopped", "absent"),
  ageMs: ageArb,
  warmAgoMs: fc.integer({ min: 0, max: 1_000_000 }),
  old: fc.boolean(),
  leaseInMs: fc.integer({ min: -60_000, max: 60_000 }),
  drainReason: fc.constantFrom(undefined, "released", "lease-expired", "excess", "weird"),
});

const worldArb = fc.record({
  desired: desiredArb,
  tasks: fc.array(taskArb, { maxLength: 70 }),
  complete: fc.integer({ min: 0, max: 6 }).map((x) => x !== 0),
  eventTriggered: fc.boolean(),
  desiredChanged: fc.boolean(),
  waiting: fc.integer({ min: 0, max: 12 }),
  failures: fc.integer({ min: 0, max: 6 }),
  lastRunAgoMs: fc.integer({ min: 0, max: 120_000 }),
  resyncDue: fc.boolean(),
  drain: fc.option(
    fc.record({
      revision: fc.option(fc.constantFrom("td", "td:1", "td:2", "zz"), { nil: undefined }),
      beforeAgoMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4_000_000 })),
    }),
    { nil: undefined },
  ),
});

type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

function build(w: World): Observed {
  const ecs: EcsTask[] = [];
  const records: TaskRecord[] = [];
  w.tasks.forEach((t, i) => {
    const id = `t${i}`;
    const created = NOW - t.ageMs;
    const arn = `arn:task/${id}`;
    const rev = t.old ? "td:1" : REV;
    if (t.ecs !== "absent") {
      ecs.push({
        taskId: id,
        taskArn: arn,
        lastStatus: t.ecs === "stopped" ? "STOPPED" : t.ecs === "pending" ? "PENDING" : "RUNNING",
        desiredStatus: t.ecs === "stopping" || t.ecs === "stopped" ? "STOPPED" : "RUNNING",
        taskDefinitionArn: rev,
        createdAtMs: created,
      });
    }
    if (t.state) {
      const r: TaskRecord = { taskId: id, taskArn: arn, state: t.state, revision: rev, createdAtMs: created };
      if (t.state !== "starting") r.warmAtMs = NOW - t.warmAgoMs;
      if (t.state === "claimed") r.leaseExpiresAtMs = NOW + t.leaseInMs;
      if (t.drainReason) r.drainReason = t.drainReason;
      records.push(r);
    }
  });
  const o: Observed = {
    complete: w.complete,
    ecs,
    records,
    waiting: w.waiting,
    revision: REV,
    eventTriggered: w.eventTriggered,
    desiredChanged: w.desiredChanged,
    resyncDue: w.resyncDue,
  };
  if (w.drain) {
    o.drain = { beforeMs: NOW - w.drain.beforeAgoMs };
    if (w.drain.revision !== undefined) o.drain.revision = w.drain.revision;
  }
  if (w.failures > 0) {
    o.recentRunFailures = [{ reason: "RESOURCE:CPU", count: w.failures, lastAtMs: NOW - w.lastRunAgoMs }];
    o.lastRunAtMs = NOW - w.lastRunAgoMs;
  }
  return o;
}

/** Every live pool task, counted from the raw input: live in ECS, or recorded and not yet listed. */
function liveCount(o: Observed): number {
  const listed = new Set(o.ecs.map((e) => e.taskId));
  const young = o.records.filter((r) => !listed.has(r.taskId) && NOW - r.createdAtMs < T.visibilityGraceMs);
  return o.ecs.filter(isLive).length + young.length;
}

const launches = (p: ReturnType<typeof plan>): number =>
  p.actions.reduce((n, a) => n + (a.kind === "run" ? a.count : 0), 0);

const prop = (f: (w: World, o: Observed) => void): void =>
  fc.assert(
    fc.property(worldArb, (w) => f(w, build(w))),
    { numRuns: RUNS },
  );

describe("planner invariants", () => {
  it("never plans a stop or cordon of a claimed task", () => {
    prop((w, o) => {
      const claimed = new Set(o.records.filter((r) => r.state === "claimed").map((r) => r.taskId));
      for (const a of plan(w.desired, o, NOW, T).actions) {
        if (a.kind === "stop" || a.kind === "cordon-stop")
          expect(claimed.has(a.taskId), a.taskId).toBe(false);
      }
    });
  });

  it("a drain only replaces idle tasks it covers, created before it", () => {
    prop((w, o) => {
      if (!o.drain) return;
      const byId = new Map(o.records.map((r) => [r.taskId, r]));
      for (const a of plan(w.desired, o, NOW, T).actions) {
        if (a.kind !== "cordon-stop" || a.reason !== "drain") continue;
        const r = byId.get(a.taskId)!;
        expect(r.state).toBe("warm");
        expect(r.createdAtMs).toBeLessThan(o.drain.beforeMs);
        if (o.drain.revision !== undefined) expect(r.revision).toMatch(new RegExp(`^${o.drain.revision}`));
      }
    });
  });

  it("never launches beyond maxTasks, counting every live task", () => {
    prop((w, o) => {
      const n = launches(plan(w.desired, o, NOW, T));
      if (n > 0) expect(liveCount(o) + n).toBeLessThanOrEqual(w.desired.maxTasks);
    });
  });

  it("with an incomplete observation plans nothing at all", () => {
    prop((w, o) => {
      const p = plan(w.desired, { ...o, complete: false }, NOW, T);
      expect(p.actions).toEqual([]);
      expect(p.held).toBeDefined();
    });
  });

  it("when paused plans nothing", () => {
    prop((w, o) => {
      const p = plan({ ...w.desired, paused: true }, o, NOW, T);
      expect(p.actions).toEqual([]);
      expect(p.held).toBe("paused");
    });
  });

  it("cuts launches into RunTask calls of 1 to 10", () => {
    prop((w, o) => {
      for (const a of plan(w.desired, o, NOW, T).actions) {
        if (a.kind === "run") {
          expect(a.count).toBeGreaterThanOrEqual(1);
          expect(a.count).toBeLessThanOrEqual(RUN_TASK_MAX);
          expect(a.revision).toBe(REV);
        }
      }
    });
  });

  it("acts on each task at most once and only on tasks it was shown", () => {
    prop((w, o) => {
      const known = new Set([...o.ecs.map((e) => e.taskId), ...o.records.map((r) => r.taskId)]);
      const seen = new Set<string>();
      for (const a of plan(w.desired, o, NOW, T).actions) {
        if (!("taskId" in a)) continue;
        expect(known.has(a.taskId)).toBe(true);
        expect(seen.has(a.taskId), `${a.kind} ${a.taskId} twice`).toBe(false);
        seen.add(a.taskId);
      }
    });
  });

  it("is idempotent: once its launches are expectations, re-planning launches nothing more", () => {
    prop((w, o) => {
      const first = plan(w.desired, o, NOW, T);
      const n = launches(first);
      const expectations: TaskRecord[] = Array.from({ length: n }, (_, i) => ({
        taskId: `launched${i}`,
        state: "starting",
        revision: REV,
        createdAtMs: NOW,
      }));
      // As the reconciler does, the RunTask batch just issued is the new lastRunAtMs.
      const again: Observed = { ...o, records: [...o.records, ...expectations] };
      if (n > 0) again.lastRunAtMs = NOW;
      expect(launches(plan(w.desired, again, NOW, T))).toBe(0);
    });
  });

  it("does not depend on the order ECS or Redis list tasks in", () => {
    fc.assert(
      fc.property(worldArb, fc.integer(), (w, seed) => {
        const o = build(w);
        const shuffled: Observed = { ...o, ecs: shuffle(o.ecs, seed), records: shuffle(o.records, seed + 1) };
        expect(plan(w.desired, shuffled, NOW, T)).toEqual(plan(w.desired, o, NOW, T));
      }),
      { numRuns: 500 },
    );
  });
});

/** Pools under a drain with room to surge: live warm / starting / claimed tasks, some covered. */
const drainWorldArb = fc.record({
  minWarm: fc.integer({ min: 0, max: 10 }),
  spread: fc.integer({ min: 0, max: 6 }),
  maxSurge: fc.integer({ min: 1, max: 4 }),
  eventTriggered: fc.boolean(),
  drainRevision: fc.option(fc.constantFrom("td", "td:1", "td:2"), { nil: undefined }),
  tasks: fc.array(
    fc.record({
      state: fc.constantFrom("warm", "warm", "warm", "starting", "claimed"),
      old: fc.boolean(),
      beforeDrain: fc.boolean(),
      warmAgoMs: fc.integer({ min: 0, max: 50_000 }),
    }),
    { maxLength: 25 },
  ),
});

describe("planner invariants during a drain", () => {
  it("with room to surge, never cordons warm tasks below the target, never a claimed one", () => {
    let checked = 0;
    fc.assert(
      fc.property(drainWorldArb, (w) => {
        const before = NOW - 100_000;
        const records: TaskRecord[] = [];
        const ecs: EcsTask[] = [];
        w.tasks.forEach((t, i) => {
          const id = `d${i}`;
          const createdAtMs = t.beforeDrain ? before - 1_000 - t.warmAgoMs : before + t.warmAgoMs;
          const rev = t.old ? "td:1" : REV;
          ecs.push({
            taskId: id,
            taskArn: `arn:task/${id}`,
            lastStatus: "RUNNING",
            desiredStatus: "RUNNING",
            taskDefinitionArn: rev,
            createdAtMs,
          });
          const r: TaskRecord = { taskId: id, state: t.state, revision: rev, createdAtMs };
          if (t.state !== "starting") r.warmAtMs = Math.min(NOW, createdAtMs + 10_000);
          if (t.state === "claimed") r.leaseExpiresAtMs = NOW + 60_000;
          records.push(r);
        });
        const desired: DesiredState = {
          ...DEFAULT_DESIRED,
          minWarm: w.minWarm,
          maxWarm: w.minWarm + w.spread,
          replenishThreshold: Math.min(2, w.minWarm),
          maxSurge: w.maxSurge,
          maxTasks: 100,
        };
        const drain: NonNullable<Observed["drain"]> = { beforeMs: before };
        if (w.drainRevision !== undefined) drain.revision = w.drainRevision;
        const o: Observed = {
          complete: true,
          ecs,
          records,
          waiting: 0,
          revision: REV,
          eventTriggered: w.eventTriggered,
          drain,
        };
        const p = plan(desired, o, NOW, T);
        const byId = new Map(records.map((r) => [r.taskId, r]));
        let warmCordoned = 0;
        let replaced = 0;
        for (const a of p.actions) {
          if (a.kind !== "cordon-stop" && a.kind !== "stop") continue;
          const r = byId.get(a.taskId)!;
          expect(r.state, `${a.kind} ${a.reason}`).not.toBe("claimed");
          if (r.state === "warm") warmCordoned++;
          if (a.reason === "drain" || a.reason === "old-revision") replaced++;
        }
        if (replaced === 0) return;
        checked++;
        expect(p.counts.warm - warmCordoned).toBeGreaterThanOrEqual(desired.minWarm);
        expect(p.counts.warm - warmCordoned).toBeGreaterThanOrEqual(p.target);
      }),
      { numRuns: RUNS },
    );
    expect(checked, "worlds where a replacement was planned").toBeGreaterThan(50);
  });
});

/** Deterministic Fisher–Yates from a seed (a tiny LCG), so a failure replays. */
function shuffle<X>(xs: X[], seed: number): X[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
