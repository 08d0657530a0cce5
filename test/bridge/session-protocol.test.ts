/**
 * What a bridge does with its inbox and its signals while a session is live, each checked against
 * a real bridge process (built CLI), a real redis-server and Redis ground truth:
 *
 * - a second `init_user` is refused: the README's "the bridge refuses a second init_user", reached
 *   as it happens in production — a failover that lost the last writes hands the task to bob while
 *   it serves alice (docs/reliability.md, scenario 2b);
 * - a release of another claim is ignored: the session and its claim stay as they were;
 * - SIGTERM during a session: the agent gets SIGTERM, its grace, then SIGKILL; the claim ends
 *   `ended`, the task `draining`, the bridge exits 1 (docs/bridge.md, step 9).
 *
 * Every test also shows the bridge acted on its inbox (the first init_user served, messages
 * consumed, refusals logged), so a bridge that ignored its inbox fails them.
 * Needs `npx tsc -p .` first (the bridge runs from dist/).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimKeys, ClaimService } from "../../pkg/claims/index.js";
import type { ReadyClaim } from "../../pkg/claims/types.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";
import { spawnBridge, type BridgeProcess } from "./spawn-bridge.js";

let server: PrivateRedis;
let redis: Redis;
let base: string;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  base = mkdtempSync(join(tmpdir(), "wp-session-"));
  chmodSync(base, 0o711); // agents run as their own UIDs (the tests run as root)
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
  pool = uniquePool("sp");
  keys = new ClaimKeys(pool);
  svc = new ClaimService({ pool, redis, readyTimeoutMs: 3_000 });
  await svc.start();
  root = join(base, pool);
  mkdirSync(root);
});
afterEach(async () => {
  for (const b of bridges.splice(0)) if (b.child.exitCode === null) b.child.kill("SIGKILL");
  await svc.close();
});

function start(agent: string[], graceMs = 1_000): BridgeProcess {
  const b = spawnBridge({
    pool,
    redisUrl: server.url,
    root,
    agent: JSON.stringify(agent),
    extraArgs: ["--stop-grace-ms", String(graceMs)],
  });
  bridges.push(b);
  return b;
}
const taskState = (taskId: string) => redis.hget(keys.task(taskId), "state");
const claimState = (claimId: string) => redis.hget(keys.claim(claimId), "state");
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function warm(b: BridgeProcess): Promise<void> {
  await waitFor(
    `bridge ${b.taskId} warm (stderr: ${b.stderr()})`,
    async () => (await taskState(b.taskId)) === "warm",
    120_000,
  );
}
async function claimReady(userId: string): Promise<ReadyClaim> {
  const r = await svc.claim({ userId, waitMs: 20_000 });
  if (r.outcome !== "ready") throw new Error(`claim for ${userId}: ${JSON.stringify(r)}`);
  return r.claim;
}
function connect(c: ReadyClaim): Promise<{ ws: WebSocket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${c.endpoint}/`, { headers: { authorization: `Bearer ${c.token}` } });
    let buf = "";
    ws.on("message", (d: Buffer) => (buf += d.toString()));
    const closed = new Promise<void>((r) => ws.once("close", () => r()));
    ws.once("open", () => resolve({ ws, text: () => buf, closed }));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
}
/** The agent's pid, which it writes into its workspace first thing. */
async function agentPid(userId: string): Promise<number> {
  const f = join(root, userId, ".agent-pid");
  await waitFor(
    `${userId}'s agent wrote its pid`,
    () => existsSync(f) && readFileSync(f, "utf8").trim() !== "",
  );
  return Number(readFileSync(f, "utf8").trim());
}
/** Every key of the pool with its value, as a failover target would hold them. */
async function snapshotPool(): Promise<{ key: string; ttl: number; dump: Buffer }[]> {
  const out: { key: string; ttl: number; dump: Buffer }[] = [];
  for (const key of await redis.keys(`wp:{${pool}}:*`)) {
    const dump = await redis.dumpBuffer(key);
    if (dump) out.push({ key, ttl: Math.max(0, await redis.pttl(key)), dump });
  }
  return out;
}
/** Rolls the pool's keys back to a snapshot: the writes since were lost. */
async function restorePool(snap: { key: string; ttl: number; dump: Buffer }[]): Promise<void> {
  const now = await redis.keys(`wp:{${pool}}:*`);
  if (now.length) await redis.del(...now);
  for (const s of snap) await redis.restore(s.key, s.ttl, s.dump, "REPLACE");
}

