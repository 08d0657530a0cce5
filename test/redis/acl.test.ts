/**
 * The ACL users of pkg/redis/acl.ts against a real redis-server started with them: each role does
 * its job end to end through the real code on its own user (reconciler pass against the ECS
 * emulator, bridge register → init → ready → release, gateway claim, ctl config set and status),
 * and is refused everything else (the table below, docs/redis-acl.md). The same refusals are then
 * tried against a deliberately broken setup (every role with full rights) and succeed there, so
 * this suite can fail.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService, TaskChannel } from "../../pkg/claims/index.js";
import { createLogger } from "../../pkg/log/index.js";
import { createMetrics } from "../../pkg/metrics/index.js";
import { buildConfig, startReconcilerProcess, type ReconcilerProcess } from "../../pkg/reconciler/index.js";
import { createRedis, REDIS_ROLES, type RedisRole } from "../../pkg/redis/index.js";
import { ctl } from "../ctl/env.js";
import { FAMILY, startTestEmulator } from "../ecs/env.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import type { Emulator } from "../../hack/emulator/index.js";
import { FORBIDDEN, tryCommand, type Attempt } from "./forbidden.js";

const DENIED = /NOPERM|can't access|can't run|no permissions/;

describe("Redis ACL users per role", { timeout: 60_000 }, () => {
  const pool = uniquePool("acl");
  const keys = new ClaimKeys(pool);
  let server: PrivateRedis;
  let admin: Redis;
  const conns: Redis[] = [];
  const as = (role: RedisRole, use: "commands" | "blocking" = "commands"): Redis => {
    const c = createRedis(server.urlFor(role), { use, offlineQueue: true });
    c.on("error", () => undefined);
    conns.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startPrivateRedis({ acl: { pool } });
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    admin.on("error", () => undefined);
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it("the default user is off: no credentials, no access", async () => {
    const anon = new Redis(`redis://127.0.0.1:${server.port}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    anon.on("error", () => undefined);
    await anon.connect().catch(() => undefined);
    await expect(anon.get(keys.config)).rejects.toThrow(/NOAUTH|WRONGPASS|disabled|NOPERM/);
    anon.disconnect();
  });

  it("every role connects as its own user and no other", async () => {
    for (const role of REDIS_ROLES) {
      const c = createRedis(server.urlFor(role), { offlineQueue: true });
      conns.push(c);
      expect(await c.ping()).toBe("PONG");
      expect(await c.call("CLIENT", "SETNAME", `acl-test-${role}`)).toBe("OK");
    }
    const list = (await admin.call("CLIENT", "LIST")) as string;
    for (const role of REDIS_ROLES)
      expect(list).toMatch(new RegExp(`name=acl-test-${role} .*user=warmpool-${role} `));
    const names = ((await admin.call("ACL", "USERS")) as string[]).sort();
    expect(names).toEqual(
      [
        "default",
        "warmpool-admin",
        "warmpool-bridge",
        "warmpool-ctl",
        "warmpool-gateway",
        "warmpool-reconciler",
      ].sort(),
    );
  });

  describe("each role does its job end to end on its own user", () => {
    let emu: Emulator;
    let rec: ReconcilerProcess;
    beforeAll(async () => {
      const e = await startTestEmulator();
      e.client.destroy();
      emu = e.emu;
    });
    afterAll(async () => {
      await rec?.stop();
      await emu?.stop();
    });

    it("ctl sets the desired state; the reconciler launches; bridges register; a claim is served, released and stopped", async () => {
      const ctlUrl = server.urlFor("ctl");
      const set = await ctl([
        "ctl",
        "config",
        "set",
        "--pool",
        pool,
        "--redis-url",
        ctlUrl,
        "--yes",
        "minWarm=2",
        "maxWarm=3",
        "replenishThreshold=1",
        "maxTasks=6",
      ]);
      expect(set.err).toBe("");
      expect(set.code).toBe(0);
      const reg = await ctl(["ctl", "pool", "create", "--pool", pool, "--redis-url", ctlUrl]);
      expect(reg.code, reg.err).toBe(0);
      expect((await ctl(["ctl", "pool", "list", "--redis-url", ctlUrl])).out).toContain(pool);

      rec = await startReconcilerProcess(
        buildConfig({
          pool,
          cluster: "default",
          "task-definition": FAMILY,
          "redis-url": server.urlFor("reconciler"),
          "endpoint-url": emu.endpoint,
          "resync-interval": "300ms",
          "lease-ttl": "3s",
          "metrics-port": "0",
          "log-level": "silent",
        }),
        {
          metrics: createMetrics(new Registry(), { defaults: false }),
          log: createLogger({ level: "silent" }),
          host: "127.0.0.1",
        },
      );
      await waitFor("the reconciler holds the lease", () => rec.reconciler.lease.held, 10_000);
      const running = () =>
        emu.control.tasks().filter((t) => t.startedBy === pool && t.lastStatus === "RUNNING");
      await waitFor("two tasks running", () => running().length >= 2, 20_000);

      // Each task's bridge registers on the bridge user.
      const bridgeCmd = as("bridge");
      const channels = new Map<string, TaskChannel>();
      await waitFor(
        "bridges registered warm",
        async () => {
          for (const t of running()) {
            if (channels.has(t.taskId)) continue;
            const ch = new TaskChannel(bridgeCmd, pool, t.taskId);
            const r = await ch.register({
              taskArn: t.taskArn,
              revision: t.taskDefinitionArn,
              endpoint: "127.0.0.1:9",
              token: randomBytes(8).toString("hex"),
            });
            expect(r.outcome).toBe("warm");
            channels.set(t.taskId, ch);
          }
          return (await admin.zcard(keys.warm)) >= 2;
        },
        20_000,
      );

      // The gateway claims on its user; the bridge takes init_user from its inbox and reports ready.
      const gwCmd = as("gateway");
      const gwSub = as("gateway", "blocking");
      const svc = new ClaimService({
        pool,
        redis: gwCmd,
        subscriber: gwSub,
        readyTimeoutMs: 10_000,
        // The quotas' zsets are the gateway's too: exercised here.
        quotas: { perUser: 2, perClient: 5, maxWaiting: 10 },
      });
      await svc.start();
      const handle = await svc.begin({ userId: "alice", waitMs: 0, clientId: "acl-test" });
      expect(handle.stage).toBe("assigned");
      expect(await admin.zcard(keys.userQuota("alice"))).toBe(1);
      const claimId = handle.claimId!;
      const taskId = (await admin.hget(keys.claim(claimId), "taskId"))!;
      const ch = channels.get(taskId)!;
      const inbox = as("bridge", "blocking");
      const init = await ch.next(inbox);
      expect(init).toMatchObject({ type: "init_user", userId: "alice", claimId: claimId });
      expect((await ch.reportReady(claimId)).outcome).toBe("ready");
      const result = await handle.result;
      expect(result.outcome).toBe("ready");
      expect((await svc.heartbeat(claimId)).outcome).toBe("renewed");

      // ctl status reads everything on the ctl user.
      const status = await ctl(["ctl", "status", "--pool", pool, "--redis-url", ctlUrl, "-o", "json"]);
      expect(status.err).toBe("");
      expect(JSON.parse(status.out)).toBeTruthy();

      // The user releases; the bridge is told; the reconciler stops the task (ground truth: emulator).
      expect((await svc.release(claimId)).outcome).toBe("released");
      expect(await ch.next(inbox)).toMatchObject({ type: "release", claimId: claimId });
      await ch.endSession(claimId, "agent-exited");
      await waitFor(
        "the released task is stopped",
        () => emu.control.tasks().find((t) => t.taskId === taskId)?.desiredStatus === "STOPPED",
        20_000,
      );
      // A warm task leaves the pool on its own (SIGTERM while warm), unfenced.
      const other = [...channels.entries()].find(([id]) => id !== taskId);
      if (other) expect(await other[1].cordonSelf("task-stopping")).toBe(true);
      // No pass failed for lack of permission (the reconciler's own count, and the status it publishes).
      const snap = JSON.parse((await admin.get(keys.status)) ?? "{}") as { errors?: string[] };
      expect(JSON.stringify(snap.errors ?? [])).not.toMatch(DENIED);
      await svc.close();
    });
  });

  describe("each role is refused everything else", () => {
    it.each(FORBIDDEN.map((a) => [`${a.role}: ${a.what}`, a] as [string, Attempt]))("%s", async (_, a) => {
      const c = as(a.role);
      const r = await tryCommand(c, a, pool);
      expect(r, `${a.role} ${a.what} should be refused`).toMatch(DENIED);
    });
  });
});

describe(
  "the refusal table fails against a broken setup (every role with full rights)",
  { timeout: 30_000 },
  () => {
    const pool = uniquePool("aclbroken");
    let server: PrivateRedis;
    const conns: Redis[] = [];
    beforeAll(async () => {
      server = await startPrivateRedis({ acl: { pool } });
      const admin = new Redis(server.url);
      for (const role of REDIS_ROLES)
        await admin.call(
          "ACL",
          "SETUSER",
          `warmpool-${role}`,
          "reset",
          "on",
          `>${server.acl!.passwords[role]}`,
          "~*",
          "&*",
          "+@all",
        );
      admin.disconnect();
    });
    afterAll(async () => {
      for (const c of conns) c.disconnect();
      await server?.stop();
    });

    it("every forbidden attempt is allowed there", async () => {
      const allowed: string[] = [];
      for (const a of FORBIDDEN.filter((x) => !x.skipBroken)) {
        const c = new Redis(server.urlFor(a.role), { maxRetriesPerRequest: 0 });
        c.on("error", () => undefined);
        conns.push(c);
        const r = await tryCommand(c, a, pool);
        if (!DENIED.test(r)) allowed.push(`${a.role}: ${a.what}`);
      }
      expect(allowed).toEqual(FORBIDDEN.filter((x) => !x.skipBroken).map((a) => `${a.role}: ${a.what}`));
    });
  },
);
