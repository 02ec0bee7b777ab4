// A one-line progress display on stderr, redrawn with a carriage return, when stderr is a
// terminal (directly, or through the Dawn-warning filter's pipe: HALFWATT_STDERR_TTY); plain
// output otherwise gets nothing from it (the command prints its own lines).
export function stderrIsTerminal(): boolean {
  return Boolean(process.stderr.isTTY) || process.env.HALFWATT_STDERR_TTY === "1";
}

export interface ProgressLine {
  update(text: string): void;
  /** Clears the line (the caller prints its summary after). */
  done(): void;
}

export function progressLine(enabled = stderrIsTerminal()): ProgressLine {
  let shown = false;
  let last = 0;
  return {
    update(text) {
      if (!enabled) return;
      const now = Date.now();
      if (shown && now - last < 100) return; // at most 10 redraws a second
      last = now;
      shown = true;
      process.stderr.write(`\r${text}\x1b[K`);
    },
    done() {
      if (enabled && shown) process.stderr.write("\r\x1b[K");
      shown = false;
    },
  };
}

/** "[#####-----] 12/40" */
export function bar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const n = Math.round(f * width);
  return `[${"#".repeat(n)}${"-".repeat(width - n)}] ${done}/${total}`;
}
