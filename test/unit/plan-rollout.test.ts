/**
 * Table-driven planner tests of the rollout rules (surge first, in place when no surge is
 * possible, revision spelling); the other rules are in plan.test.ts, with the same helpers.
 */
import { describe } from "vitest";
import { n, runCases, type Case } from "./plan-fixtures.js";

const OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1";

const cases: Case[] = [
  // Rollout of a new revision, surge first.
  {
    description: "rollout starts with the surge: new tasks beyond target, no old one stopped yet",
    desired: { maxSurge: 2 },
    tasks: n(5, "old", { state: "warm", rev: OLD }),
    expected: { run: ["2 surge"], tasks: [], outdated: 5 },
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
      outdated: 3, // old1–old3 left to replace
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
    expected: { run: [], tasks: [], outdated: 0 },
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
  runCases(cases);
});
