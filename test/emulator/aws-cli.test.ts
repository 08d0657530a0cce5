import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { aws, json, SERVICE_ERROR_EXIT } from "./cli.js";

// The three cases share one emulator and touch different things, so they run side by side
// (each CLI start costs seconds).
describe("emulator: the AWS CLI works against it", () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      timeScale: 0.01,
      autoScaling: {
        groups: [
          {
            name: "cli-asg",
            cluster: "cli-ec2",
            minSize: 0,
            maxSize: 4,
            desiredCapacity: 0,
            warmPool: { minSize: 2, maxGroupPreparedCapacity: 2, poolState: "Hibernated" },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it.concurrent(
    "register-task-definition, run-task, list-tasks, describe-tasks, stop-task",
    async () => {
      const reg = json<{ taskDefinition: { taskDefinitionArn: string; revision: number } }>(
        await aws(emu, [
          "ecs",
          "register-task-definition",
          "--family",
          "cli",
          "--container-definitions",
          JSON.stringify([{ name: "main", image: "busybox", memory: 128 }]),
        ]),
      );
      expect(reg.taskDefinition.taskDefinitionArn).toBe(
        "arn:aws:ecs:us-east-1:000000000000:task-definition/cli:1",
      );

      const run = json<{ tasks: { taskArn: string; lastStatus: string }[]; failures: unknown[] }>(
        await aws(emu, [
          "ecs",
          "run-task",
          "--task-definition",
          "cli",
          "--count",
          "2",
          "--started-by",
          "cli-test",
        ]),
      );
      expect(run.tasks.map((t) => t.lastStatus)).toEqual(["PROVISIONING", "PROVISIONING"]);
      expect(run.failures).toEqual([]);
      const arns = run.tasks.map((t) => t.taskArn);

      const list = json<{ taskArns: string[] }>(
        await aws(emu, ["ecs", "list-tasks", "--started-by", "cli-test"]),
      );
      expect(new Set(list.taskArns)).toEqual(new Set(arns));

      await waitFor("RUNNING", () => arns.every((a) => emu.control.task(a)?.lastStatus === "RUNNING"));
      const desc = json<{ tasks: { taskArn: string; lastStatus: string; createdAt: string | number }[] }>(
        await aws(emu, ["ecs", "describe-tasks", "--tasks", ...arns]),
      );
      expect(desc.tasks.map((t) => t.lastStatus)).toEqual(["RUNNING", "RUNNING"]);
      // CLI v2 prints ISO-8601, v1 epoch seconds: either way a time near now.
      const created = desc.tasks[0]?.createdAt;
      const createdMs = typeof created === "number" ? created * 1000 : Date.parse(created as string);
      expect(Math.abs(createdMs - Date.now())).toBeLessThan(600_000);

      const stop = json<{ task: { desiredStatus: string; stoppedReason: string } }>(
        await aws(emu, ["ecs", "stop-task", "--task", arns[0] as string, "--reason", "from the cli"]),
      );
      expect(stop.task.desiredStatus).toBe("STOPPED");
      expect(stop.task.stoppedReason).toBe("from the cli");
      expect(emu.control.calls().StopTask?.ok).toBe(1);
    },
    180_000,
  );

  it.concurrent(
    "reports ECS's error code and a non-zero exit status",
    async () => {
      const r = await aws(emu, ["ecs", "run-task", "--task-definition", "cli", "--count", "11"]);
      expect(SERVICE_ERROR_EXIT).toContain(r.code);
      expect(r.stderr).toMatch(/InvalidParameterException/);
    },
    120_000,
  );

  it.concurrent(
    "aws autoscaling describe-warm-pool reads the warm pool",
    async () => {
      const warmed = (): boolean =>
        emu.control
          .autoScalingGroups()
          .find((g) => g.name === "cli-asg")
          ?.instances.filter((i) => i.lifecycleState === "Warmed:Hibernated").length === 2;
      await waitFor("warm pool hibernated", warmed, 20_000);
      const out = json<{
        WarmPoolConfiguration: { MinSize: number; MaxGroupPreparedCapacity: number; PoolState: string };
        Instances: { InstanceId: string; LifecycleState: string; AvailabilityZone: string }[];
      }>(await aws(emu, ["autoscaling", "describe-warm-pool", "--auto-scaling-group-name", "cli-asg"]));
      expect(out.WarmPoolConfiguration).toMatchObject({
        MinSize: 2,
        MaxGroupPreparedCapacity: 2,
        PoolState: "Hibernated",
      });
      expect(out.Instances.map((i) => i.LifecycleState)).toEqual(["Warmed:Hibernated", "Warmed:Hibernated"]);
      expect(out.Instances.every((i) => /^i-[0-9a-f]{17}$/.test(i.InstanceId))).toBe(true);
    },
    120_000,
  );
});
