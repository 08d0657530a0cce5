#!/usr/bin/env node
/**
 * `warmpool`: one binary, one subcommand per process role (DESIGN §2). Each subcommand lives in
 * its own file under cmd/, declares its options and calls into pkg/.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { commands } from "./commands.js";

const cli = yargs(hideBin(process.argv))
  .scriptName("warmpool")
  .usage(
    "$0 <command> [options]\n\nKeeps a pool of pre-warmed ECS tasks so a user's session starts in about a second.",
  )
  .strict()
  .demandCommand(1, "name a command (see --help)")
  .recommendCommands()
  .env("WARMPOOL")
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

for (const c of commands) cli.command(c);

await cli.parseAsync();
