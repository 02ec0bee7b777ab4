// Dawn prints two "maxDynamic… artificially reduced" warnings from native code straight to file
// descriptor 2 whenever it enumerates a Vulkan adapter (before any device exists, so no choice of
// requested limits avoids them). They describe a clamp halfwatt never depends on, yet every GPU
// command would show them. Node cannot redirect a native library's fd 2 in-process, so commands
// that open the GPU run in a child process whose stderr passes through this filter: exactly those
// two lines are dropped, everything else (real errors included) is forwarded unchanged.
// HALFWATT_DAWN_WARNINGS=1 shows them.
import { spawn } from "node:child_process";
import { signalExitCode } from "../telemetry/measurement.js";

/** Exactly Dawn's limit-clamp notice (src/dawn/native/Limits.cpp), one line. */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

/** Commands that open a WebGPU adapter. */
const WARNING_PREFIX = "Warning: maxDynamic";

const GPU_COMMANDS = new Set(["devices", "selfcheck", "train", "eval", "suite", "tune"]);

const CHILD_MARK = "HALFWATT_STDERR_FILTERED";

/** A line filter over a byte stream: calls `write` with everything but Dawn's warnings. */
export function dawnWarningFilter(write: (text: string) => void): { push(chunk: string): void; end(): void } {
  let pending = "";
  const flushLine = (line: string, newline: string) => {
    if (!DAWN_LIMIT_WARNING.test(line)) write(line + newline);
  };
  return {
    push(chunk) {
      pending += chunk;
      let i = pending.indexOf("\n");
      while (i >= 0) {
        flushLine(pending.slice(0, i), "\n");
        pending = pending.slice(i + 1);
        i = pending.indexOf("\n");
      }
      // A partial line that cannot become Dawn's warning (a progress line redrawn with \r) goes
      // out at once rather than waiting for a newline.
      if (
        pending &&
        !WARNING_PREFIX.startsWith(pending.slice(0, WARNING_PREFIX.length)) &&
        !pending.startsWith(WARNING_PREFIX)
      ) {
        write(pending);
        pending = "";
      }
    },
    end() {
      if (pending) flushLine(pending, "");
      pending = "";
    },
  };
}

/** The command word of an argv (after node and the script), skipping global options. */
function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--adapter") i++;
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/**
 * When this invocation opens the GPU and is not already filtered, re-runs it as a child with its
 * stderr filtered and resolves with the child's exit status; otherwise resolves null (go on).
 */
export function runFiltered(argv: readonly string[] = process.argv): Promise<number> | null {
  const word = commandWord(argv.slice(2));
  if (!word || !GPU_COMMANDS.has(word) || process.env[CHILD_MARK] || process.env.HALFWATT_DAWN_WARNINGS)
    return null;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
      stdio: ["inherit", "inherit", "pipe"],
      // The child's stderr is our pipe: tell it whether ours is a terminal (progress lines).
      env: {
        ...process.env,
        [CHILD_MARK]: "1",
        ...(process.stderr.isTTY ? { HALFWATT_STDERR_TTY: "1" } : {}),
      },
    });
    // Ctrl-C reaches the child too (same process group); it stops cleanly and reports, so the
    // parent waits for it instead of dying first. SIGTERM is passed on.
    const ignore = () => {};
    const forward = () => child.kill("SIGTERM");
    process.on("SIGINT", ignore);
    process.on("SIGTERM", forward);
    const filter = dawnWarningFilter((t) => process.stderr.write(t));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => filter.push(c));
    child.on("error", (e) => {
      process.stderr.write(`halfwatt: cannot start itself: ${e.message}\n`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", forward);
      filter.end();
      resolve(code ?? (signal ? signalExitCode(signal) : 1));
    });
  });
}
