/**
 * `warmpool emulator`, the command itself, as a process (the built CLI): it prints its endpoint
 * first, serves the AWS SDK and the AWS CLI, runs every task as a real process, and on SIGTERM
 * stops cleanly — exit 0, every task process gone (even one that ignores SIGTERM), the port closed.
 * Bad flags exit non-zero naming the flag. Needs `npx tsc -p .` first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import {
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../hack/emulator/index.js";
import { cliEntry } from "../../pkg/util/index.js";
import { waitFor } from "../harness/index.js";
import { aws, json } from "./cli.js";

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** The first line on stdout. */
  firstLine: Promise<string>;
}

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), "emu-cmd-"));
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function runEmulator(args: string[]): Run {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("WARMPOOL_")) env[k] = v;
  const child = spawn(process.execPath, [cliEntry(), "emulator", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", () => reject(new Error(`emulator exited before printing; stderr: ${err}`)));
  });
  firstLine.catch(() => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => err, firstLine };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

describe("warmpool emulator (the command, as a process)", { timeout: 120_000 }, () => {
  it("serves the SDK and the AWS CLI, runs tasks as processes, and stops cleanly on SIGTERM", async () => {
    // Each task ignores SIGTERM: only the emulator's own shutdown (SIGKILL of every group) ends it.
    // Two --task-arg flags, as docs/emulator.md's example: every one reaches the task's argv.
    const run = runEmulator([
      "--port",
      "0",
      "--time-scale",
      "0.01",
      "--task-command",
      "sh",
      "--task-arg=-c",
      "--task-arg",
      `trap "" TERM; echo "$0 $1" > ${join(dir, "argv")}; exec sleep 600`,
      "--task-arg",
      "task-argv",
      "--task-arg",
      "seen",
      "--task-output",
      "ignore",
    ]);
    const endpoint = await run.firstLine;
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(endpoint).port);
    await waitFor("its banner on stderr", () => run.stderr().includes(`emulator: ECS at ${endpoint}`));
    const state = async () =>
      (await (await fetch(`${endpoint}/_emulator/state`)).json()) as { launched: number; livePids: number[] };

    // The AWS SDK: register, run two tasks, see them RUNNING (each a live process).
    const ecs = new ECSClient({
      endpoint,
      region: "us-east-1",
      maxAttempts: 1,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "cmd",
        containerDefinitions: [{ name: "main", image: "busybox", memory: 64, essential: true }],
      }),
    );
    expect(td.taskDefinition?.taskDefinitionArn).toBe(
      "arn:aws:ecs:us-east-1:000000000000:task-definition/cmd:1",
    );
    const ran = await ecs.send(
      new RunTaskCommand({ taskDefinition: "cmd", count: 2, startedBy: "cmd-test" }),
    );
    const arns = (ran.tasks ?? []).map((t) => t.taskArn!);
    expect(arns).toHaveLength(2);
    await waitFor(
      "both tasks RUNNING",
      async () =>
        (await ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks?.every(
          (t) => t.lastStatus === "RUNNING",
        ),
      30_000,
      100,
    );
    await waitFor("two task processes", async () => (await state()).livePids.length === 2, 30_000, 100);
    const pids = (await state()).livePids;
    expect(pids.every(alive)).toBe(true);
    expect(readFileSync(join(dir, "argv"), "utf8")).toBe("task-argv seen\n");

    // The AWS CLI against the same process: list, describe, stop one task.
    const emu = { endpoint } as Emulator;
    const listed = json<{ taskArns: string[] }>(
      await aws(emu, ["ecs", "list-tasks", "--started-by", "cmd-test"]),
    );
    expect([...listed.taskArns].sort()).toEqual([...arns].sort());
    const described = json<{ tasks: { taskArn: string; lastStatus: string }[] }>(
      await aws(emu, ["ecs", "describe-tasks", "--tasks", arns[0]!]),
    );
    expect(described.tasks.map((t) => [t.taskArn, t.lastStatus])).toEqual([[arns[0], "RUNNING"]]);
    const stopped = json<{ task: { desiredStatus: string; stoppedReason: string } }>(
      await aws(emu, ["ecs", "stop-task", "--task", arns[0]!, "--reason", "from the CLI"]),
    );
    expect(stopped.task).toMatchObject({ desiredStatus: "STOPPED", stoppedReason: "from the CLI" });
    expect((await state()).launched).toBe(2);

    // SIGTERM: a clean stop, every task process gone with it (the running one ignores SIGTERM),
    // and nothing listening any more.
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toContain("emulator: stopped");
    for (const pid of pids) await waitFor(`task process ${pid} gone`, () => !alive(pid), 10_000);
    expect(await portOpen(port)).toBe(false);
    ecs.destroy();
  });

  it("a scalar flag given twice takes the last value", async () => {
    const run = runEmulator(["--port", "0", "--region", "xx-east-1", "--region", "eu-west-1"]);
    const endpoint = await run.firstLine;
    await waitFor("its banner", () => run.stderr().includes(`emulator: ECS at ${endpoint}`));
    expect(run.stderr()).toContain("(region eu-west-1, account 000000000000)");
    run.child.kill("SIGTERM");
    expect((await run.exited).code).toBe(0);
  });

  it("bad flags: exits non-zero naming the flag, serving nothing", async () => {
    const noQueue = runEmulator(["--port", "0", "--event-cluster", "default"]);
    expect((await noQueue.exited).code).not.toBe(0);
    expect(noQueue.stderr()).toContain("--event-cluster needs --event-queue");
    const badFile = runEmulator(["--port", "0", "--options", "/nonexistent/emu.json"]);
    expect((await badFile.exited).code).not.toBe(0);
    expect(badFile.stderr()).toContain("--options /nonexistent/emu.json: not a readable JSON file");
  });
});
