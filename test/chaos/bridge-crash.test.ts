/**
 * Scenario 4: the bridge misbehaves. Every task runs the real `warmpool bridge` (process-backed
 * emulator tasks), the real reconciler and gateway run as processes. A bridge killed while warm,
 * a bridge killed during a session, an agent that exits at once, and a slow init_user (the bridge
 * frozen with SIGSTOP, once shorter and once longer than the gateway's ready timeout).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimKeys, PoolStore, TaskChannel } from "../../pkg/claims/index.js";
import { startPrivateRedis, uniquePool, waitFor } from "../harness/index.js";
import { clearError, type Served } from "./driver.js";
import { GATEWAY_TOKEN, spawnGateway, startChaosWorld, type ChaosWorld, type GatewayChild } from "./env.js";
import { Sampler, checkInvariants } from "./invariants.js";
import { figures, sleep } from "./mode.js";

const DESIRED = { minWarm: 3, maxWarm: 4, replenishThreshold: 1, maxSurge: 1, maxTasks: 30 };
const READY_TIMEOUT_MS = 5_000;
const RECOVERY_BOUND_MS = 30_000;
/** The agent: users named exit-* get one that exits at once, everyone else `cat`. */
const AGENT = ["sh", "-c", 'case "$USER_ID" in exit-*) exit 3;; esac; exec cat'];

interface Answer {
  status: number;
  json: Record<string, unknown>;
  ms: number;
}

async function claim(gw: GatewayChild, userId: string, waitMs = 8_000): Promise<Answer> {
  const t0 = Date.now();
  const r = await fetch(`${gw.url}/v1/claims`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ userId, waitMs }),
  });
  const text = await r.text();
  return { status: r.status, json: JSON.parse(text) as Record<string, unknown>, ms: Date.now() - t0 };
}

