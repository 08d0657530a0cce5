/**
 * Strict validation of the desired state (DESIGN §5). It knows every field, its type, its bounds
 * and the invariants between fields, and it reports every problem at once (Agones'
 * `validate() []error`): on-call fixes a bad config in one edit, not one error per try.
 * Missing fields take DEFAULT_DESIRED; unknown fields are errors with the closest known name.
 */
import { ASG_POOL_STATES, LIMITS, TASK_DEFINITION, WARM_POLICIES } from "./limits.js";
import { closestName } from "./suggest.js";
import {
  DEFAULT_ADAPTIVE,
  DEFAULT_DESIRED,
  type AdaptiveDesired,
  type AsgDesired,
  type DesiredState,
  type WarmPolicy,
} from "./types.js";

export type ConfigRule =
  | "json" // not parseable JSON
  | "type" // wrong JSON type
  | "unknown-field" // a field the schema does not know (typo)
  | "required" // a field that has no default is missing
  | "integer" // a count with a fraction
  | "min" // below the lower bound
  | "max" // above the upper bound
  | "enum" // not one of the allowed words
  | "format" // a string of the wrong shape
  | "invariant" // a relation between fields does not hold
  | "exists"; // names something that must exist outside Redis (a task definition ECS has)

export interface ConfigError {
  /** Dotted path of the field (`minWarm`, `asg.groupName`); `$` is the document itself. */
  field: string;
  rule: ConfigRule;
  /** `<field>: <what is wrong> (<what was given>)`, fit for a log line as is. */
  message: string;
}

export type ValidationResult = { ok: true; value: DesiredState } | { ok: false; errors: ConfigError[] };

const TOP_FIELDS = [
  "minWarm",
  "maxWarm",
  "replenishThreshold",
  "maxTasks",
  "paused",
  "leaseSeconds",
  "taskDefinition",
  "maxSurge",
  "policy",
  "adaptive",
  "asg",
] as const;
const ADAPTIVE_FIELDS = ["windowSeconds", "targetHitRate", "scaleDownDelaySeconds"] as const;
const ASG_FIELDS = [
  "groupName",
  "tasksPerInstance",
  "poolState",
  "minWarmInstances",
  "maxPreparedCapacity",
  "headroomInstances",
] as const;

/** Defaults of the optional `asg` fields (the origin design hibernates its warm instances). */
export const DEFAULT_ASG: Omit<AsgDesired, "groupName"> = {
  poolState: "Hibernated",
  minWarmInstances: 0,
  headroomInstances: 0,
};

