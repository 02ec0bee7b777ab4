#!/usr/bin/env node
// halfwatt's command line. Each command lives in src/cli/commands/<name>.ts and exports a
// `register(program)` function; this file only wires them together.
import { Command } from "commander";
import { register as registerCarbon } from "./commands/carbon.js";
import { register as registerDevices } from "./commands/devices.js";
import { register as registerMeasure } from "./commands/measure.js";
import { register as registerSelfcheck } from "./commands/selfcheck.js";
import { register as registerStats } from "./commands/stats.js";

const program = new Command();
program
  .name("halfwatt")
  .description("Energy and carbon of training in full vs mixed precision, measured and tested.")
  .option("--adapter <name>", "WebGPU adapter to use (substring of its name; also HALFWATT_ADAPTER)")
  .hook("preAction", (cmd) => {
    const adapter = cmd.opts().adapter as string | undefined;
    if (adapter) process.env.HALFWATT_ADAPTER = adapter;
  });

registerDevices(program);
registerMeasure(program);
registerSelfcheck(program);
registerStats(program);
registerCarbon(program);

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`halfwatt: ${e?.message ?? String(err)}\n`);
    if (process.env.HALFWATT_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  },
);
