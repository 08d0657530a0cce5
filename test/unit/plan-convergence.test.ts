/**
 * Closed-loop property: the planner driving a tiny model of the pool (launches appear at once
 * and register by the next pass; stops complete by the next pass) converges to the target with
 * every idle task on the new revision, never exceeds maxTasks, never touches claimed tasks, and
 * during a surge-capable rollout never lets the warm count drop below the target.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_DESIRED, type DesiredState } from "../../pkg/config/index.js";
import { DEFAULT_TIMINGS, plan, type EcsTask, type Observed, type TaskRecord } from "../../pkg/plan/index.js";

const T0 = 1_000_000_000;
const NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2";
const OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1";
const PASS_MS = 5_000;

interface Task {
  id: string;
  state: TaskRecord["state"];
  rev: string;
  createdAtMs: number;
  warmAtMs?: number;
}

function observe(tasks: Map<string, Task>): Observed {
  const ecs: EcsTask[] = [];
  const records: TaskRecord[] = [];
  for (const t of tasks.values()) {
    ecs.push({
      taskId: t.id,
      taskArn: `arn:task/${t.id}`,
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      taskDefinitionArn: t.rev,
      createdAtMs: t.createdAtMs,
    });
    const r: TaskRecord = { taskId: t.id, state: t.state, revision: t.rev, createdAtMs: t.createdAtMs };
    if (t.warmAtMs !== undefined) r.warmAtMs = t.warmAtMs;
    if (t.state === "claimed") r.leaseExpiresAtMs = Number.MAX_SAFE_INTEGER;
    records.push(r);
  }
  return { complete: true, ecs, records, waiting: 0, revision: NEW, eventTriggered: false };
}

const scenario = fc
  .record({
    minWarm: fc.integer({ min: 0, max: 12 }),
    spread: fc.integer({ min: 0, max: 8 }),
    maxSurge: fc.integer({ min: 0, max: 4 }),
    room: fc.integer({ min: 0, max: 6 }),
    oldWarm: fc.integer({ min: 0, max: 25 }),
    claimed: fc.integer({ min: 0, max: 4 }),
  })
  .map((s) => {
    const maxWarm = s.minWarm + s.spread;
    const desired: DesiredState = {
      ...DEFAULT_DESIRED,
      minWarm: s.minWarm,
      maxWarm,
      replenishThreshold: Math.min(DEFAULT_DESIRED.replenishThreshold, s.minWarm),
      maxTasks: maxWarm + s.claimed + s.room,
      maxSurge: s.maxSurge,
    };
    return { desired, oldWarm: Math.min(s.oldWarm, desired.maxTasks - s.claimed), claimed: s.claimed };
  });

describe("planner in a closed loop", () => {
  it("rolls the pool onto the new revision and settles at the target", () => {
    fc.assert(
      fc.property(scenario, ({ desired, oldWarm, claimed }) => {
        const tasks = new Map<string, Task>();
        let seq = 0;
        const add = (state: Task["state"], rev: string, now: number): void => {
          const id = `t${seq++}`;
          tasks.set(id, {
            id,
            state,
            rev,
            createdAtMs: now - 1,
            ...(state === "starting" ? {} : { warmAtMs: now - seq }),
          });
        };
        for (let i = 0; i < oldWarm; i++) add("warm", OLD, T0);
        for (let i = 0; i < claimed; i++) add("claimed", OLD, T0);
        // With room to surge, the rollout never takes warm capacity below the target.
        const surgeCapable =
          desired.maxSurge > 0 && desired.maxTasks - desired.maxWarm - claimed >= desired.maxSurge;

        let settled = -1;
        for (let pass = 0; pass < 80 && settled < 0; pass++) {
          const now = T0 + pass * PASS_MS;
          const p = plan(desired, observe(tasks), now, DEFAULT_TIMINGS);
          const warmBefore = [...tasks.values()].filter((t) => t.state === "warm").length;
          for (const a of p.actions) {
            if (a.kind === "run") for (let i = 0; i < a.count; i++) add("starting", a.revision, now);
            else if (a.kind === "stop" || a.kind === "cordon-stop" || a.kind === "forget") {
              expect(tasks.get(a.taskId)?.state, `${a.kind} ${a.reason}`).not.toBe("claimed");
              tasks.delete(a.taskId);
            }
          }
          expect(tasks.size).toBeLessThanOrEqual(Math.max(desired.maxTasks, oldWarm + claimed));
          const warmAfter = [...tasks.values()].filter((t) => t.state === "warm").length;
          if (surgeCapable) expect(warmAfter).toBeGreaterThanOrEqual(Math.min(warmBefore, p.target));
          if (p.actions.length === 0) settled = pass;
          for (const t of tasks.values()) {
            if (t.state === "starting") Object.assign(t, { state: "warm", warmAtMs: now + 1 });
          }
        }
        expect(settled, "settles within 80 passes").toBeGreaterThanOrEqual(0);
        const idle = [...tasks.values()].filter((t) => t.state !== "claimed");
        expect(idle.filter((t) => t.rev === OLD)).toEqual([]);
        const target = Math.min(desired.minWarm, desired.maxTasks - claimed);
        expect(idle.length).toBeGreaterThanOrEqual(target);
        expect(idle.length).toBeLessThanOrEqual(Math.max(target, desired.maxWarm));
        expect([...tasks.values()].filter((t) => t.state === "claimed")).toHaveLength(claimed);
      }),
      { numRuns: 500 },
    );
  });

  it("drains the pool surge-first and settles with every idle task newer than the request", () => {
    fc.assert(
      fc.property(
        scenario,
        fc.constantFrom(undefined, "app", "app:2", NEW),
        fc.boolean(),
        ({ desired, oldWarm: covered, claimed }, revision, resyncDue) => {
          const beforeMs = T0;
          const drain = revision === undefined ? { beforeMs } : { beforeMs, revision };
          const tasks = new Map<string, Task>();
          let seq = 0;
          const add = (state: Task["state"], createdAtMs: number): void => {
            const id = `t${seq++}`;
            const warm = state === "starting" ? {} : { warmAtMs: createdAtMs + seq };
            tasks.set(id, { id, state, rev: NEW, createdAtMs, ...warm });
          };
          for (let i = 0; i < covered; i++) add("warm", T0 - 60_000);
          for (let i = 0; i < claimed; i++) add("claimed", T0 - 60_000);
          const surgeCapable =
            desired.maxSurge > 0 && desired.maxTasks - desired.maxWarm - claimed >= desired.maxSurge;

          let settled = -1;
          for (let pass = 0; pass < 80 && settled < 0; pass++) {
            const now = T0 + pass * PASS_MS;
            // Half the scenarios are event passes with the resync overdue: they must act like resyncs.
            const observed: Observed = { ...observe(tasks), drain };
            if (resyncDue) Object.assign(observed, { eventTriggered: true, resyncDue: true });
            const p = plan(desired, observed, now, DEFAULT_TIMINGS);
            const warmBefore = [...tasks.values()].filter((t) => t.state === "warm").length;
            for (const a of p.actions) {
              if (a.kind === "run") for (let i = 0; i < a.count; i++) add("starting", now);
              else if (a.kind === "stop" || a.kind === "cordon-stop" || a.kind === "forget") {
                expect(tasks.get(a.taskId)?.state, `${a.kind} ${a.reason}`).not.toBe("claimed");
                if (a.kind === "cordon-stop") expect(a.reason).toMatch(/^(drain|excess)$/);
                tasks.delete(a.taskId);
              }
            }
            expect(tasks.size).toBeLessThanOrEqual(Math.max(desired.maxTasks, covered + claimed));
            const warmAfter = [...tasks.values()].filter((t) => t.state === "warm").length;
            if (surgeCapable) {
              expect(warmAfter).toBeGreaterThanOrEqual(Math.min(warmBefore, p.target));
              expect(warmAfter).toBeGreaterThanOrEqual(Math.min(warmBefore, desired.minWarm));
            }
            if (p.actions.length === 0) settled = pass;
            for (const t of tasks.values()) {
              if (t.state === "starting") Object.assign(t, { state: "warm", warmAtMs: now + 1 });
            }
          }
          expect(settled, "settles within 80 passes").toBeGreaterThanOrEqual(0);
          const idle = [...tasks.values()].filter((t) => t.state !== "claimed");
          expect(idle.filter((t) => t.createdAtMs < beforeMs)).toEqual([]);
          const target = Math.min(desired.minWarm, desired.maxTasks - claimed);
          expect(idle.length).toBeGreaterThanOrEqual(target);
          expect(idle.length).toBeLessThanOrEqual(Math.max(target, desired.maxWarm));
          expect([...tasks.values()].filter((t) => t.state === "claimed")).toHaveLength(claimed);
        },
      ),
      { numRuns: 500 },
    );
  });
});
