/**
 * The reconciler process's configuration: every flag name once, the parsed shape, and a
 * validation that reports every problem at once (Agones `validate() []error`).
 */
import { assertPoolName } from "../keys/index.js";
import { checkRedisUrl } from "../redis/index.js";

export const FLAGS = {
  pool: "pool",
  cluster: "cluster",
  taskDefinition: "task-definition",
  redisUrl: "redis-url",
  region: "region",
  endpointUrl: "endpoint-url",
  subnets: "subnets",
  securityGroups: "security-groups",
  assignPublicIp: "assign-public-ip",
  launchType: "launch-type",
  capacityProvider: "capacity-provider",
  placementStrategy: "placement-strategy",
  resyncInterval: "resync-interval",
  leaseTtl: "lease-ttl",
  registerTimeout: "register-timeout",
  visibilityGrace: "visibility-grace",
  metricsPort: "metrics-port",
  logLevel: "log-level",
  readRate: "ecs-read-rate",
  writeRate: "ecs-write-rate",
  observe: "observe",
  readBudget: "ecs-read-budget",
  writeBudget: "ecs-write-budget",
  feedQueueUrl: "feed-queue-url",
  sqsEndpointUrl: "sqs-endpoint-url",
  relistInterval: "relist-interval",
  inDoubtGrace: "in-doubt-grace",
  recordReread: "record-reread-interval",
  fastRefill: "fast-refill",
  feedWait: "feed-wait",
  pools: "pools",
  poolSelector: "pool-selector",
  allPools: "all-pools",
  fleetTtl: "fleet-ttl",
  awsAccount: "aws-account",
  budgetEcsRead: "budget-ecs-read",
  budgetEcsWrite: "budget-ecs-write",
  budgetAsg: "budget-asg",
  feedHandoffVisibility: "feed-handoff-visibility",
  feedHandoffMaxReceives: "feed-handoff-max-receives",
} as const;

/**
 * The shared budget's defaults (calls/s, every pool and replica of an account and region
 * together). ECS: a tenth of its published buckets (20 List/Describe, 40 Run/Stop per second).
 * Auto Scaling: AWS documents one token bucket shared by every EC2 Auto Scaling API call of the
 * account and region (Describe* and mutating calls alike) but publishes neither its size nor its
 * refill rate, so the default is the lowest rate the capacity driver already assumed safe for one
 * process (its write bucket, 5/s); see docs/many-pools.md.
 */
export const FLEET_BUDGET_DEFAULTS = { ecsRead: 2, ecsWrite: 4, asg: 5 } as const;

/** The feed fan-out's handoff defaults: visibility (s) of an event handed back, receives before it is dropped. */
export const FEED_HANDOFF_DEFAULTS = { visibilitySeconds: 2, maxReceives: 50 } as const;

export const OBSERVE = ["cache", "list"] as const;

export const LAUNCH_TYPES = ["EC2", "FARGATE", "EXTERNAL"] as const;
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

export interface ReconcilerConfig {
  pool: string;
  cluster: string;
  taskDefinition: string;
  redisUrl: string;
  region: string;
  endpointUrl?: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  launchType?: (typeof LAUNCH_TYPES)[number];
  /** `name` or `name:weight[:base]`, comma separated. */
  capacityProviders: { capacityProvider: string; weight?: number; base?: number }[];
  /**
   * RunTask placementStrategy for EC2 capacity (`--placement-strategy type[:field],…` or `none`).
   * Default binpack on memory with `--launch-type EC2` or a capacity provider (not FARGATE*), so
   * tasks pack onto few instances and the rest can scale in; none for FARGATE and EXTERNAL.
   */
  placementStrategy: { type: "binpack" | "spread" | "random"; field?: string }[];
  resyncMs: number;
  leaseTtlMs: number;
  registerTimeoutMs?: number;
  /** How long a launch not yet in ListTasks counts as expected, and an unrecorded task waits before it is an orphan. */
  visibilityGraceMs?: number;
  metricsPort: number;
  logLevel: (typeof LOG_LEVELS)[number];
  readRatePerSec?: number;
  writeRatePerSec?: number;
  /**
   * `cache` (default): passes plan from a task cache fed by the event feed (when a queue is
   * configured), the reconciler's own writes and relists. `list`: the older way, a full
   * ListTasks + DescribeTasks every pass.
   */
  observe: (typeof OBSERVE)[number];
  /** List/Describe calls per second this reconciler may spend (cache mode default 2). */
  readBudget: number;
  /** Run/Stop calls per second this reconciler may spend (default 10). */
  writeBudget: number;
  /** The SQS queue the EventBridge rule for ECS task state changes feeds; absent = no feed. */
  feedQueueUrl?: string;
  /** SQS endpoint override (default: --endpoint-url, the emulator serves both). */
  sqsEndpointUrl?: string;
  relistMs: number;
  inDoubtGraceMs: number;
  /**
   * Cache mode: every task record is read in full this often (and on taking the lease); between
   * full reads a pass reads only the records the events stream and its own writes name.
   */
  recordRereadMs: number;
  /** Refill a threshold-crossing claim from O(1) counters, before the next pass (`--fast-refill`). */
  fastRefill: boolean;
  /** ReceiveMessage WaitTimeSeconds (0–20). */
  feedWaitSeconds: number;
  /**
   * Many pools in one process (`--pools`, `--pool-selector`, `--all-pools`); absent = the one
   * pool of `--pool`. `pool` is then empty.
   */
  fleet?: FleetConfig;
}

