import { describe, expect, it } from "vitest";
import { runRejectCases, type RejectCase } from "./config-fixtures.js";
import {
  DEFAULT_DESIRED,
  LIMITS,
  formatConfigErrors,
  parseDesiredState,
  validateDesiredState,
  type ConfigError,
} from "../../pkg/config/index.js";

const rejects: RejectCase[] = [
  {
    description: "unknown field in lower case suggests the camelCase name",
    input: { minwarm: 8 },
    expected: [{ field: "minwarm", rule: "unknown-field", says: /did you mean `minWarm`\?/ }],
  },
  {
    description: "a misspelt field suggests the closest name",
    input: { replenishTreshold: 2 },
    expected: [{ field: "replenishTreshold", rule: "unknown-field", says: /`replenishThreshold`/ }],
  },
  {
    description: "a field nothing resembles lists the known names",
    input: { colour: "blue" },
    expected: [{ field: "colour", rule: "unknown-field", says: /known fields are minWarm, maxWarm/ }],
  },
  {
    description: "minWarm > maxWarm breaks the invariant on minWarm",
    input: { minWarm: 8, maxWarm: 4 },
    expected: [{ field: "minWarm", rule: "invariant", says: /minWarm 8 > maxWarm 4/ }],
  },
  {
    description: "a default on one side of an invariant is marked as such",
    input: { minWarm: 30 },
    expected: [{ field: "minWarm", rule: "invariant", says: /maxWarm 20 \(default\)/ }],
  },
  {
    description: "replenishThreshold above minWarm",
    input: { minWarm: 2, replenishThreshold: 3 },
    expected: [{ field: "replenishThreshold", rule: "invariant", says: /≤ minWarm/ }],
  },
  {
    description: "maxWarm above maxTasks",
    input: { maxWarm: 50, maxTasks: 40 },
    expected: [{ field: "maxWarm", rule: "invariant", says: /≤ maxTasks/ }],
  },
  {
    description: "negative count",
    input: { minWarm: -1 },
    expected: [{ field: "minWarm", rule: "min", says: /at least 0 \(got -1\)/ }],
  },
  {
    description: "wrong type: a number as a string",
    input: { minWarm: "5" },
    expected: [{ field: "minWarm", rule: "type", says: /got string "5"/ }],
  },
  {
    description: "wrong type: null is not a default",
    input: { maxWarm: null },
    expected: [{ field: "maxWarm", rule: "type", says: /got null/ }],
  },
  {
    description: "a fraction where a count is due",
    input: { maxSurge: 1.5 },
    expected: [{ field: "maxSurge", rule: "integer" }],
  },
  {
    description: "absurdly large maxTasks names its bound",
    input: { maxTasks: 1_000_000 },
    expected: [{ field: "maxTasks", rule: "max", says: /at most 10,000/ }],
  },
  {
    description: "leaseSeconds written in milliseconds",
    input: { leaseSeconds: 300_000 },
    expected: [{ field: "leaseSeconds", rule: "max", says: /86,400/ }],
  },
  {
    description: "leaseSeconds too short to survive a heartbeat",
    input: { leaseSeconds: 1 },
    expected: [{ field: "leaseSeconds", rule: "min" }],
  },
  {
    description: "paused must be a boolean",
    input: { paused: "yes" },
    expected: [{ field: "paused", rule: "type" }],
  },
  {
    description: "taskDefinition of the wrong shape",
    input: { taskDefinition: "my app:latest" },
    expected: [{ field: "taskDefinition", rule: "format" }],
  },
  {
    description: "taskDefinition of the wrong type",
    input: { taskDefinition: 7 },
    expected: [{ field: "taskDefinition", rule: "type" }],
  },
  {
    description: "asg needs a group name and knows its own fields",
    input: { asg: { groupname: "g", poolState: "Frozen", minWarmInstances: -2 } },
    expected: [
      { field: "asg.groupname", rule: "unknown-field", says: /did you mean `asg.groupName`/ },
      { field: "asg.groupName", rule: "required" },
      { field: "asg.poolState", rule: "enum", says: /Hibernated, Stopped, Running/ },
      { field: "asg.minWarmInstances", rule: "min" },
    ],
  },
  {
    description: "asg warm-pool bounds invariant",
    input: { asg: { groupName: "g", minWarmInstances: 5, maxPreparedCapacity: 2 } },
    expected: [{ field: "asg.minWarmInstances", rule: "invariant" }],
  },
  {
    description: "asg must be an object",
    input: { asg: "g" },
    expected: [{ field: "asg", rule: "type" }],
  },
  {
    description: "not an object at all",
    input: [1, 2],
    expected: [{ field: "$", rule: "type", says: /JSON object \(got an array\)/ }],
  },
  {
    description: "every problem is reported at once",
    input: { minwarm: 8, maxWarm: "20", maxTasks: 1e9, leaseSeconds: 0.5, replenishThreshold: 9 },
    expected: [
      { field: "minwarm", rule: "unknown-field" },
      { field: "maxWarm", rule: "type" },
      { field: "replenishThreshold", rule: "invariant", says: /minWarm 5 \(default\)/ },
      { field: "maxTasks", rule: "max" },
      { field: "leaseSeconds", rule: "integer" },
    ],
  },
];

