/**
 * What each role's ACL user must be refused (docs/redis-acl.md has the same table): the admin and
 * dangerous commands for everyone, the control keys for those that do not own them, and the
 * scripts a stolen credential would send to get around the key rules.
 */
import type { Redis } from "ioredis";
import { ClaimKeys } from "../../pkg/claims/index.js";
import type { RedisRole } from "../../pkg/redis/index.js";

export interface Attempt {
  role: RedisRole;
  what: string;
  /** The command and its arguments for `pool`. */
  cmd: (k: ClaimKeys, other: ClaimKeys) => string[];
  /** Refused even with full rights (a server setting), so not part of the broken-setup proof. */
  skipBroken?: boolean;
}

const EVERYONE: Omit<Attempt, "role">[] = [
  { what: "FLUSHALL", cmd: () => ["FLUSHALL"] },
  { what: "CONFIG GET", cmd: () => ["CONFIG", "GET", "requirepass"] },
  { what: "CONFIG SET", cmd: () => ["CONFIG", "SET", "notify-keyspace-events", "KEA"] },
  { what: "KEYS", cmd: () => ["KEYS", "*"] },
  { what: "SCAN", cmd: () => ["SCAN", "0"] },
  { what: "INFO", cmd: () => ["INFO"] },
  { what: "ACL LIST", cmd: () => ["ACL", "LIST"] },
  { what: "CLIENT LIST", cmd: () => ["CLIENT", "LIST"] },
  { what: "CLIENT KILL", cmd: () => ["CLIENT", "KILL", "ID", "999999"] },
  { what: "MODULE LIST", cmd: () => ["MODULE", "LIST"] },
  { what: "SCRIPT FLUSH", cmd: () => ["SCRIPT", "FLUSH"] },
  { what: "FUNCTION LIST", cmd: () => ["FUNCTION", "LIST"] },
  { what: "SLOWLOG", cmd: () => ["SLOWLOG", "GET"] },
  { what: "SHUTDOWN", cmd: () => ["SHUTDOWN", "NOSAVE"], skipBroken: true },
  { what: "REPLICAOF", cmd: () => ["REPLICAOF", "NO", "ONE"] },
  { what: "another pool's desired state", cmd: (_, o) => ["GET", o.config] },
  { what: "another pool's task record", cmd: (_, o) => ["HGETALL", o.task("t1")] },
  { what: "another pool's ready channel", cmd: (_, o) => ["PUBLISH", o.readyChannel, "{}"] },
  { what: "FLUSHALL inside a script", cmd: () => ["EVAL", "return redis.call('FLUSHALL')", "0"] },
];

const SCRIPT_WRITES = (key: string, cmd: string, ...args: string[]): string[] => [
  "EVAL",
  `return redis.call('${cmd}', KEYS[1]${args.map((a) => `, '${a}'`).join("")})`,
  "1",
  key,
];
const UNDECLARED = (key: string, cmd: string, ...args: string[]): string[] => [
  "EVAL",
  `return redis.call('${cmd}', '${key}'${args.map((a) => `, '${a}'`).join("")})`,
  "0",
];

