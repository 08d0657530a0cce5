/**
 * The Redis ACL of each process role (DESIGN §9), as data: which commands a role may run on which
 * keys of its pool, and which pub/sub channels it may use. One source renders the ACL file that
 * `warmpool dev` and the tests start redis-server with, and the ElastiCache RBAC access strings
 * Terraform creates (deploy/terraform/redis-acl.auto.tf, checked for drift by a test).
 *
 * ACL rules also bind the commands a Lua script runs (`redis.call` is checked against the caller's
 * user), and EVAL lets a user run any script: what a role can do is exactly the union of its grants,
 * whatever script it sends. So every grant is an explicit command list on explicit keys; a grant
 * after the first becomes a Redis 7 selector `( … )`, which binds those commands to those keys
 * only (the bridge may DEL an Idempotency-Key, never `warm`). docs/redis-acl.md has the table.
 */
import { createHash } from "node:crypto";
import { ClaimKeys } from "../claims/claim-keys.js";
import { REGISTRY_KEY, REPLICAS_KEY } from "../keys/index.js";

export const REDIS_ROLES = ["reconciler", "gateway", "bridge", "ctl"] as const;
export type RedisRole = (typeof REDIS_ROLES)[number];

/** The ACL user name of a role. */
export const aclUser = (role: RedisRole): string => `warmpool-${role}`;

/** A key of the pool, relative to its prefix, written with the pool's key builder. */
type KeyOf = (k: ClaimKeys) => string;

export interface AclGrant {
  /** Commands (`client|setname` for a subcommand); no categories, so nothing arrives unseen. */
  commands: string[];
  /** Keys read and written (`~`). */
  keys?: KeyOf[];
  /** Keys only read (`%R~`). */
  readKeys?: KeyOf[];
  /** Pub/sub channels (`&`), published to or subscribed to. */
  channels?: KeyOf[];
}

export interface RoleAcl {
  role: RedisRole;
  /** What the role does with Redis, for the docs table. */
  purpose: string;
  /** The first grant is the user's root permissions; each further one is a selector. */
  grants: AclGrant[];
}

/**
 * What every client needs to connect and probe: no keys. HELLO and AUTH are always allowed; CLIENT
 * SETINFO (Redis 7.2) is not granted, the factory turns it off (older servers reject the rule).
 * CLUSTER SLOTS: a Redis Cluster client (`redis+cluster://`) reads the slot map with it.
 */
const CONNECTION = ["ping", "role", "quit", "client|setname", "cluster|slots"];

const task = (k: ClaimKeys): string => k.task("*");
const inbox = (k: ClaimKeys): string => k.inbox("*");
const claim = (k: ClaimKeys): string => k.claim("*");
const idem = (k: ClaimKeys): string => k.idempotency("*");
const tasks = (k: ClaimKeys): string => k.tasks;
const warm = (k: ClaimKeys): string => k.warm;
const waiting = (k: ClaimKeys): string => k.waiting;
const claims = (k: ClaimKeys): string => k.claims;
const events = (k: ClaimKeys): string => k.events;
const notify = (k: ClaimKeys): string => k.readyChannel;
const userQuota = (k: ClaimKeys): string => k.userQuota("*");
const clientQuota = (k: ClaimKeys): string => k.clientQuota("*");
/** Control-plane keys outside any pool (pkg/pools, pkg/fleet, pkg/budget). */
const registry = (): string => REGISTRY_KEY;
const replicas = (): string => REPLICAS_KEY;
/** Every shared AWS call budget (`wp:budget:{<account>:<region>:<api>}:…`): one per account. */
const budgets = (): string => "wp:budget:{*}:*";

