import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";

/** Debian's awscli when present (a pyenv shim may shadow it on PATH), else whatever `aws` is. */
const AWS = existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws";

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function aws(emu: Emulator, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      AWS,
      [...args, "--endpoint-url", emu.endpoint, "--output", "json"],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "dummy-secret",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        if (code !== 0 && !stderr) stderr = String(err);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const json = <T>(r: CliResult): T => {
  if (r.code !== 0) throw new Error(`aws exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

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
      const desc = json<{ tasks: { taskArn: string; lastStatus: string; createdAt: string }[] }>(
        await aws(emu, ["ecs", "describe-tasks", "--tasks", ...arns]),
      );
      expect(desc.tasks.map((t) => t.lastStatus)).toEqual(["RUNNING", "RUNNING"]);
      expect(Number.isNaN(Date.parse(desc.tasks[0]?.createdAt as string))).toBe(false);

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
      expect(r.code).toBe(254);
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
