import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimService } from "../../pkg/claims/index.js";
import { PoolKeys } from "../../pkg/keys/index.js";
import { startPrivateRedis, uniquePool, type PrivateRedis } from "../harness/index.js";
import { registerWarm, startReadyResponder, type ReadyResponder } from "../claims/stand-in.js";
import { ctl, dumpPool } from "./env.js";

/**
 * tasks, claims and drain against a real Redis whose pool is populated through the claim
 * protocol's own scripts (register, claim, ready), as bridges and the gateway would.
 */
let server: PrivateRedis;
let redis: Redis;
let pool: string;
let keys: PoolKeys;
let responder: ReadyResponder | undefined;
let claims: ClaimService | undefined;
const run = (...args: string[]) => ctl(["ctl", ...args, "--redis-url", server.url, "--pool", pool]);
const OLD = "arn:aws:ecs:us-east-1:000000000000:task-definition/f:1";

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(async () => {
  pool = uniquePool("ops");
  keys = new PoolKeys(pool);
  responder = await startReadyResponder(redis, redis.duplicate(), pool);
  claims = new ClaimService({ pool, redis });
  await claims.start();
});
afterEach(async () => {
  await claims?.close();
  await responder?.stop();
});

async function claimOne(userId: string): Promise<{ claimId: string; taskId: string }> {
  const r = await claims!.claim({ userId, waitMs: 5_000 });
  if (r.outcome !== "ready") throw new Error(`claim: ${JSON.stringify(r)}`);
  return { claimId: r.claim.claimId, taskId: r.claim.taskId };
}

describe("ctl tasks", () => {
  it("lists every record with state, revision, user and claim; --state filters; JSON is the rows", async () => {
    await registerWarm(redis, pool, 3);
    const { claimId, taskId } = await claimOne("alice");
    const r = await run("tasks");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^TASK\s+STATE\s+REVISION\s+AGE\s+WARM FOR\s+USER\s+CLAIM\s+DRAIN REASON$/);
    expect(lines.filter((l) => /\swarm\s+f:1\s/.test(l))).toHaveLength(2);
    expect(r.out).toContain(`${taskId}  claimed  f:1`);
    expect(r.out).toMatch(new RegExp(`alice\\s+${claimId}`));
    expect(lines.at(-1)).toMatch(/3 shown; pool \S+: 0 starting, 2 warm, 1 claimed, 0 draining/);
    const warm = await run("tasks", "--state", "warm", "-o", "json");
    const rows = JSON.parse(warm.out) as { state: string; revision: string }[];
    expect(rows.map((x) => x.state)).toEqual(["warm", "warm"]);
    expect(rows[0]!.revision).toBe(OLD);
  });

  it("--state with an unknown state is a usage error", async () => {
    const r = await run("tasks", "--state", "hot");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Invalid values:[\s\S]*state[\s\S]*hot/);
  });
});

describe("ctl claims", () => {
  it("list shows held claims with user, task and lease left; release drains the task through the protocol", async () => {
    await registerWarm(redis, pool, 2);
    const { claimId, taskId } = await claimOne("bob");
    const list = await run("claims", "list");
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`${claimId}\\s+ready\\s+bob\\s+${taskId}\\s+\\S+\\s+4m5\\ds`));
    const r = await run("claims", "release", claimId, "--reason", "stuck session");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(`released claim ${claimId}; task ${taskId} drains and is stopped (never reused)`);
    expect(await redis.hget(keys.task(taskId), "state")).toBe("draining");
    expect(await redis.hget(keys.task(taskId), "drainReason")).toMatch(
      /^released by .* via ctl: stuck session$/,
    );
    expect(await redis.hget(keys.claim(claimId), "state")).toBe("released");
    const again = await run("claims", "release", claimId);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/had already ended \(released\); nothing changed/);
  });

  it("release of an unknown or malformed id changes nothing", async () => {
    await registerWarm(redis, pool, 1);
    await claimOne("carol");
    const before = await dumpPool(redis, keys);
    const unknown = await run("claims", "release", "00000000-0000-4000-8000-000000000000");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no claim 00000000-0000-4000-8000-000000000000 in pool .*; nothing changed/);
    const bad = await run("claims", "release", "not-a-claim");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /claim id: must be a claim id \(lower-case UUID\) \(got "not-a-claim"\); nothing changed/,
    );
    expect(await dumpPool(redis, keys)).toEqual(before);
  });
});

