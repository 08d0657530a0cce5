import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { ecsClient, registerSleeper } from "./clients.js";

const ORDER = ["PROVISIONING", "PENDING", "RUNNING", "DEACTIVATING", "STOPPING", "STOPPED"];

describe("emulator: task lifecycle over the wire", () => {
  let emu: Emulator;
  beforeAll(async () => {
    // Fixed latencies (ms, before scaling) so the expected gaps are known.
    const steps = {
      provisioning: 2_000,
      pending: 4_000,
      deactivating: 1_000,
      stopping: 1_000,
      stopped: 2_000,
    };
    emu = await startEmulator({ timeScale: 0.02, latencies: { EC2: steps, FARGATE: steps } });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("walks PROVISIONING → … → STOPPED in order, with every timestamp set and ordered", async () => {
    const ecs = ecsClient(emu);
    const td = await registerSleeper(ecs);
    const run = await ecs.send(
      new RunTaskCommand({
        taskDefinition: td,
        startedBy: "life",
        group: "g1",
        tags: [{ key: "pool", value: "p" }],
      }),
    );
    const t0 = run.tasks?.[0];
    expect(t0?.lastStatus).toBe("PROVISIONING");
    expect(t0?.desiredStatus).toBe("RUNNING");
    expect(t0?.createdAt).toBeInstanceOf(Date);
    expect(t0?.startedBy).toBe("life");
    expect(t0?.group).toBe("g1");
    const arn = t0?.taskArn as string;
    expect(arn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/default\/[0-9a-f]{32}$/);

    const running = await waitFor("RUNNING", async () => {
      const d = await ecs.send(new DescribeTasksCommand({ tasks: [arn], include: ["TAGS"] }));
      return d.tasks?.[0]?.lastStatus === "RUNNING" ? d.tasks[0] : undefined;
    });
    expect(running.startedAt).toBeInstanceOf(Date);
    expect(running.pullStartedAt).toBeInstanceOf(Date);
    expect(running.tags).toEqual([{ key: "pool", value: "p" }]);
    expect(running.containers?.[0]?.lastStatus).toBe("RUNNING");

    const stop = await ecs.send(new StopTaskCommand({ task: arn, reason: "scale in" }));
    expect(stop.task?.desiredStatus).toBe("STOPPED");
    const stopped = await waitFor("STOPPED", async () => {
      const d = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
      return d.tasks?.[0]?.lastStatus === "STOPPED" ? d.tasks[0] : undefined;
    });
    expect(stopped.stopCode).toBe("UserInitiated");
    expect(stopped.stoppedReason).toBe("scale in");
    const times = [
      stopped.createdAt,
      stopped.pullStartedAt,
      stopped.startedAt,
      stopped.stoppingAt,
      stopped.stoppedAt,
    ];
    for (const t of times) expect(t).toBeInstanceOf(Date);
    const ms = times.map((t) => (t as Date).getTime());
    expect([...ms].sort((a, b) => a - b)).toEqual(ms);

    // Ground truth: every status once, in order, with the scaled gaps (2 s·0.02 = 40 ms, 4 s·0.02 = 80 ms).
    const history = emu.control.task(arn)?.history ?? [];
    expect(history.map((h) => h.status)).toEqual(ORDER);
    const at = (s: string): number => history.find((h) => h.status === s)?.at as number;
    expect(at("PENDING") - at("PROVISIONING")).toBeGreaterThanOrEqual(35);
    expect(at("RUNNING") - at("PENDING")).toBeGreaterThanOrEqual(75);
    // Stopped tasks stay listable (retention defaults to an hour).
    const listed = await ecs.send(new ListTasksCommand({ startedBy: "life", desiredStatus: "STOPPED" }));
    expect(listed.taskArns).toEqual([arn]);
    const live = await ecs.send(new ListTasksCommand({ startedBy: "life" }));
    expect(live.taskArns).toEqual([]);
  });

  it("a task stopped before RUNNING never starts and still reaches STOPPED", async () => {
    const ecs = ecsClient(emu);
    const td = await registerSleeper(ecs, "early");
    const run = await ecs.send(new RunTaskCommand({ taskDefinition: td }));
    const arn = run.tasks?.[0]?.taskArn as string;
    await ecs.send(new StopTaskCommand({ task: arn }));
    await waitFor("STOPPED", () => emu.control.task(arn)?.lastStatus === "STOPPED");
    const t = emu.control.task(arn);
    expect(t?.history.map((h) => h.status)).not.toContain("RUNNING");
    expect(t?.startedAt).toBeUndefined();
    expect(t?.stopCode).toBe("UserInitiated");
  });

  it("STOPPED tasks disappear from the API after the retention period, not from ground truth", async () => {
    const short = await startEmulator({ timeScale: 0, stoppedRetentionMs: 150, rateLimits: false });
    try {
      const ecs = ecsClient(short);
      const td = await registerSleeper(ecs);
      const arn = (await ecs.send(new RunTaskCommand({ taskDefinition: td }))).tasks?.[0]?.taskArn as string;
      await waitFor("RUNNING", () => short.control.task(arn)?.lastStatus === "RUNNING");
      await ecs.send(new StopTaskCommand({ task: arn }));
      await waitFor("STOPPED", () => short.control.task(arn)?.lastStatus === "STOPPED");
      const seen = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
      expect(seen.tasks?.length).toBe(1);
      await waitFor("expired", async () => {
        const d = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
        return d.failures?.[0]?.reason === "MISSING";
      });
      expect((await ecs.send(new ListTasksCommand({ desiredStatus: "STOPPED" }))).taskArns).toEqual([]);
      expect(short.control.tasks().map((t) => t.taskArn)).toEqual([arn]);
    } finally {
      await short.stop();
    }
  });
});
