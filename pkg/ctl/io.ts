/**
 * Where a ctl command writes, and how: colour and tables for a person at a terminal, plain
 * text when piped (grep/awk-able, no escape codes), JSON when asked. Commands take a CtlIO so a
 * test can capture exactly what on-call would see.
 */
export type OutputFormat = "text" | "json";

export interface CtlIO {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: redraw in place, prompt, draw tables with rules. */
  isTTY: boolean;
  /** ANSI colour on (a TTY without NO_COLOR, or FORCE_COLOR). */
  color: boolean;
  /** Terminal width, for wrapping long lines. */
  columns: number;
  env: NodeJS.ProcessEnv;
  /** Asks a yes/no question on the terminal; absent when stdin is not a TTY. */
  confirm?: (question: string) => Promise<boolean>;
}

/** The process's own stdout/stderr, with colour decided the way most CLIs do (NO_COLOR, FORCE_COLOR). */
export function processIO(): CtlIO {
  const env = process.env;
  const isTTY = process.stdout.isTTY === true;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const io: CtlIO = {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY,
    color: forced || (isTTY && env.NO_COLOR === undefined && env.TERM !== "dumb"),
    columns: process.stdout.columns ?? 100,
    env,
  };
  if (isTTY && process.stdin.isTTY === true) io.confirm = askOnTerminal;
  return io;
}

async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const a = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(a.trim());
  } finally {
    rl.close();
  }
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr =
  (open: number, close: number) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[${close}m`;

const ANSI: Style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};
const id = (s: string): string => s;
const PLAIN: Style = { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };

export function style(io: Pick<CtlIO, "color">): Style {
  return io.color ? ANSI : PLAIN;
}

/** Visible width of a string that may hold ANSI colour codes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** Pretty JSON, one trailing newline: what `--output json` prints. */
export function json(v: unknown): string {
  return JSON.stringify(v, null, 2) + "\n";
}
