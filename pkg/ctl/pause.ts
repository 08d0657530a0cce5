/**
 * `ctl pause | resume`: the `paused` field of the desired state (observe-only mode), written
 * through the same validated compare-and-set with audit as any config change.
 */
import type { CtlContext } from "./context.js";
import { patchable, writeDesired, type WriteFlags } from "./config-write.js";
import { CtlError, EXIT, type ExitCode } from "./errors.js";

export async function setPaused(ctx: CtlContext, paused: boolean, flags: WriteFlags): Promise<ExitCode> {
  const verb = paused ? "pause" : "resume";
  const read = await ctx.config.read();
  const base = patchable(read, verb);
  if ("error" in base) throw new CtlError(base.error);
  if (base.paused === paused && read.state === "valid") {
    ctx.io.out(
      `pool ${ctx.pool} is already ${paused ? "paused" : "running (not paused)"}; nothing written\n`,
    );
    return EXIT.ok;
  }
  return writeDesired(ctx, { ...flags, read, next: { ...base, paused }, action: `ctl ${verb}` });
}