export interface FleetConfig {
  /** `--pools a,b`: only these registered pools. */
  names?: string[];
  /** `--pool-selector k=v,k=v`: only registered pools with these labels. */
  selector?: Record<string, string>;
  /** A replica not heard from for this long is gone; its pools move (`--fleet-ttl`, default 5 s). */
  ttlMs: number;
  /** Account name of the shared budget's key (`--aws-account`, default `default`). */
  account: string;
  /** Calls/s the whole account may spend on ECS List/Describe and Run/Stop, every replica together. */
  budgetRead: number;
  budgetWrite: number;
  /** Calls/s the whole account may spend on EC2 Auto Scaling (`--budget-asg`, every API of it). */
  budgetAsg: number;
  /** Visibility (s) an event of a pool another replica serves is handed back with (`--feed-handoff-visibility`). */
  handoffVisibilitySeconds: number;
  /** Receives after which such an event is deleted all the same (`--feed-handoff-max-receives`). */
  handoffMaxReceives: number;
}

/** `250ms`, `10s`, `2m`, or a bare number of seconds. */
export function parseDuration(v: string | number, field: string): number {
  if (typeof v === "number") return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`${field}: "${v}" is not a duration (e.g. 250ms, 10s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

export const splitList = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : (v ?? "").split(","))
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);

export type RawFlags = Record<string, unknown>;

/** Builds and validates the config from parsed flags; throws one error listing every problem. */
export function buildConfig(raw: RawFlags): ReconcilerConfig {
  const problems: string[] = [];
  const str = (k: string): string | undefined => {
    const v = raw[k];
    return v === undefined || v === null || v === "" ? undefined : String(v);
  };
  const req = (k: string): string => {
    const v = str(k);
    if (v === undefined) problems.push(`--${k} (WARMPOOL_${k.toUpperCase().replace(/-/g, "_")}) is required`);
    return v ?? "";
  };
  const dur = (k: string, def: number, min: number, max: number): number => {
    const v = raw[k];
    if (v === undefined || v === "") return def;
    try {
      const ms = parseDuration(v as string | number, `--${k}`);
      if (ms < min || ms > max)
        problems.push(`--${k}: must be between ${min} ms and ${max} ms, got ${ms} ms`);
      return ms;
    } catch (e) {
      problems.push((e as Error).message);
      return def;
    }
  };
  const fleet = buildFleet(raw, str, problems);
  if (!fleet)
    for (const k of [
      FLAGS.fleetTtl,
      FLAGS.awsAccount,
      FLAGS.budgetEcsRead,
      FLAGS.budgetEcsWrite,
      FLAGS.budgetAsg,
      FLAGS.feedHandoffVisibility,
      FLAGS.feedHandoffMaxReceives,
    ])
      if (str(k) !== undefined)
        problems.push(`--${k}: only with many pools (--pools, --pool-selector or --all-pools)`);
  const pool = fleet ? "" : req(FLAGS.pool);
  if (fleet && str(FLAGS.pool) !== undefined)
    problems.push(`--${FLAGS.pool}: serves one pool; drop it with --pools, --pool-selector or --all-pools`);
  if (pool) {
    try {
      assertPoolName(pool);
    } catch (e) {
      problems.push(`--pool: ${(e as Error).message}`);
    }
  }
  const redisUrl = str(FLAGS.redisUrl) ?? "redis://127.0.0.1:6379";
  try {
    checkRedisUrl(redisUrl, "--redis-url");
  } catch (e) {
    problems.push((e as Error).message);
  }
  const endpointUrl = str(FLAGS.endpointUrl);
  if (endpointUrl && !/^https?:\/\//.test(endpointUrl))
    problems.push(`--endpoint-url: must be an http(s) URL`);
  const launchType = str(FLAGS.launchType)?.toUpperCase();
  if (launchType && !(LAUNCH_TYPES as readonly string[]).includes(launchType)) {
    problems.push(`--launch-type: must be one of ${LAUNCH_TYPES.join(", ")}, got "${launchType}"`);
  }
  const capacityProviders = splitList(raw[FLAGS.capacityProvider] as string | undefined).map((s) => {
    const [name = "", weight, base] = s.split(":");
    const cp: ReconcilerConfig["capacityProviders"][number] = { capacityProvider: name };
    if (weight !== undefined) cp.weight = Number(weight);
    if (base !== undefined) cp.base = Number(base);
    if (!name || [cp.weight, cp.base].some((n) => n !== undefined && !(Number.isInteger(n) && n >= 0))) {
      problems.push(`--capacity-provider: "${s}" must be name[:weight[:base]] with integer weight and base`);
    }
    return cp;
  });
  if (launchType && capacityProviders.length > 0) {
    problems.push("--launch-type and --capacity-provider exclude each other (ECS refuses both)");
  }
  const placementStrategy = parsePlacementStrategy(
    str(FLAGS.placementStrategy),
    launchType,
    capacityProviders.map((c) => c.capacityProvider),
    problems,
  );
  const port = Number(raw[FLAGS.metricsPort] ?? 9464);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`--metrics-port: must be 0–65535`);
  const logLevel = (str(FLAGS.logLevel) ?? "info") as ReconcilerConfig["logLevel"];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`--log-level: must be one of ${LOG_LEVELS.join(", ")}`);
  const rate = (k: string): number | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n > 0)) problems.push(`--${k}: must be a positive number of calls per second`);
    return n;
  };
  const cfg: ReconcilerConfig = {
    pool,
    cluster: req(FLAGS.cluster),
    taskDefinition: req(FLAGS.taskDefinition),
    redisUrl,
    region: str(FLAGS.region) ?? process.env.AWS_REGION ?? "us-east-1",
    subnets: splitList(raw[FLAGS.subnets] as string | undefined),
    securityGroups: splitList(raw[FLAGS.securityGroups] as string | undefined),
    assignPublicIp: raw[FLAGS.assignPublicIp] === true || raw[FLAGS.assignPublicIp] === "true",
    capacityProviders,
    placementStrategy,
    resyncMs: dur(FLAGS.resyncInterval, 10_000, 50, 3_600_000),
    leaseTtlMs: dur(FLAGS.leaseTtl, 10_000, 300, 300_000),
    metricsPort: port,
    logLevel,
    observe: "cache",
    readBudget: 2,
    writeBudget: 10,
    relistMs: dur(FLAGS.relistInterval, 300_000, 1_000, 86_400_000),
    inDoubtGraceMs: dur(FLAGS.inDoubtGrace, 30_000, 100, 3_600_000),
    recordRereadMs: dur(FLAGS.recordReread, 300_000, 1_000, 86_400_000),
    feedWaitSeconds: 20,
    fastRefill: true,
  };
  const fast = str(FLAGS.fastRefill) ?? "on";
  if (fast !== "on" && fast !== "off")
    problems.push(`--${FLAGS.fastRefill}: must be on or off, got "${fast}"`);
  else cfg.fastRefill = fast === "on";
  const observe = str(FLAGS.observe) ?? "cache";
  if (!(OBSERVE as readonly string[]).includes(observe))
    problems.push(`--${FLAGS.observe}: must be one of ${OBSERVE.join(", ")}, got "${observe}"`);
  else cfg.observe = observe as ReconcilerConfig["observe"];
  // List mode keeps its older default, ECS's whole 20/s (every pass lists everything).
  cfg.readBudget = rate(FLAGS.readBudget) ?? (cfg.observe === "list" ? 20 : 2);
  cfg.writeBudget = rate(FLAGS.writeBudget) ?? (cfg.observe === "list" ? 40 : 10);
  const queue = str(FLAGS.feedQueueUrl);
  if (queue !== undefined) {
    if (!/^https?:\/\//.test(queue)) problems.push(`--${FLAGS.feedQueueUrl}: must be an http(s) queue URL`);
    else if (cfg.observe === "list") problems.push(`--${FLAGS.feedQueueUrl}: needs --observe=cache`);
    cfg.feedQueueUrl = queue;
  }
  const sqsEndpoint = str(FLAGS.sqsEndpointUrl);
  if (sqsEndpoint !== undefined) {
    if (!/^https?:\/\//.test(sqsEndpoint)) problems.push(`--${FLAGS.sqsEndpointUrl}: must be an http(s) URL`);
    cfg.sqsEndpointUrl = sqsEndpoint;
  }
  const wait = raw[FLAGS.feedWait];
  if (wait !== undefined && wait !== "") {
    const n = Number(wait);
    if (!Number.isInteger(n) || n < 0 || n > 20)
      problems.push(`--${FLAGS.feedWait}: must be an integer 0–20 (seconds), got "${String(wait)}"`);
    else cfg.feedWaitSeconds = n;
  }
  if (raw[FLAGS.registerTimeout] !== undefined)
    cfg.registerTimeoutMs = dur(FLAGS.registerTimeout, 180_000, 1_000, 3_600_000);
  if (raw[FLAGS.visibilityGrace] !== undefined)
    cfg.visibilityGraceMs = dur(FLAGS.visibilityGrace, 60_000, 1_000, 3_600_000);
  if (endpointUrl) cfg.endpointUrl = endpointUrl;
  if (launchType) cfg.launchType = launchType as ReconcilerConfig["launchType"];
  const rr = rate(FLAGS.readRate);
  if (rr !== undefined) cfg.readRatePerSec = rr;
  const wr = rate(FLAGS.writeRate);
  if (wr !== undefined) cfg.writeRatePerSec = wr;
  if (fleet) cfg.fleet = fleet;
  if (problems.length > 0)
    throw new Error(`invalid reconciler configuration:\n  - ${problems.join("\n  - ")}`);
  return cfg;
}

/** The many-pools flags; undefined when none is given (the single `--pool` mode). */
function buildFleet(
  raw: RawFlags,
  str: (k: string) => string | undefined,
  problems: string[],
): FleetConfig | undefined {
  const names = str(FLAGS.pools);
  const selector = str(FLAGS.poolSelector);
  const all = raw[FLAGS.allPools] === true || raw[FLAGS.allPools] === "true";
  const given = [names, selector].filter((v) => v !== undefined).length + (all ? 1 : 0);
  if (given === 0) return undefined;
  if (given > 1)
    problems.push(`--${FLAGS.pools}, --${FLAGS.poolSelector} and --${FLAGS.allPools} exclude each other`);
  const fleet: FleetConfig = {
    ttlMs: 5_000,
    account: "default",
    budgetRead: FLEET_BUDGET_DEFAULTS.ecsRead,
    budgetWrite: FLEET_BUDGET_DEFAULTS.ecsWrite,
    budgetAsg: FLEET_BUDGET_DEFAULTS.asg,
    handoffVisibilitySeconds: FEED_HANDOFF_DEFAULTS.visibilitySeconds,
    handoffMaxReceives: FEED_HANDOFF_DEFAULTS.maxReceives,
  };
  if (names !== undefined) {
    fleet.names = splitList(names);
    for (const n of fleet.names) {
      try {
        assertPoolName(n);
      } catch (e) {
        problems.push(`--${FLAGS.pools}: ${(e as Error).message}`);
      }
    }
    if (fleet.names.length === 0) problems.push(`--${FLAGS.pools}: names no pool`);
  }
  if (selector !== undefined) {
    fleet.selector = {};
    for (const kv of splitList(selector)) {
      const eq = kv.indexOf("=");
      if (eq <= 0) problems.push(`--${FLAGS.poolSelector}: "${kv}" must be key=value`);
      else fleet.selector[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    if (Object.keys(fleet.selector).length === 0) problems.push(`--${FLAGS.poolSelector}: names no label`);
  }
  const ttl = str(FLAGS.fleetTtl);
  if (ttl !== undefined) {
    try {
      fleet.ttlMs = parseDuration(ttl, `--${FLAGS.fleetTtl}`);
      if (fleet.ttlMs < 300 || fleet.ttlMs > 300_000)
        problems.push(`--${FLAGS.fleetTtl}: must be between 300 ms and 300000 ms, got ${fleet.ttlMs} ms`);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const account = str(FLAGS.awsAccount);
  if (account !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(account))
      problems.push(`--${FLAGS.awsAccount}: must be 1–64 of A-Z a-z 0-9 _ . -, got "${account}"`);
    fleet.account = account;
  }
  for (const [k, field] of [
    [FLAGS.budgetEcsRead, "budgetRead"],
    [FLAGS.budgetEcsWrite, "budgetWrite"],
    [FLAGS.budgetAsg, "budgetAsg"],
  ] as const) {
    const v = str(k);
    if (v === undefined) continue;
    const n = Number(v);
    if (!(Number.isFinite(n) && n > 0))
      problems.push(`--${k}: must be a positive number of calls per second`);
    else fleet[field] = n;
  }
  const vis = str(FLAGS.feedHandoffVisibility);
  if (vis !== undefined) {
    try {
      const ms = parseDuration(vis, `--${FLAGS.feedHandoffVisibility}`);
      // SQS's ChangeMessageVisibility takes whole seconds, 0–43200; 0 would hand an event straight
      // back to the replica that just received it.
      if (!(Number.isInteger(ms / 1000) && ms >= 1_000 && ms <= 43_200_000))
        problems.push(
          `--${FLAGS.feedHandoffVisibility}: must be a whole number of seconds between 1s and 43200s (SQS's limit), got "${vis}"`,
        );
      else fleet.handoffVisibilitySeconds = ms / 1000;
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const cap = str(FLAGS.feedHandoffMaxReceives);
  if (cap !== undefined) {
    const n = Number(cap);
    if (!(Number.isInteger(n) && n >= 1 && n <= 1_000))
      problems.push(`--${FLAGS.feedHandoffMaxReceives}: must be an integer 1–1000 (receives), got "${cap}"`);
    else fleet.handoffMaxReceives = n;
  }
  return fleet;
}

