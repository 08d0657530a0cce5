/**
 * The desired state (DESIGN §5) as one zod schema: the validator (validate.ts), the committed JSON
 * Schema (api/desired-state.schema.json) and `warmpool ctl config validate` all read this. Every
 * message here says what is wrong and what was given; validate.ts prefixes the field and turns
 * zod's issues into ConfigErrors (rule names, "did you mean" for unknown fields).
 */
import { z } from "zod";
import { ASG_POOL_STATES, LIMITS, TASK_DEFINITION, WARM_POLICIES } from "./limits.js";
import { DEFAULT_ADAPTIVE, DEFAULT_DESIRED, type AsgDesired, type DesiredState } from "./types.js";

/** Defaults of the optional `asg` fields (the origin design hibernates its warm instances). */
export const DEFAULT_ASG: Omit<AsgDesired, "groupName"> = {
  poolState: "Hibernated",
  minWarmInstances: 0,
  headroomInstances: 0,
};

/** What a wrong value was, short: `string "5"`, `null`, `array`, `number 1.5`. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** A bounded whole number; `why` says why fractions make no sense. */
function count(b: { min: number; max: number }, description: string, why = "it is a count") {
  return z
    .number({ error: (i) => `must be an integer from ${b.min} to ${b.max} (got ${describeValue(i.input)})` })
    .int({ error: (i) => `must be a whole number, ${why} (got ${String(i.input)})` })
    .min(b.min, { error: (i) => `must be at least ${b.min} (got ${String(i.input)})` })
    .max(b.max, {
      error: (i) => `must be at most ${b.max.toLocaleString("en-US")} (got ${String(i.input)})`,
    })
    .meta({ description });
}

function objectError(what: string) {
  return (i: { code: string; input?: unknown }): string | undefined =>
    i.code === "invalid_type" ? `must be an object with ${what} (got ${describeValue(i.input)})` : undefined;
}

const A = LIMITS.adaptive;
export const AdaptiveSchema = z
  .strictObject(
    {
      windowSeconds: count(A.windowSeconds, "arrival-rate smoothing window", "in whole seconds")
        .optional()
        .meta({ default: DEFAULT_ADAPTIVE.windowSeconds }),
      targetHitRate: z
        .number({
          error: (i) =>
            `must be a number strictly between 0 and 1, e.g. 0.995 (got ${describeValue(i.input)})`,
        })
        .gt(0, { error: (i) => `must be greater than 0, it is a share of claims (got ${String(i.input)})` })
        .lt(1, {
          error: (i) =>
            `must be less than 1: a share of claims, and 1 (every claim, always) needs an unbounded pool (got ${String(i.input)})`,
        })
        .optional()
        .meta({
          description: "share of claims that should find a warm task",
          default: DEFAULT_ADAPTIVE.targetHitRate,
        }),
      scaleDownDelaySeconds: count(
        A.scaleDownDelaySeconds,
        "a lower adaptive target takes effect only after every higher one is this old",
        "in whole seconds",
      )
        .optional()
        .meta({ default: DEFAULT_ADAPTIVE.scaleDownDelaySeconds }),
    },
    { error: objectError("windowSeconds, targetHitRate, scaleDownDelaySeconds") },
  )
  .meta({ description: "parameters of policy: adaptive (docs/adaptive-policy.md)" });

const G = LIMITS.asg;
const groupNameLength = `must be ${G.groupNameLength.min}–${G.groupNameLength.max} characters long`;
export const AsgSchema = z
  .strictObject(
    {
      groupName: z
        .string({
          error: (i) =>
            i.input === undefined
              ? "is required when asg is given (the Auto Scaling group name)"
              : `must be a string (got ${describeValue(i.input)})`,
        })
        .min(G.groupNameLength.min, groupNameLength)
        .max(G.groupNameLength.max, groupNameLength)
        .meta({ description: "Auto Scaling group that hosts the pool's tasks" }),
      tasksPerInstance: count(
        G.tasksPerInstance,
        "tasks one instance holds (derived when absent)",
      ).optional(),
      poolState: z
        .enum(ASG_POOL_STATES, {
          error: (i) => `must be one of ${ASG_POOL_STATES.join(", ")} (got ${describeValue(i.input)})`,
        })
        .optional()
        .meta({ default: DEFAULT_ASG.poolState }),
      minWarmInstances: count(G.minWarmInstances, "lower bound of the group's warm pool")
        .optional()
        .meta({ default: DEFAULT_ASG.minWarmInstances }),
      maxPreparedCapacity: count(G.maxPreparedCapacity, "upper bound of the group's warm pool").optional(),
      headroomInstances: count(G.headroomInstances, "extra instances kept beyond the computed need")
        .optional()
        .meta({ default: DEFAULT_ASG.headroomInstances }),
    },
    { error: objectError("groupName and warm-pool sizing") },
  )
  .meta({ description: "EC2 capacity: the Auto Scaling group and its warm pool" });

