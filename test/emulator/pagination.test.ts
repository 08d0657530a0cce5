import { ListTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { ecsClient, registerSleeper } from "./clients.js";

async function listAll(
  ecs: ECSClient,
  input: { startedBy?: string; maxResults?: number; desiredStatus?: "STOPPED" },
): Promise<{ arns: string[]; pages: number }> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const out = await ecs.send(new ListTasksCommand({ ...input, nextToken }));
    pages++;
    expect(out.taskArns?.length ?? 0).toBeLessThanOrEqual(input.maxResults ?? 100);
    arns.push(...(out.taskArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return { arns, pages };
}

describe("emulator: ListTasks pagination over 1,000+ tasks", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  const big: string[] = [];
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.01, rateLimits: false });
    ecs = ecsClient(emu);
    const td = await registerSleeper(ecs);
    for (let i = 0; i < 105; i++) {
      const out = await ecs.send(new RunTaskCommand({ taskDefinition: td, count: 10, startedBy: "big" }));
      big.push(...(out.tasks ?? []).map((t) => t.taskArn as string));
    }
    await ecs.send(new RunTaskCommand({ taskDefinition: td, count: 7, startedBy: "other" }));
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("pages of at most 100 with nextToken cover every task exactly once", async () => {
    expect(big.length).toBe(1050);
    const { arns, pages } = await listAll(ecs, { startedBy: "big" });
    expect(pages).toBe(11);
    expect(new Set(arns).size).toBe(arns.length);
    expect(new Set(arns)).toEqual(new Set(big));
  });

  it("a small maxResults pages the same set", async () => {
    const { arns, pages } = await listAll(ecs, { startedBy: "big", maxResults: 37 });
    expect(pages).toBe(Math.ceil(1050 / 37));
    expect(new Set(arns)).toEqual(new Set(big));
  });

  it("without a filter the list holds both groups; a stopped task moves to the STOPPED listing", async () => {
    const all = await listAll(ecs, {});
    expect(all.arns.length).toBe(1057);
    await ecs.send(new StopTaskCommand({ task: big[500] }));
    const running = await listAll(ecs, { startedBy: "big" });
    expect(running.arns.length).toBe(1049);
    const stopped = await listAll(ecs, { startedBy: "big", desiredStatus: "STOPPED" });
    expect(stopped.arns).toEqual([big[500]]);
  });
});