const BY_ROLE: Attempt[] = [
  // The bridge: never the control keys, never another claim's task by a pop, never DEL the sets.
  { role: "bridge", what: "read the desired state", cmd: (k) => ["GET", k.config] },
  { role: "bridge", what: "write the desired state", cmd: (k) => ["SET", k.config, "{}"] },
  {
    role: "bridge",
    what: "write the desired state inside a script",
    cmd: (k) => SCRIPT_WRITES(k.config, "SET", "{}"),
  },
  { role: "bridge", what: "bump the epoch", cmd: (k) => ["INCR", k.epoch] },
  { role: "bridge", what: "read the epoch", cmd: (k) => ["GET", k.epoch] },
  { role: "bridge", what: "bump the epoch inside a script", cmd: (k) => UNDECLARED(k.epoch, "INCR") },
  { role: "bridge", what: "take the leader lease", cmd: (k) => ["SET", k.leader, "me"] },
  { role: "bridge", what: "read the status", cmd: (k) => ["GET", k.status] },
  { role: "bridge", what: "write the status", cmd: (k) => ["SET", k.status, "{}"] },
  { role: "bridge", what: "append to config:history", cmd: (k) => ["XADD", k.configHistory, "*", "a", "b"] },
  { role: "bridge", what: "write a drain request", cmd: (k) => ["SET", k.drain, "{}"] },
  { role: "bridge", what: "read the events stream", cmd: (k) => ["XREAD", "STREAMS", k.events, "0"] },
  { role: "bridge", what: "DEL the warm set", cmd: (k) => ["DEL", k.warm] },
  { role: "bridge", what: "DEL the warm set inside a script", cmd: (k) => SCRIPT_WRITES(k.warm, "DEL") },
  { role: "bridge", what: "pop a warm task (steal a claim)", cmd: (k) => ["ZPOPMIN", k.warm] },
  { role: "bridge", what: "pop a warm task inside a script", cmd: (k) => SCRIPT_WRITES(k.warm, "ZPOPMIN") },
  { role: "bridge", what: "list every task", cmd: (k) => ["SMEMBERS", k.tasks] },
  { role: "bridge", what: "delete a task record", cmd: (k) => ["DEL", k.task("t1")] },
  { role: "bridge", what: "delete a task field", cmd: (k) => ["HDEL", k.task("t1"), "state"] },
  { role: "bridge", what: "push into the waiting queue", cmd: (k) => ["RPUSH", k.waiting, "c1"] },
  { role: "bridge", what: "trim the events stream", cmd: (k) => ["XTRIM", k.events, "MAXLEN", "0"] },
  { role: "bridge", what: "subscribe to the ready channel", cmd: (k) => ["SUBSCRIBE", k.readyChannel] },
  { role: "bridge", what: "write the per-pool UID map", cmd: (k) => ["HSET", k.userUids, "u", "1"] },
  // The gateway: claims, never the control keys or the pool's bookkeeping.
  { role: "gateway", what: "write the desired state", cmd: (k) => ["SET", k.config, "{}"] },
  { role: "gateway", what: "bump the epoch", cmd: (k) => ["INCR", k.epoch] },
  { role: "gateway", what: "take the leader lease", cmd: (k) => ["SET", k.leader, "me"] },
  { role: "gateway", what: "write the status", cmd: (k) => ["SET", k.status, "{}"] },
  { role: "gateway", what: "write a drain request", cmd: (k) => ["SET", k.drain, "{}"] },
  { role: "gateway", what: "append to config:history", cmd: (k) => ["XADD", k.configHistory, "*", "a", "b"] },
  { role: "gateway", what: "DEL the warm set", cmd: (k) => ["DEL", k.warm] },
  { role: "gateway", what: "delete a task record", cmd: (k) => ["DEL", k.task("t1")] },
  { role: "gateway", what: "forget a task", cmd: (k) => ["SREM", k.tasks, "t1"] },
  { role: "gateway", what: "write a user's UID", cmd: (k) => ["HSET", k.userUids, "u", "1"] },
  // The reconciler: never the desired state (on-call's), a drain request, or the UID map.
  { role: "reconciler", what: "write the desired state", cmd: (k) => ["SET", k.config, "{}"] },
  {
    role: "reconciler",
    what: "write the desired state inside a script",
    cmd: (k) => UNDECLARED(k.config, "SET", "{}"),
  },
  { role: "reconciler", what: "write a drain request", cmd: (k) => ["SET", k.drain, "{}"] },
  { role: "reconciler", what: "write a user's UID", cmd: (k) => ["HSET", k.userUids, "u", "1"] },
  { role: "reconciler", what: "pop a warm task (claim)", cmd: (k) => ["ZPOPMIN", k.warm] },
  // ctl: on-call's keys and a claim's release, never the lease, the epoch or the warm set.
  { role: "ctl", what: "take the leader lease", cmd: (k) => ["SET", k.leader, "me"] },
  { role: "ctl", what: "bump the epoch", cmd: (k) => ["INCR", k.epoch] },
  { role: "ctl", what: "write the status", cmd: (k) => ["SET", k.status, "{}"] },
  { role: "ctl", what: "pop a warm task", cmd: (k) => ["ZPOPMIN", k.warm] },
  { role: "ctl", what: "add a task to the warm set", cmd: (k) => ["ZADD", k.warm, "1", "t1"] },
  { role: "ctl", what: "forget a task", cmd: (k) => ["SREM", k.tasks, "t1"] },
];

export const FORBIDDEN: Attempt[] = [
  ...(["reconciler", "gateway", "bridge", "ctl"] as const).flatMap((role) =>
    EVERYONE.map((a) => ({ ...a, role })),
  ),
  ...BY_ROLE,
];

/** Runs the attempt; the error message, or `OK <reply>` when the server let it through. */
export async function tryCommand(c: Redis, a: Attempt, pool: string): Promise<string> {
  const [cmd, ...args] = a.cmd(new ClaimKeys(pool), new ClaimKeys(`${pool}-other`));
  if (cmd === "SUBSCRIBE") {
    const sub = c.duplicate();
    sub.on("error", () => undefined);
    try {
      await sub.subscribe(...args);
      return "OK subscribed";
    } catch (e) {
      return (e as Error).message;
    } finally {
      sub.disconnect();
    }
  }
  try {
    return `OK ${JSON.stringify(await c.call(cmd!, ...args))}`;
  } catch (e) {
    return (e as Error).message;
  }
}
