/**
 * `warmpool emulator`: the local ECS (and EC2 Auto Scaling) emulator on its own. Prints its
 * endpoint on stdout as the first line, then runs until SIGINT/SIGTERM, killing every task
 * process it started on the way out.
 */
import type { CommandModule } from "yargs";
import { readFileSync } from "node:fs";
import { startEmulator, type EmulatorOptions } from "../hack/emulator/index.js";

function readOptionsFile(path: string): EmulatorOptions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`--options ${path}: not a readable JSON file`, { cause: e });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error(`--options ${path}: must hold a JSON object of emulator options`);
  return parsed as EmulatorOptions;
}

const F = {
  port: "port",
  host: "host",
  region: "region",
  accountId: "account-id",
  timeScale: "time-scale",
  throttle: "throttle",
  listLag: "list-lag-ms",
  retention: "stopped-retention-ms",
  launchType: "default-launch-type",
  taskCommand: "task-command",
  taskArg: "task-arg",
  taskOutput: "task-output",
  options: "options",
  eventQueue: "event-queue",
  eventCluster: "event-cluster",
  eventLatency: "event-latency-ms",
} as const;

interface Args {
  [F.port]?: number;
  [F.host]?: string;
  [F.region]?: string;
  [F.accountId]?: string;
  [F.timeScale]?: number;
  [F.throttle]: boolean;
  [F.listLag]?: number;
  [F.retention]?: number;
  [F.launchType]?: "EC2" | "FARGATE";
  [F.taskCommand]?: string;
  [F.taskArg]: string[];
  [F.taskOutput]: "inherit" | "ignore";
  [F.options]?: string;
  [F.eventQueue]?: string;
  [F.eventCluster]: string[];
  [F.eventLatency]?: number;
}

export const emulatorCommand: CommandModule<object, Args> = {
  command: "emulator",
  describe: "run the local ECS emulator (ECS, Auto Scaling and SQS wire protocols) until interrupted",
  builder: (y) =>
    y
      .option(F.port, { type: "number", describe: "TCP port on the host (default 0 = a free one)" })
      .option(F.host, { type: "string", describe: "address to listen on (default 127.0.0.1)" })
      .option(F.region, { type: "string", describe: "region in ARNs (default us-east-1)" })
      .option(F.accountId, { type: "string", describe: "account id in ARNs (default 000000000000)" })
      .option(F.timeScale, {
        type: "number",
        describe: "multiplies task lifecycle latencies (default 1 = Fargate/EC2 real speed)",
      })
      .option(F.throttle, {
        type: "boolean",
        default: true,
        describe: "enforce ECS's token buckets (--no-throttle disables them)",
      })
      .option(F.listLag, {
        type: "number",
        describe: "ListTasks visibility lag of new tasks (ms, default 0)",
      })
      .option(F.retention, {
        type: "number",
        describe: "how long STOPPED tasks stay listable (ms, default 1 h)",
      })
      .option(F.launchType, {
        choices: ["EC2", "FARGATE"] as const,
        describe: "launch type when RunTask names none (default EC2)",
      })
      .option(F.taskCommand, { type: "string", describe: "run this command as a real process per task" })
      .option(F.taskArg, {
        type: "string",
        array: true,
        default: [],
        describe: "argument for --task-command",
      })
      .option(F.taskOutput, {
        choices: ["inherit", "ignore"] as const,
        default: "inherit" as const,
        describe: "where task processes' output goes",
      })
      .option(F.eventQueue, {
        type: "string",
        describe:
          "publish ECS Task State Change events to this SQS queue (created; served on the same endpoint)",
      })
      .option(F.eventCluster, {
        type: "string",
        array: true,
        default: [],
        describe: "with --event-queue: only events of these clusters (names or ARNs; default all)",
      })
      .option(F.eventLatency, {
        type: "number",
        describe: "EventBridge's delivery time of each event to its queue (ms, default 0)",
      })
      .option(F.options, {
        type: "string",
        describe: "JSON file of EmulatorOptions (latencies, rateLimits, autoScaling groups …); flags win",
      })
      .example(
        "$0 emulator --port 4566",
        "run it; then: aws ecs list-tasks --endpoint-url http://127.0.0.1:4566",
      )
      .example("$0 emulator --time-scale 0.1 --no-throttle", "ten times faster lifecycle, no throttling")
      .example(
        "$0 emulator --port 4566 --event-queue ecs-events --event-cluster default",
        "task state change events to SQS; then: aws sqs receive-message --endpoint-url http://127.0.0.1:4566 --queue-url http://127.0.0.1:4566/000000000000/ecs-events",
      )
      .example(
        "$0 emulator --options emu.json",
        'seed e.g. {"autoScaling":{"groups":[{"name":"web","minSize":0,"maxSize":10,"warmPool":{"minSize":2}}]}}',
      )
      .example(
        "$0 emulator --task-command node --task-arg dist/cmd/warmpool.js --task-arg bridge",
        "every task is a real local bridge process",
      ) as never,
  handler: async (a) => {
    const taskCommand = a[F.taskCommand];
    const eventQueue = a[F.eventQueue];
    if (!eventQueue && a[F.eventCluster].length)
      throw new Error(`--${F.eventCluster} needs --${F.eventQueue}`);
    const optionsFile = a[F.options];
    const fromFile = optionsFile ? readOptionsFile(optionsFile) : {};
    const opts: EmulatorOptions = {
      ...fromFile,
      port: a[F.port] ?? fromFile.port,
      host: a[F.host] ?? fromFile.host,
      region: a[F.region] ?? fromFile.region,
      accountId: a[F.accountId] ?? fromFile.accountId,
      timeScale: a[F.timeScale] ?? fromFile.timeScale,
      rateLimits: a[F.throttle] ? fromFile.rateLimits : false,
      listVisibilityLagMs: a[F.listLag] ?? fromFile.listVisibilityLagMs,
      stoppedRetentionMs: a[F.retention] ?? fromFile.stoppedRetentionMs,
      defaultLaunchType: a[F.launchType] ?? fromFile.defaultLaunchType,
      taskProcess: taskCommand
        ? { command: taskCommand, args: a[F.taskArg], stdio: a[F.taskOutput] }
        : fromFile.taskProcess,
      eventLatencyMs: a[F.eventLatency] ?? fromFile.eventLatencyMs,
      eventRules: eventQueue
        ? [
            ...(fromFile.eventRules ?? []),
            {
              name: "ecs-task-state-change",
              queueName: eventQueue,
              ...(a[F.eventCluster].length ? { clusters: a[F.eventCluster] } : {}),
            },
          ]
        : fromFile.eventRules,
    };
    const emu = await startEmulator(opts);
    console.log(emu.endpoint);
    console.error(
      `emulator: ECS at ${emu.endpoint} (region ${emu.region}, account ${emu.accountId}); control at ${emu.endpoint}/_emulator/state`,
    );
    if (eventQueue)
      console.error(`emulator: task state change events → ${emu.endpoint}/${emu.accountId}/${eventQueue}`);
    await new Promise<void>((resolve) => {
      const bye = (): void => resolve();
      process.once("SIGINT", bye);
      process.once("SIGTERM", bye);
    });
    await emu.stop();
    console.error("emulator: stopped");
  },
};