const STRATEGY_TYPES = ["binpack", "spread", "random"] as const;

/** `--placement-strategy`: `none`, or `type[:field]` items; defaulted from the launch type. */
function parsePlacementStrategy(
  raw: string | undefined,
  launchType: string | undefined,
  providers: string[],
  problems: string[],
): ReconcilerConfig["placementStrategy"] {
  const fargate = launchType === "FARGATE" || providers.some((p) => p.startsWith("FARGATE"));
  const ec2 = launchType === "EC2" || (providers.length > 0 && !fargate);
  if (raw === undefined) return ec2 ? [{ type: "binpack", field: "memory" }] : [];
  if (raw.trim().toLowerCase() === "none") return [];
  if (launchType === "FARGATE") {
    problems.push(`--placement-strategy: FARGATE takes no placement strategy (use none), got "${raw}"`);
    return [];
  }
  return splitList(raw).flatMap((item) => {
    const colon = item.indexOf(":");
    const type = colon < 0 ? item : item.slice(0, colon);
    const field = colon < 0 ? undefined : item.slice(colon + 1);
    if (!(STRATEGY_TYPES as readonly string[]).includes(type) || (type === "random" && field)) {
      problems.push(
        `--placement-strategy: "${item}" must be binpack:cpu|memory, spread:<field> or random, or none`,
      );
      return [];
    }
    if (type === "binpack" && field !== "cpu" && field !== "memory") {
      problems.push(`--placement-strategy: "${item}": binpack needs the field cpu or memory`);
      return [];
    }
    if (type === "spread" && !field) {
      problems.push(
        `--placement-strategy: "${item}": spread needs a field (e.g. attribute:ecs.availability-zone)`,
      );
      return [];
    }
    return [{ type: type as (typeof STRATEGY_TYPES)[number], ...(field ? { field } : {}) }];
  });
}
