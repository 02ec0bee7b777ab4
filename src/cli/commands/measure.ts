// `halfwatt measure`: energy per component over an idle window or around any command (like
// CodeCarbon's or Zeus's wrappers), each figure with its provenance.
//
//   halfwatt measure --seconds 30
//   halfwatt measure --baseline-seconds 10 -- python train.py
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { type Command, InvalidArgumentError } from "commander";
import { describeTelemetry, formatTelemetry } from "../../telemetry/describe.js";
import { formatEnergyReport } from "../../telemetry/format.js";
import { type ChannelEnergy, componentTotals, type EnergyReport } from "../../telemetry/ledger.js";
import { Sampler } from "../../telemetry/sampler.js";
import { planSources } from "../../telemetry/sources.js";
import { manualWallEnergy, type PlugKind, readWallCsv, wallCsvEnergy } from "../../telemetry/wall-meter.js";

interface MeasureOptions {
  seconds?: number;
  json?: boolean;
  hz: number;
  cpuTdp?: number;
  cpuIdleFraction?: number;
  ramWPerGb?: number;
  baselineSeconds?: number;
  cooldownSeconds: number;
  plug?: { kind: PlugKind; url: string };
  wallCsv?: string;
  wallWatts?: number;
  nvidiaSmi?: boolean;
}

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};
const nonNegative = (what: string) => (v: string) => {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number >= 0`);
  return n;
};
const plugArg = (v: string) => {
  const m = /^(shelly|tasmota)=(https?:\/\/.+)$/.exec(v);
  if (!m) throw new InvalidArgumentError("expected shelly=http://HOST or tasmota=http://HOST");
  return { kind: m[1] as PlugKind, url: m[2] };
};

/** Runs `argv` with inherited stdio; resolves with its exit code (signals count as failure). */
function runCommand(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit" });
    child.on("error", (e) => reject(new Error(`cannot run ${argv[0]}: ${e.message}`)));
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Adds wall-meter figures from a CSV or a manual average to every phase. */
function addWallFigures(report: EnergyReport, opts: MeasureOptions, marks: Sampler["ledger"]["marks"]): void {
  const last = report.phases.at(-1);
  if (!last) return;
  const extra: ChannelEnergy[][] = report.phases.map(() => []);
  if (opts.wallCsv) {
    const phases = wallCsvEnergy(readWallCsv(opts.wallCsv), marks, { t: last.endMs }, opts.wallCsv);
    for (const [i, p] of phases.entries()) extra[i]?.push(...p.channels);
  }
  if (opts.wallWatts !== undefined) {
    for (const [i, f] of manualWallEnergy(opts.wallWatts, report.phases).entries()) {
      const gross = {
        joules: f.joules,
        provenance: f.provenance,
        source: f.source,
        method: "power × duration" as const,
      };
      extra[i].push({
        channel: "wall:manual",
        component: "system",
        source: f.source,
        gross,
        meanPowerW: opts.wallWatts,
        powerSamples: 0,
        counterSamples: 0,
      });
    }
  }
  for (const [i, p] of report.phases.entries()) {
    if (!extra[i].length) continue;
    p.channels.push(...extra[i]);
    p.totals = componentTotals(p.channels);
  }
}

export async function measure(
  command: string[],
  opts: MeasureOptions,
): Promise<{ report: EnergyReport; exitCode: number }> {
  if (command.length && opts.seconds !== undefined)
    throw new Error("give either --seconds N or -- COMMAND, not both");
  if (!command.length && opts.seconds === undefined) throw new Error("give --seconds N or -- COMMAND ...");
  const plan = planSources({
    cpuTdpW: opts.cpuTdp,
    cpuIdleFraction: opts.cpuIdleFraction,
    ramWattsPerGb: opts.ramWPerGb,
    plug: opts.plug,
    nvidiaSmi: opts.nvidiaSmi,
  });
  const sampler = await Sampler.start({ sources: plan.specs, hz: opts.hz });
  let exitCode = 0;
  try {
    const baseline = opts.baselineSeconds ?? (command.length ? 5 : 0);
    if (baseline > 0) {
      await sampler.mark("idle-baseline");
      await sleep(baseline * 1000);
    }
    if (command.length) {
      await sampler.mark("command");
      exitCode = await runCommand(command);
    } else {
      await sampler.mark("window");
      await sleep((opts.seconds as number) * 1000);
    }
    if (opts.cooldownSeconds > 0) {
      await sampler.mark("cooldown");
      await sleep(opts.cooldownSeconds * 1000);
    }
  } catch (e) {
    await sampler.abort();
    throw e;
  }
  const report = await sampler.stop();
  for (const u of plan.unavailable) report.warnings.unshift(`${u.source} not used: ${u.reason}`);
  addWallFigures(report, opts, sampler.ledger.marks);
  return { report, exitCode };
}

export function register(program: Command): void {
  program
    .command("measure")
    .description(
      "energy per component (GPU, CPU, DRAM, wall) over an idle window or around a command, with provenance",
    )
    .argument("[command...]", "command to run and measure (after --)")
    .option("--seconds <n>", "measure an idle window of N seconds", positive("--seconds"))
    .option("--json", "print JSON")
    .option("--hz <n>", "sampling rate, at most 100", positive("--hz"), 10)
    .option(
      "--cpu-tdp <watts>",
      "CPU TDP for the CPU power model (overrides the table)",
      positive("--cpu-tdp"),
    )
    .option(
      "--cpu-idle-fraction <f>",
      "idle floor of the CPU model as a fraction of TDP (default 0.1)",
      nonNegative("--cpu-idle-fraction"),
    )
    .option("--ram-w-per-gb <w>", "RAM model constant (default 0.375 W/GB)", nonNegative("--ram-w-per-gb"))
    .option(
      "--baseline-seconds <s>",
      "idle baseline before the run (default 5 with a command, else 0)",
      nonNegative("--baseline-seconds"),
    )
    .option("--cooldown-seconds <s>", "cooldown phase after the run", nonNegative("--cooldown-seconds"), 0)
    .option("--plug <kind=url>", "poll a smart plug: shelly=http://HOST or tasmota=http://HOST", plugArg)
    .option("--wall-csv <file>", "wall-meter readings to import (timestamp,watts)")
    .option("--wall-watts <w>", "a manual wall-meter average (estimated)", nonNegative("--wall-watts"))
    .option("--nvidia-smi", "also log nvidia-smi power.draw as a cross-check on NVML")
    .action(async (command: string[], opts: MeasureOptions) => {
      if (!opts.json)
        process.stderr.write(`${formatTelemetry(await describeTelemetry({ cpuTdpW: opts.cpuTdp }))}\n\n`);
      const { report, exitCode } = await measure(command, opts);
      process.stdout.write(
        opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEnergyReport(report)}\n`,
      );
      if (exitCode) process.exitCode = exitCode;
    });
}
