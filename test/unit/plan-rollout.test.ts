/**
 * Table-driven planner tests of the rollout rules (surge first, in place when no surge is
 * possible, revision spelling); the other rules are in plan.test.ts, with the same helpers.
 */
import { describe, expect, it } from "vitest";
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

const NOW = 10_000_000;
const T = DEFAULT_TIMINGS; // register 180 s, grace 60 s, backoff 1 s … 60 s
const REV = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2";
const OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1";

interface TaskSpec {
  id: string;
  state?: TaskRecord["state"]; // absent: no Redis record
  ecs?: "live" | "stopping" | "stopped" | "absent";
  ageMs?: number; // since launch (record createdAt and ECS createdAt)
  warmAgoMs?: number;
  rev?: string;
  leaseInMs?: number;
  drainReason?: string;
}

function world(specs: TaskSpec[]): { ecs: EcsTask[]; records: TaskRecord[] } {
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
      if (s.state !== "starting") r.warmAtMs = NOW - (s.warmAgoMs ?? 500_000);
      if (s.state === "claimed") r.leaseExpiresAtMs = NOW + (s.leaseInMs ?? 60_000);
      if (s.drainReason) r.drainReason = s.drainReason;
      records.push(r);
    }
  }
  return { ecs, records };
}

const n = (count: number, prefix: string, spec: Omit<TaskSpec, "id">): TaskSpec[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, ...spec }));

/** The plan reduced to what a reader checks: launches by reason, per-task actions by id. */
interface Summary {
  run: string[]; // "count reason" per RunTask call
  tasks: string[]; // "kind id reason", sorted
  expire: boolean;
  target?: number;
  held?: Plan["held"];
  launchHeld?: "resync" | "backoff";
}
function summarise(p: Plan, withTarget: boolean): Summary {
  const s: Summary = {
    run: p.actions.flatMap((a) => (a.kind === "run" ? [`${a.count} ${a.reason}`] : [])),
    tasks: p.actions
      .flatMap((a: Action) => ("taskId" in a ? [`${a.kind} ${a.taskId} ${a.reason}`] : []))
      .sort(),
    expire: p.actions.some((a) => a.kind === "expire-claims"),
  };
  if (withTarget) s.target = p.target;
  if (p.held) s.held = p.held;
  if (p.launchHeld) s.launchHeld = p.launchHeld.why;
  return s;
}

interface Case {
  description: string;
  desired?: Partial<DesiredState>;
  tasks: TaskSpec[];
  observed?: Partial<Observed>;
  now?: number;
  expected: Partial<Summary>;
}

const cases: Case[] = [
  // Rollout of a new revision, surge first.
  {
    description: "rollout starts with the surge: new tasks beyond target, no old one stopped yet",
    desired: { maxSurge: 2 },
    tasks: n(5, "old", { state: "warm", rev: OLD }),
    expected: { run: ["2 surge"], tasks: [] },
  },
  {
    description: "rollout with surge in flight: wait for it to register",
    desired: { maxSurge: 2 },
    tasks: [...n(5, "old", { state: "warm", rev: OLD }), ...n(2, "new", { state: "starting", ageMs: 5_000 })],
    expected: { run: [], tasks: [] },
  },
  {
    description: "rollout: new warm tasks cover old ones, which go oldest first, and the surge continues",
    desired: { maxSurge: 2 },
    tasks: [
      ...[1, 2, 3, 4, 5].map((i) => ({
        id: `old${i}`,
        state: "warm" as const,
        rev: OLD,
        warmAgoMs: i * 1_000,
      })),
      ...n(2, "new", { state: "warm", warmAgoMs: 10 }),
    ],
    expected: {
      run: ["2 surge"],
      tasks: ["cordon-stop old4 old-revision", "cordon-stop old5 old-revision"],
    },
  },
  {
    description: "rollout: old warm tasks above the target are surplus and go at once",
    desired: { maxSurge: 2 },
    tasks: [
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({
        id: `old${i}`,
        state: "warm" as const,
        rev: OLD,
        warmAgoMs: i,
      })),
    ],
    expected: {
      run: ["2 surge"],
      tasks: [
        "cordon-stop old6 old-revision",
        "cordon-stop old7 old-revision",
        "cordon-stop old8 old-revision",
      ],
    },
  },
  {
    description: "rollout never touches claimed tasks of the old revision",
    desired: { maxSurge: 2 },
    tasks: [...n(5, "w", { state: "warm" }), ...n(3, "c", { state: "claimed", rev: OLD })],
    expected: { run: [], tasks: [] },
  },
  {
    description: "rollout surge stays inside maxTasks",
    desired: { maxSurge: 3, maxTasks: 6, maxWarm: 6 },
    tasks: n(5, "old", { state: "warm", rev: OLD }),
    expected: { run: ["1 surge"], tasks: [] },
  },
  {
    description: "with maxWarm = target the surge is not mistaken for excess",
    desired: { minWarm: 5, maxWarm: 5, maxSurge: 2 },
    tasks: [...n(5, "old", { state: "warm", rev: OLD }), ...n(2, "new", { state: "starting", ageMs: 5_000 })],
    expected: { run: [], tasks: [] },
  },
  {
    description: "rollout with maxSurge 0 replaces one old task in place at a time",
    desired: { maxSurge: 0 },
    tasks: [
      ...[1, 2, 3, 4, 5].map((i) => ({ id: `old${i}`, state: "warm" as const, rev: OLD, warmAgoMs: i })),
    ],
    expected: { run: ["1 below-target"], tasks: ["cordon-stop old5 old-revision"] },
  },
  {
    description: "in-place rollout waits for the previous replacement to finish",
    desired: { maxSurge: 0 },
    tasks: [
      ...n(4, "old", { state: "warm", rev: OLD }),
      { id: "d", state: "draining", rev: OLD, drainReason: "old-revision" },
    ],
    expected: { run: ["1 below-target"], tasks: ["stop d old-revision"] },
  },
  {
    description: "an ARN and family:revision naming the same revision are not a rollout",
    tasks: n(5, "w", { state: "warm", rev: "app:2" }),
    expected: { run: [], tasks: [] },
  },
  {
    description: "a task of another family is replaced even when the revision is given as a bare family",
    desired: { maxSurge: 1 },
    tasks: n(5, "w", { state: "warm", rev: "other:2" }),
    observed: { revision: "app" },
    expected: { run: ["1 surge"], tasks: [] },
  },
];

describe("plan: rollout of a new revision", () => {
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
      const got = summarise(p, tc.expected.target !== undefined);
      const want = { run: got.run, tasks: got.tasks, expire: false, ...tc.expected };
      expect(got).toEqual(want);
      expect(p.reason).not.toMatch(/\n/);
      expect(p.reason.length).toBeGreaterThan(10);
    });
  }
});