const ROLES: Record<RedisRole, RoleAcl> = {
  bridge: {
    role: "bridge",
    purpose:
      "register its task (register-7+), wait on its inbox (BLPOP), report ready/failed (ready-4), end its session (release-4+), leave the pool (cordon-5, unfenced)",
    grants: [
      {
        // EVAL needs read-write access to every key a script declares; the commands that touch
        // them inside the scripts are granted key by key below.
        commands: [
          ...CONNECTION,
          "eval",
          "evalsha",
          "time",
          "hget",
          "hmget",
          "hgetall",
          "hset",
          "hsetnx",
          "publish",
        ],
        keys: [task, claim, tasks, warm, waiting, claims, events],
        channels: [notify],
      },
      { commands: ["blpop", "rpush", "pexpire"], keys: [inbox] },
      { commands: ["pexpire"], keys: [claim] },
      { commands: ["sadd"], keys: [tasks] },
      { commands: ["zadd", "zrem", "zscore"], keys: [warm, claims] },
      { commands: ["lpop", "lrange"], keys: [waiting] },
      { commands: ["xadd"], keys: [events] },
      // register-7+ frees the Idempotency-Key of a waiter that timed out.
      { commands: ["get", "del"], keys: [idem] },
    ],
  },
  gateway: {
    role: "gateway",
    purpose:
      "claim (claim-8+, within the per-user and per-client quotas), heartbeat (heartbeat-3+), release (release-4+), pool view (snapshot-3+, status), ready notices (SUBSCRIBE), lease default from the desired state",
    grants: [
      {
        commands: [
          ...CONNECTION,
          "eval",
          "evalsha",
          "multi",
          "exec",
          "discard",
          "time",
          "hget",
          "hmget",
          "hgetall",
          "hset",
          "publish",
          "subscribe",
          "unsubscribe",
        ],
        keys: [task, claim, idem, tasks, warm, waiting, claims, events, userQuota, clientQuota],
        channels: [notify],
      },
      // Per-user and per-client concurrent-claim quotas (claim-8+, heartbeat-3+, release-4+).
      {
        commands: ["zadd", "zrem", "zrange", "zcard", "zremrangebyscore", "pexpireat", "pexpire", "pttl"],
        keys: [userQuota, clientQuota],
      },
      { commands: ["rpush"], keys: [inbox, waiting] },
      { commands: ["pexpire"], keys: [claim] },
      // zrange: GET /v1/pool reads the oldest warm task (pkg/claims/summary.ts).
      // zrandmember: claim-8+ asks for a random sample of warm tasks to declare (pkg/claims/claim-script.ts).
      {
        commands: ["zpopmin", "zadd", "zrem", "zscore", "zcard", "zrange", "zrandmember"],
        keys: [warm, claims],
      },
      { commands: ["lrem", "llen"], keys: [waiting] },
      { commands: ["smembers", "scard"], keys: [tasks] },
      { commands: ["xadd"], keys: [events] },
      { commands: ["get", "set", "del"], keys: [idem] },
      { commands: ["get"], readKeys: [(k) => k.config, (k) => k.status] },
      // `/v1/pools/{pool}/…` looks the pool up in the registry (pkg/gateway/pools.ts).
      { commands: ["hget", "hgetall"], readKeys: [registry] },
    ],
  },
  reconciler: {
    role: "reconciler",
    purpose:
      "the leader lease and its epoch, the pass (snapshot-3+ or the record cache's records-4+, record-launch-3, cordon-5, expire-3+, forget-6+, mark-orphan-3, state-birth-1), the events stream and config-key notifications, the status it publishes, rejected desired states in the history",
    grants: [
      {
        commands: [
          ...CONNECTION,
          "eval",
          "evalsha",
          "time",
          "hget",
          "hmget",
          "hgetall",
          "hset",
          "hsetnx",
          "exists",
          "publish",
          "subscribe",
          "unsubscribe",
        ],
        keys: [
          task,
          claim,
          tasks,
          warm,
          waiting,
          claims,
          events,
          (k) => k.leader,
          (k) => k.epoch,
          (k) => k.born,
          (k) => k.configHistory,
          replicas,
          budgets,
        ],
        channels: [notify, (k) => `__keyspace@*__:${k.config}`],
      },
      // Reconciler replicas (pkg/fleet heartbeat-1) and the shared AWS budget (pkg/budget take-2).
      { commands: ["zadd", "zrem", "zrange", "zremrangebyscore"], keys: [replicas] },
      {
        commands: ["hget", "hset", "hdel", "pexpire", "zadd", "zcard", "zrangebyscore", "zremrangebyscore"],
        keys: [budgets],
      },
      { commands: ["hget", "hgetall"], readKeys: [registry] },
      { commands: ["rpush", "pexpire", "del"], keys: [inbox] },
      { commands: ["pexpire"], keys: [claim] },
      { commands: ["del"], keys: [task] },
      { commands: ["sadd", "srem", "smembers", "scard"], keys: [tasks] },
      { commands: ["zrem", "zscore", "zcount", "zcard", "zrangebyscore"], keys: [warm, claims] },
      { commands: ["llen"], keys: [waiting] },
      { commands: ["xadd", "xread", "xrange", "xrevrange"], keys: [events] },
      { commands: ["get", "set", "pexpire", "pttl", "del", "incr"], keys: [(k) => k.leader, (k) => k.epoch] },
      { commands: ["get", "set"], keys: [(k) => k.born, (k) => k.status] },
      { commands: ["xadd", "xrevrange"], keys: [(k) => k.configHistory] },
      { commands: ["get"], readKeys: [(k) => k.config, (k) => k.drain] },
    ],
  },
  ctl: {
    role: "ctl",
    purpose:
      "on-call: desired state (config-set-3, history), drain requests, release a claim (release-4+), the pool registry, read everything of the pool for status",
    grants: [
      {
        commands: [
          ...CONNECTION,
          "eval",
          "evalsha",
          "multi",
          "exec",
          "discard",
          "time",
          "get",
          "pttl",
          "hget",
          "hmget",
          "hgetall",
          "smembers",
          "scard",
          "zrange",
          "zscore",
          "zcard",
          "zcount",
          "lrange",
          "llen",
          "xrange",
          "xrevrange",
          "xlen",
        ],
        // Read-write only where a ctl script declares the key (config-set-3, release-4+, mark-deleting-1).
        keys: [
          claim,
          waiting,
          claims,
          events,
          (k) => k.config,
          (k) => k.configHistory,
          (k) => k.drain,
          registry,
        ],
        readKeys: [task, tasks, warm, (k) => k.leader, (k) => k.epoch, (k) => k.status],
      },
      { commands: ["set", "del"], keys: [(k) => k.config, (k) => k.drain] },
      { commands: ["xadd"], keys: [(k) => k.configHistory, events] },
      // release-4+: the claim ends, its task drains, its bridge is told.
      { commands: ["hset", "pexpire"], keys: [claim, task] },
      { commands: ["publish"], channels: [notify] },
      { commands: ["zrem"], keys: [claims, userQuota, clientQuota] },
      { commands: ["rpush"], keys: [inbox] },
      { commands: ["lrem"], keys: [waiting] },
      { commands: ["get", "del"], keys: [idem] },
      // The pool registry (ctl pool create | list | delete).
      { commands: ["hsetnx", "hset", "hdel"], keys: [registry] },
    ],
  },
};