const L = LIMITS;
const td = L.taskDefinitionLength;
const tdLength = `must be ${td.min}–${td.max} characters long`;

/** The fields of the desired state, each optional (a missing one takes DEFAULT_DESIRED). */
export const DesiredStateFields = z.strictObject(
  {
    minWarm: count(L.minWarm, "warm tasks to keep (the floor under policy adaptive)")
      .optional()
      .meta({ default: DEFAULT_DESIRED.minWarm }),
    maxWarm: count(L.maxWarm, "most warm tasks to keep (the ceiling under policy adaptive)")
      .optional()
      .meta({ default: DEFAULT_DESIRED.maxWarm }),
    replenishThreshold: count(L.replenishThreshold, "refill when warm tasks fall below this")
      .optional()
      .meta({ default: DEFAULT_DESIRED.replenishThreshold }),
    maxTasks: count(L.maxTasks, "hard cap on all pool tasks, claimed included")
      .optional()
      .meta({ default: DEFAULT_DESIRED.maxTasks }),
    paused: z
      .boolean({ error: (i) => `must be true or false (got ${describeValue(i.input)})` })
      .optional()
      .meta({ description: "no launches or stops while true", default: DEFAULT_DESIRED.paused }),
    leaseSeconds: count(L.leaseSeconds, "default claim lease")
      .optional()
      .meta({ default: DEFAULT_DESIRED.leaseSeconds }),
    taskDefinition: z
      .string({
        error: (i) => `must be a string: family, family:revision or ARN (got ${describeValue(i.input)})`,
      })
      .min(td.min, tdLength)
      .max(td.max, tdLength)
      .regex(TASK_DEFINITION, {
        error: (i) =>
          `must be family, family:revision or arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision> (got ${JSON.stringify(i.input)})`,
      })
      .optional()
      .meta({ description: "task definition new tasks run (the reconciler's flag when absent)" }),
    maxSurge: count(L.maxSurge, "rollout: tasks of the new revision started beyond target")
      .optional()
      .meta({ default: DEFAULT_DESIRED.maxSurge }),
    policy: z
      .enum(WARM_POLICIES, {
        error: (i) => `must be one of ${WARM_POLICIES.join(", ")} (got ${describeValue(i.input)})`,
      })
      .optional()
      .meta({ description: "static: minWarm as written; adaptive: sized from demand", default: "static" }),
    adaptive: AdaptiveSchema.optional(),
    asg: AsgSchema.optional(),
  },
  {
    error: (i) =>
      i.code === "invalid_type"
        ? `desired state must be a JSON object (got ${describeValue(i.input)})`
        : undefined,
  },
);

type Fields = z.infer<typeof DesiredStateFields>;
const CHAIN = ["replenishThreshold", "minWarm", "maxWarm", "maxTasks"] as const;

/**
 * The relations between fields, on raw input: 0 ≤ replenishThreshold ≤ minWarm ≤ maxWarm ≤
 * maxTasks pairwise wherever both sides are themselves valid (also when other fields are not, so
 * every broken link is reported, each on its own field), and asg.minWarmInstances ≤
 * asg.maxPreparedCapacity. zod skips object refinements once a field has failed its type, so
 * validate.ts runs this on the raw document too.
 */
