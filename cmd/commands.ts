import type { CommandModule } from "yargs";
import { emulatorCommand } from "./emulator.js";
import { reconcilerCommand } from "./reconciler.js";

/** Every subcommand of `warmpool`; each file under cmd/ exports one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [emulatorCommand, reconcilerCommand];