export function roleAcl(role: RedisRole): RoleAcl {
  return ROLES[role];
}

/** The placeholder Terraform replaces with the pool name (HCL never reads `__` as a template). */
export const POOL_PLACEHOLDER = "__POOL__";

/** A key pattern of `pool`, or of the placeholder (for Terraform). */
function render(key: KeyOf, pool: string): string {
  const k = new ClaimKeys("x");
  return key(k).split(k.prefix).join(`wp:{${pool}}:`);
}

function grantRules(g: AclGrant, pool: string): string[] {
  return [
    ...(g.keys ?? []).map((k) => `~${render(k, pool)}`),
    ...(g.readKeys ?? []).map((k) => `%R~${render(k, pool)}`),
    ...(g.channels ?? []).map((c) => `&${render(c, pool)}`),
    "-@all",
    ...g.commands.map((c) => `+${c}`),
  ];
}

export interface AclRenderOptions {
  /** One root permission set, the union of every grant (for an engine without selectors). */
  flat?: boolean;
}

/**
 * The rules of a role for `pool` (no `on`/password): `resetkeys resetchannels ~… &… -@all +…`
 * followed by each selector. `pool` may be POOL_PLACEHOLDER, or "*" for every pool.
 */
export function aclRules(role: RedisRole, pool: string, o: AclRenderOptions = {}): string[] {
  // "*": every pool (a reconciler serving many pools, on-call across them); else one valid name.
  if (pool !== POOL_PLACEHOLDER && pool !== "*") new ClaimKeys(pool);
  const grants = ROLES[role].grants;
  const reset = ["resetkeys", "resetchannels"];
  if (o.flat) {
    const union: AclGrant = {
      commands: [...new Set(grants.flatMap((g) => g.commands))],
      keys: grants.flatMap((g) => g.keys ?? []),
      readKeys: grants.flatMap((g) => g.readKeys ?? []),
      channels: grants.flatMap((g) => g.channels ?? []),
    };
    return [...reset, ...dedupe(grantRules(union, pool))];
  }
  const [root, ...selectors] = grants;
  return [
    ...reset,
    ...grantRules(root!, pool),
    ...selectors.map((s) => `(${grantRules(s, pool).join(" ")})`),
  ];
}

