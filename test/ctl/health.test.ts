import { describe, expect, it } from "vitest";
import { DEFAULT_DESIRED } from "../../pkg/config/index.js";
import { assessHealth, renderStatus, type StatusReport } from "../../pkg/ctl/index.js";
import { renderTable } from "../../pkg/ctl/table.js";
import { revisionMatches } from "../../pkg/ctl/revision.js";

/** The verdict is pure: each unhealthy condition alone, then several at once (lowest code wins). */
const NOW = 1_800_000_000_000;
function base(): Omit<StatusReport, "health"> {
  return {
    pool: "p",
    atMs: NOW,
    leader: { holder: "h:1:a", ttlMs: 5_000, epoch: 3 },
    snapshot: null,
    lastPassAgeMs: 1_000,
    desired: { key: "valid", inForce: DEFAULT_DESIRED, errors: [], lastRejection: null },
    target: 5,
    actual: { starting: 0, warm: 5, claimed: 2, draining: 0, waiting: 0, total: 7, unaccounted: 0 },
    utilization: 2 / 7,
    revisions: [],
    drain: null,
    errors: [],
    asg: null,
  };
}

/** A snapshot whose passes have ended in error for `forMs`, the last one a second ago. */
function failing(forMs: number): StatusReport["snapshot"] {
  return {
    pool: "p",
    leader: { id: "h:1:a", epoch: 3 },
    updatedAtMs: NOW - 1_000,
    counts: null,
    target: 5,
    desired: DEFAULT_DESIRED,
    config: { status: "valid", valid: true, lastRejection: null },
    lastPass: {
      id: 9,
      trigger: "resync",
      startedAtMs: NOW - 1_100,
      durationMs: 100,
      result: "error",
      reason: "pass failed: AccessDenied",
      actions: {},
      ecsCalls: { list: 0, describe: 0 },
    },
    failingSinceMs: NOW - forMs,
    lastErrors: [],
    runFailures: [],
  };
}

describe("assessHealth", () => {
  const cases: {
    name: string;
    change: (r: Omit<StatusReport, "health">) => void;
    code: number;
    problem?: RegExp;
  }[] = [
    { name: "healthy", change: () => undefined, code: 0 },
    {
      name: "no leader",
      change: (r) => (r.leader = null),
      code: 10,
      problem: /no reconciler holds the leader lease/,
    },
    {
      name: "never passed",
      change: (r) => (r.lastPassAgeMs = null),
      code: 11,
      problem: /never published a pass/,
    },
    {
      name: "stale pass",
      change: (r) => (r.lastPassAgeMs = 61_000),
      code: 11,
      problem: /61s old \(stale after 60s\)/,
    },
    {
      name: "invalid desired state",
      change: (r) => {
        r.desired.key = "invalid";
        r.desired.errors = [{ field: "maxwarm", rule: "unknown-field", message: "maxwarm: unknown field" }];
      },
      code: 12,
      problem: /invalid desired state .*: maxwarm/,
    },
    {
      name: "exhausted",
      change: (r) => Object.assign(r.actual, { warm: 0, waiting: 2 }),
      code: 13,
      problem: /no warm task and 2 claim\(s\) waiting/,
    },
    {
      name: "no warm but nobody waiting is not exhausted",
      change: (r) => Object.assign(r.actual, { warm: 0, starting: 5, waiting: 0 }),
      code: 0,
    },
    {
      name: "passes completing in error for 90 s: no pass succeeded",
      change: (r) => (r.snapshot = failing(90_000)),
      code: 11,
      problem:
        /no pass has succeeded for 90s \(stale after 60s\): the last ended error: pass failed: AccessDenied/,
    },
    {
      name: "passes failing for 30 s: a warning, not yet unhealthy",
      change: (r) => (r.snapshot = failing(30_000)),
      code: 0,
    },
    {
      name: "several at once: the lowest code, every problem listed",
      change: (r) => {
        r.leader = null;
        Object.assign(r.actual, { warm: 0, waiting: 1 });
      },
      code: 10,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = base();
      c.change(r);
      const h = assessHealth(r, 60_000);
      expect(h.exitCode).toBe(c.code);
      expect(h.healthy).toBe(c.code === 0);
      if (c.problem) expect(h.problems.map((p) => p.message).join("\n")).toMatch(c.problem);
      if (c.name.startsWith("several")) expect(h.problems.map((p) => p.code)).toEqual([10, 13]);
    });
  }

  it("warnings do not make the pool unhealthy: paused, rollout, idle below threshold", () => {
    const r = base();
    r.desired.inForce = { ...DEFAULT_DESIRED, paused: true };
    Object.assign(r.actual, { warm: 1, starting: 0 });
    r.revisions = [
      { revision: "a:2", target: true, starting: 0, warm: 0, claimed: 0, draining: 0 },
      { revision: "a:1", target: false, starting: 0, warm: 1, claimed: 2, draining: 0 },
    ];
    const h = assessHealth(r);
    expect(h.exitCode).toBe(0);
    expect(h.warnings.join("\n")).toMatch(
      /paused[\s\S]*below replenishThreshold: 1 idle[\s\S]*rollout in progress/,
    );
  });
});

