import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { ecsClient, registerSleeper } from "./clients.js";
import { METADATA_READER, QUITTER, STUBBORN } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "emu-proc-"));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function processEmulator(script: string): Promise<Emulator> {
  return startEmulator({
    timeScale: 0.01,
    rateLimits: false,
    taskProcess: { command: process.execPath, args: ["-e", script] },
  });
}

describe("emulator: process-backed tasks", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts a process with the merged environment and a working metadata endpoint; StopTask ends it", async () => {
    const emu = await processEmulator(METADATA_READER);
    try {
      const ecs = ecsClient(emu);
      const out = join(dir, "meta.json");
      const td = await registerSleeper(ecs, "reader", {
        stopTimeout: 5,
        environment: [
          { name: "FROM_TD", value: "td" },
          { name: "GREETING", value: "from-task-definition" },
          { name: "OUT", value: out },
        ],
      });
      const run = await ecs.send(
        new RunTaskCommand({
          taskDefinition: td,
          overrides: {
            containerOverrides: [
              { name: "main", environment: [{ name: "GREETING", value: "from-override" }] },
            ],
          },
        }),
      );
      const arn = run.tasks?.[0]?.taskArn as string;
      await waitFor("metadata written", () => existsSync(out), 15_000);
      const seen = JSON.parse(readFileSync(out, "utf8")) as {
        task: Record<string, unknown>;
        container: Record<string, unknown>;
        env: Record<string, string>;
      };
      expect(seen.env).toEqual({ GREETING: "from-override", FROM_TD: "td" });
      expect(seen.task.TaskARN).toBe(arn);
      expect(seen.task.Cluster).toBe("arn:aws:ecs:us-east-1:000000000000:cluster/default");
      expect(seen.task.Family).toBe("reader");
      expect(seen.task.Revision).toBe("1");
      expect(seen.task.DesiredStatus).toBe("RUNNING");
      expect(seen.task.KnownStatus).toBe("RUNNING");
      expect(seen.task.LaunchType).toBe("EC2");
      expect(typeof seen.task.AvailabilityZone).toBe("string");
      expect((seen.task.Containers as unknown[]).length).toBe(1);
      expect(seen.container.Name).toBe("main");

      const pid = emu.control.task(arn)?.pid as number;
      expect(alive(pid)).toBe(true);
      await ecs.send(new StopTaskCommand({ task: arn, reason: "done with it" }));
      const stopped = await waitFor("STOPPED", async () => {
        const d = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
        return d.tasks?.[0]?.lastStatus === "STOPPED" ? d.tasks[0] : undefined;
      });
      expect(stopped.stopCode).toBe("UserInitiated");
      expect(stopped.stoppedReason).toBe("done with it");
      expect(stopped.containers?.[0]?.exitCode).toBe(0);
      expect(readFileSync(`${out}.term`, "utf8")).toBe("term"); // it got SIGTERM, not SIGKILL
      expect(alive(pid)).toBe(false);
      expect(emu.control.livePids()).toEqual([]);
    } finally {
      await emu.stop();
    }
  });

  it("a process that ignores SIGTERM is SIGKILLed after stopTimeout, with its whole group", async () => {
    const emu = await processEmulator(STUBBORN);
    try {
      const ecs = ecsClient(emu);
      const out = join(dir, "stubborn.json");
      const td = await registerSleeper(ecs, "stubborn", {
        stopTimeout: 1,
        environment: [{ name: "OUT", value: out }],
      });
      const arn = (await ecs.send(new RunTaskCommand({ taskDefinition: td }))).tasks?.[0]?.taskArn as string;
      await waitFor("pids written", () => existsSync(out), 15_000);
      const { pid, grandchild } = JSON.parse(readFileSync(out, "utf8")) as {
        pid: number;
        grandchild: number;
      };
      await ecs.send(new StopTaskCommand({ task: arn }));
      await waitFor("STOPPED", () => emu.control.task(arn)?.lastStatus === "STOPPED", 15_000);
      const t = emu.control.task(arn);
      expect(t?.containers[0]?.exitCode).toBe(137);
      const history = t?.history ?? [];
      const stoppingAt = history.find((h) => h.status === "STOPPING")?.at as number;
      expect((t?.executionStoppedAt as number) - stoppingAt).toBeGreaterThanOrEqual(900);
      expect(alive(pid)).toBe(false);
      await waitFor("grandchild gone", () => !alive(grandchild), 5_000);
    } finally {
      await emu.stop();
    }
  });

  it("a process that exits by itself stops its task with EssentialContainerExited", async () => {
    const emu = await processEmulator(QUITTER);
    try {
      const ecs = ecsClient(emu);
      const td = await registerSleeper(ecs, "quitter");
      const arn = (await ecs.send(new RunTaskCommand({ taskDefinition: td }))).tasks?.[0]?.taskArn as string;
      const stopped = await waitFor(
        "STOPPED",
        async () => {
          const d = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
          return d.tasks?.[0]?.lastStatus === "STOPPED" ? d.tasks[0] : undefined;
        },
        15_000,
      );
      expect(stopped.stopCode).toBe("EssentialContainerExited");
      expect(stopped.stoppedReason).toBe("Essential container in task exited");
      expect(stopped.containers?.[0]?.exitCode).toBe(3);
      expect(stopped.desiredStatus).toBe("STOPPED");
    } finally {
      await emu.stop();
    }
  });

  it("stop() kills every task process and what it spawned", async () => {
    const emu = await processEmulator(STUBBORN);
    const ecs = ecsClient(emu);
    const outs = [0, 1, 2].map((i) => join(dir, `many-${i}.json`));
    for (const out of outs) {
      const td = await registerSleeper(ecs, `many`, {
        stopTimeout: 30,
        environment: [{ name: "OUT", value: out }],
      });
      await ecs.send(new RunTaskCommand({ taskDefinition: td }));
    }
    await waitFor("all started", () => outs.every((o) => existsSync(o)), 15_000);
    const pids = outs.flatMap((o) => {
      const p = JSON.parse(readFileSync(o, "utf8")) as { pid: number; grandchild: number };
      return [p.pid, p.grandchild];
    });
    expect(pids.every(alive)).toBe(true);
    await emu.stop();
    await waitFor("every process gone", () => pids.every((p) => !alive(p)), 5_000);
  });
});

describe("emulator: the watchdog of task process groups", () => {
  it("kills the groups it watches when its pipe closes, as when the emulator's process dies", async () => {
    const { spawn } = await import("node:child_process");
    const { Watchdog } = await import("../../hack/emulator/watchdog.js");
    const victim = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      detached: true,
      stdio: "ignore",
    });
    const spared = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      detached: true,
      stdio: "ignore",
    });
    const dog = new Watchdog();
    try {
      dog.watch(victim.pid as number);
      dog.watch(spared.pid as number);
      dog.forget(spared.pid as number);
      const dogPid = dog.pid as number;
      await dog.close();
      await waitFor("victim gone", () => victim.exitCode !== null || victim.signalCode !== null, 5_000);
      expect(victim.signalCode).toBe("SIGKILL");
      expect(alive(spared.pid as number)).toBe(true);
      expect(alive(dogPid)).toBe(false);
    } finally {
      spared.kill("SIGKILL");
      victim.kill("SIGKILL");
    }
  });
});
