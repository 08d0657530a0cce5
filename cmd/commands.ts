import type { CommandModule } from "yargs";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandModule<any, any>;

/**
 * Every subcommand of `warmpool`, loaded lazily: a process (the bridge inside every pool task
 * above all) imports only its own command's code, not the AWS SDK of the others, so it starts
 * fast. `--help` at the root loads them all.
 */
export const commandLoaders: Record<string, () => Promise<AnyCommand>> = {
  dev: async () => (await import("./dev.js")).devCommand,
  reconciler: async () => (await import("./reconciler.js")).reconcilerCommand,
  gateway: async () => (await import("./gateway.js")).gatewayCommand,
  bridge: async () => (await import("./bridge.js")).bridgeCommand,
  ctl: async () => (await import("./ctl.js")).ctlCommand,
  sim: async () => (await import("./sim.js")).simCommand,
  emulator: async () => (await import("./emulator.js")).emulatorCommand,
};

/** The command modules a given argv needs: just the named one, or all of them. */
export async function loadCommands(argv: string[]): Promise<AnyCommand[]> {
  const first = argv.find((a) => !a.startsWith("-"));
  const loader = first !== undefined ? commandLoaders[first] : undefined;
  if (loader) return [await loader()];
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}
