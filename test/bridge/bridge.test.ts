/**
 * The real bridge as a child process (built CLI), a real redis-server, the claim library
 * in-process: register → claim → init_user → workspace → agent → ready → WebSocket session.
 * Needs `npx tsc -p .` first (the bridge runs from dist/).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService, PoolStore } from "../../pkg/claims/index.js";
import type { ReadyClaim } from "../../pkg/claims/types.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { spawnBridge, type BridgeProcess } from "./spawn-bridge.js";

let server: PrivateRedis;
let redis: Redis;
let base: string;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  base = mkdtempSync(join(tmpdir(), "wp-bridge-"));
  // Agents run as their own UIDs (the tests run as root): they must be able to pass through.
  chmodSync(base, 0o711);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

let pool: string;
let keys: ClaimKeys;
let svc: ClaimService;
let root: string;
const bridges: BridgeProcess[] = [];
beforeEach(async () => {
  pool = uniquePool("b");
  keys = new ClaimKeys(pool);
  svc = new ClaimService({ pool, redis, readyTimeoutMs: 20_000 });
  await svc.start();
  root = join(base, pool);
  mkdirSync(root);
});
afterEach(async () => {
  for (const b of bridges.splice(0)) if (b.child.exitCode === null) b.child.kill("SIGKILL");
  await svc.close();
});

function start(opts: Partial<Parameters<typeof spawnBridge>[0]> = {}): BridgeProcess {
  const b = spawnBridge({ pool, redisUrl: server.url, root, ...opts });
  bridges.push(b);
  return b;
}
const stateOf = (taskId: string) => redis.hget(keys.task(taskId), "state");
async function warm(b: BridgeProcess): Promise<void> {
  await waitFor(
    `bridge ${b.taskId} warm (stderr: ${b.stderr()})`,
    async () => (await stateOf(b.taskId)) === "warm",
    120_000,
  );
}
async function claimReady(userId: string): Promise<ReadyClaim> {
  const r = await svc.claim({ userId, waitMs: 20_000 });
  if (r.outcome !== "ready") throw new Error(`claim for ${userId}: ${JSON.stringify(r)}`);
  return r.claim;
}
function connect(c: ReadyClaim, token = c.token): Promise<{ ws: WebSocket; text: () => string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${c.endpoint}/`, { headers: { authorization: `Bearer ${token}` } });
    let buf = "";
    ws.on("message", (d: Buffer) => (buf += d.toString()));
    ws.once("open", () => resolve({ ws, text: () => buf }));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

// Generous: each bridge is a fresh node process, and this machine is shared and busy.
describe("bridge process", { timeout: 240_000 }, () => {
  it("serves one user: workspace 0700, clean agent env, stdin/stdout over one WebSocket, release ends the task", async () => {
    const b = start();
    await warm(b);
    const c = await claimReady("alice");
    expect(c.taskId).toBe(b.taskId);
    expect(c.warm).toBe(true);
    expect(await redis.hget(keys.claim(c.claimId), "state")).toBe("ready");
    const dir = join(root, "alice");
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    await expect(connect(c, "forged-token")).rejects.toThrow(/401/);
    const s = await connect(c);
    await waitFor("agent greeting", () => s.text().includes(`hello alice in ${dir}`));
    s.ws.send("ping-123\n");
    await waitFor("echo", () => s.text().includes("ping-123"));
    await expect(connect(c)).rejects.toThrow(/409/); // one client per session

    const env = readFileSync(join(dir, ".agent-env"), "utf8");
    expect(env).toContain(`WORKSPACE_DIR=${dir}`);
    expect(env).toContain(`HOME=${dir}`);
    expect(env).not.toMatch(/WARMPOOL_|REDIS|AWS_|ECS_|SECRET_FOR_TEST/);

    expect(await svc.release(c.claimId)).toMatchObject({ outcome: "released", taskId: b.taskId });
    expect(await b.exited).toBe(1); // a pool task never outlives its session
    expect(await stateOf(b.taskId)).toBe("draining");
    expect(await redis.zscore(keys.warm, b.taskId)).toBeNull();
  });

  it("a Redis role change under a live session (UNBLOCKED, then READONLY) does not end it", async () => {
    const b = start();
    await warm(b);
    const c = await claimReady("rita");
    const s = await connect(c);
    // Demote the server: the bridge's blocked BLPOP is answered UNBLOCKED, and every retry READONLY.
    await redis.call("REPLICAOF", "127.0.0.1", "1");
    try {
      await waitFor("bridge saw the role change", () => b.stderr().includes("inbox read failed; retrying"));
      await waitFor("and retried at least twice", () => b.stderr().split("inbox read failed").length > 2);
      s.ws.send("still-here\n");
      await waitFor("echo during the outage", () => s.text().includes("still-here"));
      expect(b.child.exitCode).toBeNull();
    } finally {
      await redis.call("REPLICAOF", "NO", "ONE");
    }
    expect(b.stderr()).toMatch(/UNBLOCKED|READONLY/);
    // The inbox is read again: a release still reaches the bridge and ends the session normally.
    expect(await svc.release(c.claimId)).toMatchObject({ outcome: "released" });
    expect(await b.exited).toBe(1);
    expect(await redis.hget(keys.claim(c.claimId), "state")).not.toBe("ready");
  });

  it("the agent exiting ends the claim and the task", async () => {
    const b = start({ agent: JSON.stringify(["sh", "-c", "sleep 0.2; exit 3"]) });
    await warm(b);
    const c = await claimReady("bob");
    expect(await b.exited).toBe(1);
    expect(await redis.hget(keys.claim(c.claimId), "state")).toBe("ended");
    expect(await stateOf(b.taskId)).toBe("draining");
    expect(await redis.hget(keys.task(b.taskId), "drainReason")).toBe("agent-exited");
  });

  it("a symlink planted at the user's directory fails the claim, drains the task, writes nothing outside", async () => {
    const outside = join(base, `${pool}-outside`);
    mkdirSync(outside);
    symlinkSync(outside, join(root, "eve"));
    const b = start();
    await warm(b);
    const r = await svc.claim({ userId: "eve", waitMs: 20_000 });
    expect(r).toMatchObject({ outcome: "failed" });
    if (r.outcome === "failed") expect(r.reason).toMatch(/symbolic link/);
    expect(await b.exited).toBe(1);
    expect(readdirSync(outside)).toEqual([]);
    expect(await stateOf(b.taskId)).toBe("draining");
  });

  it("init_user for another task's claim is refused and changes nothing", async () => {
    const a = start();
    const other = start();
    await Promise.all([warm(a), warm(other)]);
    // Forge a message on `a`'s inbox naming a claim that `other` holds.
    const c = await claimReady("carol");
    const victim = c.taskId === a.taskId ? other : a;
    await redis.rpush(
      keys.inbox(victim.taskId),
      JSON.stringify({ type: "init_user", claimId: c.claimId, userId: "carol" }),
    );
    await waitFor("forged message consumed", async () => (await redis.llen(keys.inbox(victim.taskId))) === 0);
    await waitFor("refusal logged", () => victim.stderr().includes("init_user refused"));
    expect(await stateOf(victim.taskId)).toBe("warm");
    expect(victim.child.exitCode).toBeNull();
    expect(await redis.hget(keys.claim(c.claimId), "taskId")).not.toBe(victim.taskId);
  });

  it("SIGTERM while warm: leaves the pool first, exits 0", async () => {
    const b = start();
    await warm(b);
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect(await stateOf(b.taskId)).toBe("draining");
    expect((await svc.claim({ userId: "dave", waitMs: 0 })).outcome).toBe("timeout");
  });

  it("cordoned before it registered: the bridge exits without joining the pool", async () => {
    const store = new PoolStore(redis, pool);
    const taskId = "0123456789abcdef";
    await store.recordLaunches([
      { taskId, taskArn: `arn:aws:ecs:us-east-1:000000000000:task/test/${taskId}`, revision: "r" },
    ]);
    expect(await store.cordon(taskId, "never-registered")).toBe(true);
    const b = start({ taskId });
    expect(await b.exited).toBe(0);
    expect(await stateOf(taskId)).toBe("draining");
    expect(await redis.zcard(keys.warm)).toBe(0);
  });

  // Needs root, as in a task whose bridge runs as root and drops each agent to its user's UID.
  it.skipIf(process.getuid?.() !== 0)(
    "per-user UIDs: the agent runs as base+n, owns its 0700 directory, the same user keeps its UID",
    async () => {
      const agent = JSON.stringify(["sh", "-c", 'echo "uid=$(id -u) gid=$(id -g)"; exec cat']);
      const uids: number[] = [];
      for (const user of ["ann", "ben", "ann"]) {
        const b = start({ agent, extraArgs: ["--uid-base", "20000"] });
        await warm(b);
        const c = await claimReady(user);
        const s = await connect(c);
        const line = await waitFor("uid line", () => /uid=(\d+) gid=(\d+)/.exec(s.text()));
        expect(line[2]).toBe(line[1]);
        const st = statSync(join(root, user));
        expect(st.uid).toBe(Number(line[1]));
        expect(st.mode & 0o777).toBe(0o700);
        uids.push(Number(line[1]));
        s.ws.close();
        expect(await b.exited).toBe(1);
      }
      expect(uids[0]).toBeGreaterThan(20000);
      expect(uids[1]).not.toBe(uids[0]);
      expect(uids[2]).toBe(uids[0]);
    },
  );

  it("a reconciler cordon of a warm task makes its bridge exit", async () => {
    const b = start();
    await warm(b);
    expect(await new PoolStore(redis, pool).cordon(b.taskId, "excess")).toBe(true);
    expect(await b.exited).toBe(0);
    expect(existsSync(join(root, "anyone"))).toBe(false);
  });
});