export function invariantIssues(input: unknown): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (!isPlainObject(input)) return out;
  const v = input;
  const given = (name: string): boolean => v[name] !== undefined;
  const value = (name: (typeof CHAIN)[number]): number | undefined =>
    given(name) ? valid(DesiredStateFields.shape[name], v[name]) : DEFAULT_DESIRED[name];
  const side = (name: string, n: number): string => `${name} ${n}${given(name) ? "" : " (default)"}`;
  for (let i = 0; i + 1 < CHAIN.length; i++) {
    const lo = CHAIN[i]!;
    const hi = CHAIN[i + 1]!;
    const loV = value(lo);
    const hiV = value(hi);
    if (loV !== undefined && hiV !== undefined && loV > hiV) {
      out.push({
        path: [lo],
        message:
          `must be ≤ ${hi} (${side(lo, loV)} > ${side(hi, hiV)}); ` +
          "rule: 0 ≤ replenishThreshold ≤ minWarm ≤ maxWarm ≤ maxTasks",
      });
    }
  }
  const asg = v.asg;
  if (isPlainObject(asg)) {
    const min = valid(AsgSchema.shape.minWarmInstances, asg.minWarmInstances) ?? DEFAULT_ASG.minWarmInstances;
    const max = valid(AsgSchema.shape.maxPreparedCapacity, asg.maxPreparedCapacity);
    const minOk =
      asg.minWarmInstances === undefined ||
      valid(AsgSchema.shape.minWarmInstances, asg.minWarmInstances) !== undefined;
    if (minOk && max !== undefined && min > max) {
      out.push({
        path: ["asg", "minWarmInstances"],
        message: `must be ≤ asg.maxPreparedCapacity (${min} > ${max})`,
      });
    }
  }
  return out;
}

/**
 * The desired state as stored in `wp:{pool}:config`: the fields, their relations (invariantIssues),
 * and the defaults filled in.
 */
export const DesiredStateSchema = DesiredStateFields.superRefine((v, ctx) => {
  for (const issue of invariantIssues(v))
    ctx.addIssue({ code: "custom", ...issue, params: { rule: "invariant" } });
}).transform((v: Fields): DesiredState => withDefaults(v));

function withDefaults(v: Fields): DesiredState {
  const out: DesiredState = {
    minWarm: v.minWarm ?? DEFAULT_DESIRED.minWarm,
    maxWarm: v.maxWarm ?? DEFAULT_DESIRED.maxWarm,
    replenishThreshold: v.replenishThreshold ?? DEFAULT_DESIRED.replenishThreshold,
    maxTasks: v.maxTasks ?? DEFAULT_DESIRED.maxTasks,
    paused: v.paused ?? DEFAULT_DESIRED.paused,
    leaseSeconds: v.leaseSeconds ?? DEFAULT_DESIRED.leaseSeconds,
    maxSurge: v.maxSurge ?? DEFAULT_DESIRED.maxSurge,
    policy: v.policy ?? DEFAULT_DESIRED.policy,
    adaptive: {
      windowSeconds: v.adaptive?.windowSeconds ?? DEFAULT_ADAPTIVE.windowSeconds,
      targetHitRate: v.adaptive?.targetHitRate ?? DEFAULT_ADAPTIVE.targetHitRate,
      scaleDownDelaySeconds: v.adaptive?.scaleDownDelaySeconds ?? DEFAULT_ADAPTIVE.scaleDownDelaySeconds,
    },
  };
  if (v.taskDefinition !== undefined) out.taskDefinition = v.taskDefinition;
  if (v.asg !== undefined) {
    const asg: AsgDesired = {
      groupName: v.asg.groupName,
      poolState: v.asg.poolState ?? DEFAULT_ASG.poolState,
      minWarmInstances: v.asg.minWarmInstances ?? DEFAULT_ASG.minWarmInstances,
      headroomInstances: v.asg.headroomInstances ?? DEFAULT_ASG.headroomInstances,
    };
    if (v.asg.tasksPerInstance !== undefined) asg.tasksPerInstance = v.asg.tasksPerInstance;
    if (v.asg.maxPreparedCapacity !== undefined) asg.maxPreparedCapacity = v.asg.maxPreparedCapacity;
    out.asg = asg;
  }
  return out;
}

/** The value when `schema` accepts it on its own, else undefined. */
function valid<T>(schema: z.ZodType<T>, v: unknown): T | undefined {
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON Schema (2020-12) of what may be written to the config key: the input side, with defaults. */
export function desiredStateJsonSchema(): Record<string, unknown> {
  return {
    title: "ecs-warmpool desired state",
    ...z.toJSONSchema(DesiredStateSchema, { io: "input", target: "draft-2020-12" }),
  };
}
