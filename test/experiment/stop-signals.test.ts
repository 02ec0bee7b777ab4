// The stop signals (src/experiment/stop-signals.ts) and the end-of-suite summary (summary.ts):
// SIGINT and SIGTERM abort one token, the exit status is 128 + the signal's POSIX number (SIGINT 2,
// SIGTERM 15), a repeated SIGTERM (Slurm signals every process of the step and the Dawn filter
// parent forwards its own) is absorbed, a second Ctrl-C gets the default action back.
import { afterEach, describe, expect, it } from "vitest";
import type { SuiteRunSummary } from "../../src/experiment/runner.js";
import { handleStopSignals, type StopSignals } from "../../src/experiment/stop-signals.js";
import { suiteExitCode, summaryLine } from "../../src/experiment/summary.js";

let handle: StopSignals | null = null;
afterEach(() => handle?.dispose());

describe("stop signals", () => {
  it("SIGTERM aborts the token once, exits 143, and stays handled for the repeats", () => {
    const before = process.listenerCount("SIGTERM");
    const said: string[] = [];
    handle = handleStopSignals((s) => said.push(s));
    expect(handle.signal.aborted).toBe(false);
    expect(handle.exitCode()).toBeNull();
    process.emit("SIGTERM", "SIGTERM");
    expect(handle.signal.aborted).toBe(true);
    expect(handle.signal.reason).toBe("SIGTERM");
    expect(handle.received()).toBe("SIGTERM");
    expect(handle.exitCode()).toBe(143);
    // The forwarded copy: still ours (else Node's default action would end the process).
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    process.emit("SIGTERM", "SIGTERM");
    expect(said).toEqual(["SIGTERM"]);
    handle.dispose();
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });

  it("SIGINT aborts, exits 130, and gives a second Ctrl-C its default action back", () => {
    const before = process.listenerCount("SIGINT");
    handle = handleStopSignals();
    expect(process.listenerCount("SIGINT")).toBe(before + 1);
    process.emit("SIGINT", "SIGINT");
    expect(handle.signal.aborted).toBe(true);
    expect(handle.exitCode()).toBe(130);
    expect(process.listenerCount("SIGINT")).toBe(before);
  });

  it("a stop for another reason (the worker's parent) aborts without a signal's exit status", () => {
    const h = handleStopSignals();
    handle = h;
    h.stop("the suite's parent process went away");
    expect(h.signal.aborted).toBe(true);
    expect(h.received()).toBeNull();
    expect(h.exitCode()).toBeNull();
    // A signal after it changes nothing.
    process.emit("SIGTERM", "SIGTERM");
    expect(h.exitCode()).toBeNull();
  });
});

describe("end-of-suite summary", () => {
  const base: SuiteRunSummary = {
    suiteId: 1,
    completed: 4,
    interrupted: 0,
    failed: 0,
    diverged: 0,
    skipped: 0,
    stopped: false,
  };
  it("the exit status: 0, 1 for a failed or diverged run or a lost worker, 128 + N when stopped", () => {
    expect(suiteExitCode(base)).toBe(0);
    expect(suiteExitCode({ ...base, failed: 1 })).toBe(1);
    expect(suiteExitCode({ ...base, diverged: 1 })).toBe(1);
    expect(suiteExitCode(base, { lost: true })).toBe(1);
    expect(suiteExitCode({ ...base, stopped: true, interrupted: 1 }, { stopExit: 143 })).toBe(143);
    expect(suiteExitCode({ ...base, stopped: true, failed: 1 }, { stopExit: null })).toBe(130);
  });
  it("the line names what happened, diverged runs only where there are some", () => {
    expect(summaryLine(base)).toBe("4 run(s) completed, 0 interrupted, 0 failed");
    expect(summaryLine({ ...base, diverged: 2, skipped: 1, stopped: true })).toBe(
      "4 run(s) completed, 0 interrupted, 0 failed, 2 diverged, 1 done before (stopped: finish with --resume)",
    );
  });
});
