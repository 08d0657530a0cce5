import { ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { EcsDriver, launchTasks } from "../../pkg/ecs/index.js";
import { uniquePool } from "../harness/index.js";
import { startTestEmulator } from "./env.js";

/**
 * What the driver puts on the wire for RunTask placement, read from the real SDK's serialized
 * input (a middleware that only records), against the emulator.
 */
describe("RunTask placement strategy (real SDK over HTTP)", () => {
  let emu: Emulator;
  let td: string;
  beforeAll(async () => {
    ({ emu, taskDefinitionArn: td } = await startTestEmulator());
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const recordingClient = (): { client: ECSClient; sent: Record<string, unknown>[] } => {
    const client = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1", maxAttempts: 1 });
    const sent: Record<string, unknown>[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "RunTaskCommand") sent.push(args.input as Record<string, unknown>);
        return next(args);
      },
      { step: "initialize", name: "recordRunTask" },
    );
    return { client, sent };
  };

  it("EC2: binpack on memory is sent; FARGATE: never, even when configured", async () => {
    const strategy = [{ type: "binpack" as const, field: "memory" }];
    const ec2 = recordingClient();
    const pool = uniquePool("plc");
    const d1 = new EcsDriver({
      cluster: "default",
      pool,
      client: ec2.client,
      placement: { launchType: "EC2" },
      placementStrategy: strategy,
    });
    const r1 = await launchTasks(d1, 2, td);
    expect(r1.errors).toEqual([]);
    expect(ec2.sent[0]).toMatchObject({ launchType: "EC2", placementStrategy: strategy });

    const far = recordingClient();
    const d2 = new EcsDriver({
      cluster: "default",
      pool: uniquePool("plc"),
      client: far.client,
      placement: { launchType: "FARGATE" },
      placementStrategy: strategy,
    });
    await launchTasks(d2, 1, td);
    expect(far.sent).toHaveLength(1);
    expect(far.sent[0]).toMatchObject({ launchType: "FARGATE" });
    expect(far.sent[0]).not.toHaveProperty("placementStrategy");

    const cp = recordingClient();
    const d3 = new EcsDriver({
      cluster: "default",
      pool: uniquePool("plc"),
      client: cp.client,
      placement: { capacityProviderStrategy: [{ capacityProvider: "ec2-cp" }] },
      placementStrategy: strategy,
    });
    await launchTasks(d3, 1, td).catch(() => undefined);
    expect(cp.sent[0]).toMatchObject({ placementStrategy: strategy });

    for (const c of [ec2.client, far.client, cp.client]) c.destroy();
  });
});
