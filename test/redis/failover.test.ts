/**
 * The failover-proof clients against a real role change: two redis-servers with the pool's ACL
 * users, the clients on one stable address (a proxy), the replica promoted and the primary demoted
 * with REPLICAOF under them. The bridge's inbox wait survives UNBLOCKED, the lease comes back on the
 * new primary, ctl says "read-only, retry" with its own exit code. Each is also shown failing
 * without the fix (a bare BLPOP, a one-shot client).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, TaskChannel } from "../../pkg/claims/index.js";
import { EXIT } from "../../pkg/ctl/errors.js";
import { LeaderLease } from "../../pkg/leader/index.js";
import {
  aclUser,
  createRedis,
  reconnectDelayMs,
  reconnectOnRoleChange,
  ROLE_CHANGE_REDIAL_MS,
  throttledRoleChange,
  withCredentials,
  type RedisRole,
} from "../../pkg/redis/index.js";
import { startTcpProxy, type TcpProxy } from "../chaos/tcp-proxy.js";
import { ctl } from "../ctl/env.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";

describe("reconnect policy", () => {
  it("re-dials at once, then backs off from 50 ms to 2 s with jitter", () => {
    expect(reconnectDelayMs(1, () => 0.5)).toBe(0);
    expect(reconnectDelayMs(2, () => 0.5)).toBe(50);
    expect(reconnectDelayMs(4, () => 0.5)).toBe(200);
    expect(reconnectDelayMs(50, () => 0.5)).toBe(2_000);
    expect(reconnectDelayMs(50, () => 1)).toBe(2_400);
    expect(reconnectDelayMs(50, () => 0)).toBe(1_600);
  });

  it.each([
    ["READONLY You can't write against a read only replica.", 2],
    ["UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)", 1],
    ["MASTERDOWN Link with MASTER is down", 1],
    ["NOPERM this user has no permissions", false],
    ["ERR wrong number of arguments", false],
  ] as const)("%s → %s", (msg, want) => {
    expect(reconnectOnRoleChange(new Error(msg))).toBe(want);
  });
});

describe("role-change re-dials are throttled", () => {
  it("one re-dial per second: a server that stays a replica is not dialled in a loop", () => {
    let t = 0;
    const f = throttledRoleChange(() => t);
    const ro = new Error("READONLY You can't write against a read only replica.");
    expect(f(ro)).toBe(2);
    t = 500;
    expect(f(ro)).toBe(false);
    expect(f(new Error("UNBLOCKED force unblock"))).toBe(false);
    t = 1_000 + ROLE_CHANGE_REDIAL_MS;
    expect(f(new Error("UNBLOCKED force unblock"))).toBe(1);
    expect(f(new Error("ERR other"))).toBe(false);
  });
});

describe("a role change under the clients", { timeout: 60_000 }, () => {
  const pool = uniquePool("fo");
  const keys = new ClaimKeys(pool);
  let a: PrivateRedis;
  let b: PrivateRedis;
  let front: TcpProxy;
  const conns: Redis[] = [];
  const admins = new Map<number, Redis>();
  const admin = (s: PrivateRedis): Redis => {
    let c = admins.get(s.port);
    if (!c) {
      c = new Redis(s.url, { maxRetriesPerRequest: 1 });
      c.on("error", () => undefined);
      conns.push(c);
      admins.set(s.port, c);
    }
    return c;
  };
  const urlOf = (role: RedisRole): string =>
    withCredentials(front.url, aclUser(role), a.acl!.passwords[role]);
  /** Promotes `to`, demotes `from` under its clients; new connections go to `to`. */
  const switchOver = async (from: PrivateRedis, to: PrivateRedis): Promise<void> => {
    await admin(to).call("REPLICAOF", "NO", "ONE");
    await admin(from).call("REPLICAOF", "127.0.0.1", String(to.port));
    front.target = to.port;
  };
  const inSync = (replica: PrivateRedis): Promise<unknown> =>
    waitFor(
      "replica in sync",
      async () => ((await admin(replica).call("ROLE")) as unknown[])[3] === "connected",
      10_000,
    );

  beforeAll(async () => {
    a = await startPrivateRedis({ acl: { pool } });
    b = await startPrivateRedis({
      acl: { pool, passwords: a.acl!.passwords, admin: a.acl!.admin },
      replicaOf: a.port,
    });
    for (const s of [a, b]) {
      await admin(s).config("SET", "masteruser", a.acl!.admin.user);
      await admin(s).config("SET", "masterauth", a.acl!.admin.password);
    }
    front = await startTcpProxy(a.port);
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await front?.close();
    await a?.stop();
    await b?.stop();
  });

  it("the bridge's inbox wait survives UNBLOCKED and reads the next message from the new primary; a bare BLPOP does not", async () => {
    await inSync(b);
    const cmd = createRedis(urlOf("bridge"));
    conns.push(cmd);
    const ch = new TaskChannel(cmd, pool, "t1");
    const blocking = createRedis(urlOf("bridge"), { use: "blocking" });
    const bare = createRedis(urlOf("bridge"), { use: "blocking" });
    conns.push(blocking, bare);
    for (const c of conns) c.on("error", () => undefined);
    const retries: string[] = [];
    const next = ch.next(blocking, { onRetry: (e) => retries.push(e.message.split(" ")[0]!) });
    const bareWait = bare.blpop(keys.inbox("t1"), 0).then(
      () => "answered",
      (e: Error) => e.message,
    );
    await waitFor("both BLPOPs blocked on the primary", async () => (await blockedOn(admin(a))) >= 2, 5_000);
    await switchOver(a, b);
    expect(await bareWait).toMatch(/^UNBLOCKED/);
    await admin(b).rpush(keys.inbox("t1"), JSON.stringify({ type: "drain", reason: "after-failover" }));
    expect(await next).toEqual({ type: "drain", reason: "after-failover" });
    expect(retries.length).toBeGreaterThan(0);
  });

  it("the lease is held again on the new primary; its failed calls are counted, never thrown", async () => {
    // The previous test left b primary and a its replica.
    await inSync(a);
    const redis = createRedis(urlOf("reconciler"));
    conns.push(redis);
    redis.on("error", () => undefined);
    const lease = new LeaderLease({ redis, keys, ttlMs: 1_500 });
    lease.start();
    try {
      await waitFor("lease held", () => lease.held, 5_000);
      const epoch = lease.epoch;
      await inSync(a);
      await switchOver(b, a);
      await waitFor(
        "lease renewed on the new primary",
        async () =>
          (await admin(a).get(keys.leader)) === lease.holderId && (await admin(a).pttl(keys.leader)) > 1_000,
        10_000,
      );
      await waitFor("lease held", () => lease.held, 5_000);
      // Replicated before the switch: the same term continues (or a new one with a higher epoch).
      expect(lease.epoch).toBeGreaterThanOrEqual(epoch);
      expect(Number(await admin(a).get(keys.epoch))).toBe(lease.epoch);
    } finally {
      await lease.stop();
    }
  });

  it("ctl on a read-only Redis exits 5 with 'retry'; with another role's user it is refused and told which user", async () => {
    // Now a is primary and b its replica: point ctl straight at the replica.
    await inSync(b);
    const onReplica = withCredentials(`redis://127.0.0.1:${b.port}`, aclUser("ctl"), a.acl!.passwords.ctl);
    const ro = await ctl([
      "ctl",
      "config",
      "set",
      "--pool",
      pool,
      "--redis-url",
      onReplica,
      "--yes",
      "maxWarm=25",
    ]);
    expect(ro.code, ro.err).toBe(EXIT.failover);
    expect(ro.err).toMatch(/read-only or failing over .*retry/);
    expect(ro.err).not.toContain(a.acl!.passwords.ctl);
    const asBridge = await ctl([
      "ctl",
      "config",
      "set",
      "--pool",
      pool,
      "--redis-url",
      urlOf("bridge"),
      "--yes",
      "maxWarm=25",
    ]);
    expect(asBridge.code).toBe(EXIT.refused);
    expect(asBridge.err).toMatch(/warmpool-ctl/);
    expect(await admin(a).get(keys.config)).toBeNull();
  });
});

/** Clients blocked (BLPOP) on this server, from CLIENT LIST (the admin user may run it). */
async function blockedOn(c: Redis): Promise<number> {
  const list = (await c.call("CLIENT", "LIST")) as string;
  return list.split("\n").filter((l) => / cmd=blpop /.test(l)).length;
}