function dedupe(rules: string[]): string[] {
  const seen = new Set<string>();
  return rules.filter((r) => !seen.has(r) && seen.add(r));
}

/** An ElastiCache RBAC access string (`on …`: no password, ElastiCache sets those apart). */
export function accessString(role: RedisRole, pool: string, o: AclRenderOptions = {}): string {
  // A new user starts with nothing: no reset rules needed (nor accepted by every engine).
  return ["on", ...aclRules(role, pool, o).filter((r) => !r.startsWith("reset"))].join(" ");
}

/**
 * An ACL file for redis-server (`--aclfile`): one user per role with its password, the default user
 * off, and optionally an admin user for tests and dev tooling (never created in production).
 */
export function aclFile(
  pool: string,
  passwords: Record<RedisRole, string>,
  admin?: { user: string; password: string },
): string {
  const lines = ["user default off resetkeys resetchannels -@all"];
  for (const role of REDIS_ROLES) {
    const pw = passwords[role];
    if (!/^[\x21-\x7e]{16,128}$/.test(pw) || pw.includes("#"))
      throw new Error(`password of ${role}: 16-128 printable characters without spaces or '#'`);
    lines.push(`user ${aclUser(role)} on #${sha256(pw)} ${aclRules(role, pool).join(" ")}`);
  }
  if (admin) lines.push(`user ${admin.user} on #${sha256(admin.password)} ~* &* +@all`);
  return lines.join("\n") + "\n";
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** A map attribute as `terraform fmt` writes it (equals signs aligned). */
function hclMap(name: string, m: Record<string, string>, indent: string): string[] {
  const w = Math.max(...Object.keys(m).map((k) => k.length));
  return [
    `${indent}${name} = {`,
    ...Object.entries(m).map(([k, v]) => `${indent}  ${k.padEnd(w)} = ${JSON.stringify(v)}`),
    `${indent}}`,
  ];
}

/** The Terraform locals (HCL) with each role's user name and access string, for the pool placeholder. */
export function terraformAcl(): string {
  const strings = (flat: boolean): Record<string, string> =>
    Object.fromEntries(REDIS_ROLES.map((r) => [r, accessString(r, POOL_PLACEHOLDER, { flat })]));
  return [
    "# Generated from pkg/redis/acl.ts by `node dist/hack/redis/gen-acl.js`: do not edit.",
    "# test/redis/acl-render.test.ts fails when this file and the module disagree.",
    "# redis.tf replaces the placeholder with the pool name; *_flat has no Redis 7 selectors.",
    "locals {",
    `  redis_acl_pool_placeholder = ${JSON.stringify(POOL_PLACEHOLDER)}`,
    ...hclMap("redis_acl_users", Object.fromEntries(REDIS_ROLES.map((r) => [r, aclUser(r)])), "  "),
    ...hclMap("redis_acl_access", strings(false), "  "),
    ...hclMap("redis_acl_access_flat", strings(true), "  "),
    "}",
    "",
  ].join("\n");
}

/** The role → permissions table of docs/redis-acl.md (keys relative to `wp:{<pool>}:`). */
export function aclMarkdownTable(): string {
  const rel = (keys: KeyOf[] | undefined): string =>
    (keys ?? []).map((k) => `\`${render(k, "P").replace("wp:{P}:", "")}\``).join(" ") || "—";
  const rows = [
    "| role | commands | keys (read-write) | keys (read-only) | channels |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const role of REDIS_ROLES) {
    ROLES[role].grants.forEach((g, i) => {
      rows.push(
        `| ${i === 0 ? `**${role}**` : `${role} (selector)`} | ${g.commands.map((c) => c.replace("|", " ")).join(", ")} | ${rel(g.keys)} | ${rel(g.readKeys)} | ${rel(g.channels)} |`,
      );
    });
  }
  return rows.join("\n") + "\n";
}
