import {
  ListTasksCommand,
  RunTaskCommand,
  RegisterTaskDefinitionCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../hack/emulator/index.js";
import { ecsClient, errorCode, registerSleeper } from "./clients.js";

async function withEmulator(
  opts: EmulatorOptions,
  fn: (emu: Emulator, ecs: ECSClient) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({ timeScale: 0.01, ...opts });
  try {
    await fn(emu, ecsClient(emu));
  } finally {
    await emu.stop();
  }
}

/** Fires `n` calls at once; returns how many answered ok and the error codes of the others. */
async function burst(
  n: number,
  call: () => Promise<unknown>,
): Promise<{ ok: number; codes: string[]; ms: number }> {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, () => errorCode(call())));
  const codes = results.filter((c) => c !== "no error");
  return { ok: n - codes.length, codes, ms: performance.now() - t0 };
}

describe("emulator: ECS token buckets", () => {
  it("a burst of 150 RunTask calls: 100 pass, the rest are ThrottlingException; refill at the configured rate", async () => {
    const refill = 10;
    await withEmulator(
      { rateLimits: { taskMutations: { burst: 100, refillPerSecond: refill } } },
      async (emu, ecs) => {
        const td = await registerSleeper(ecs);
        const tStart1 = performance.now();
        const b = await burst(150, () => ecs.send(new RunTaskCommand({ taskDefinition: td })));
        // Tokens refilled while the burst was in flight may let a few more through.
        const slack = Math.ceil((b.ms / 1000) * refill) + 1;
        expect(b.ok).toBeGreaterThanOrEqual(100);
        expect(b.ok).toBeLessThanOrEqual(100 + slack);
        expect(new Set(b.codes)).toEqual(new Set(["ThrottlingException"]));
        const calls = emu.control.calls().RunTask;
        expect(calls).toEqual({ ok: b.ok, throttled: 150 - b.ok, error: 0 });
        expect(emu.control.launchedCount()).toBe(b.ok); // a throttled call launches nothing

        // Refill: the bucket only gains refill·t. Bounds come from measured times, so a slow machine
        // cannot break them: tokens gained between the bursts are a floor, the whole span a ceiling.
        const tEnd1 = performance.now();
        await new Promise((r) => setTimeout(r, 2_000));
        const tStart2 = performance.now();
        const again = await burst(60, () => ecs.send(new RunTaskCommand({ taskDefinition: td })));
        const tEnd2 = performance.now();
        const floor = Math.min(60, Math.floor(((tStart2 - tEnd1) / 1000) * refill) - 1);
        const ceiling = 100 + ((tEnd2 - tStart1) / 1000) * refill + 1;
        expect(again.ok).toBeGreaterThanOrEqual(floor);
        expect(b.ok + again.ok).toBeLessThanOrEqual(ceiling);
        expect(again.ok).toBeLessThan(60); // it did run dry again

        // Reads have their own bucket: still full.
        expect(await errorCode(ecs.send(new ListTasksCommand({})))).toBe("no error");
      },
    );
  });

  it("the throttled answer is HTTP 400 ThrottlingException 'Rate exceeded'", async () => {
    await withEmulator({ rateLimits: { taskReads: { burst: 1, refillPerSecond: 0.001 } } }, async (emu) => {
      const post = (): Promise<Response> =>
        fetch(emu.endpoint, {
          method: "POST",
          headers: {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListTasks",
          },
          body: "{}",
        });
      expect((await post()).status).toBe(200);
      const res = await post();
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
      expect(emu.control.calls().ListTasks).toEqual({ ok: 1, throttled: 1, error: 0 });
    });
  });

  it("Fargate launches are counted per task (burst 100)", async () => {
    await withEmulator(
      {
        rateLimits: {
          taskMutations: { burst: 1000, refillPerSecond: 1000 },
          fargateLaunches: { burst: 100, refillPerSecond: 0.01 },
        },
      },
      async (emu, ecs) => {
        const f = await ecs.send(
          new RegisterTaskDefinitionCommand({
            family: "fg",
            networkMode: "awsvpc",
            requiresCompatibilities: ["FARGATE"],
            cpu: "256",
            memory: "512",
            containerDefinitions: [{ name: "main", image: "busybox" }],
          }),
        );
        const run = (): Promise<unknown> =>
          ecs.send(
            new RunTaskCommand({
              taskDefinition: f.taskDefinition?.taskDefinitionArn,
              launchType: "FARGATE",
              count: 10,
              networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
            }),
          );
        for (let i = 0; i < 10; i++) expect(await errorCode(run())).toBe("no error");
        expect(await errorCode(run())).toBe("ThrottlingException");
        expect(emu.control.launchedCount()).toBe(100);
      },
    );
  });

  it("rateLimits: false turns throttling off", async () => {
    await withEmulator({ rateLimits: false }, async (_emu, ecs) => {
      const td = await registerSleeper(ecs);
      const b = await burst(150, () => ecs.send(new RunTaskCommand({ taskDefinition: td })));
      expect(b.ok).toBe(150);
    });
  });
});
