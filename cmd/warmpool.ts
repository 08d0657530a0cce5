#!/usr/bin/env node
/**
 * `warmpool`: one binary, one subcommand per process role (DESIGN §2). Each subcommand lives in
 * its own file under cmd/, declares its options and calls into pkg/.
 */
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { loadCommands } from "./commands.js";

const ENV_PREFIX = "WARMPOOL";
const args = hideBin(process.argv);

const cli = yargs(args)
  .scriptName("warmpool")
  .usage(
    "$0 <command> [options]\n\nKeeps a pool of pre-warmed ECS tasks so a user's session starts in about a second.",
  )
  .strict()
  .demandCommand(1, "name a command (see --help)")
  .recommendCommands()
  .env(ENV_PREFIX)
  .middleware(dropForeignEnv as unknown as Parameters<Argv["middleware"]>[0], true)
  .middleware(lastValueWins as unknown as Parameters<Argv["middleware"]>[0], true)
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .completion("completion", "print a bash/zsh completion script (source it)")
  .help()
  .alias("h", "help")
  .version()
  .epilogue("Docs: README.md. Every flag also reads WARMPOOL_<FLAG> from the environment.")
  .fail((msg, err, y) => {
    if (err) {
      console.error(`warmpool: ${err.message}`);
    } else {
      console.error(y.help());
      console.error(`\nwarmpool: ${msg}`);
    }
    process.exit(2);
  });

for (const c of await loadCommands(args)) cli.command(c);

await cli.parseAsync();

/**
 * `.env("WARMPOOL")` turns every WARMPOOL_* variable into an option, and strict mode would then
 * reject the ones another command uses (a task's environment carries the variables of several
 * processes). Unknown *flags* typed on the command line stay errors; unknown *environment*
 * variables are dropped before validation.
 */
function dropForeignEnv(argv: Record<string, unknown>, y: Argv): void {
  const opts = (
    y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }
  ).getOptions();
  const known = new Set<string>(Object.keys(opts.key));
  for (const [k, aliases] of Object.entries(opts.alias)) {
    known.add(k);
    for (const a of aliases) known.add(a);
  }
  const typed = new Set(
    args.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0]!.replace(/^no-/, "")),
  );
  for (const name of Object.keys(process.env)) {
    if (!name.startsWith(`${ENV_PREFIX}_`)) continue;
    const camel = name
      .slice(ENV_PREFIX.length + 1)
      .toLowerCase()
      .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const kebab = camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (known.has(camel) || known.has(kebab) || typed.has(kebab) || typed.has(camel)) continue;
    delete argv[camel];
    delete argv[kebab];
  }
}

/**
 * A scalar flag given twice takes the last value (as most CLIs do), never an unvalidated array;
 * a repeatable flag (`array: true`, e.g. `--task-arg a --task-arg b`) keeps every value.
 * yargs' `duplicate-arguments-array: false` did the first and broke the second (only the last
 * `--task-arg` survived).
 */
function lastValueWins(argv: Record<string, unknown>, y: Argv): void {
  const opts = (
    y as unknown as { getOptions(): { array: string[]; alias: Record<string, string[]> } }
  ).getOptions();
  const repeatable = new Set<string>(opts.array);
  for (const name of opts.array)
    for (const a of [name, ...(opts.alias[name] ?? [])]) {
      repeatable.add(a);
      repeatable.add(a.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    }
  for (const [k, v] of Object.entries(argv))
    if (Array.isArray(v) && !["_", "--", "$0"].includes(k) && !repeatable.has(k)) argv[k] = v[v.length - 1];
}
