import { describe, expect, it } from "vitest";
import { parseTaskStateChange, TaskCache } from "../../pkg/observe/index.js";
import type { EcsTask } from "../../pkg/plan/index.js";

const arn = (id: string): string => `arn:aws:ecs:us-east-1:123456789012:task/default/${id}`;
const task = (
  id: string,
  lastStatus: EcsTask["lastStatus"],
  desired: "RUNNING" | "STOPPED" = "RUNNING",
): EcsTask => ({
  taskId: id,
  taskArn: arn(id),
  lastStatus,
  desiredStatus: desired,
  taskDefinitionArn: "td",
  createdAtMs: 1,
});

/** The cache's version rules, table-driven: what EventBridge's at-least-once, unordered delivery throws at it. */
describe("TaskCache", () => {
  it.each([
    {
      what: "in order",
      events: [
        [1, "PROVISIONING"],
        [2, "PENDING"],
        [3, "RUNNING"],
      ],
      outcomes: ["applied", "applied", "applied"],
      last: "RUNNING",
    },
    {
      what: "duplicate",
      events: [
        [2, "PENDING"],
        [2, "PENDING"],
      ],
      outcomes: ["applied", "duplicate"],
      last: "PENDING",
    },
    {
      what: "reordered",
      events: [
        [3, "RUNNING"],
        [2, "PENDING"],
      ],
      outcomes: ["applied", "stale"],
      last: "RUNNING",
    },
    {
      what: "stale stop",
      events: [
        [5, "STOPPED"],
        [3, "RUNNING"],
      ],
      outcomes: ["applied", "stale"],
      last: "STOPPED",
    },
  ] as const)("$what", ({ events, outcomes, last }) => {
    const c = new TaskCache();
    const got = events.map(([v, s]) => c.applyEvent(task("a", s), v, 0));
    expect(got).toEqual(outcomes);
    expect(c.get("a")?.task.lastStatus).toBe(last);
  });

  it("own answers: RunTask makes a task known, StopTask marks it wanted stopped until ECS says more", () => {
    const c = new TaskCache();
    c.noteLaunched([{ ...task("a", "PROVISIONING"), version: 1 }], 0);
    expect(c.applyEvent(task("a", "PROVISIONING"), 1, 1)).toBe("duplicate");
    c.noteStopped("a", 2);
    expect(c.get("a")?.task.desiredStatus).toBe("STOPPED");
    // An event of the version before our stop says RUNNING/RUNNING: older than the stop.
    expect(c.applyEvent(task("a", "PROVISIONING"), 1, 3)).toBe("stale");
    expect(c.applyEvent(task("a", "STOPPED", "STOPPED"), 4, 4)).toBe("applied");
  });

  it("a new lease term keeps only this process's own unconfirmed launches (their records may be missing)", () => {
    const c = new TaskCache();
    c.noteLaunched([{ ...task("mine", "PROVISIONING"), version: 1 }], 0);
    c.noteLaunched([{ ...task("mine-stopped", "PROVISIONING"), version: 1 }], 0);
    c.noteStopped("mine-stopped", 1);
    c.noteLaunched([{ ...task("mine-described", "PROVISIONING"), version: 1 }], 0);
    c.applyDescribed(
      { tasks: [{ ...task("mine-described", "RUNNING"), version: 3 }], missing: [], foreign: [] },
      0,
      2,
    );
    c.applyEvent(task("seen", "RUNNING"), 3, 0);
    c.applyDescribed({ tasks: [], missing: [], foreign: [arn("theirs")] }, 0, 2);
    c.restart();
    expect(c.tasks().map((t) => t.taskId)).toEqual(["mine"]);
    expect(c.isForeign(arn("theirs"))).toBe(false);
    // clear() (a standby's stale cache) keeps nothing.
    c.clear();
    expect(c.size).toBe(0);
  });

  it("a relist counts what the cache had wrong, not what changed while it ran, and confirms MISSING as gone", () => {
    const c = new TaskCache();
    c.applyEvent(task("live-but-stopped", "RUNNING"), 3, 0); // its STOPPED event was lost
    c.applyEvent(task("fine", "RUNNING"), 3, 0);
    c.applyEvent(task("vanished", "RUNNING"), 3, 0);
    c.applyEvent(task("newer", "RUNNING"), 3, 0);
    c.applyEvent(task("newer", "STOPPED", "STOPPED"), 6, 20); // arrives while the relist runs
    const drift = c.applyDescribed(
      {
        tasks: [
          { ...task("live-but-stopped", "STOPPED", "STOPPED"), version: 5 },
          { ...task("fine", "RUNNING"), version: 3 },
          { ...task("newer", "RUNNING"), version: 3 },
          { ...task("unknown-live", "RUNNING"), version: 3 },
        ],
        missing: [arn("vanished")],
        foreign: [arn("theirs")],
      },
      10,
      30,
    );
    // live-but-stopped, vanished and unknown-live were wrong; newer was changed after the relist began.
    expect(drift).toBe(3);
    expect(c.get("newer")?.task.lastStatus).toBe("STOPPED");
    expect(c.get("vanished")?.gone).toBe(true);
    expect(c.isForeign(arn("theirs"))).toBe(true);
    expect(c.applyEvent(task("vanished", "RUNNING"), 9, 40)).toBe("stale");
  });

  it("parses the EventBridge envelope and names the field that is wrong", () => {
    const detail = {
      clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/default",
      taskArn: arn("t1"),
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      startedBy: "pool",
      group: "warmpool:pool",
      version: 3,
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:05.250Z",
      taskDefinitionArn: "td",
    };
    const env = {
      version: "0",
      "detail-type": "ECS Task State Change",
      source: "aws.ecs",
      time: "2026-01-01T00:00:05Z",
      detail,
    };
    const ev = parseTaskStateChange(JSON.stringify(env));
    expect(ev).toMatchObject({ version: 3, startedBy: "pool", atMs: Date.parse(detail.updatedAt) });
    expect(ev.task).toMatchObject({ taskId: "t1", lastStatus: "RUNNING" });
    expect(() =>
      parseTaskStateChange(JSON.stringify({ ...env, detail: { ...detail, version: "3" } })),
    ).toThrow(/detail.version/);
    expect(() =>
      parseTaskStateChange(JSON.stringify({ ...env, "detail-type": "ECS Container Instance State Change" })),
    ).toThrow(/detail-type/);
    expect(() => parseTaskStateChange("{")).toThrow(/not JSON/);
  });
});