describe("validateDesiredState rejects", () => {
  runRejectCases(rejects);
});

describe("validateDesiredState accepts", () => {
  it("an empty object as the origin design's defaults", () => {
    expect(validateDesiredState({})).toEqual({ ok: true, value: DEFAULT_DESIRED });
    expect(DEFAULT_DESIRED).toMatchObject({ minWarm: 5, maxWarm: 20, replenishThreshold: 3 });
  });

  it("a full document, keeping what was given and filling the rest", () => {
    const r = validateDesiredState({
      minWarm: 8,
      maxWarm: 8,
      replenishThreshold: 0,
      maxTasks: 8,
      paused: true,
      taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/optima-headless:42",
      asg: { groupName: "pool-asg", tasksPerInstance: 4 },
    });
    expect(r).toEqual({
      ok: true,
      value: {
        ...DEFAULT_DESIRED,
        minWarm: 8,
        maxWarm: 8,
        replenishThreshold: 0,
        maxTasks: 8,
        paused: true,
        taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/optima-headless:42",
        asg: {
          groupName: "pool-asg",
          tasksPerInstance: 4,
          poolState: "Hibernated",
          minWarmInstances: 0,
          headroomInstances: 0,
        },
      },
    });
  });

  it("every bound itself", () => {
    const hi = LIMITS.maxTasks.max;
    const r = validateDesiredState({
      minWarm: hi,
      maxWarm: hi,
      replenishThreshold: hi,
      maxTasks: hi,
      leaseSeconds: LIMITS.leaseSeconds.max,
      maxSurge: LIMITS.maxSurge.max,
    });
    expect(r.ok).toBe(true);
    expect(validateDesiredState({ minWarm: 0, maxWarm: 0, replenishThreshold: 0, maxTasks: 0 }).ok).toBe(
      true,
    );
    expect(validateDesiredState({ leaseSeconds: LIMITS.leaseSeconds.min }).ok).toBe(true);
  });

  it("task definitions as family, family:revision and ARN", () => {
    for (const td of ["app", "app_v2-x:7", "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/app:1"]) {
      expect(validateDesiredState({ taskDefinition: td }).ok, td).toBe(true);
    }
  });
});

describe("parseDesiredState", () => {
  it("names the line, column and offset of malformed JSON", () => {
    const r = parseDesiredState('{\n  "minWarm": 5,\n}');
    expect(r.ok).toBe(false);
    const [e] = (r as { errors: ConfigError[] }).errors;
    expect(e).toMatchObject({ field: "$", rule: "json" });
    expect(e!.message).toMatch(/malformed JSON: at line 3 column 1 \(offset 18\)/);
  });

  it("says where truncated JSON ends", () => {
    const r = parseDesiredState('{"minWarm": 5');
    expect((r as { errors: ConfigError[] }).errors[0]!.message).toMatch(/offset 13/);
  });

  it("rejects empty input", () => {
    const r = parseDesiredState("  ");
    expect((r as { errors: ConfigError[] }).errors[0]).toMatchObject({ field: "$", rule: "json" });
  });

  it("validates what parses", () => {
    expect(parseDesiredState('{"minWarm":8,"maxWarm":4}').ok).toBe(false);
    expect(parseDesiredState('{"minWarm":8}')).toEqual({
      ok: true,
      value: { ...DEFAULT_DESIRED, minWarm: 8 },
    });
  });

  it("formats all errors on one line with their rules", () => {
    const r = parseDesiredState('{"minwarm":1,"maxTasks":-1}');
    const line = formatConfigErrors((r as { errors: ConfigError[] }).errors);
    expect(line).toContain("minwarm: unknown field; did you mean `minWarm`? [unknown-field]");
    expect(line).toContain("maxTasks: must be at least 0 (got -1) [min]");
    expect(line).not.toContain("\n");
  });
});
