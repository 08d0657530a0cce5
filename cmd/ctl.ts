/**
 * `warmpool ctl`: the on-call CLI (DESIGN §2). Declares the subcommands, their flags and examples;
 * everything else — connecting, validating, rendering, exit codes — lives in pkg/ctl.
 * `makeCtlCommand` takes its output and exit sink so tests run the real parser in-process.
 */
import type { Argv, CommandModule } from "yargs";
import { parseLabels } from "../pkg/pools/index.js";
import {
  allPoolsStatus,
  cancelDrain,
  claimsList,
  claimsRelease,
  configApply,
  configEdit,
  configGet,
  configHistory,
  configRollback,
  configSet,
  configValidate,
  drainCommand,
  poolCreate,
  poolDelete,
  poolList,
  processIO,
  runLocal,
  runWithPool,
  runWithRedis,
  setPaused,
  statusCommand,
  tasksCommand,
  TASK_STATES,
  watchAllPools,
  watchStatus,
  type CtlIO,
  type ExitCode,
  type GlobalFlags,
  type WriteFlags,
} from "../pkg/ctl/index.js";

const F = {
  redisUrl: "redis-url",
  pool: "pool",
  output: "output",
  connectTimeout: "connect-timeout",
  watch: "watch",
  interval: "interval",
  staleAfter: "stale-after",
  dryRun: "dry-run",
  yes: "yes",
  reason: "reason",
  file: "file",
  limit: "limit",
  state: "state",
  revision: "revision",
  cancel: "cancel",
  label: "label",
  force: "force",
  wait: "wait",
  allPools: "all-pools",
} as const;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Args = Record<string, any>;

export interface CtlRuntime {
  io: () => CtlIO;
  exit: (code: ExitCode) => void;
  /** Reads all of stdin (`-f -`). */
  stdin?: () => Promise<string>;
  /** Ends `status --watch`. */
  signal?: () => AbortSignal;
}

const globals = (a: Args): GlobalFlags => ({
  redisUrl: a[F.redisUrl],
  pool: a[F.pool],
  output: a[F.output],
  connectTimeout: a[F.connectTimeout],
});
const writeFlags = (a: Args): WriteFlags => ({ dryRun: a[F.dryRun], yes: a[F.yes], reason: a[F.reason] });

const withWriteFlags = (y: Argv<any>): Argv<any> =>
  y
    .option(F.dryRun, { type: "boolean", default: false, describe: "show the diff, write nothing" })
    .option(F.yes, {
      type: "boolean",
      alias: "y",
      default: false,
      describe: "do not ask before writing (in a terminal)",
    })
    .option(F.reason, { type: "string", describe: "why: recorded with your OS user in config:history" });

