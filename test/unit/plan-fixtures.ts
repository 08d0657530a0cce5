/**
 * Shared fixtures of the table-driven planner tests (plan, plan-rollout, plan-drain): a world
 * built from task specs, the plan reduced to what a reader checks, and the case runner.
 */
import { expect, it } from "vitest";
import { DEFAULT_DESIRED, type DesiredState } from "../../pkg/config/index.js";
import {
  DEFAULT_TIMINGS,
  plan,
  type Action,
  type EcsTask,
  type Observed,
  type Plan,
  type TaskRecord,
} from "../../pkg/plan/index.js";

export const NOW = 10_000_000;
export const T = DEFAULT_TIMINGS; // register 180 s, grace 60 s, backoff 1 s … 60 s
export const REV = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2";

export interface TaskSpec {
  id: string;
  state?: TaskRecord["state"]; // absent: no Redis record
  ecs?: "live" | "stopping" | "stopped" | "absent";
  ageMs?: number; // since launch (record createdAt and ECS createdAt)
  warmAgoMs?: number;
  rev?: string;
  leaseInMs?: number;
  drainReason?: string;
}

export function world(specs: TaskSpec[]): { ecs: EcsTask[]; records: TaskRecord[] } {
  const ecs: EcsTask[] = [];
  const records: TaskRecord[] = [];
  for (const s of specs) {
    const created = NOW - (s.ageMs ?? 600_000);
    const arn = `arn:aws:ecs:us-east-1:123456789012:task/c/${s.id}`;
    const where = s.ecs ?? "live";
    if (where !== "absent") {
      ecs.push({
        taskId: s.id,
        taskArn: arn,
        lastStatus: where === "stopped" ? "STOPPED" : "RUNNING",
        desiredStatus: where === "live" ? "RUNNING" : "STOPPED",
        taskDefinitionArn: s.rev ?? REV,
        createdAtMs: created,
      });
    }
    if (s.state) {
      const r: TaskRecord = {
        taskId: s.id,
        taskArn: arn,
        state: s.state,
        revision: s.rev ?? REV,
        createdAtMs: created,
      };
      // A task is warm at the earliest when it was launched.
      if (s.state !== "starting") r.warmAtMs = NOW - (s.warmAgoMs ?? Math.min(500_000, s.ageMs ?? 500_000));
      if (s.state === "claimed") r.leaseExpiresAtMs = NOW + (s.leaseInMs ?? 60_000);
      if (s.drainReason) r.drainReason = s.drainReason;
      records.push(r);
    }
  }
  return { ecs, records };
}

export const n = (count: number, prefix: string, spec: Omit<TaskSpec, "id">): TaskSpec[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, ...spec }));

/** The plan reduced to what a reader checks: launches by reason, per-task actions by id. */
export interface Summary {
  run: string[]; // "count reason" per RunTask call
  tasks: string[]; // "kind id reason", sorted
  expire: boolean;
  target?: number;
  /** Old warm tasks left to replace after the pass (`counts.outdated`, 0 when none). */
  outdated?: number;
  held?: Plan["held"];
  launchHeld?: "resync" | "backoff";
}
export function summarise(p: Plan, withTarget: boolean, withOutdated = false): Summary {
  const s: Summary = {
    run: p.actions.flatMap((a) => (a.kind === "run" ? [`${a.count} ${a.reason}`] : [])),
    tasks: p.actions
      .flatMap((a: Action) => ("taskId" in a ? [`${a.kind} ${a.taskId} ${a.reason}`] : []))
      .sort(),
    expire: p.actions.some((a) => a.kind === "expire-claims"),
  };
  if (withTarget) s.target = p.target;
  if (withOutdated) s.outdated = p.counts.outdated ?? 0;
  if (p.held) s.held = p.held;
  if (p.launchHeld) s.launchHeld = p.launchHeld.why;
  return s;
}

export interface Case {
  description: string;
  desired?: Partial<DesiredState>;
  tasks: TaskSpec[];
  observed?: Partial<Observed>;
  now?: number;
  expected: Partial<Summary>;
  /** Also checked against the plan's one-line reason. */
  reason?: RegExp;
}

/** One `it` per case: the plan of the case's world, summarised, equals the expected summary. */
export function runCases(cases: Case[]): void {
  for (const tc of cases) {
    it(tc.description, () => {
      const desired = { ...DEFAULT_DESIRED, ...tc.desired };
      const observed: Observed = {
        complete: true,
        waiting: 0,
        revision: REV,
        eventTriggered: false,
        ...world(tc.tasks),
        ...tc.observed,
      };
      const p = plan(desired, observed, tc.now ?? NOW, T);
      const got = summarise(p, tc.expected.target !== undefined, tc.expected.outdated !== undefined);
      const want = { run: got.run, tasks: got.tasks, expire: false, ...tc.expected };
      expect(got).toEqual(want);
      expect(p.reason).not.toMatch(/\n/);
      if (tc.reason) expect(p.reason).toMatch(tc.reason);
      expect(p.reason.length).toBeGreaterThan(10);
    });
  }
}
