/**
 * Invariants of the capacity planner over random groups, container instances and demands:
 * a scale-in never leaves an unprotected instance that hosts tasks for Auto Scaling to pick and
 * never lowers desired capacity below the instances that host tasks; PutWarmPool never carries
 * a reuse policy and respects the bounds; and a plan, once applied, is steady (zero writes).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  planCapacity,
  type CapacityAction,
  type CapacityInput,
  type ObservedGroup,
} from "../../pkg/capacity/index.js";
import { NOW, cisFor, demand, group, inService, observed, warmed } from "./fixtures.js";

const arbInput: fc.Arbitrary<CapacityInput> = fc
  .record({
    n: fc.integer({ min: 0, max: 12 }),
    desiredDelta: fc.integer({ min: -2, max: 0 }),
    tasks: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 12, maxLength: 12 }),
    protectedMask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    warm: fc.integer({ min: 0, max: 5 }),
    wpSize: fc.integer({ min: 0, max: 5 }),
    reuse: fc.boolean(),
    target: fc.integer({ min: 0, max: 30 }),
    claimed: fc.integer({ min: 0, max: 40 }),
    starting: fc.integer({ min: 0, max: 3 }),
    maxTasks: fc.integer({ min: 0, max: 80 }),
    minWarmInstances: fc.integer({ min: 0, max: 4 }),
    cap: fc.option(fc.integer({ min: 4, max: 30 }), { nil: undefined }),
    headroom: fc.integer({ min: 0, max: 2 }),
    tpi: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    maxSize: fc.integer({ min: 12, max: 25 }),
    protection: fc.boolean(),
    failure: fc.boolean(),
  })
  .map((r) => {
    const ids = inService(r.n).map((i) => i.instanceId);
    const g = group({
      instances: inService(r.n, { protectedIds: ids.filter((_, k) => r.protectedMask[k]) }),
      desiredCapacity: Math.max(0, r.n + r.desiredDelta),
      maxSize: r.maxSize,
      warmPool: {
        minSize: r.wpSize,
        maxGroupPreparedCapacity: r.wpSize,
        poolState: "Hibernated",
        reuseOnScaleIn: r.reuse,
      },
      warmInstances: warmed(r.warm),
    });
    return {
      asg: {
        groupName: "g",
        poolState: "Hibernated" as const,
        minWarmInstances: r.minWarmInstances,
        headroomInstances: r.headroom,
        ...(r.cap !== undefined ? { maxPreparedCapacity: r.cap } : {}),
        ...(r.tpi !== undefined ? { tasksPerInstance: r.tpi } : {}),
      },
      demand: demand({
        target: Math.min(r.target, r.maxTasks),
        claimed: r.claimed,
        starting: r.starting,
        maxTasks: r.maxTasks,
        launching: r.starting > 0,
      }),
      observed: observed(g, { containerInstances: cisFor(g, r.tasks), protectionSupported: r.protection }),
      failures: r.failure ? [{ reason: "RESOURCE:CPU", count: 1, lastAtMs: NOW - 10 }] : [],
      nowMs: NOW,
    };
  });

/** What Auto Scaling would show after the actions: desired set, pool written, protection applied. */
function apply(input: CapacityInput, actions: CapacityAction[]): CapacityInput {
  const g = structuredClone(input.observed.group) as ObservedGroup;
  for (const a of actions) {
    if (a.kind === "put-warm-pool") {
      g.warmPool = {
        minSize: a.minSize,
        maxGroupPreparedCapacity: a.maxGroupPreparedCapacity,
        poolState: a.poolState,
        reuseOnScaleIn: false,
      };
    } else if (a.kind === "set-protection") {
      for (const i of g.instances)
        if (a.instanceIds.includes(i.instanceId)) i.protectedFromScaleIn = a.protect;
    } else {
      // Scale-out shows Pending instances at once; scale-in leaves InService above desired until they go.
      for (let k = g.desiredCapacity; k < a.desiredCapacity; k++) {
        g.instances.push({ instanceId: `new-${k}`, lifecycleState: "Pending", protectedFromScaleIn: false });
      }
      g.desiredCapacity = a.desiredCapacity;
    }
  }
  return { ...input, observed: { ...input.observed, group: g } };
}

describe("planCapacity: properties", () => {
  it("a scale-in leaves only empty unprotected instances to pick, never fewer than the hosts", () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const { actions } = planCapacity(input);
        const down = actions.find((a) => a.kind === "set-desired-capacity" && a.desiredCapacity < a.from);
        if (!down || down.kind !== "set-desired-capacity") return;
        const after = apply(input, actions).observed.group as ObservedGroup;
        const hosting = new Set(
          input.observed.containerInstances.filter((c) => c.tasks > 0).map((c) => c.ec2InstanceId),
        );
        const pickable = after.instances.filter(
          (i) => i.lifecycleState === "InService" && !i.protectedFromScaleIn,
        );
        expect(pickable.every((i) => !hosting.has(i.instanceId))).toBe(true);
        expect(pickable.length).toBeGreaterThanOrEqual(down.from - down.desiredCapacity);
        expect(down.desiredCapacity).toBeGreaterThanOrEqual(hosting.size);
        // Protection, when needed, comes before the write that lowers desired capacity.
        expect(
          actions[actions.length - 1]?.kind === "set-desired-capacity" ||
            actions.at(-1)?.kind === "put-warm-pool",
        ).toBe(true);
        expect(input.demand.launching).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it("PutWarmPool carries no reuse policy and stays within minWarmInstances / maxPreparedCapacity", () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const p = planCapacity(input);
        for (const a of p.actions) {
          if (a.kind !== "put-warm-pool") continue;
          expect(Object.keys(a).sort()).toEqual([
            "kind",
            "maxGroupPreparedCapacity",
            "minSize",
            "poolState",
            "reason",
          ]);
          expect(a.minSize).toBe(a.maxGroupPreparedCapacity);
          expect(a.minSize).toBeGreaterThanOrEqual(input.asg.minWarmInstances);
          const cap = input.asg.maxPreparedCapacity;
          if (cap !== undefined && p.need) {
            expect(a.minSize).toBeLessThanOrEqual(
              Math.max(input.asg.minWarmInstances, cap - p.need.desiredCapacity),
            );
          }
        }
        const g = input.observed.group as ObservedGroup;
        for (const a of p.actions) {
          if (a.kind === "set-desired-capacity") {
            expect(a.desiredCapacity).toBeGreaterThanOrEqual(g.minSize);
            expect(a.desiredCapacity).toBeLessThanOrEqual(g.maxSize);
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("once applied, the next pass with the same demand writes nothing but a held scale-in's protection", () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const first = planCapacity(input);
        const second = planCapacity(apply(input, first.actions));
        expect(
          second.actions.filter((a) => a.kind !== "set-protection" && a.kind !== "set-desired-capacity"),
        ).toEqual([]);
        // A scale-out is never asked twice, and a scale-in waits for the last one to finish.
        const again = second.actions.filter((a) => a.kind === "set-desired-capacity");
        if (first.actions.some((a) => a.kind === "set-desired-capacity")) expect(again).toEqual([]);
      }),
      { numRuns: 2_000 },
    );
  });
});