export function makeCtlCommand(rt: CtlRuntime): CommandModule<object, Args> {
  const pooled =
    (fn: (a: Args) => Parameters<typeof runWithPool>[2], opts: { reconnect?: (a: Args) => boolean } = {}) =>
    async (a: Args): Promise<void> => {
      const code = await runWithPool(rt.io(), globals(a), fn(a), { reconnect: opts.reconnect?.(a) ?? false });
      rt.exit(code);
    };

  const statusOptions = (a: Args) => ({ staleAfterMs: a[F.staleAfter] * 1000 });
  const watchOptions = (a: Args) => ({
    ...statusOptions(a),
    intervalMs: a[F.interval] * 1000,
    ...(rt.signal ? { signal: rt.signal() } : {}),
  });
  const onePool = pooled(
    (a) => (ctx) => (a[F.watch] ? watchStatus(ctx, watchOptions(a)) : statusCommand(ctx, statusOptions(a))),
    { reconnect: (a) => a[F.watch] === true },
  );
  const status: CommandModule<object, Args> = {
    command: "status",
    describe:
      "desired vs actual, leader and last pass, desired-state validity, rollout, errors; without --pool every registered pool, one line each; non-zero exit when unhealthy",
    builder: (y) =>
      y
        .option(F.allPools, {
          type: "boolean",
          default: false,
          describe: "every registered pool at a glance, one line each (the default when no --pool is given)",
        })
        .option(F.watch, {
          type: "boolean",
          alias: "w",
          default: false,
          describe: "redraw every --interval until Ctrl-C",
        })
        .option(F.interval, { type: "number", default: 2, describe: "seconds between redraws with --watch" })
        .option(F.staleAfter, {
          type: "number",
          default: 60,
          describe: "seconds after which the leader's last pass counts as stale (unhealthy)",
        })
        .example(
          "$0 ctl status --pool agents",
          "one report; exit 0 healthy, 10–13 unhealthy (see docs/ctl.md)",
        )
        .example("$0 ctl status", "every registered pool, one line each; exit code of the worst")
        .example("$0 ctl status --watch", "live view during a rollout (pool from WARMPOOL_POOL)")
        .example("$0 ctl status -o json | jq .health", "the verdict for a script or probe"),
    handler: async (a: Args) => {
      if (a[F.pool] && !a[F.allPools]) return onePool(a);
      const code = await runWithRedis(
        rt.io(),
        globals(a),
        (ctx) => (a[F.watch] ? watchAllPools(ctx, watchOptions(a)) : allPoolsStatus(ctx, statusOptions(a))),
        { reconnect: a[F.watch] === true },
      );
      rt.exit(code);
    },
  };

  const config: CommandModule<object, Args> = {
    command: "config <command>",
    describe: "read, change, check, audit and roll back the desired state",
    builder: (y) =>
      y
        .command({
          command: "get",
          describe: "print the desired state in force (defaults written out)",
          builder: (c) =>
            c
              .example("$0 ctl config get", "pretty JSON")
              .example("$0 ctl config get -o json | jq .minWarm", "one field"),
          handler: pooled(() => (ctx) => configGet(ctx)),
        })
        .command({
          command: "set <assignments..>",
          describe: "change fields: key=value … (value is JSON when it parses, else a string; null removes)",
          builder: (c) =>
            withWriteFlags(c)
              .positional("assignments", { type: "string", array: true, describe: "field=value" })
              .example(
                "$0 ctl config set minWarm=8 maxWarm=30 --reason 'launch day'",
                "raise the floor and ceiling",
              )
              .example("$0 ctl config set taskDefinition=agent:8", "roll out a new revision (surge-first)")
              .example("$0 ctl config set asg.headroomInstances=2 --dry-run", "show the diff only"),
          handler: pooled(
            (a) => (ctx) => configSet(ctx, (a.assignments as unknown[]).map(String), writeFlags(a)),
          ),
        })
        .command({
          command: "apply",
          describe:
            "replace the desired state with a whole JSON document (fields left out take their defaults)",
          builder: (c) =>
            withWriteFlags(c)
              .option(F.file, {
                type: "string",
                alias: "f",
                demandOption: true,
                describe: "JSON file, - for stdin",
              })
              .example(
                "$0 ctl config apply -f desired.json --reason 'weekly review'",
                "validate, diff, write",
              )
              .example("cat desired.json | $0 ctl config apply -f - --dry-run", "from stdin, diff only"),
          handler: pooled((a) => (ctx) => configApply(ctx, a[F.file], writeFlags(a), rt.stdin)),
        })
        .command({
          command: "validate",
          describe: "check a JSON document with the reconciler's rules (no Redis needed)",
          builder: (c) =>
            c
              .option(F.file, {
                type: "string",
                alias: "f",
                demandOption: true,
                describe: "JSON file, - for stdin",
              })
              .example(
                "$0 ctl config validate -f desired.json",
                "exit 0 valid, 1 invalid (every problem listed)",
              ),
          handler: async (a: Args) => {
            const io = rt.io();
            rt.exit(await runLocal(io, () => configValidate(io, a[F.output], a[F.file], rt.stdin)));
          },
        })
        .command({
          command: "edit",
          describe: "edit the desired state in $VISUAL / $EDITOR, then validate, diff and write",
          builder: (c) =>
            withWriteFlags(c)
              .example("$0 ctl config edit --reason 'tune threshold'", "opens vi unless EDITOR is set")
              .example("EDITOR='code --wait' $0 ctl config edit", "another editor"),
          handler: pooled((a) => (ctx) => configEdit(ctx, writeFlags(a))),
        })
        .command({
          command: "history",
          describe: "accepted and rejected desired states: when, who, why, what changed",
          builder: (c) =>
            c
              .option(F.limit, {
                type: "number",
                alias: "n",
                default: 20,
                describe: "entries to show, newest first",
              })
              .example("$0 ctl config history -n 5", "the last five changes; BACK numbers feed rollback"),
          handler: pooled((a) => (ctx) => configHistory(ctx, Math.max(1, Math.floor(a[F.limit])))),
        })
        .command({
          command: "rollback [n]",
          describe:
            "restore an earlier accepted version: N back (default 1, BACK in history) or a history id",
          builder: (c) =>
            withWriteFlags(c)
              .positional("n", { type: "string", describe: "versions back, or a history id" })
              .example("$0 ctl config rollback", "undo the last change")
              .example(
                "$0 ctl config rollback 3 --dry-run",
                "show what restoring 3 versions back would change",
              ),
          handler: pooled(
            (a) => (ctx) => configRollback(ctx, a.n === undefined ? undefined : String(a.n), writeFlags(a)),
          ),
        })
        .demandCommand(1, "name a config command: get, set, apply, validate, edit, history, rollback")
        .example("$0 ctl config set minWarm=8", "change one field")
        .example("$0 ctl config history", "who changed what"),
    handler: () => undefined,
  };

  const pause: CommandModule<object, Args> = {
    command: "pause",
    describe: "observe-only mode: the reconciler reports but starts and stops nothing",
    builder: (y) =>
      withWriteFlags(y).example("$0 ctl pause --reason 'ECS incident'", "hold the pool as it is"),
    handler: pooled((a) => (ctx) => setPaused(ctx, true, writeFlags(a))),
  };
  const resume: CommandModule<object, Args> = {
    command: "resume",
    describe: "leave observe-only mode",
    builder: (y) => withWriteFlags(y).example("$0 ctl resume --reason 'incident over'", "act again"),
    handler: pooled((a) => (ctx) => setPaused(ctx, false, writeFlags(a))),
  };

  const tasks: CommandModule<object, Args> = {
    command: "tasks",
    describe: "every task record: state, revision, age, user, claim",
    builder: (y) =>
      y
        .option(F.state, { type: "string", choices: [...TASK_STATES], describe: "only tasks in this state" })
        .example("$0 ctl tasks", "all tasks")
        .example("$0 ctl tasks --state warm | wc -l", "piped: plain columns (count includes the header)"),
    handler: pooled((a) => (ctx) => tasksCommand(ctx, a[F.state] === undefined ? {} : { state: a[F.state] })),
  };

  const claims: CommandModule<object, Args> = {
    command: "claims <command>",
    describe: "live claims, and releasing one",
    builder: (y) =>
      y
        .command({
          command: "list",
          describe: "held and queued claims: user, task, lease left, queue position",
          builder: (c) =>
            c.example("$0 ctl claims list", "table").example("$0 ctl claims list -o json", "JSON"),
          handler: pooled(() => (ctx) => claimsList(ctx)),
        })
        .command({
          command: "release <id>",
          describe: "end a claim: its task drains and is stopped (never reused)",
          builder: (c) =>
            c
              .positional("id", { type: "string", describe: "claim id (UUID)" })
              .option(F.reason, { type: "string", describe: "recorded as the task's drain reason" })
              .example("$0 ctl claims release 3f0c…-…", "free a stuck session"),
          handler: pooled((a) => (ctx) => claimsRelease(ctx, String(a.id), a[F.reason])),
        })
        .demandCommand(1, "name a claims command: list, release"),
    handler: () => undefined,
  };

  const drain: CommandModule<object, Args> = {
    command: "drain",
    describe: "replace idle tasks created before now (of --revision), surge-first; claimed ones finish",
    builder: (y) =>
      withWriteFlags(y)
        .option(F.revision, {
          type: "string",
          describe: "only tasks of this task definition (family, family:N, ARN)",
        })
        .option(F.cancel, { type: "boolean", default: false, describe: "remove the drain request" })
        .example("$0 ctl drain --revision agent:7 --reason 'CVE in agent:7'", "force old tasks out")
        .example("$0 ctl drain --dry-run", "how many idle tasks a full drain would replace"),
    handler: pooled(
      (a) => (ctx) =>
        a[F.cancel]
          ? cancelDrain(ctx)
          : drainCommand(ctx, {
              ...writeFlags(a),
              ...(a[F.revision] !== undefined ? { revision: a[F.revision] } : {}),
            }),
    ),
  };

  const pool: CommandModule<object, Args> = {
    command: "pool <command>",
    describe: "the registry of pools this control plane serves: create, list, delete",
    builder: (y) =>
      y
        .command({
          command: "create",
          describe: "register --pool (its desired state starts at the defaults; set it with config apply)",
          builder: (c) =>
            c
              .option(F.label, {
                type: "string",
                array: true,
                default: [],
                describe: "key=value, repeatable",
              })
              .example(
                "$0 ctl pool create --pool gpu-eu --label tier=gpu --label region=eu",
                "register a pool",
              ),
          handler: pooled(
            (a) => (ctx) => poolCreate(ctx, parseLabels((a[F.label] as unknown[]).map(String))),
          ),
        })
        .command({
          command: "list",
          describe: "every registered pool: state, labels, age",
          builder: (c) => c.example("$0 ctl pool list -o json", "JSON"),
          handler: async (a: Args) =>
            rt.exit(await runWithRedis(rt.io(), globals(a), (ctx) => poolList(ctx))),
        })
        .command({
          command: "delete",
          describe: "drain --pool to zero, then remove it; refused while claims are live unless --force",
          builder: (c) =>
            withWriteFlags(c)
              .option(F.force, {
                type: "boolean",
                default: false,
                describe: "drain even with live claims (claimed tasks end with their sessions)",
              })
              .option(F.wait, {
                type: "number",
                default: 0,
                describe: "seconds to wait for the drain, then remove",
              })
              .example("$0 ctl pool delete --pool old --wait 300", "drain and remove"),
          handler: pooled(
            (a) => (ctx) =>
              poolDelete(ctx, {
                ...writeFlags(a),
                force: a[F.force] === true,
                waitSeconds: Number(a[F.wait]) || 0,
                ...(rt.signal ? { signal: rt.signal() } : {}),
              }),
          ),
        })
        .demandCommand(1, "name a pool command: create, list, delete"),
    handler: () => undefined,
  };

  return {
    command: "ctl <command>",
    describe: "on-call CLI: status, desired state, pause, tasks, claims, drain, pools",
    builder: (y) =>
      y
        .option(F.redisUrl, {
          type: "string",
          default: "redis://127.0.0.1:6379",
          describe:
            "redis:// or rediss:// (TLS); password as redis://:PASS@host; a Redis Cluster as redis+cluster://host:port[,host:port…] (rediss+cluster:// for TLS)",
        })
        .option(F.pool, {
          type: "string",
          describe: "pool name (required, except by status: without it, every registered pool)",
        })
        .option(F.output, {
          type: "string",
          alias: "o",
          choices: ["text", "json"],
          default: "text",
          describe: "output format",
        })
        .option(F.connectTimeout, { type: "number", default: 3, describe: "seconds to wait for Redis" })
        .command(status)
        .command(config)
        .command(pause)
        .command(resume)
        .command(tasks)
        .command(claims)
        .command(drain)
        .command(pool)
        .demandCommand(1, "name a ctl command (see --help)")
        .example(
          "WARMPOOL_POOL=agents WARMPOOL_REDIS_URL=rediss://:pw@redis:6380 $0 ctl status",
          "configure from the environment",
        )
        .epilogue(
          "Exit codes: 0 ok · 1 refused/invalid (nothing written) · 2 usage · 3 Redis unreachable · 4 concurrent change · 5 Redis read-only or failing over (retry) · status: 10 no leader, 11 stale or failing passes, 12 invalid desired state, 13 exhausted. Docs: docs/ctl.md",
        ),
    handler: () => undefined,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const ctlCommand = makeCtlCommand({
  io: processIO,
  exit: (code) => {
    process.exitCode = code;
  },
  stdin: readStdin,
  signal: () => {
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return ac.signal;
  },
});
