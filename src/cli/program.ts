// The halfwatt program: each command lives in src/cli/commands/<name>.ts and exports a
// `register(program)` function; this file wires them together and owns error reporting: every
// error is printed once, as `halfwatt: message` on stderr, or with --json as
// {"error": {"code", "message"}} on stdout; the exit status is 2 for bad input or usage, 1 for
// runtime failures (src/errors.ts).
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { codeOf, exitCodeOf } from "../errors.js";
import { register as registerCarbon } from "./commands/carbon.js";
import { register as registerDevices } from "./commands/devices.js";
import { register as registerEval } from "./commands/eval.js";
import { register as registerExport } from "./commands/export.js";
import { register as registerMeasure } from "./commands/measure.js";
import { register as registerMerge } from "./commands/merge.js";
import { register as registerReport } from "./commands/report.js";
import { register as registerSelfcheck } from "./commands/selfcheck.js";
import { register as registerStats } from "./commands/stats.js";
import { register as registerSuite } from "./commands/suite.js";
import { register as registerTrain } from "./commands/train.js";
import { register as registerTune } from "./commands/tune.js";

/** halfwatt's version, from the package.json above this file (src/ or dist/src/). */
function version(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "halfwatt" && pkg.version) return pkg.version;
    } catch {
      // not here; try one level up
    }
  }
  return "unknown";
}

/** True when the command line asks for JSON (before any `--` that starts a measured command). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}

/** The program with every command; errors are thrown (exitOverride), not printed by commander. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name("halfwatt")
    .description("Energy and carbon of training in full vs mixed precision, measured and tested.")
    .version(version(), "-V, --version", "print halfwatt's version")
    .option(
      "--adapter <name>",
      "WebGPU adapter: a substring of the name `halfwatt devices` prints (any case), or its index; also HALFWATT_ADAPTER",
    )
    .exitOverride()
    // Commander's own error line is replaced by ours (plain or JSON); help and version still print.
    .configureOutput({ outputError: () => {} })
    .hook("preAction", (cmd) => {
      const adapter = cmd.opts().adapter as string | undefined;
      if (adapter) process.env.HALFWATT_ADAPTER = adapter;
    });
  registerSuite(program);
  registerReport(program);
  registerExport(program);
  registerMerge(program);
  registerDevices(program);
  registerTrain(program);
  registerTune(program);
  registerEval(program);
  registerMeasure(program);
  registerSelfcheck(program);
  registerStats(program);
  registerCarbon(program);
  return program;
}

/** Prints `err` the way the command line asked for and returns the exit status. */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version end parsing through exitOverride too, with status 0.
    if (err.exitCode === 0) return 0;
    const message = err.message.replace(/^error: /, "");
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: "E_USAGE", message } }, null, 2)}\n`);
    else process.stderr.write(`halfwatt: ${message}\n`);
    return 2;
  }
  const e = err as Error;
  const message = e?.message ?? String(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: codeOf(err), message } }, null, 2)}\n`);
  else process.stderr.write(`halfwatt: ${message}\n`);
  if (process.env.HALFWATT_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return exitCodeOf(err);
}
