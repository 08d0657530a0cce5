/**
 * End to end with the local ECS emulator: RunTask through the real AWS SDK starts a real bridge
 * process per task (task ARN from the emulator's metadata endpoint, settings from the task
 * definition's environment); claims are served by it; the session's end stops the ECS task.
 * Needs `npx tsc -p .` first (tasks run dist/cmd/warmpool.js).
 */
import { ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { ClaimKeys, ClaimService, PoolStore, type ReadyClaim } from "../../pkg/claims/index.js";
import { cliEntry } from "../../pkg/util/index.js";
import { startPrivateRedis, uniquePool, waitFor, type PrivateRedis } from "../harness/index.js";

let redis: PrivateRedis;
let client: Redis;
let emu: Emulator;
let ecs: ECSClient;
let root: string;
const pool = uniquePool("e2e");
const keys = new ClaimKeys(pool);

beforeAll(async () => {
  redis = await startPrivateRedis();
  client = new Redis(redis.url);
  root = mkdtempSync(join(tmpdir(), "wp-e2e-"));
  emu = await startEmulator({
    timeScale: 0.01,
    rateLimits: false,
    taskProcess: { command: process.execPath, args: [cliEntry(), "bridge"] },
  });
  ecs = new ECSClient({
    endpoint: emu.endpoint,
    region: emu.region,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "dummy-secret" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  await emu?.stop();
  client?.disconnect();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function runTask(
  store: PoolStore,
  taskDefinition: string,
): Promise<{ taskArn: string; taskId: string }> {
  const out = await ecs.send(new RunTaskCommand({ taskDefinition, startedBy: pool, count: 1 }));
  const taskArn = out.tasks?.[0]?.taskArn as string;
  const taskId = taskArn.split("/").pop() as string;
  await store.recordLaunches([{ taskId, taskArn, revision: taskDefinition }]);
  return { taskArn, taskId };
}

/** Opens the session, sends a line and resolves once it is echoed; `close()` ends the session. */
function session(c: ReadyClaim, line: string): Promise<{ seen: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${c.endpoint}/?token=${encodeURIComponent(c.token)}`);
    let buf = "";
    ws.on("message", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(line)) resolve({ seen: buf, close: () => ws.close() });
    });
    ws.once("open", () => ws.send(`${line}\n`));
    ws.once("error", reject);
  });
}

describe("claims end to end through the ECS emulator", { timeout: 300_000 }, () => {
  it("warm hit, then a cold claim served by the next task to register; the session's end stops the task", async () => {
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "warmpool-e2e",
        containerDefinitions: [
          {
            name: "bridge",
            image: "ecs-warmpool:dev",
            memory: 128,
            cpu: 128,
            essential: true,
            environment: [
              { name: "WARMPOOL_POOL", value: pool },
              { name: "WARMPOOL_REDIS_URL", value: redis.url },
              { name: "WARMPOOL_WORKSPACE_ROOT", value: root },
              { name: "WARMPOOL_AGENT_COMMAND", value: JSON.stringify(["sh", "-c", "exec cat"]) },
            ],
          },
        ],
      }),
    );
    const tdArn = td.taskDefinition?.taskDefinitionArn as string;
    const store = new PoolStore(client, pool);
    const svc = new ClaimService({ pool, redis: client, readyTimeoutMs: 60_000 });
    await svc.start();
    try {
      const first = await runTask(store, tdArn);
      await waitFor(
        "first task warm",
        async () => (await client.hget(keys.task(first.taskId), "state")) === "warm",
        120_000,
      );
      expect(await client.hget(keys.task(first.taskId), "taskArn")).toBe(first.taskArn);

      const hit = await svc.claim({ userId: "alice", waitMs: 0 });
      if (hit.outcome !== "ready") throw new Error(JSON.stringify(hit));
      expect(hit.claim).toMatchObject({ taskId: first.taskId, warm: true });
      const alice = await session(hit.claim, "hello-alice");
      expect(alice.seen).toContain("hello-alice");

      // Cold path: nothing warm, the claim waits; the next task to register serves it.
      const cold = svc.claim({ userId: "bob", waitMs: 120_000 });
      await waitFor("bob queued", async () => (await client.llen(keys.waiting)) === 1);
      const second = await runTask(store, tdArn);
      const served = await cold;
      if (served.outcome !== "ready") throw new Error(JSON.stringify(served));
      expect(served.claim).toMatchObject({ taskId: second.taskId, warm: false });
      const bob = await session(served.claim, "hello-bob");
      expect(bob.seen).toContain("hello-bob");

      // Ground truth from the emulator: both tasks run. A release ends alice's session; bob's
      // client leaving ends his (one connection per session). Either way the ECS task stops.
      expect(emu.control.task(first.taskArn)?.lastStatus).toBe("RUNNING");
      expect(emu.control.task(second.taskArn)?.lastStatus).toBe("RUNNING");
      await svc.release(hit.claim.claimId);
      bob.close();
      alice.close();
      await waitFor(
        "bob's claim ended",
        async () => (await client.hget(keys.claim(served.claim.claimId), "state")) === "ended",
      );
      for (const t of [first, second]) {
        await waitFor(
          `${t.taskId} STOPPED`,
          () => emu.control.task(t.taskArn)?.lastStatus === "STOPPED",
          120_000,
        );
        expect(await client.hget(keys.task(t.taskId), "state")).toBe("draining");
      }
      expect(await client.zcard(keys.warm)).toBe(0);
    } finally {
      await svc.close();
    }
  });
});
