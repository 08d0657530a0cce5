/**
 * Table-driven planner tests of on-call's drain request (`Observed.drain`, `ctl drain`): covered
 * idle tasks take the rollout's surge-first path with stop reason `drain`, claimed ones are never
 * touched, and replacements (created after the request) are never drained again.
 */
import { describe, expect, it } from "vitest";
import { revisionMatches, type Observed } from "../../pkg/plan/index.js";
import { n, NOW, runCases, type Case, type TaskSpec } from "./plan-fixtures.js";
import type { DesiredState } from "../../pkg/config/index.js";

const TD = "arn:aws:ecs:us-east-1:123456789012:task-definition";
const OLD = `${TD}/app:1`;
/** The request was made 100 s ago: tasks older than that (600 s by default) are covered. */
const BEFORE = NOW - 100_000;

interface DrainCase {
  description: string;
  desired?: Partial<DesiredState>;
  tasks: TaskSpec[];
  drain?: Observed["drain"] | null; // null: no drain in force; absent: { beforeMs: BEFORE }
  observed?: Partial<Observed>;
  run: string[]; // "count reason" per RunTask call
  tasks_: string[]; // "kind id reason", sorted
  reason?: RegExp;
}

const cases: DrainCase[] = [
  {
    description: "drain starts with the surge: new tasks beyond target, no covered task stopped yet",
    desired: { minWarm: 5, maxSurge: 2 },
    tasks: n(5, "w", { state: "warm" }),
    run: ["2 surge"],
    tasks_: [],
    reason: /drain: 5 warm left to replace/,
  },
  {
    description: "drain with the surge still starting: nothing stopped until replacements are warm",
    desired: { minWarm: 5, maxSurge: 2 },
    tasks: [...n(5, "w", { state: "warm" }), ...n(2, "s", { state: "starting", ageMs: 5_000 })],
    run: [],
    tasks_: [],
  },
  {
    description: "replacements (created after the request) cover covered ones, which go oldest first",
    desired: { minWarm: 5, maxSurge: 2 },
    tasks: [
      ...[1, 2, 3, 4, 5].map((i) => ({ id: `w${i}`, state: "warm" as const, warmAgoMs: i * 1_000 })),
      ...n(2, "new", { state: "warm", ageMs: 20_000, warmAgoMs: 10 }),
    ],
    run: ["2 surge"],
    tasks_: ["cordon-stop w4 drain", "cordon-stop w5 drain"],
  },
  {
    description: "a drain never touches claimed tasks, however old",
    desired: { minWarm: 3, maxSurge: 2 },
    tasks: [...n(3, "new", { state: "warm", ageMs: 10_000 }), ...n(4, "c", { state: "claimed" })],
    run: [],
    tasks_: [],
  },
  {
    description: "a drain is done once every idle task was created after it: steady",
    desired: { minWarm: 5, maxSurge: 2 },
    tasks: [...n(5, "new", { state: "warm", ageMs: 50_000 }), ...n(2, "c", { state: "claimed" })],
    run: [],
    tasks_: [],
    reason: /^steady/,
  },
  {
    description: "a task created exactly at the request is new, not covered",
    desired: { minWarm: 2, maxSurge: 2 },
    tasks: n(2, "w", { state: "warm", ageMs: NOW - BEFORE }),
    run: [],
    tasks_: [],
  },
  {
    description: "a named revision (family:N) covers only its tasks",
    desired: { minWarm: 4, maxSurge: 2 },
    drain: { revision: "app:2", beforeMs: BEFORE },
    tasks: [
      ...n(2, "a", { state: "warm", rev: `${TD}/app:2`, warmAgoMs: 9_000 }),
      ...n(2, "b", { state: "warm", rev: `${TD}/app:2b`, warmAgoMs: 1_000 }),
      ...n(2, "new", { state: "warm", ageMs: 20_000, warmAgoMs: 10 }),
    ],
    observed: { revision: `${TD}/app:2b` },
    run: ["2 surge"],
    tasks_: ["cordon-stop a0 drain", "cordon-stop a1 drain"],
  },
  {
    description: "a bare family covers every revision of it and no other family",
    desired: { minWarm: 2, maxSurge: 1 },
    drain: { revision: "other", beforeMs: BEFORE },
    tasks: n(2, "w", { state: "warm" }),
    run: [],
    tasks_: [],
    reason: /^steady/,
  },
  {
    description: "an old-revision task the drain covers goes with reason drain",
    desired: { minWarm: 2, maxSurge: 2 },
    tasks: [
      { id: "old", state: "warm", rev: OLD, warmAgoMs: 9_000 },
      { id: "cur", state: "warm", warmAgoMs: 8_000 },
      ...n(2, "new", { state: "warm", ageMs: 20_000, warmAgoMs: 10 }),
    ],
    run: [],
    tasks_: ["cordon-stop cur drain", "cordon-stop old drain"],
  },
  {
    description: "without a drain the same pool is steady (the drain alone made it old)",
    desired: { minWarm: 5, maxSurge: 2 },
    drain: null,
    tasks: n(5, "w", { state: "warm" }),
    run: [],
    tasks_: [],
  },
  {
    description: "drain with no room to surge replaces one task in place; maxTasks delays its start",
    desired: { minWarm: 3, maxWarm: 3, maxTasks: 3, maxSurge: 2 },
    tasks: [1, 2, 3].map((i) => ({ id: `w${i}`, state: "warm" as const, warmAgoMs: i })),
    run: [], // the cordoned task counts in maxTasks until ECS has stopped it
    tasks_: ["cordon-stop w3 drain"],
  },
  {
    description: "drain with maxSurge 0 replaces one task in place at a time",
    desired: { minWarm: 3, maxSurge: 0 },
    tasks: [1, 2, 3].map((i) => ({ id: `w${i}`, state: "warm" as const, warmAgoMs: i })),
    run: ["1 below-target"],
    tasks_: ["cordon-stop w3 drain"],
  },
  {
    description: "in-place drain waits for the previous replacement's stop",
    desired: { minWarm: 3, maxWarm: 3, maxTasks: 4, maxSurge: 0 },
    tasks: [...n(2, "w", { state: "warm" }), { id: "d", state: "draining", drainReason: "drain" }],
    run: ["1 below-target"],
    tasks_: ["stop d drain"],
  },
  {
    description: "a drain counts as a rollout for the surge: covered idle above maxWarm is not excess",
    desired: { minWarm: 5, maxWarm: 5, maxSurge: 2 },
    tasks: [...n(5, "w", { state: "warm" }), ...n(2, "s", { state: "starting", ageMs: 5_000 })],
    run: [],
    tasks_: [],
  },
];

describe("plan: on-call drain", () => {
  runCases(
    cases.map((tc): Case => ({
      description: tc.description,
      tasks: tc.tasks,
      ...(tc.desired ? { desired: tc.desired } : {}),
      observed: { ...(tc.drain !== null ? { drain: tc.drain ?? { beforeMs: BEFORE } } : {}), ...tc.observed },
      expected: { run: tc.run, tasks: tc.tasks_ },
      ...(tc.reason ? { reason: tc.reason } : {}),
    })),
  );
});

describe("revisionMatches (shared with ctl drain)", () => {
  const arn = `${TD}/app:7`;
  it.each([
    ["app:7", arn, true],
    ["app:8", arn, false],
    ["app", arn, true],
    ["ap", arn, false],
    [arn, arn, true],
    ["app", undefined, false],
    ["app", "app:3", true],
  ] as const)("%s vs %s → %s", (name, rev, want) => {
    expect(revisionMatches(name, rev)).toBe(want);
  });
});
