/**
 * `warmpool emulator`: the local ECS (and EC2 Auto Scaling) emulator on its own. Prints its
 * endpoint on stdout as the first line, then runs until SIGINT/SIGTERM, killing every task
 * process it started on the way out.
 */
import type { CommandModule } from "yargs";
import { startEmulator, type EmulatorOptions } from "../hack/emulator/index.js";

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
} as const;

interface Args {
  [F.port]: number;
  [F.host]: string;
  [F.region]: string;
  [F.accountId]: string;
  [F.timeScale]: number;
  [F.throttle]: boolean;
  [F.listLag]: number;
  [F.retention]: number;
  [F.launchType]: "EC2" | "FARGATE";
  [F.taskCommand]?: string;
  [F.taskArg]: string[];
  [F.taskOutput]: "inherit" | "ignore";
}

export const emulatorCommand: CommandModule<object, Args> = {
  command: "emulator",
  describe: "run the local ECS emulator (AWS JSON 1.1 wire protocol) until interrupted",
  builder: (y) =>
    y
      .option(F.port, { type: "number", default: 0, describe: "TCP port on the host (0 = a free one)" })
      .option(F.host, { type: "string", default: "127.0.0.1", describe: "address to listen on" })
      .option(F.region, { type: "string", default: "us-east-1", describe: "region in ARNs" })
      .option(F.accountId, { type: "string", default: "000000000000", describe: "account id in ARNs" })
      .option(F.timeScale, {
        type: "number",
        default: 1,
        describe: "multiplies task lifecycle latencies (1 = Fargate/EC2 real speed)",
      })
      .option(F.throttle, {
        type: "boolean",
        default: true,
        describe: "enforce ECS's token buckets (--no-throttle disables them)",
      })
      .option(F.listLag, {
        type: "number",
        default: 0,
        describe: "ListTasks visibility lag of new tasks (ms)",
      })
      .option(F.retention, {
        type: "number",
        default: 3_600_000,
        describe: "how long STOPPED tasks stay listable (ms)",
      })
      .option(F.launchType, {
        choices: ["EC2", "FARGATE"] as const,
        default: "EC2" as const,
        describe: "launch type when RunTask names none",
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
      .example(
        "$0 emulator --port 4566",
        "run it; then: aws ecs list-tasks --endpoint-url http://127.0.0.1:4566",
      )
      .example("$0 emulator --time-scale 0.1 --no-throttle", "ten times faster lifecycle, no throttling")
      .example(
        "$0 emulator --task-command node --task-arg dist/cmd/warmpool.js --task-arg bridge",
        "every task is a real local bridge process",
      ) as never,
  handler: async (a) => {
    const taskCommand = a[F.taskCommand];
    const opts: EmulatorOptions = {
      port: a[F.port],
      host: a[F.host],
      region: a[F.region],
      accountId: a[F.accountId],
      timeScale: a[F.timeScale],
      rateLimits: a[F.throttle] ? undefined : false,
      listVisibilityLagMs: a[F.listLag],
      stoppedRetentionMs: a[F.retention],
      defaultLaunchType: a[F.launchType],
      taskProcess: taskCommand
        ? { command: taskCommand, args: a[F.taskArg], stdio: a[F.taskOutput] }
        : undefined,
    };
    const emu = await startEmulator(opts);
    console.log(emu.endpoint);
    console.error(
      `emulator: ECS at ${emu.endpoint} (region ${emu.region}, account ${emu.accountId}); control at ${emu.endpoint}/_emulator/state`,
    );
    await new Promise<void>((resolve) => {
      const bye = (): void => resolve();
      process.once("SIGINT", bye);
      process.once("SIGTERM", bye);
    });
    await emu.stop();
    console.error("emulator: stopped");
  },
};
