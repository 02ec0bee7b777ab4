// `halfwatt measure`: energy per component over an idle window or around any command (like
// CodeCarbon's or Zeus's wrappers), each figure with its provenance. The measurement itself lives
// in src/telemetry/measurement.ts; this file parses options and prints.
//
//   halfwatt measure --seconds 30
//   halfwatt measure --baseline-seconds 10 -- python train.py
//   halfwatt measure --gpus 0,1 -- python train.py    # these GPUs in the gpu total, not the detected ones
import type { Command } from "commander";
import { describeTelemetry, formatTelemetry } from "../../telemetry/describe.js";
import { formatEnergyReport } from "../../telemetry/format.js";
import type { GpuChoice } from "../../telemetry/gpu-selection.js";
import { type MeasurementOptions, measure, validateMeasurement } from "../../telemetry/measurement.js";
import type { PlugKind } from "../../telemetry/wall-meter.js";
import {
  choiceOption,
  integerOption,
  listOption,
  nonNegativeOption,
  numberOption,
  OptionError,
  positiveOption,
} from "../options.js";

interface MeasureCliOptions extends MeasurementOptions {
  json?: boolean;
}

/** `all` or NVML indices (0,1 or repeated); whether they exist is checked against NVML later. */
const gpuIndices = listOption("--gpus", integerOption("--gpus", { min: 0 }));
const gpusArg = (v: string, previous?: GpuChoice): GpuChoice => {
  const all = v.trim() === "all";
  if (previous !== undefined && (all || previous === "all"))
    throw new OptionError("--gpus", v, "either all or indices, not both");
  if (all) return "all";
  return [...new Set(gpuIndices(v, previous))].sort((a, b) => a - b);
};

const plugArg = (v: string) => {
  const m = /^(shelly|tasmota)=(https?:\/\/.+)$/.exec(v);
  if (!m) throw new OptionError("--plug", v, "shelly=http://HOST or tasmota=http://HOST");
  return { kind: m[1] as PlugKind, url: m[2] };
};

export function register(program: Command): void {
  program
    .command("measure")
    .description(
      "energy per component (GPU, CPU, DRAM, wall) over an idle window or around a command, with provenance",
    )
    .argument("[command...]", "command to run and measure (after --)")
    .option("--seconds <n>", "measure an idle window of N seconds", positiveOption("--seconds"))
    .option("--json", "print JSON (the command's own stdout then goes to stderr)")
    .option(
      "--hz <n>",
      "sampling rate, at most 100",
      numberOption("--hz", { min: 0, exclusiveMin: true, max: 100 }),
      10,
    )
    .option(
      "--cpu-tdp <watts>",
      "CPU TDP for the CPU power model (overrides the table)",
      positiveOption("--cpu-tdp"),
    )
    .option(
      "--cpu-idle-fraction <f>",
      "idle floor of the CPU model as a fraction of TDP (default 0.1)",
      numberOption("--cpu-idle-fraction", { min: 0, max: 1 }),
    )
    .option(
      "--ram-model <kind>",
      "RAM model: modules (per DIMM, read from SMBIOS or estimated; default) or constant (W per GB, as older studies)",
      choiceOption("--ram-model", ["modules", "constant"] as const),
    )
    .option(
      "--ram-w-per-gb <w>",
      "W per GB of the constant RAM model (default 0.375; implies --ram-model constant)",
      nonNegativeOption("--ram-w-per-gb"),
    )
    .option(
      "--baseline-seconds <s>",
      "idle baseline before the run (default 5 with a command, else 0)",
      nonNegativeOption("--baseline-seconds"),
    )
    .option(
      "--cooldown-seconds <s>",
      "cooldown phase after the run",
      nonNegativeOption("--cooldown-seconds"),
      0,
    )
    .option("--plug <kind=url>", "poll a smart plug: shelly=http://HOST or tasmota=http://HOST", plugArg)
    .option("--wall-csv <file>", "wall-meter readings to import (timestamp,watts); must exist before the run")
    .option("--wall-watts <w>", "a manual wall-meter average (estimated)", nonNegativeOption("--wall-watts"))
    .option("--nvidia-smi", "also log nvidia-smi power.draw as a cross-check on NVML")
    .option(
      "--gpus <list>",
      "GPUs (NVML indices, e.g. 0,1, or all) in the gpu total; default: those the command's processes ran on, else all. Every GPU is still reported",
      gpusArg,
    )
    .addHelpText(
      "after",
      "\nExit status: the command's own; 127 if it cannot be started; 128 + N if signal N ended it.",
    )
    .action(async (command: string[], opts: MeasureCliOptions) => {
      validateMeasurement(command, opts); // before the telemetry banner and before anything runs
      if (!opts.json)
        process.stderr.write(`${formatTelemetry(await describeTelemetry({ cpuTdpW: opts.cpuTdp }))}\n\n`);
      const { report, exitCode } = await measure(command, {
        ...opts,
        childStdout: opts.json ? "stderr" : "inherit",
      });
      process.stdout.write(
        opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEnergyReport(report)}\n`,
      );
      if (exitCode) process.exitCode = exitCode;
    });
}
