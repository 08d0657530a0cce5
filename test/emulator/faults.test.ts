import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CAPACITY_UNAVAILABLE_REASON, startEmulator, type Emulator } from "../../hack/emulator/index.js";
import { waitFor } from "../harness/index.js";
import { ecsClient, errorCode, registerSleeper } from "./clients.js";

/** A seeded uniform source, so probability faults give the same answers every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("emulator: faults on demand", () => {
  let emu: Emulator;
  let ecs: ECSClient;
  let td: string;
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.01, rateLimits: false, random: mulberry32(42) });
    ecs = ecsClient(emu);
    td = await registerSleeper(ecs);
  });
  afterEach(() => {
    emu.control.clearFaults();
    emu.control.resetCalls();
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it("5xx on the next N calls of one operation, then normal service", async () => {
    emu.control.addFault({ kind: "error", op: "RunTask", count: 2 });
    const launched = emu.control.launchedCount();
    expect(await errorCode(ecs.send(new RunTaskCommand({ taskDefinition: td })))).toBe("ServerException");
    expect(await errorCode(ecs.send(new RunTaskCommand({ taskDefinition: td })))).toBe("ServerException");
    expect(await errorCode(ecs.send(new ListTasksCommand({})))).toBe("no error"); // other ops unaffected
    expect(await errorCode(ecs.send(new RunTaskCommand({ taskDefinition: td })))).toBe("no error");
    expect(emu.control.calls().RunTask).toEqual({ ok: 1, throttled: 0, error: 2 });
    expect(emu.control.launchedCount()).toBe(launched + 1);
  });

  it("5xx with a probability: about that share of calls fail, answered HTTP 500", async () => {
    emu.control.addFault({ kind: "error", op: "ListTasks", probability: 0.3 });
    const codes: string[] = [];
    for (let i = 0; i < 200; i++) codes.push(await errorCode(ecs.send(new ListTasksCommand({}))));
    const failed = codes.filter((c) => c === "ServerException").length;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
    expect(emu.control.calls().ListTasks?.error).toBe(failed);
    const res = await fetch(emu.endpoint, {
      method: "POST",
      headers: {
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeTasks",
        "Content-Type": "application/x-amz-json-1.1",
      },
      body: JSON.stringify({ tasks: ["x"] }),
    });
    expect(res.status).toBe(200);
    emu.control.addFault({ kind: "error", op: "DescribeTasks", count: 1 });
    const bad = await fetch(emu.endpoint, {
      method: "POST",
      headers: {
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeTasks",
        "Content-Type": "application/x-amz-json-1.1",
      },
      body: JSON.stringify({ tasks: ["x"] }),
    });
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { __type: string }).__type).toBe("ServerException");
  });

  it("a throttling storm throttles every op for its duration, then passes", async () => {
    emu.control.addFault({ kind: "throttle", durationMs: 400 });
    expect(await errorCode(ecs.send(new ListTasksCommand({})))).toBe("ThrottlingException");
    expect(await errorCode(ecs.send(new RunTaskCommand({ taskDefinition: td })))).toBe("ThrottlingException");
    await waitFor(
      "storm over",
      async () => (await errorCode(ecs.send(new ListTasksCommand({})))) === "no error",
      5_000,
    );
    expect(emu.control.calls().ListTasks?.throttled).toBeGreaterThanOrEqual(1);
  });

  it("RunTask failures: RESOURCE:CPU, RESOURCE:MEMORY, capacity unavailable — nothing launched for them", async () => {
    const before = emu.control.launchedCount();
    emu.control.addFault({ kind: "runTaskFailure", reason: "RESOURCE:CPU", count: 3 });
    const out = await ecs.send(new RunTaskCommand({ taskDefinition: td, count: 5 }));
    expect(out.tasks?.length).toBe(2);
    expect(out.failures?.map((f) => f.reason)).toEqual(["RESOURCE:CPU", "RESOURCE:CPU", "RESOURCE:CPU"]);
    expect(emu.control.launchedCount()).toBe(before + 2);

    emu.control.addFault({ kind: "runTaskFailure", reason: "RESOURCE:MEMORY", count: 1 });
    const mem = await ecs.send(new RunTaskCommand({ taskDefinition: td }));
    expect(mem.failures?.[0]?.reason).toBe("RESOURCE:MEMORY");
    expect(mem.tasks).toEqual([]);

    emu.control.addFault({ kind: "runTaskFailure", reason: "CAPACITY_UNAVAILABLE", count: 1 });
    const cap = await ecs.send(new RunTaskCommand({ taskDefinition: td }));
    expect(cap.failures?.[0]?.reason).toBe(CAPACITY_UNAVAILABLE_REASON);
  });

  it("tasks die before RUNNING with stopCode TaskFailedToStart", async () => {
    emu.control.addFault({ kind: "failToStart", count: 1 });
    const out = await ecs.send(new RunTaskCommand({ taskDefinition: td, count: 2, startedBy: "fts" }));
    const [doomed, fine] = (out.tasks ?? []).map((t) => t.taskArn as string) as [string, string];
    const stopped = await waitFor("doomed task STOPPED", async () => {
      const d = await ecs.send(new DescribeTasksCommand({ tasks: [doomed] }));
      return d.tasks?.[0]?.lastStatus === "STOPPED" ? d.tasks[0] : undefined;
    });
    expect(stopped.stopCode).toBe("TaskFailedToStart");
    expect(stopped.stoppedReason).toMatch(/CannotPullContainerError/);
    expect(stopped.startedAt).toBeUndefined();
    expect(emu.control.task(doomed)?.history.map((h) => h.status)).not.toContain("RUNNING");
    await waitFor("healthy task RUNNING", () => emu.control.task(fine)?.lastStatus === "RUNNING");
    const l = await ecs.send(new ListTasksCommand({ startedBy: "fts", desiredStatus: "STOPPED" }));
    expect(l.taskArns).toEqual([doomed]);
  });

  it("a slow response: the operation happens, its answer comes late, once", async () => {
    emu.control.addFault({ kind: "slow", op: "DescribeTasks", delayMs: 500 });
    const t0 = performance.now();
    await ecs.send(new DescribeTasksCommand({ tasks: ["0123456789abcdef0123456789abcdef"] }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(480);
    const t1 = performance.now();
    await ecs.send(new DescribeTasksCommand({ tasks: ["0123456789abcdef0123456789abcdef"] }));
    expect(performance.now() - t1).toBeLessThan(480);
  });

  it("a hanging RunTask times the client out, yet the tasks were launched", async () => {
    emu.control.addFault({ kind: "slow", op: "RunTask", hang: true });
    const before = emu.control.launchedCount();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 300);
    const code = await errorCode(
      ecs.send(new RunTaskCommand({ taskDefinition: td, count: 3 }), { abortSignal: abort.signal }),
    );
    clearTimeout(timer);
    expect(code).toBe("AbortError");
    expect(emu.control.launchedCount()).toBe(before + 3);
    expect(await errorCode(ecs.send(new RunTaskCommand({ taskDefinition: td })))).toBe("no error"); // only one hangs
  });

  it("RunTask clientToken: a retry after a lost answer gets the same tasks and launches nothing", async () => {
    emu.control.addFault({ kind: "slow", op: "RunTask", hang: true });
    const clientToken = "retry-after-timeout-1";
    const before = emu.control.launchedCount();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 300);
    const lost = ecs.send(
      new RunTaskCommand({ taskDefinition: td, count: 4, startedBy: "idem", clientToken }),
      {
        abortSignal: abort.signal,
      },
    );
    expect(await errorCode(lost)).toBe("AbortError");
    clearTimeout(timer);
    const retry = await ecs.send(
      new RunTaskCommand({ taskDefinition: td, count: 4, startedBy: "idem", clientToken }),
    );
    expect(emu.control.launchedCount()).toBe(before + 4);
    const launched = emu.control
      .tasks()
      .filter((t) => t.startedBy === "idem")
      .map((t) => t.taskArn);
    expect(retry.tasks?.map((t) => t.taskArn).sort()).toEqual(launched.sort());
    // Same token, other parameters: a conflict, nothing launched.
    const other = ecs.send(
      new RunTaskCommand({ taskDefinition: td, count: 5, startedBy: "idem", clientToken }),
    );
    expect(await errorCode(other)).toBe("ConflictException");
    expect(emu.control.launchedCount()).toBe(before + 4);
    // The same token in another cluster is another request.
    await ecs.send(new CreateClusterCommand({ clusterName: "elsewhere" }));
    const elsewhere = await ecs.send(
      new RunTaskCommand({
        cluster: "elsewhere",
        taskDefinition: td,
        count: 4,
        startedBy: "idem",
        clientToken,
      }),
    );
    expect(elsewhere.tasks?.length).toBe(4);
    expect(emu.control.launchedCount()).toBe(before + 8);
  });

  it("ListTasks visibility lag: DescribeTasks sees a new task at once, ListTasks only after the lag", async () => {
    emu.control.addFault({ kind: "listLag", ms: 600 });
    const out = await ecs.send(new RunTaskCommand({ taskDefinition: td, startedBy: "lagged" }));
    const arn = out.tasks?.[0]?.taskArn as string;
    const t0 = Date.now();
    expect((await ecs.send(new ListTasksCommand({ startedBy: "lagged" }))).taskArns).toEqual([]);
    expect((await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0]?.taskArn).toBe(arn);
    await waitFor(
      "listed",
      async () => (await ecs.send(new ListTasksCommand({ startedBy: "lagged" }))).taskArns?.includes(arn),
      5_000,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it("the listVisibilityLagMs option lags every new task", async () => {
    const lagged = await startEmulator({ timeScale: 0.01, rateLimits: false, listVisibilityLagMs: 400 });
    try {
      const c = ecsClient(lagged);
      const t = await registerSleeper(c);
      await c.send(new RunTaskCommand({ taskDefinition: t }));
      expect((await c.send(new ListTasksCommand({}))).taskArns).toEqual([]);
      await waitFor(
        "listed",
        async () => (await c.send(new ListTasksCommand({}))).taskArns?.length === 1,
        5_000,
      );
    } finally {
      await lagged.stop();
    }
  });

  it("faults and ground truth over HTTP under /_emulator/", async () => {
    const bad = await fetch(`${emu.endpoint}/_emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ kind: "error", probability: 2 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/probability/);
    const add = await fetch(`${emu.endpoint}/_emulator/faults`, {
      method: "POST",
      body: JSON.stringify({
        kind: "error",
        op: "ListTasks",
        count: 1,
        code: "ClientException",
        status: 400,
      }),
    });
    expect(add.status).toBe(201);
    expect(await errorCode(ecs.send(new ListTasksCommand({})))).toBe("ClientException");
    const state = (await (await fetch(`${emu.endpoint}/_emulator/state`)).json()) as {
      launched: number;
      calls: Record<string, { error: number }>;
    };
    expect(state.launched).toBe(emu.control.launchedCount());
    expect(state.calls.ListTasks?.error).toBe(1);
    const tasks = (await (await fetch(`${emu.endpoint}/_emulator/tasks`)).json()) as { tasks: unknown[] };
    expect(tasks.tasks.length).toBe(emu.control.tasks().length);
    expect((await fetch(`${emu.endpoint}/_emulator/faults`, { method: "DELETE" })).status).toBe(200);
    expect(emu.control.faults()).toEqual([]);
  });

  it("a malformed fault is refused programmatically, naming the field", () => {
    expect(() => emu.control.addFault({ kind: "runTaskFailure", reason: "DISK" as "RESOURCE:CPU" })).toThrow(
      /fault.reason/,
    );
  });
});