/** Validates already-parsed input (e.g. `JSON.parse` of the `config` key). Never throws. */
export function validateDesiredState(input: unknown): ValidationResult {
  const errors: ConfigError[] = [];
  const add = (field: string, rule: ConfigRule, text: string): void => {
    errors.push({ field, rule, message: `${field}: ${text}` });
  };
  if (!isPlainObject(input)) {
    add("$", "type", `desired state must be a JSON object (got ${describe(input)})`);
    return { ok: false, errors };
  }
  unknownFields(input, TOP_FIELDS, "", add);

  const given = new Set(Object.keys(input));
  const int = (name: keyof typeof LIMITS & keyof DesiredState): number | undefined => {
    const bounds = LIMITS[name] as { min: number; max: number };
    if (!given.has(name)) return DEFAULT_DESIRED[name] as number;
    return checkInt(input[name], name, bounds, add);
  };
  const minWarm = int("minWarm");
  const maxWarm = int("maxWarm");
  const replenishThreshold = int("replenishThreshold");
  const maxTasks = int("maxTasks");
  const leaseSeconds = int("leaseSeconds");
  const maxSurge = int("maxSurge");

  let paused: boolean | undefined = DEFAULT_DESIRED.paused;
  if (given.has("paused")) {
    paused = typeof input.paused === "boolean" ? input.paused : undefined;
    if (paused === undefined) add("paused", "type", `must be true or false (got ${describe(input.paused)})`);
  }

  let taskDefinition: string | undefined;
  if (given.has("taskDefinition")) taskDefinition = checkTaskDefinition(input.taskDefinition, add);

  let policy: WarmPolicy | undefined = DEFAULT_DESIRED.policy;
  if (given.has("policy")) {
    policy = WARM_POLICIES.find((p) => p === input.policy);
    if (policy === undefined) {
      add("policy", "enum", `must be one of ${WARM_POLICIES.join(", ")} (got ${describe(input.policy)})`);
    }
  }
  const adaptive = given.has("adaptive") ? checkAdaptive(input.adaptive, add) : { ...DEFAULT_ADAPTIVE };

  let asg: AsgDesired | undefined;
  if (given.has("asg")) asg = checkAsg(input.asg, add);

  // Invariant 0 ≤ replenishThreshold ≤ minWarm ≤ maxWarm ≤ maxTasks, checked pairwise wherever
  // both sides are themselves valid, so every broken link is reported, each on its own field.
  const side = (name: string, v: number): string => `${name} ${v}${given.has(name) ? "" : " (default)"}`;
  const chain: [string, number | undefined][] = [
    ["replenishThreshold", replenishThreshold],
    ["minWarm", minWarm],
    ["maxWarm", maxWarm],
    ["maxTasks", maxTasks],
  ];
  for (let i = 0; i + 1 < chain.length; i++) {
    const [lo, loV] = chain[i]!;
    const [hi, hiV] = chain[i + 1]!;
    if (loV !== undefined && hiV !== undefined && loV > hiV) {
      add(
        lo,
        "invariant",
        `must be ≤ ${hi} (${side(lo, loV)} > ${side(hi, hiV)}); ` +
          "rule: 0 ≤ replenishThreshold ≤ minWarm ≤ maxWarm ≤ maxTasks",
      );
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  const value: DesiredState = {
    minWarm: minWarm!,
    maxWarm: maxWarm!,
    replenishThreshold: replenishThreshold!,
    maxTasks: maxTasks!,
    paused: paused!,
    leaseSeconds: leaseSeconds!,
    maxSurge: maxSurge!,
    policy: policy!,
    adaptive: adaptive!,
  };
  if (taskDefinition !== undefined) value.taskDefinition = taskDefinition;
  if (asg !== undefined) value.asg = asg;
  return { ok: true, value };
}

/** One line for a log or a CLI error: every problem, `; `-separated. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.message} [${e.rule}]`).join("; ");
}

type Add = (field: string, rule: ConfigRule, text: string) => void;

function checkInt(
  v: unknown,
  field: string,
  b: { min: number; max: number },
  add: Add,
  why = "it is a count",
): number | undefined {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    add(field, "type", `must be an integer from ${b.min} to ${b.max} (got ${describe(v)})`);
    return undefined;
  }
  if (!Number.isInteger(v)) {
    add(field, "integer", `must be a whole number, ${why} (got ${v})`);
    return undefined;
  }
  if (v < b.min) {
    add(field, "min", `must be at least ${b.min} (got ${v})`);
    return undefined;
  }
  if (v > b.max) {
    add(field, "max", `must be at most ${b.max.toLocaleString("en-US")} (got ${v})`);
    return undefined;
  }
  return v;
}

function checkTaskDefinition(v: unknown, add: Add): string | undefined {
  const b = LIMITS.taskDefinitionLength;
  if (typeof v !== "string") {
    add("taskDefinition", "type", `must be a string: family, family:revision or ARN (got ${describe(v)})`);
    return undefined;
  }
  if (v.length < b.min || v.length > b.max) {
    add("taskDefinition", v.length < b.min ? "min" : "max", `must be ${b.min}–${b.max} characters long`);
    return undefined;
  }
  if (!TASK_DEFINITION.test(v)) {
    add(
      "taskDefinition",
      "format",
      `must be family, family:revision or arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision> (got ${JSON.stringify(v)})`,
    );
    return undefined;
  }
  return v;
}

/** The `adaptive` block: every field optional (DEFAULT_ADAPTIVE), every one checked. */
function checkAdaptive(v: unknown, add: Add): AdaptiveDesired | undefined {
  if (!isPlainObject(v)) {
    add(
      "adaptive",
      "type",
      `must be an object with windowSeconds, targetHitRate, scaleDownDelaySeconds (got ${describe(v)})`,
    );
    return undefined;
  }
  const before = countingAdd(add);
  unknownFields(v, ADAPTIVE_FIELDS, "adaptive.", before.add);
  const L = LIMITS.adaptive;
  const int = (name: keyof typeof L): number | undefined =>
    name in v
      ? checkInt(v[name], `adaptive.${name}`, L[name], before.add, "in whole seconds")
      : DEFAULT_ADAPTIVE[name];
  const windowSeconds = int("windowSeconds");
  const scaleDownDelaySeconds = int("scaleDownDelaySeconds");

  let targetHitRate: number | undefined = DEFAULT_ADAPTIVE.targetHitRate;
  if ("targetHitRate" in v) {
    const h = v.targetHitRate;
    const field = "adaptive.targetHitRate";
    targetHitRate = undefined;
    if (typeof h !== "number" || !Number.isFinite(h)) {
      before.add(field, "type", `must be a number strictly between 0 and 1, e.g. 0.995 (got ${describe(h)})`);
    } else if (h <= 0) {
      before.add(field, "min", `must be greater than 0, it is a share of claims (got ${h})`);
    } else if (h >= 1) {
      before.add(
        field,
        "max",
        `must be less than 1: a share of claims, and 1 (every claim, always) needs an unbounded pool (got ${h})`,
      );
    } else targetHitRate = h;
  }
  if (before.count() > 0) return undefined;
  return {
    windowSeconds: windowSeconds!,
    targetHitRate: targetHitRate!,
    scaleDownDelaySeconds: scaleDownDelaySeconds!,
  };
}

function checkAsg(v: unknown, add: Add): AsgDesired | undefined {
  if (!isPlainObject(v)) {
    add("asg", "type", `must be an object with groupName and warm-pool sizing (got ${describe(v)})`);
    return undefined;
  }
  const before = countingAdd(add);
  unknownFields(v, ASG_FIELDS, "asg.", before.add);
  const L = LIMITS.asg;

  let groupName: string | undefined;
  if (!("groupName" in v)) {
    before.add("asg.groupName", "required", "is required when asg is given (the Auto Scaling group name)");
  } else if (typeof v.groupName !== "string") {
    before.add("asg.groupName", "type", `must be a string (got ${describe(v.groupName)})`);
  } else if (v.groupName.length < L.groupNameLength.min || v.groupName.length > L.groupNameLength.max) {
    before.add(
      "asg.groupName",
      v.groupName.length < L.groupNameLength.min ? "min" : "max",
      `must be ${L.groupNameLength.min}–${L.groupNameLength.max} characters long`,
    );
  } else groupName = v.groupName;

  let poolState: AsgDesired["poolState"] | undefined = DEFAULT_ASG.poolState;
  if ("poolState" in v) {
    const s = v.poolState;
    poolState = ASG_POOL_STATES.find((p) => p === s);
    if (poolState === undefined) {
      before.add(
        "asg.poolState",
        "enum",
        `must be one of ${ASG_POOL_STATES.join(", ")} (got ${describe(s)})`,
      );
    }
  }

  const opt = (name: keyof typeof L & keyof AsgDesired, dflt?: number): number | undefined =>
    name in v ? checkInt(v[name], `asg.${name}`, L[name], before.add) : dflt;
  const tasksPerInstance = opt("tasksPerInstance");
  const minWarmInstances = opt("minWarmInstances", DEFAULT_ASG.minWarmInstances);
  const maxPreparedCapacity = opt("maxPreparedCapacity");
  const headroomInstances = opt("headroomInstances", DEFAULT_ASG.headroomInstances);

  if (maxPreparedCapacity !== undefined && minWarmInstances !== undefined) {
    if (minWarmInstances > maxPreparedCapacity) {
      before.add(
        "asg.minWarmInstances",
        "invariant",
        `must be ≤ asg.maxPreparedCapacity (${minWarmInstances} > ${maxPreparedCapacity})`,
      );
    }
  }
  if (before.count() > 0) return undefined;
  const asg: AsgDesired = {
    groupName: groupName!,
    poolState: poolState!,
    minWarmInstances: minWarmInstances!,
    headroomInstances: headroomInstances!,
  };
  if (tasksPerInstance !== undefined) asg.tasksPerInstance = tasksPerInstance;
  if (maxPreparedCapacity !== undefined) asg.maxPreparedCapacity = maxPreparedCapacity;
  return asg;
}

function unknownFields(obj: object, known: readonly string[], prefix: string, add: Add): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const guess = closestName(key, known);
    add(
      `${prefix}${key}`,
      "unknown-field",
      guess
        ? `unknown field; did you mean \`${prefix}${guess}\`?`
        : `unknown field; known fields are ${known.map((k) => prefix + k).join(", ")}`,
    );
  }
}

function countingAdd(add: Add): { add: Add; count: () => number } {
  let n = 0;
  return {
    add: (f, r, t) => {
      n++;
      add(f, r, t);
    },
    count: () => n,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What a wrong value was, short: `string "5"`, `null`, `array`, `number 1.5`. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}
