/**
 * Table-driven planner tests in the style of Agones' TestApplyBufferPolicy: each case is a
 * world (desired + observed + now) and the plan it must produce, one rule per case.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_DESIRED } from "../../pkg/config/index.js";
import { plan, type Observed } from "../../pkg/plan/index.js";
import { NOW, REV, T, n, runCases, world, type Case } from "./plan-fixtures.js";

const cases: Case[] = [
  // Target and refill.
  {
    description: "empty pool starts minWarm",
    tasks: [],
    expected: { run: ["5 below-target"], target: 5 },
  },
  {
    description: "launches are cut into RunTask calls of at most 10",
    desired: { minWarm: 23, maxWarm: 30 },
    tasks: [],
    expected: { run: ["10 below-target", "10 below-target", "3 below-target"], target: 23 },
  },
  {
    description: "waiting claims raise the target above minWarm",
    tasks: n(0, "w", {}),
    observed: { waiting: 3 },
    expected: { run: ["8 waiting-claims"], target: 8 },
  },
  {
    description: "target is clamped to maxWarm however many wait",
    desired: { minWarm: 5, maxWarm: 6 },
    tasks: n(4, "w", { state: "warm" }),
    observed: { waiting: 10 },
    expected: { run: ["2 waiting-claims"], target: 6 },
  },
  {
    description: "maxTasks caps the target once claimed tasks are counted",
    desired: { maxTasks: 10 },
    tasks: n(8, "c", { state: "claimed" }),
    expected: { run: ["2 below-target"], target: 2 },
  },
  {
    description: "at the target nothing happens",
    tasks: [...n(3, "w", { state: "warm" }), ...n(2, "s", { state: "starting", ageMs: 5_000 })],
    expected: { run: [], tasks: [], target: 5 },
  },
  {
    description: "launches not yet listed by ECS count as starting (expectations): no over-creation",
    tasks: n(5, "s", { state: "starting", ecs: "absent", ageMs: 2_000 }),
    expected: { run: [], tasks: [] },
  },
  {
    description: "an expectation never seen within the grace is forgotten and replaced",
    tasks: [
      ...n(4, "s", { state: "starting", ecs: "absent", ageMs: 2_000 }),
      { id: "lost", state: "starting", ecs: "absent", ageMs: T.visibilityGraceMs + 1 },
    ],
    expected: { run: ["1 below-target"], tasks: ["forget lost never-seen"] },
  },
  {
    description: "a young pool task with no record yet counts as starting",
    tasks: [...n(4, "w", { state: "warm" }), { id: "new", ageMs: 1_000 }],
    expected: { run: [], tasks: [] },
  },
  // replenishThreshold (DESIGN §5).
  {
    description: "event pass with idle ≥ replenishThreshold leaves the refill to the resync",
    tasks: n(4, "w", { state: "warm" }),
    observed: { eventTriggered: true },
    expected: { run: [], launchHeld: "resync" },
  },
  {
    description: "resync pass refills what the event pass left",
    tasks: n(4, "w", { state: "warm" }),
    observed: { eventTriggered: false },
    expected: { run: ["1 below-target"] },
  },
  {
    description: "event pass with idle < replenishThreshold refills to target at once",
    tasks: n(2, "w", { state: "warm" }),
    observed: { eventTriggered: true },
    expected: { run: ["3 below-target"] },
  },
  {
    description: "event pass with waiting claims refills at once",
    tasks: n(5, "c", { state: "claimed" }),
    observed: { eventTriggered: true, waiting: 1 },
    expected: { run: ["6 waiting-claims"] },
  },
  {
    description: "event pass after a desired-state change applies it at once",
    desired: { minWarm: 8 },
    tasks: n(5, "w", { state: "warm" }),
    observed: { eventTriggered: true, desiredChanged: true },
    expected: { run: ["3 below-target"], target: 8 },
  },
  // Regression: under steady load every pass was woken by an event (claims, registrations), the
  // resync timer never fired, and warm sat at 3 of minWarm 6 with the refill "left to the resync".
  {
    description: "event pass with a resync overdue refills like the resync (events cannot starve it)",
    desired: { minWarm: 6, maxWarm: 20, replenishThreshold: 3 },
    tasks: [...n(3, "w", { state: "warm" }), ...n(4, "c", { state: "claimed" })],
    observed: { eventTriggered: true, resyncDue: true },
    expected: { run: ["3 below-target"] },
  },
  {
    description: "event pass with the resync not yet due still batches the refill into it",
    desired: { minWarm: 6, maxWarm: 20, replenishThreshold: 3 },
    tasks: [...n(3, "w", { state: "warm" }), ...n(4, "c", { state: "claimed" })],
    observed: { eventTriggered: true, resyncDue: false },
    expected: { run: [], launchHeld: "resync" },
  },
  {
    description: "a resync overdue does not override the RunTask backoff",
    desired: { minWarm: 6, maxWarm: 20, replenishThreshold: 3 },
    tasks: n(3, "w", { state: "warm" }),
    observed: {
      eventTriggered: true,
      resyncDue: true,
      recentRunFailures: [{ reason: "RESOURCE:CPU", count: 3, lastAtMs: NOW - 100 }],
      lastRunAtMs: NOW - 100,
    },
    expected: { run: [], launchHeld: "backoff" },
  },
  // Excess and caps.
  {
    description: "warm above maxWarm: the oldest warm are cordoned and stopped",
    desired: { minWarm: 2, maxWarm: 3, replenishThreshold: 1 },
    tasks: [
      { id: "a", state: "warm", warmAgoMs: 100 },
      { id: "b", state: "warm", warmAgoMs: 500 },
      { id: "c", state: "warm", warmAgoMs: 300 },
      { id: "d", state: "warm", warmAgoMs: 400 },
      { id: "e", state: "warm", warmAgoMs: 200 },
    ],
    expected: { run: [], tasks: ["cordon-stop b excess", "cordon-stop d excess"] },
  },
  {
    description: "excess counts starting tasks: they will be warm soon",
    desired: { maxWarm: 5 },
    tasks: [
      ...n(3, "s", { state: "starting", ageMs: 3_000 }),
      { id: "w0", state: "warm", warmAgoMs: 9_000 },
      { id: "w1", state: "warm", warmAgoMs: 8_000 },
      { id: "w2", state: "warm", warmAgoMs: 7_000 },
      { id: "w3", state: "warm", warmAgoMs: 6_000 },
    ],
    expected: { run: [], tasks: ["cordon-stop w0 excess", "cordon-stop w1 excess"] },
  },
  {
    description: "over maxTasks: idle tasks go, oldest warm first, claimed ones never",
    desired: { minWarm: 2, maxWarm: 4, replenishThreshold: 1, maxTasks: 6 },
    tasks: [
      ...n(4, "c", { state: "claimed" }),
      { id: "w0", state: "warm", warmAgoMs: 1_000 },
      { id: "w1", state: "warm", warmAgoMs: 4_000 },
      { id: "w2", state: "warm", warmAgoMs: 3_000 },
      { id: "w3", state: "warm", warmAgoMs: 2_000 },
    ],
    expected: { run: [], tasks: ["cordon-stop w1 over-cap", "cordon-stop w2 over-cap"], target: 0 },
  },
  {
    description: "over maxTasks with only claimed tasks: nothing stopped, nothing started",
    desired: { minWarm: 1, maxWarm: 2, replenishThreshold: 1, maxTasks: 2 },
    tasks: n(4, "c", { state: "claimed" }),
    expected: { run: [], tasks: [], target: 0 },
  },
  // Claims and draining.
  {
    description: "draining tasks are stopped with the reason they drained for",
    desired: { minWarm: 0, replenishThreshold: 0 },
    tasks: [
      { id: "r", state: "draining", drainReason: "released" },
      { id: "l", state: "draining", drainReason: "lease-expired" },
      { id: "x", state: "draining", drainReason: "something-else" },
    ],
    expected: { tasks: ["stop l lease-expired", "stop r released", "stop x drain"] },
  },
  {
    description: "a draining task ECS is already stopping is left to finish; a stopped one is forgotten",
    desired: { minWarm: 0, replenishThreshold: 0 },
    tasks: [
      { id: "going", state: "draining", ecs: "stopping", drainReason: "released" },
      { id: "gone", state: "draining", ecs: "stopped", drainReason: "released" },
    ],
    expected: { tasks: ["forget gone gone-from-ecs"] },
  },
  {
    description: "a claim past its lease is expired through Redis; its task is not stopped by the planner",
    tasks: [...n(5, "w", { state: "warm" }), { id: "c", state: "claimed", leaseInMs: -1 }],
    expected: { expire: true, tasks: [], run: [] },
  },
  {
    description: "live leases: no expiry",
    tasks: [...n(5, "w", { state: "warm" }), { id: "c", state: "claimed", leaseInMs: 1 }],
    expected: { expire: false, tasks: [] },
  },
  // Tasks that never registered, orphans, forgotten records.
  {
    description: "a starting task past the register timeout is cordoned and stopped, and replaced",
    tasks: [
      ...n(4, "w", { state: "warm" }),
      { id: "slow", state: "starting", ageMs: T.registerTimeoutMs + 1 },
    ],
    expected: { tasks: ["cordon-stop slow never-registered"], run: ["1 below-target"] },
  },
  {
    description: "a pool task with no record past the grace is an orphan and stopped",
    tasks: [...n(5, "w", { state: "warm" }), { id: "o", ageMs: T.visibilityGraceMs + 1 }],
    expected: { tasks: ["stop o orphan"], run: [] },
  },
  {
    description: "a pool task older than the Redis state (records lost) is held, never an orphan stop",
    tasks: [
      { id: "old", ageMs: 3_600_000 },
      { id: "young", ageMs: T.visibilityGraceMs + 1 },
      ...n(5, "w", { state: "warm", ageMs: 30_000 }),
    ],
    observed: { stateBornAtMs: NOW - 600_000 },
    expected: { tasks: ["stop young orphan"], run: [] },
  },
  {
    description: "after a total Redis state loss nothing running is stopped; the pool refills beside it",
    tasks: n(3, "lost", { ageMs: 3_600_000 }),
    observed: { stateBornAtMs: NOW - 1_000 },
    expected: { tasks: [], run: ["5 below-target"] },
  },
  {
    description: "a warm record whose task ECS stopped is forgotten and replaced",
    tasks: [...n(4, "w", { state: "warm" }), { id: "dead", state: "warm", ecs: "stopped" }],
    expected: { tasks: ["forget dead gone-from-ecs"], run: ["1 below-target"] },
  },
  {
    description: "a warm record whose task ECS no longer lists is forgotten",
    tasks: [...n(5, "w", { state: "warm" }), { id: "dead", state: "warm", ecs: "absent" }],
    expected: { tasks: ["forget dead gone-from-ecs"], run: [] },
  },
  {
    description: "a warm task stopped out of band is cordoned so no claim takes it",
    tasks: [...n(5, "w", { state: "warm" }), { id: "spot", state: "warm", ecs: "stopping" }],
    expected: { tasks: ["cordon-stop spot out-of-band"], run: [] },
  },
  // RunTask failures.
  {
    description: "after RunTask failures launches wait out an exponential backoff",
    tasks: [],
    observed: {
      recentRunFailures: [{ reason: "RESOURCE:MEMORY", count: 3, lastAtMs: NOW - 1_000 }],
      lastRunAtMs: NOW - 1_000,
    },
    expected: { run: [], launchHeld: "backoff" },
  },
  {
    description: "once the backoff has passed, one probing RunTask call goes out",
    desired: { minWarm: 23, maxWarm: 30 },
    tasks: [],
    observed: {
      recentRunFailures: [{ reason: "RESOURCE:MEMORY", count: 3, lastAtMs: NOW - 4_001 }],
      lastRunAtMs: NOW - 4_001,
    },
    expected: { run: ["10 below-target"] },
  },
  // Holds.
  {
    description: "partial observation: nothing launched, nothing destructive",
    tasks: [
      { id: "r", state: "draining", drainReason: "released" },
      { id: "o", ageMs: T.visibilityGraceMs + 1 },
      { id: "dead", state: "warm", ecs: "stopped" },
      { id: "c", state: "claimed", leaseInMs: -1 },
    ],
    observed: { complete: false },
    expected: { run: [], tasks: [], expire: false, held: "partial-observation" },
  },
  {
    description: "paused: no action at all",
    desired: { paused: true, maxWarm: 2, minWarm: 1, replenishThreshold: 1 },
    tasks: [...n(5, "w", { state: "warm" }), { id: "r", state: "draining" }],
    expected: { run: [], tasks: [], held: "paused" },
  },
];

describe("plan", () => {
  runCases(cases);

  it("counts what it sees and says so in one line", () => {
    const observed: Observed = {
      complete: true,
      waiting: 1,
      revision: REV,
      eventTriggered: false,
      ...world([
        ...n(2, "w", { state: "warm" }),
        ...n(1, "s", { state: "starting", ageMs: 1_000 }),
        ...n(2, "e", { state: "starting", ecs: "absent", ageMs: 1_000 }),
        ...n(3, "c", { state: "claimed" }),
        ...n(1, "d", { state: "draining", ecs: "stopping" }),
      ]),
    };
    const p = plan(DEFAULT_DESIRED, observed, NOW, T);
    expect(p.counts).toEqual({
      starting: 3,
      expected: 2,
      warm: 2,
      claimed: 3,
      draining: 1,
      waiting: 1,
      total: 8,
    });
    expect(p.target).toBe(6);
    expect(p.reason).toMatch(/^run 1 waiting-claims; target 6 \(minWarm 5 \+ 1 waiting/);
  });
});
