/**
 * A progress bar on stderr, drawn only when stderr is a TTY (never in pipes, CI logs or JSON
 * output), redrawn at most every whole percent.
 */
export interface Progress {
  update(done: number, label?: string): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = -1;
  let lastLabel = "";
  const width = 30;
  return {
    update(done, label = lastLabel) {
      const pct = Math.floor(Math.max(0, Math.min(1, done)) * 100);
      if (pct === last && label === lastLabel) return;
      last = pct;
      lastLabel = label;
      const fill = Math.round((pct / 100) * width);
      stream.write(
        `\r[${"#".repeat(fill)}${".".repeat(width - fill)}] ${String(pct).padStart(3)}% ${label}\x1b[K`,
      );
    },
    done() {
      if (last >= 0) stream.write("\r\x1b[K");
      last = -1;
    },
  };
}
