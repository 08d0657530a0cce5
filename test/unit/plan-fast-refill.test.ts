/**
 * The fast refill's arithmetic (pkg/plan/fast-refill.ts), one rule per case, and a check that it
 * agrees with the full planner on the same pool: it is the planner's sizing and gate, not a copy.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_DESIRED, type DesiredState } from "../../pkg/config/index.js";
import { fastRefill, plan, type FastCounts, type Observed } from "../../pkg/plan/index.js";
import { NOW, REV, T, n, world } from "./plan-fixtures.js";

const D: DesiredState = { ...DEFAULT_DESIRED, minWarm: 5, maxWarm: 10, replenishThreshold: 3, maxTasks: 50 };

interface FastCase {
  description: string;
  desired?: Partial<DesiredState>;
  counts: Partial<FastCounts>;
  failures?: Observed["recentRunFailures"];
  lastRunAtMs?: number;
  revision?: string;
  run: number[];
  held?: string;
  target?: number;
}

const cases: FastCase[] = [
  { description: "below the threshold: refill to minWarm", counts: { warm: 2 }, run: [3], target: 5 },
  { description: "starting tasks count as idle", counts: { warm: 1, starting: 1 }, run: [3] },
  {
    description: "at or above the threshold: left to the pass (batched)",
    counts: { warm: 3 },
    run: [],
    held: "not-urgent",
  },
  { description: "at target: nothing", counts: { warm: 5 }, run: [], held: "at-target" },
  {
    description: "waiting claims raise the target and open the gate",
    counts: { warm: 0, starting: 5, waiting: 2 },
    run: [2],
    target: 7,
  },
  {
    description: "target clamped to maxWarm",
    counts: { warm: 0, waiting: 20 },
    run: [10],
    target: 10,
  },
  {
    description: "maxTasks caps launches counting claimed tasks",
    desired: { maxTasks: 12 },
    counts: { warm: 0, total: 10 },
    run: [2],
    target: 2,
  },
  {
    description: "maxTasks reached: nothing",
    desired: { maxTasks: 10 },
    counts: { warm: 1, total: 10 },
    run: [],
    held: "at-target",
  },
  {
    description: "cut into RunTask calls of at most 10",
    desired: { minWarm: 23, maxWarm: 30, replenishThreshold: 23 },
    counts: { warm: 0 },
    run: [10, 10, 3],
  },
  {
    description: "paused: nothing",
    desired: { paused: true },
    counts: { warm: 0 },
    run: [],
    held: "paused",
  },
  { description: "no revision: nothing", revision: "", counts: { warm: 0 }, run: [], held: "no-revision" },
  {
    description: "RunTask backoff holds",
    counts: { warm: 0 },
    failures: [{ reason: "RESOURCE:CPU", count: 3, lastAtMs: NOW - 100 }],
    lastRunAtMs: NOW - 100,
    run: [],
    held: "backoff",
  },
  {
    description: "after the backoff: one probe call only",
    desired: { minWarm: 15, maxWarm: 20, replenishThreshold: 15 },
    counts: { warm: 0 },
    failures: [{ reason: "RESOURCE:CPU", count: 1, lastAtMs: NOW - 60_000 }],
    lastRunAtMs: NOW - 60_000,
    run: [10],
  },
];

describe("fastRefill", () => {
  for (const c of cases) {
    it(c.description, () => {
      const counts: FastCounts = { warm: 0, starting: 0, waiting: 0, total: 0, ...c.counts };
      // Total counts the idle tasks too unless the case says otherwise.
      if (c.counts.total === undefined) counts.total = counts.warm + counts.starting;
      const r = fastRefill(
        {
          desired: { ...D, ...c.desired },
          counts,
          revision: c.revision ?? REV,
          ...(c.failures ? { recentRunFailures: c.failures } : {}),
          ...(c.lastRunAtMs !== undefined ? { lastRunAtMs: c.lastRunAtMs } : {}),
        },
        NOW,
        T,
      );
      expect(r.actions.map((a) => (a.kind === "run" ? a.count : -1))).toEqual(c.run);
      for (const a of r.actions) expect(a.kind).toBe("run");
      if (c.held) expect(r.held).toBe(c.held);
      if (c.target !== undefined) expect(r.target).toBe(c.target);
    });
  }

  it("agrees with the planner on an event pass over the same pool", () => {
    for (const [warm, starting, claimed, waiting, maxTasks] of [
      [0, 0, 0, 0, 50],
      [1, 1, 3, 0, 50],
      [2, 0, 40, 0, 45],
      [0, 2, 0, 4, 50],
      [4, 0, 7, 0, 11],
      [0, 0, 9, 3, 12],
    ] as const) {
      const desired = { ...D, maxTasks, maxSurge: 0 };
      const tasks = [
        ...n(warm, "w", { state: "warm" }),
        ...n(starting, "s", { state: "starting", ageMs: 1_000 }),
        ...n(claimed, "c", { state: "claimed", leaseInMs: 60_000 }),
      ];
      const full = plan(
        desired,
        { complete: true, ...world(tasks), waiting, revision: REV, eventTriggered: true },
        NOW,
        T,
      );
      const fast = fastRefill(
        { desired, counts: { warm, starting, waiting, total: warm + starting + claimed }, revision: REV },
        NOW,
        T,
      );
      const runs = (as: typeof full.actions): number =>
        as.reduce((s, a) => s + (a.kind === "run" ? a.count : 0), 0);
      expect(runs(fast.actions), `warm ${warm} starting ${starting} claimed ${claimed}`).toBe(
        runs(full.actions),
      );
      expect(fast.target).toBe(full.target);
    }
  });
});