/** Says where it runs, records its pid, then echoes stdin (`exec cat` keeps the pid). */
const ECHO = ["sh", "-c", 'echo $$ > .agent-pid; echo "hello $USER_ID"; exec cat'];

describe("bridge: inbox and signals during a live session", { timeout: 180_000 }, () => {
  it("a second init_user (a failover that lost alice's claim hands the task to bob) is refused; alice's session is untouched", async () => {
    const b = start(ECHO);
    await warm(b);
    // The replica the failover will promote last heard of the pool here: the task warm, no claim.
    const beforeAlice = await snapshotPool();

    // The first init_user is acted on: alice's workspace, her agent, ready, her session echoes.
    const alice = await claimReady("alice");
    expect(alice.taskId).toBe(b.taskId);
    const s = await connect(alice);
    await waitFor("alice's greeting", () => s.text().includes("hello alice"));
    const pid = await agentPid("alice");
    expect(alive(pid)).toBe(true);
    const aliceFiles = readdirSync(join(root, "alice")).sort();
    const aliceEnv = readFileSync(join(root, "alice", ".agent-pid"), "utf8");

    // The failover loses alice's claim: on the new primary the task is warm again.
    await restorePool(beforeAlice);
    expect(await taskState(b.taskId)).toBe("warm");
    expect(await redis.exists(keys.claim(alice.claimId))).toBe(0);

    // Bob's claim takes the task in Redis and sends it init_user; the bridge serves alice.
    const bob = await svc.claim({ userId: "bob", waitMs: 10_000 });
    expect(bob.outcome).not.toBe("ready");
    const bobClaimId = "claimId" in bob ? bob.claimId : "";
    expect(bobClaimId).not.toBe("");
    expect(await redis.hget(keys.claim(bobClaimId), "taskId")).toBe(b.taskId);

    // Refusal visible: the init_user was read and refused, and so was the release of bob's claim
    // that followed his ready timeout.
    await waitFor(
      "second init_user refused (log)",
      () => b.stderr().includes("second init_user refused"),
      20_000,
    );
    await waitFor(
      "release of bob's claim ignored (log)",
      () => b.stderr().includes("release of another claim ignored"),
      20_000,
    );
    expect(await redis.llen(keys.inbox(b.taskId))).toBe(0);
    expect(await claimState(bobClaimId)).toBe("timeout"); // never ready: bob never got a session

    // Nothing of bob's exists on the task; alice's agent (same pid) and workspace are as they were.
    expect(existsSync(join(root, "bob"))).toBe(false);
    expect(readdirSync(root)).not.toContain("bob");
    expect(alive(pid)).toBe(true);
    expect(await agentPid("alice")).toBe(pid);
    expect(readdirSync(join(root, "alice")).sort()).toEqual(aliceFiles);
    expect(readFileSync(join(root, "alice", ".agent-pid"), "utf8")).toBe(aliceEnv);
    s.ws.send("still-alice\n");
    await waitFor("alice's session still echoes", () => s.text().includes("still-alice"));
    expect(b.child.exitCode).toBeNull();
    expect(b.stderr()).not.toMatch(/"msg":"session over"/);

    // The drained task is stopped (the reconciler's StopTask → SIGTERM): alice's session ends.
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(1);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(root, "bob"))).toBe(false);
  });

  it("a release naming another claim is ignored: alice's claim, lease and task stay as they were", async () => {
    const b = start(ECHO);
    await warm(b);
    const alice = await claimReady("alice");
    const s = await connect(alice);
    await waitFor("alice's greeting", () => s.text().includes("hello alice"));
    const pid = await agentPid("alice");
    const leaseBefore = await redis.zscore(keys.claims, alice.claimId);
    const taskBefore = await redis.hgetall(keys.task(b.taskId));
    expect(leaseBefore).not.toBeNull();
    expect(taskBefore).toMatchObject({ state: "claimed", claimId: alice.claimId, userId: "alice" });

    // Only release-4.lua writes a release onto an inbox, for the claim the task record holds; a
    // stale one (another claim's id) can reach a live session after a failover.
    for (const claimId of ["c-other-0123456789", `${alice.claimId}x`])
      await redis.rpush(
        keys.inbox(b.taskId),
        JSON.stringify({ type: "release", claimId, reason: "released" }),
      );
    await waitFor("both releases read", async () => (await redis.llen(keys.inbox(b.taskId))) === 0);
    await waitFor(
      "both logged as ignored",
      () => b.stderr().split("release of another claim ignored").length === 3,
      20_000,
    );

    // Redis ground truth: nothing was released.
    expect(await claimState(alice.claimId)).toBe("ready");
    expect(await redis.zscore(keys.claims, alice.claimId)).toBe(leaseBefore);
    expect(await redis.hgetall(keys.task(b.taskId))).toEqual(taskBefore);
    const released = (await redis.xrange(keys.events, "-", "+")).filter(([, f]) => f.includes("release"));
    expect(released).toEqual([]);
    // …and on the task: the bridge, the agent and the session are alive.
    s.ws.send("after-stale-release\n");
    await waitFor("session still echoes", () => s.text().includes("after-stale-release"));
    expect(alive(pid)).toBe(true);
    expect(b.child.exitCode).toBeNull();

    // Alice's own release still ends it.
    expect(await svc.release(alice.claimId)).toMatchObject({ outcome: "released", taskId: b.taskId });
    expect(await b.exited).toBe(1);
    expect(await claimState(alice.claimId)).toBe("released");
    expect(await taskState(b.taskId)).toBe("draining");
    expect(alive(pid)).toBe(false);
  });

  it("SIGTERM during a session, an agent that ignores SIGTERM: SIGTERM, its grace, then SIGKILL; claim ended, task draining, exit 1", async () => {
    // Traps TERM (records it) and keeps running; only SIGKILL ends it.
    const stubborn = [
      "sh",
      "-c",
      'echo $$ > .agent-pid; trap "echo term >> .agent-log" TERM; while :; do echo tick >> .agent-log; sleep 0.1; done',
    ];
    const b = start(stubborn, 4_000);
    await warm(b);
    const c = await claimReady("sam");
    const s = await connect(c);
    const pid = await agentPid("sam");
    expect(alive(pid)).toBe(true);

    b.child.kill("SIGTERM");
    // The grace is 4 s; a bridge that never escalates to SIGKILL would wait on this agent forever.
    await waitFor("the bridge exited", () => b.child.exitCode !== null, 60_000);
    expect(await b.exited).toBe(1);
    await s.closed;

    const log = readFileSync(join(root, "sam", ".agent-log"), "utf8")
      .split("\n")
      .filter(Boolean);
    const term = log.indexOf("term");
    expect(term, "the agent got SIGTERM first").toBeGreaterThan(-1);
    expect(log.slice(term + 1), "and lived on after it (its grace)").toContain("tick");
    expect(alive(pid), "then it was killed").toBe(false);
    expect(log.filter((l) => l === "term")).toHaveLength(1);

    expect(await claimState(c.claimId)).toBe("ended");
    expect(await redis.zscore(keys.claims, c.claimId)).toBeNull();
    expect(await redis.hget(keys.task(b.taskId), "state")).toBe("draining");
    expect(await redis.hget(keys.task(b.taskId), "drainReason")).toBe("task-stopping");
    expect(b.stderr()).toMatch(/"reason":"task-stopping".*"msg":"session over"/);
  });

  it("SIGTERM during a session, an agent that exits on SIGTERM: the bridge ends without waiting out the grace", async () => {
    const polite = [
      "sh",
      "-c",
      'echo $$ > .agent-pid; trap "echo term-exit >> .agent-log; exit 0" TERM; while :; do sleep 0.1; done',
    ];
    // A grace far beyond the test's timeout: the bridge only finishes in time if it stops waiting
    // as soon as the agent has exited.
    const b = start(polite, 3_600_000);
    await warm(b);
    const c = await claimReady("pat");
    await connect(c);
    const pid = await agentPid("pat");

    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(1);
    expect(readFileSync(join(root, "pat", ".agent-log"), "utf8")).toBe("term-exit\n");
    expect(alive(pid)).toBe(false);
    expect(await claimState(c.claimId)).toBe("ended");
    expect(await redis.hget(keys.task(b.taskId), "state")).toBe("draining");
    expect(await redis.hget(keys.task(b.taskId), "drainReason")).toBe("task-stopping");
  });
});
