import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Bound to every line: pool, component, … */
  bindings?: Record<string, unknown>;
  /** Destination stream; defaults to stderr so stdout stays free for command output. */
  destination?: NodeJS.WritableStream;
}

/**
 * Structured JSON logs, one object per line, with the pool and component on every line. In a
 * TTY the lines are rendered short and human-readable instead.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? ((process.env.WARMPOOL_LOG_LEVEL as LevelWithSilent | undefined) || "info");
  const dest = opts.destination ?? process.stderr;
  const tty = (dest as { isTTY?: boolean }).isTTY === true && process.env.WARMPOOL_LOG_FORMAT !== "json";
  const stream = tty ? prettyStream(dest) : dest;
  return pino({ level, base: opts.bindings ?? {}, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

function prettyStream(dest: NodeJS.WritableStream): NodeJS.WritableStream & { write(s: string): boolean } {
  return {
    write(line: string): boolean {
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const { time, level, msg, component, pool, ...rest } = o;
        const t = typeof time === "string" ? time.slice(11, 23) : "";
        const tag = [component, pool].filter(Boolean).join("/");
        const extra = Object.keys(rest).length ? " " + JSON.stringify(rest) : "";
        return dest.write(
          `${t} ${LEVELS[level as number] ?? level} ${tag ? `[${tag}] ` : ""}${String(msg)}${extra}\n`,
        );
      } catch {
        return dest.write(line);
      }
    },
  } as unknown as NodeJS.WritableStream & { write(s: string): boolean };
}
