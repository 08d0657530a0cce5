import { describe, expect, it } from "vitest";
import { planCapacity, type CapacityAction, type CapacityInput } from "../../pkg/capacity/index.js";
import { ASG, NOW, cisFor, demand, group, inService, input, observed, warmed } from "./fixtures.js";

// Registered 2048 CPU / 4096 MiB per instance, tasks of 512 CPU / 1024 MiB: 4 tasks per instance.
const pool = (size: number, state = "Hibernated") => ({
  minSize: size,
  maxGroupPreparedCapacity: size,
  poolState: state,
  reuseOnScaleIn: false,
});

interface Row {
  description: string;
  in: CapacityInput;
  expected: CapacityAction[];
}

function settled(n: number, warm: number, tasks: number[] = []): CapacityInput["observed"] {
  const g = group({ instances: inService(n), warmPool: pool(warm), warmInstances: warmed(warm) });
  return observed(g, { containerInstances: cisFor(g, tasks) });
}

const rows: Row[] = [
  {
    description: "steady state: group and warm pool already as planned → zero writes",
    in: input({ demand: demand({ target: 5, claimed: 3, warm: 5 }), observed: settled(2, 2, [4, 4]) }),
    expected: [],
  },
  {
    description: "no warm pool yet → one PutWarmPool sized for the next refill, Hibernated, never reuse",
    in: input({
      demand: demand({ target: 5, claimed: 3, warm: 5 }),
      observed: observed(group({ instances: inService(2), warmPool: undefined }), {}),
    }),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 2,
        maxGroupPreparedCapacity: 2,
        poolState: "Hibernated",
        reason: "create",
      },
    ],
  },
  {
    description: "burst: 12 claimed + target 5 → 17 tasks need 5 instances; the warm pool covers the draw",
    in: input({ demand: demand({ target: 5, claimed: 12, waiting: 0 }), observed: settled(2, 2, [4, 4]) }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 5, from: 2, reason: "scale-out" }],
  },
  {
    description: "waiting claims raise the target (plan target includes them) → scale-out",
    in: input({ demand: demand({ target: 9, claimed: 8, waiting: 4 }), observed: settled(2, 3, [4, 4]) }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 5, from: 2, reason: "scale-out" }],
  },
  {
    description:
      "scale-in: the instance hosting tasks is protected first, then desired drops over the empty ones",
    in: input({ demand: demand({ target: 4, warm: 4 }), observed: settled(3, 1, [4, 0, 0]) }),
    expected: [
      { kind: "set-protection", instanceIds: ["i-0"], protect: true, reason: "hosts-tasks" },
      { kind: "set-desired-capacity", desiredCapacity: 1, from: 3, reason: "scale-in" },
    ],
  },
  {
    description: "scale-in never below what hosts tasks: two instances host, only one empty goes",
    in: input({ demand: demand({ target: 4, warm: 4 }), observed: settled(3, 1, [3, 1, 0]) }),
    expected: [
      { kind: "set-protection", instanceIds: ["i-0", "i-1"], protect: true, reason: "hosts-tasks" },
      { kind: "set-desired-capacity", desiredCapacity: 2, from: 3, reason: "scale-in" },
    ],
  },
  {
    description: "daemon tasks on every instance: pool tasks by instance decide which ones host",
    in: (() => {
      const o = settled(3, 1, [3, 1, 1]);
      return input({
        demand: demand({ target: 4, warm: 4 }),
        observed: { ...o, poolTasksByInstance: { "arn:ci/i-0": 2 } },
      });
    })(),
    expected: [
      { kind: "set-protection", instanceIds: ["i-0"], protect: true, reason: "hosts-tasks" },
      { kind: "set-desired-capacity", desiredCapacity: 1, from: 3, reason: "scale-in" },
    ],
  },
  {
    description: "every instance hosts tasks → no scale-in at all",
    in: input({ demand: demand({ target: 4, warm: 4 }), observed: settled(3, 1, [2, 1, 1]) }),
    expected: [],
  },
  {
    description:
      "empty instances protected (NewInstancesProtectedFromScaleIn) are unprotected to be the victims",
    in: (() => {
      const g = group({
        instances: inService(3, { protectedIds: ["i-0", "i-1", "i-2"] }),
        warmPool: pool(1),
        warmInstances: warmed(1),
      });
      return input({
        demand: demand({ target: 4, warm: 4 }),
        observed: observed(g, { containerInstances: cisFor(g, [4, 0, 0]) }),
      });
    })(),
    expected: [
      { kind: "set-protection", instanceIds: ["i-1", "i-2"], protect: false, reason: "empty-victim" },
      { kind: "set-desired-capacity", desiredCapacity: 1, from: 3, reason: "scale-in" },
    ],
  },
  {
    description: "no SetInstanceProtection and an unprotected instance hosts tasks → scale-in held",
    in: input({
      demand: demand({ target: 4, warm: 4 }),
      observed: { ...settled(3, 1, [4, 0, 0]), protectionSupported: false },
    }),
    expected: [],
  },
  {
    description: "no SetInstanceProtection but no instance hosts a task → plain scale-in",
    in: input({
      demand: demand({ target: 0 }),
      observed: { ...settled(3, 0, [0, 0, 0]), protectionSupported: false },
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 0, from: 3, reason: "scale-in" }],
  },
  {
    description: "tasks starting this pass → scale-in held (a placement could land on a victim)",
    in: input({
      demand: demand({ target: 4, warm: 2, starting: 2, launching: true }),
      observed: settled(3, 1, [2, 0, 0]),
    }),
    expected: [],
  },
  {
    description: "an earlier scale-in still under way (InService above desired) → no second one",
    in: (() => {
      const o = settled(3, 1, [4, 0, 0]);
      return input({
        demand: demand({ target: 4, warm: 4 }),
        observed: { ...o, group: { ...o.group!, desiredCapacity: 2 } },
      });
    })(),
    expected: [],
  },
  {
    description: "minWarmInstances is a floor of the warm pool even with nothing to refill",
    in: input({
      asg: { ...ASG, minWarmInstances: 3, tasksPerInstance: 4 },
      demand: demand({ target: 0, maxTasks: 0 }),
      observed: settled(0, 0),
    }),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 3,
        maxGroupPreparedCapacity: 3,
        poolState: "Hibernated",
        reason: "resize",
      },
    ],
  },
  {
    description: "maxPreparedCapacity caps desired + warm pool: 3 InService leave room for 1 warm",
    in: input({
      asg: { ...ASG, maxPreparedCapacity: 4 },
      demand: demand({ target: 8, claimed: 4 }),
      observed: settled(3, 2, [4, 4, 4]),
    }),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 1,
        maxGroupPreparedCapacity: 1,
        poolState: "Hibernated",
        reason: "resize",
      },
    ],
  },
  {
    description: "maxPreparedCapacity never takes the pool below minWarmInstances",
    in: input({
      asg: { ...ASG, maxPreparedCapacity: 3, minWarmInstances: 2 },
      demand: demand({ target: 8, claimed: 4 }),
      observed: settled(3, 1, [4, 4, 4]),
    }),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 2,
        maxGroupPreparedCapacity: 2,
        poolState: "Hibernated",
        reason: "resize",
      },
    ],
  },
  {
    description: "headroomInstances adds InService instances beyond the need",
    in: input({
      asg: { ...ASG, headroomInstances: 1 },
      demand: demand({ target: 4, warm: 4 }),
      observed: settled(1, 1, [4]),
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 2, from: 1, reason: "scale-out" }],
  },
  {
    description: "the group's MaxSize caps the desired capacity",
    in: input({
      demand: demand({ target: 20, claimed: 100, maxTasks: 200 }),
      observed: settled(2, 5, [4, 4]),
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 20, from: 2, reason: "scale-out" }],
  },
  {
    description: "maxTasks caps the tasks counted and leaves no refill to prepare",
    in: input({
      demand: demand({ target: 5, claimed: 20, maxTasks: 20 }),
      observed: settled(5, 2, [4, 4, 4, 4, 4]),
    }),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 0,
        maxGroupPreparedCapacity: 0,
        poolState: "Hibernated",
        reason: "resize",
      },
    ],
  },
  {
    description: "a pool found with ReuseOnScaleIn is rewritten without it",
    in: (() => {
      const o = settled(2, 2, [4, 4]);
      return input({
        demand: demand({ target: 5, claimed: 3 }),
        observed: { ...o, group: { ...o.group!, warmPool: { ...pool(2), reuseOnScaleIn: true } } },
      });
    })(),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 2,
        maxGroupPreparedCapacity: 2,
        poolState: "Hibernated",
        reason: "reuse-on-scale-in",
      },
    ],
  },
  {
    description: "poolState Stopped asked, Hibernated found → PutWarmPool",
    in: input({
      asg: { ...ASG, poolState: "Stopped" },
      demand: demand({ target: 5, claimed: 3 }),
      observed: settled(2, 2, [4, 4]),
    }),
    expected: [
      {
        kind: "put-warm-pool",
        minSize: 2,
        maxGroupPreparedCapacity: 2,
        poolState: "Stopped",
        reason: "pool-state",
      },
    ],
  },
  {
    description: "given tasksPerInstance wins over the derived one",
    in: input({
      asg: { ...ASG, tasksPerInstance: 2 },
      demand: demand({ target: 4, claimed: 4 }),
      observed: settled(2, 2, [4, 4]),
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 4, from: 2, reason: "scale-out" }],
  },
  {
    description:
      "tasks per instance unknown (no container instance yet): one instance to learn it, pool untouched",
    in: input({
      demand: demand({ target: 5 }),
      observed: observed(group({ warmPool: pool(0) }), { containerInstances: [] }),
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 1, from: 0, reason: "scale-out" }],
  },
  {
    description: "RESOURCE failures newer than the newest instance, nothing Pending → one instance more",
    in: input({
      demand: demand({ target: 4, claimed: 4 }),
      observed: settled(2, 1, [4, 4]),
      failures: [{ reason: "RESOURCE:MEMORY", count: 3, lastAtMs: NOW - 1_000 }],
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 3, from: 2, reason: "capacity-failures" }],
  },
  {
    description:
      "capacity failures while an instance has room (it registered as RunTask failed) ask for nothing",
    in: input({
      demand: demand({ target: 4, claimed: 4 }),
      observed: settled(2, 1, [4, 3]),
      failures: [{ reason: "RESOURCE:MEMORY", count: 3, lastAtMs: NOW - 1_000 }],
    }),
    expected: [],
  },
  {
    description: "out of ENIs while CPU and memory have room (awsvpc without trunking): one instance more",
    in: input({
      demand: demand({ target: 4, claimed: 4 }),
      observed: settled(2, 1, [4, 3]),
      failures: [{ reason: "RESOURCE:ENI", count: 3, lastAtMs: NOW - 1_000 }],
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 3, from: 2, reason: "capacity-failures" }],
  },
  {
    description: "capacity failures older than the newest instance ask for nothing",
    in: input({
      demand: demand({ target: 4, claimed: 4 }),
      observed: observed(group({ instances: inService(2), warmPool: pool(1), warmInstances: warmed(1) }), {
        containerInstances: cisFor(group({ instances: inService(2) }), [4, 4], NOW - 500),
      }),
      failures: [{ reason: "RESOURCE:CPU", count: 3, lastAtMs: NOW - 1_000 }],
    }),
    expected: [],
  },
  {
    description: "capacity failures once every wanted task is placed ask for nothing",
    in: input({
      demand: demand({ target: 4, claimed: 4, warm: 4 }),
      observed: settled(2, 1, [4, 4]),
      failures: [{ reason: "RESOURCE:MEMORY", count: 3, lastAtMs: NOW - 1_000 }],
    }),
    expected: [],
  },
  {
    description: "failures that are not about capacity ask for nothing",
    in: input({
      demand: demand({ target: 4, claimed: 4 }),
      observed: settled(2, 1, [4, 4]),
      failures: [{ reason: "AGENT", count: 3, lastAtMs: NOW - 1_000 }],
    }),
    expected: [],
  },
  {
    description: "no container instance registered (its agent is down) counts as a capacity failure",
    in: input({
      asg: { ...ASG, tasksPerInstance: 4 },
      demand: demand({ target: 4 }),
      observed: observed(group({ instances: inService(1), warmPool: pool(1) }), { containerInstances: [] }),
      failures: [{ reason: "NO_CONTAINER_INSTANCE", count: 1, lastAtMs: NOW - 10 }],
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 2, from: 1, reason: "capacity-failures" }],
  },
  {
    description:
      "an instance InService for 5 s whose agent has not registered yet is joining: failures before it ask for nothing",
    in: input({
      asg: { ...ASG, tasksPerInstance: 4 },
      demand: demand({ target: 4 }),
      observed: observed(
        group({
          instances: inService(1).map((i) => ({ ...i, inServiceSinceMs: NOW - 5_000 })),
          warmPool: pool(1),
        }),
        { containerInstances: [] },
      ),
      failures: [{ reason: "NO_CONTAINER_INSTANCE", count: 1, lastAtMs: NOW - 10 }],
    }),
    expected: [],
  },
  {
    description:
      "an instance InService for 10 min with no agent registered is not joining: one instance more",
    in: input({
      asg: { ...ASG, tasksPerInstance: 4 },
      demand: demand({ target: 4 }),
      observed: observed(
        group({
          instances: inService(1).map((i) => ({ ...i, inServiceSinceMs: NOW - 600_000 })),
          warmPool: pool(1),
        }),
        { containerInstances: [] },
      ),
      failures: [{ reason: "NO_CONTAINER_INSTANCE", count: 1, lastAtMs: NOW - 10 }],
    }),
    expected: [{ kind: "set-desired-capacity", desiredCapacity: 2, from: 1, reason: "capacity-failures" }],
  },
];