describe("chaos: bridge crashes, agents that exit at once, a slow init_user", { timeout: 240_000 }, () => {
  let w: ChaosWorld;
  beforeAll(async () => {
    w = await startChaosWorld({ bridges: "real", agent: AGENT });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("every claim is served once or refused clearly; no task reused; back at target after each fault", async () => {
    await w.setDesired(DESIRED);
    await w.spawnReconciler({ "register-timeout": "20s" });
    const gw = await w.spawnGateway(["--ready-timeout-ms", String(READY_TIMEOUT_MS)]);
    const atTarget = async (): Promise<boolean> => {
      const s = await w.states();
      return s.warm === 3 && !s.starting && !s.draining && !s.claimed && w.live().length === 3;
    };
    await waitFor("3 warm bridges", atTarget, 60_000, 100);
    const sampler = new Sampler(w.redis, w.emu.endpoint, w.pool).start();
    const answers: Answer[] = [];
    const served: Served[] = [];
    const ask = async (userId: string, waitMs?: number): Promise<Answer> => {
      const a = await claim(gw, userId, waitMs);
      answers.push(a);
      if (a.status === 201)
        served.push({
          claimId: String(a.json.claimId),
          taskId: String(a.json.taskId),
          userId,
          atMs: Date.now(),
        });
      return a;
    };
    const recoveries: Record<string, number> = {};
    const recover = async (what: string): Promise<void> => {
      const t0 = Date.now();
      await waitFor(`back at target after ${what}`, atTarget, RECOVERY_BOUND_MS, 100);
      recoveries[what] = Date.now() - t0;
    };
    const oldestWarm = async (): Promise<{ taskId: string; pid: number }> => {
      const [taskId] = await w.redis.zrange(w.keys.warm, 0, 0);
      const pid = w.emu.control.task(taskId!)?.pid;
      if (!taskId || !pid) throw new Error("no warm task with a process");
      return { taskId, pid };
    };

    // a) a bridge killed while warm: claims right after it are served by live tasks or refused clearly.
    const dead = await oldestWarm();
    process.kill(dead.pid, "SIGKILL");
    const afterCrash = await Promise.all([ask("after-crash-1"), ask("after-crash-2")]);
    expect(afterCrash.map((a) => a.json.taskId)).not.toContain(dead.taskId);
    for (const a of afterCrash) if (a.status === 201) await fetchDelete(gw, String(a.json.claimId));
    await recover("warm bridge killed");

    // b) a bridge killed during a session: the claim ends (lost), its heartbeat is refused clearly.
    const s = await ask("in-session");
    expect(s.status).toBe(201);
    const pid = w.emu.control.task(String(s.json.taskId))?.pid;
    process.kill(pid!, "SIGKILL");
    await waitFor(
      "the crashed session's claim ends",
      async () =>
        !["assigned", "ready"].includes(
          (await w.redis.hget(w.keys.claim(String(s.json.claimId)), "state")) ?? "",
        ),
      20_000,
      100,
    );
    const hb = await fetch(`${gw.url}/v1/claims/${String(s.json.claimId)}/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
    });
    const hbText = await hb.text();
    expect([404, 410]).toContain(hb.status);
    expect(clearError(hb.status, hbText)).toBe(true);
    await recover("bridge killed in session");

    // c) an agent that exits at once: the claim is refused (502) or ends at once; the task is not reused.
    const ex = await ask("exit-now");
    await waitFor(
      "the exiting agent's claim ends",
      async () => {
        const st = await w.redis.hget(w.keys.claim(String(ex.json.claimId)), "state");
        return st !== null && !["assigned", "ready", "waiting"].includes(st);
      },
      20_000,
      100,
    );
    await recover("agent exited at once");

    // d) a slow init_user: the bridge frozen 2 s (under the ready timeout) serves late but serves;
    // frozen 7 s (over it) the claim is refused with a 503 and the task never serves anyone.
    const slow = await oldestWarm();
    process.kill(slow.pid, "SIGSTOP");
    setTimeout(() => process.kill(slow.pid, "SIGCONT"), 2_000);
    const late = await ask("slow-but-in-time");
    expect(late.status).toBe(201);
    expect(late.json.taskId).toBe(slow.taskId);
    expect(late.ms).toBeGreaterThanOrEqual(1_900);
    await fetchDelete(gw, String(late.json.claimId));
    await recover("init_user 2 s late");
    const frozen = await oldestWarm();
    process.kill(frozen.pid, "SIGSTOP");
    setTimeout(() => process.kill(frozen.pid, "SIGCONT"), 7_000);
    const tooLate = await ask("slow-too-late", 0);
    expect(tooLate.status).toBe(503);
    expect(clearError(tooLate.status, JSON.stringify(tooLate.json))).toBe(true);
    await sleep(2_500); // the bridge wakes and finds the claim over
    expect(await w.redis.hget(w.keys.claim(String(tooLate.json.claimId)), "state")).toBe("timeout");
    expect(await w.redis.hget(w.keys.claim(String(tooLate.json.claimId)), "readyAt")).toBeNull();
    await recover("init_user 7 s late");

    const verdict = await checkInvariants({
      redis: w.redis,
      endpoint: w.emu.endpoint,
      pool: w.pool,
      sampler,
      served,
    });
    figures("bridge-crash", {
      claims: answers.length,
      answers: answers.map((a) => a.status),
      faultsInjected: 5,
      exitNow: ex.status,
      recoveryMs: recoveries,
      ...verdict.figures,
      violations: verdict.violations.length,
    });
    expect(verdict.violations).toEqual([]);
    for (const a of answers)
      if (a.status !== 201) expect(clearError(a.status, JSON.stringify(a.json))).toBe(true);
  });
});

async function fetchDelete(gw: GatewayChild, claimId: string): Promise<void> {
  const r = await fetch(`${gw.url}/v1/claims/${claimId}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  await r.text();
}

describe("chaos: a claim whose task vanishes before it is ready", () => {
  // A claim that takes the record of a bridge killed while warm ends `lost` when the reconciler
  // forgets the task: the caller gets the retryable 503 + Retry-After (410 is for replays only).
  it("is answered 503 with Retry-After, not 410 naming an Idempotency-Key", async () => {
    const redisServer = await startPrivateRedis();
    const redis = new Redis(redisServer.url);
    const pool = uniquePool("lost");
    const keys = new ClaimKeys(pool);
    const gw = await spawnGateway(redisServer.url, pool);
    try {
      const taskId = "0123456789abcdef0123456789abcdef";
      await new TaskChannel(redis, pool, taskId).register({
        taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${taskId}`,
        endpoint: "127.0.0.1:9",
        token: "t",
      });
      const answer = claim(gw, "alice", 0);
      await waitFor(
        "claim assigned",
        async () => (await redis.hget(keys.task(taskId), "state")) === "claimed",
      );
      // What the reconciler does once ECS no longer lists the task.
      await new PoolStore(redis, pool).forget(taskId);
      const a = await answer;
      expect(a.json.detail).not.toMatch(/Idempotency-Key/);
      expect(a.status).toBe(503);
    } finally {
      gw.child.kill("SIGKILL");
      await gw.exited;
      redis.disconnect();
      await redisServer.stop();
    }
  });
});
