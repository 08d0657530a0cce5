import type { CommandModule } from "yargs";
import { bridgeCommand } from "./bridge.js";
import { devCommand } from "./dev.js";
import { emulatorCommand } from "./emulator.js";
import { gatewayCommand } from "./gateway.js";
import { reconcilerCommand } from "./reconciler.js";
import { simCommand } from "./sim.js";

/** Every subcommand of `warmpool`; each file under cmd/ exports one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  emulatorCommand,
  reconcilerCommand,
  simCommand,
  gatewayCommand,
  bridgeCommand,
  devCommand,
];
