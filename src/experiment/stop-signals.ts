// The signals that stop a suite cleanly: SIGINT (Ctrl-C) and SIGTERM (what Slurm sends at a job's
// time limit, what `kill` sends by default). Either aborts one stop token; the runner then stops at
// the next step boundary, marks the run in progress interrupted, and the command still writes the
// report and releases the store's lock, exiting 128 + the signal's number (130, 143), as a shell
// reports a process the signal ended.
//
// A second Ctrl-C is the user insisting, so after the first SIGINT the default action (die at once)
// is restored. SIGTERM stays handled: Slurm signals every process of the job step and the Dawn
// filter parent forwards its own (src/cli/dawn-stderr.ts), so one stop request arrives twice; Slurm
// follows up with SIGKILL after its KillWait if the process is still there.
import { constants } from "node:os";

export type StopSignal = "SIGINT" | "SIGTERM";

export interface StopSignals {
  /** Aborted by the first SIGINT or SIGTERM; its reason is the signal's name. */
  readonly signal: AbortSignal;
  /** The signal that stopped it, or null. */
  received(): StopSignal | null;
  /** 128 + the received signal's number (SIGINT 130, SIGTERM 143), or null when none came. */
  exitCode(): number | null;
  /** Removes the handlers (call in a finally: the process's default actions come back). */
  dispose(): void;
}

/** 128 + N, N the signal's number (SIGINT 2 → 130, SIGTERM 15 → 143). */
export function stopExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Installs SIGINT and SIGTERM handlers that abort one token; `onStop` runs once, at the first (to
 * say "stopping after the current step"). `stop(reason)` aborts the same token for other causes
 * (a worker's parent sending `stop` or going away); received() then stays null.
 */
export function handleStopSignals(onStop?: (signal: StopSignal) => void): StopSignals & {
  stop(reason?: string): void;
} {
  const controller = new AbortController();
  let got: StopSignal | null = null;
  const first = (signal: StopSignal) => {
    if (got !== null || controller.signal.aborted) return;
    got = signal;
    onStop?.(signal);
    controller.abort(signal);
  };
  const onSigint = () => {
    // A second Ctrl-C kills outright: the default action comes back after the first.
    process.off("SIGINT", onSigint);
    first("SIGINT");
  };
  const onSigterm = () => first("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  return {
    signal: controller.signal,
    received: () => got,
    exitCode: () => (got === null ? null : stopExitCode(got)),
    stop: (reason = "stopped") => {
      if (!controller.signal.aborted) controller.abort(reason);
    },
    dispose: () => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
    },
  };
}