describe("planCapacity: table", () => {
  for (const row of rows) {
    it(row.description, () => {
      expect(planCapacity(row.in).actions).toEqual(row.expected);
    });
  }
});

describe("planCapacity: held passes write nothing", () => {
  const busy = input({ demand: demand({ target: 5, claimed: 30 }), observed: settled(1, 0, [4]) });
  it("acts on a busy pool when nothing holds it (control)", () => {
    expect(planCapacity(busy).actions.length).toBeGreaterThan(0);
  });
  it("partial observation", () => {
    const p = planCapacity({ ...busy, observed: { ...busy.observed, complete: false } });
    expect(p.actions).toEqual([]);
    expect(p.held).toBe("partial-observation");
  });
  it("paused: computes the need, writes nothing", () => {
    const p = planCapacity({ ...busy, paused: true });
    expect(p.actions).toEqual([]);
    expect(p.held).toBe("paused");
    expect(p.need?.desiredCapacity).toBe(9);
  });
  it("group not found", () => {
    const p = planCapacity({ ...busy, observed: observed(undefined) });
    expect(p.held).toBe("no-group");
    expect(p.reason).toMatch(/group g not found/);
  });
});

describe("planCapacity: reports", () => {
  it("counts instances by lifecycle state, warm pool included", () => {
    const g = group({
      instances: [
        ...inService(2),
        { instanceId: "p", lifecycleState: "Pending", protectedFromScaleIn: false },
      ],
      warmInstances: [...warmed(2), ...warmed(1, "Warmed:Pending")],
    });
    expect(planCapacity(input({ observed: observed(g) })).instances).toEqual({
      InService: 2,
      Pending: 1,
      "Warmed:Hibernated": 2,
      "Warmed:Pending": 1,
    });
  });
  it("the need: derived tasks per instance, desired and prepared capacity", () => {
    const p = planCapacity(
      input({ demand: demand({ target: 5, claimed: 12 }), observed: settled(2, 2, [4, 4]) }),
    );
    expect(p.need).toEqual({
      tasks: 17,
      refillTasks: 5,
      tasksPerInstance: 4,
      tasksPerInstanceSource: "derived",
      desiredCapacity: 5,
      warmPoolSize: 2,
      preparedCapacity: 7,
    });
    expect(p.reason).toMatch(/^scale-out 2→5; need 17 task\(s\)/);
  });
  it("a task larger than any instance leaves tasks per instance unknown, saying why", () => {
    const p = planCapacity(
      input({
        demand: demand({ target: 1 }),
        observed: { ...settled(1, 0), taskSize: { cpu: 4096, memory: 512 } },
      }),
    );
    expect(p.need?.tasksPerInstanceSource).toBe("unknown");
    expect(p.reason).toMatch(/does not fit an instance/);
  });
});