describe("rendering", () => {
  it("tasks whose records Redis lost: a warning, their own row, counted in total (healthy)", () => {
    const quiet = renderStatus(
      { ...base(), health: assessHealth(base()) },
      { color: false, isTTY: false, columns: 200 },
    );
    expect(quiet).not.toMatch(/unaccounted|no record/);
    const r = base();
    r.actual.unaccounted = 3;
    const h = assessHealth(r);
    expect(h.exitCode).toBe(0);
    expect(h.warnings.join("\n")).toMatch(/3 live task\(s\) have no record.*never stopped/);
    const text = renderStatus({ ...r, health: h }, { color: false, isTTY: false, columns: 200 });
    expect(text).toMatch(/^unaccounted\s+3\s+0 \(no record\)$/m);
    expect(text).toMatch(/^total\s+10\s/m);
  });

  it("piped text carries no escape codes; a TTY gets colour and rules", () => {
    const r = { ...base(), health: assessHealth(base()) };
    const plain = renderStatus(r, { color: false, isTTY: false, columns: 80 });
    // eslint-disable-next-line no-control-regex
    expect(plain).not.toMatch(/\x1b\[/);
    expect(plain).not.toMatch(/─/);
    const tty = renderStatus(r, { color: true, isTTY: true, columns: 80 });
    // eslint-disable-next-line no-control-regex
    expect(tty).toMatch(/\x1b\[32m/);
    expect(tty).toMatch(/─/);
  });

  it("shows the ASG part of the snapshot: group, instances by state, the capacity reason", () => {
    const r = { ...base(), health: assessHealth(base()) };
    r.asg = {
      groupName: "pool-asg",
      plan: { instances: { InService: 3, "Warmed:Hibernated": 2, Pending: 0 }, reason: "steady" },
      errors: [],
    };
    const text = renderStatus(r, { color: false, isTTY: false, columns: 120 });
    expect(text).toMatch(/^asg\s+pool-asg {2}instances \[InService 3, Warmed:Hibernated 2\] {2}steady$/m);
  });

  it("tables: right-aligned numbers, `-` for empty cells when piped", () => {
    const t = renderTable(
      { color: false, isTTY: false },
      [{ header: "A" }, { header: "N", right: true }],
      [
        ["x", "1"],
        ["", "10"],
      ],
    );
    expect(t).toBe("A   N\nx   1\n-  10\n");
  });
});

describe("revisionMatches", () => {
  const arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/agent:7";
  it.each([
    [arn, arn, true],
    ["agent:7", arn, true],
    ["agent", arn, true],
    ["agent:8", arn, false],
    ["agen", arn, false],
    ["agent", undefined, false],
  ])("%s vs %s → %s", (name, rev, want) => {
    expect(revisionMatches(name, rev)).toBe(want);
  });
});