describe("ctl drain", () => {
  it("writes { revision, beforeMs, by, reason } to the drain key and a config event, atomically", async () => {
    await registerWarm(redis, pool, 3);
    await claimOne("dave");
    const t0 = Number((await redis.time())[0]) * 1000;
    const r = await ctl(
      ["ctl", "drain", "--revision", "f:1", "--reason", "CVE", "--redis-url", server.url, "--pool", pool],
      {
        env: { SUDO_USER: "erin" },
      },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /2 warm\/starting task\(s\) of revision f:1 .* replaced surge-first; 1 claimed task\(s\) finish their sessions untouched/,
    );
    const req = JSON.parse((await redis.get(keys.drain))!) as Record<string, unknown>;
    expect(req).toMatchObject({ revision: "f:1", reason: "CVE" });
    expect(req.by).toMatch(/^erin@/);
    expect(req.beforeMs).toBeGreaterThanOrEqual(t0);
    const events = await redis.xrevrange(keys.events, "+", "-", "COUNT", 1);
    expect(events[0]![1]).toEqual(expect.arrayContaining(["type", "config", "reason", "drain"]));
    const st = await run("status");
    expect(st.out).toMatch(/drain\s+revision f:1, tasks created before .* by erin@\S+ \(CVE\)/);
    expect(st.out).toMatch(/2 idle task\(s\) left to replace; 1 claimed left to finish their sessions/);

    const cancel = await run("drain", "--cancel");
    expect(cancel.out).toMatch(/drain request removed/);
    expect(await redis.exists(keys.drain)).toBe(0);
  });

  it("--dry-run, a malformed revision, and a revision no idle task runs write nothing", async () => {
    await registerWarm(redis, pool, 2);
    const before = await dumpPool(redis, keys);
    const dry = await run("drain", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/2 warm\/starting task\(s\) of every revision/);
    const bad = await run("drain", "--revision", "f:one");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /--revision: must be family, family:revision or arn:.* \(got "f:one"\); nothing written/,
    );
    const none = await run("drain", "--revision", "other:3");
    expect(none.code).toBe(1);
    expect(none.err).toMatch(
      /no warm or starting task of revision other:3 to replace \(revisions in the pool: f:1\); nothing written/,
    );
    expect(await dumpPool(redis, keys)).toEqual(before);
  });
});

describe("ctl --help", () => {
  const commands = [
    ["status"],
    ["config", "get"],
    ["config", "set"],
    ["config", "apply"],
    ["config", "validate"],
    ["config", "edit"],
    ["config", "history"],
    ["config", "rollback"],
    ["pause"],
    ["resume"],
    ["tasks"],
    ["claims", "list"],
    ["claims", "release"],
    ["drain"],
  ];
  for (const c of commands) {
    it(`ctl ${c.join(" ")} --help has examples`, async () => {
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => void lines.push(a.join(" "));
      try {
        await ctl(["ctl", ...c, "--help"]);
      } finally {
        console.log = log;
      }
      const help = lines.join("\n");
      expect(help).toMatch(/Examples:/);
      expect(help).toContain(`warmpool ctl ${c.join(" ")}`);
    });
  }
});

describe("ctl status flags and a Redis that goes away", () => {
  it("--interval and --stale-after out of range are refused before anything is read", async () => {
    const a = await run("status", "--watch", "--interval", "0");
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/--interval: must be at least 0.1 seconds \(got 0\)/);
    const b = await run("status", "--stale-after", "-5");
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/--stale-after: must be a positive number of seconds \(got -5\)/);
  });

  it("--watch keeps drawing when Redis stops: the frame says so, and the watch ends on its signal", async () => {
    const own = await startPrivateRedis();
    const ac = new AbortController();
    const watching = ctl(
      ["ctl", "status", "--watch", "--interval", "0.2", "--redis-url", own.url, "--pool", pool],
      { signal: ac.signal },
    );
    await new Promise((r) => setTimeout(r, 600));
    await own.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    ac.abort();
    const r = await watching;
    expect(r.out).toMatch(/^pool \S+ {2}UNHEALTHY \(exit 10\)/m);
    expect(r.out).toMatch(/Redis unreachable: .*; retrying every 0.2s/);
    expect(r.code).toBe(3);
  });
});
