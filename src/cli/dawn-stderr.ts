// Dawn prints two "maxDynamic… artificially reduced" warnings from native code straight to file
// descriptor 2 whenever it enumerates a Vulkan adapter (before any device exists, so no choice of
// requested limits avoids them). They describe a clamp halfwatt never depends on, yet every GPU
// command would show them. Node cannot redirect a native library's fd 2 in-process, so commands
// that open the GPU run in a child process whose stderr passes through this filter: exactly those
// two lines are dropped, everything else (real errors included) is forwarded unchanged.
// HALFWATT_DAWN_WARNINGS=1 shows them.
//
// Dawn's node binding also prints every uncaptured GPU error ("validation: …") from native code to
// file descriptor 1, which would break `--json` output exactly when something went wrong. So the
// child's fd 1 goes to our stderr, and the child writes its own output through fd 3
// (OUTPUT_FD_ENV, adopted by adoptOutputChannel), which the parent copies to stdout: stdout
// carries halfwatt's output and nothing else.
import { spawn } from "node:child_process";
import { writeSync } from "node:fs";
import { signalExitCode } from "../telemetry/measurement.js";

/** Exactly Dawn's limit-clamp notice (src/dawn/native/Limits.cpp), one line. */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

/** Commands that open a WebGPU adapter. */
const WARNING_PREFIX = "Warning: maxDynamic";

const GPU_COMMANDS = new Set(["devices", "selfcheck", "train", "eval", "suite", "tune"]);

const CHILD_MARK = "HALFWATT_STDERR_FILTERED";

/** The child's file descriptor for halfwatt's own stdout (see the header). */
const OUTPUT_FD_ENV = "HALFWATT_OUTPUT_FD";

/** Writes all of `data` to `fd`, waiting out a full pipe (EAGAIN) rather than losing output. */
function writeAllSync(fd: number, data: Buffer): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(pause, 0, 0, 2);
    }
  }
}

/**
 * In the GPU child: sends process.stdout (console.log included) to the output channel the parent
 * set up, synchronously, so nothing is lost at process.exit. Grandchildren (suite workers) do not
 * inherit the channel.
 */
export function adoptOutputChannel(): void {
  const fd = Number(process.env[OUTPUT_FD_ENV]);
  delete process.env[OUTPUT_FD_ENV];
  if (!Number.isInteger(fd) || fd < 3) return;
  const write = (
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((err?: Error | null) => void),
    cb?: (err?: Error | null) => void,
  ): boolean => {
    const enc = typeof encoding === "string" ? encoding : "utf8";
    writeAllSync(fd, typeof chunk === "string" ? Buffer.from(chunk, enc) : Buffer.from(chunk));
    (typeof encoding === "function" ? encoding : cb)?.();
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
}

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
      // fd 1: Dawn's native error prints (to our stderr); fd 3: the child's own output (to stdout).
      stdio: ["inherit", "pipe", "pipe", "pipe"],
      // The child's stderr is our pipe: tell it whether ours is a terminal (progress lines).
      env: {
        ...process.env,
        [CHILD_MARK]: "1",
        [OUTPUT_FD_ENV]: "3",
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
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (c: string) => filter.push(c));
    child.stdout?.on("data", (c: Buffer) => process.stderr.write(c));
    const output = child.stdio[3];
    output?.on("data", (c: Buffer) => process.stdout.write(c));
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
