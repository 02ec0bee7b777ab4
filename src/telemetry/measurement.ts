// One measurement: an optional idle baseline, then a command (or an idle window), then an optional
// cooldown, each a sampler phase; wall-meter figures (a CSV export, a manual average) are merged
// into every phase. Every GPU is read; while the command runs, NVML's process lists show which
// GPUs its process tree used, and those (or the ones --gpus names) make the `gpu` total.
// Shared by `halfwatt measure`, the experiment suite and the report: callers parse their
// options, call validateMeasurement() before anything runs, then measure().
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { HalfwattError } from "../errors.js";
import { TelemetryInputError } from "./errors.js";
import { decideGpuSelection, type GpuChoice, validateGpuChoice } from "./gpu-selection.js";
import { applyGpuSelection } from "./gpu-total.js";
import { GPU_POLL_MS, type GpuUsage, GpuUsageWatcher } from "./gpu-usage.js";
import {
  type ChannelEnergy,
  componentTotals,
  DEFAULT_BASELINE_PHASE,
  type EnergyReport,
  type PhaseMark,
} from "./ledger.js";
import { openNvml } from "./nvml.js";
import { Sampler } from "./sampler.js";
import { planSources } from "./sources.js";
import { manualWallEnergy, type PlugKind, readWallCsv, wallCsvEnergy } from "./wall-meter.js";

/** Phase names a measurement uses; the baseline is the ledger's (net energy subtracts it). */
export const MEASUREMENT_PHASES = {
  baseline: DEFAULT_BASELINE_PHASE,
  command: "command",
  window: "window",
  cooldown: "cooldown",
} as const;

export interface MeasurementOptions {
  /** An idle window of this many seconds instead of a command. */
  seconds?: number;
  hz?: number;
  cpuTdp?: number;
  cpuIdleFraction?: number;
  ramWPerGb?: number;
  /** RAM model: "modules" (default) or "constant" (--ram-w-per-gb alone also selects it). */
  ramModel?: "modules" | "constant";
  /** Idle baseline before the run (default 5 s with a command, else 0). */
  baselineSeconds?: number;
  cooldownSeconds?: number;
  plug?: { kind: PlugKind; url: string };
  /** A wall meter's `timestamp,watts` export, read after the run. */
  wallCsv?: string;
  /** A manual wall-meter average (estimated). */
  wallWatts?: number;
  nvidiaSmi?: boolean;
  /**
   * The GPUs (NVML indices) whose energy makes the `gpu` total, or "all"; the others are still
   * reported. Default: the GPUs the command's process tree was seen on, else all of them.
   */
  gpus?: GpuChoice;
  /** How often NVML's process lists are polled while the command runs (default 1000 ms). */
  gpuPollMs?: number;
  /**
   * Where the command's stdout goes: the terminal ("inherit", default) or this process's stderr
   * ("stderr"), so that a machine-readable report on stdout is not mixed with the command's output.
   */
  childStdout?: "inherit" | "stderr";
}

export interface MeasurementResult {
  report: EnergyReport;
  /** The command's exit status: its own code, 127 if it could not start, 128 + N after signal N. */
  exitCode: number;
}

/**
 * Everything that can be checked before a run, so that a bad option never costs a measurement:
 * the window-or-command choice, numeric ranges, and that a wall CSV can be read (a meter's export
 * usually exists before the run; if it is written during the run, create it empty first).
 */
export function validateMeasurement(command: readonly string[], opts: MeasurementOptions): void {
  if (command.length && opts.seconds !== undefined)
    throw new TelemetryInputError("give either --seconds N or -- COMMAND, not both");
  if (!command.length && opts.seconds === undefined)
    throw new TelemetryInputError("give --seconds N or -- COMMAND ...");
  if (opts.seconds !== undefined && !(opts.seconds > 0 && Number.isFinite(opts.seconds)))
    throw new TelemetryInputError(`--seconds must be a positive number, got ${opts.seconds}`);
  if (opts.wallWatts !== undefined && !(opts.wallWatts >= 0))
    throw new TelemetryInputError(`--wall-watts must be >= 0, got ${opts.wallWatts}`);
  if (opts.gpuPollMs !== undefined && !(opts.gpuPollMs > 0 && Number.isFinite(opts.gpuPollMs)))
    throw new TelemetryInputError(
      `the GPU process poll interval must be a positive number of ms, got ${opts.gpuPollMs}`,
    );
  if (opts.gpus !== undefined) {
    const nvml = openNvml();
    if (!nvml.available)
      throw new TelemetryInputError(
        `--gpus: no GPU energy to choose from: NVML unavailable (${nvml.reason}); nothing was run`,
      );
    validateGpuChoice(opts.gpus, nvml.load.deviceCount ?? 0);
  }
  if (opts.wallCsv !== undefined) {
    try {
      accessSync(opts.wallCsv, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TelemetryInputError(
        `--wall-csv ${opts.wallCsv}: ${code === "ENOENT" ? "no such file" : `cannot read (${code})`}; nothing was run`,
      );
    }
  }
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The shell's convention for a process killed by a signal: 128 + the signal's number. */
export function signalExitCode(signal: string): number {
  return 128 + (SIGNALS[signal] ?? 0);
}

/**
 * Runs `argv`; resolves with its exit status like a shell reports it: its code, 127 when it
 * cannot be started (not found, not executable), 128 + N when signal N ended it.
 */
export function runCommand(
  argv: readonly string[],
  stdout: MeasurementOptions["childStdout"] = "inherit",
  onSpawnError: (message: string) => void = (m) => process.stderr.write(`halfwatt: ${m}\n`),
  onSpawn?: (pid: number) => void,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      // fd 2: the child writes straight into our stderr, whatever it is (terminal, pipe, file).
      stdio: ["inherit", stdout === "stderr" ? 2 : "inherit", "inherit"],
    });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    child.on("error", (e) => {
      onSpawnError(`cannot run ${argv[0]}: ${e.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? signalExitCode(signal) : 1)));
  });
}

/** Adds wall-meter figures (CSV export, manual average) to every phase of `report`. */
export function addWallFigures(report: EnergyReport, opts: MeasurementOptions): void {
  const last = report.phases.at(-1);
  if (!last) return;
  const extra: ChannelEnergy[][] = report.phases.map(() => []);
  if (opts.wallCsv) {
    const marks: PhaseMark[] = report.phases.map((p) => ({
      name: p.name,
      t: p.startMs,
      wallMs: p.wallStartMs,
    }));
    const phases = wallCsvEnergy(readWallCsv(opts.wallCsv), marks, { t: last.endMs }, opts.wallCsv);
    for (const [i, p] of phases.entries()) extra[i]?.push(...p.channels);
  }
  if (opts.wallWatts !== undefined) {
    for (const [i, f] of manualWallEnergy(opts.wallWatts, report.phases).entries()) {
      extra[i].push({
        channel: "wall:manual",
        component: "system",
        source: f.source,
        gross: { joules: f.joules, provenance: f.provenance, source: f.source, method: "power × duration" },
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

/** Measures a command or an idle window; see the file comment. */
export async function measure(
  command: readonly string[],
  opts: MeasurementOptions,
): Promise<MeasurementResult> {
  validateMeasurement(command, opts);
  const plan = planSources({
    cpuTdpW: opts.cpuTdp,
    cpuIdleFraction: opts.cpuIdleFraction,
    ramWattsPerGb: opts.ramWPerGb,
    ramModel: opts.ramModel,
    plug: opts.plug,
    nvidiaSmi: opts.nvidiaSmi,
  });
  const sampler = await Sampler.start({ sources: plan.specs, hz: opts.hz ?? 10 });
  // The GPUs NVML reads (planSources reads every one) and, while the command runs, their users.
  const nvml = plan.specs.some((s) => s.kind === "nvml") ? openNvml() : null;
  const gpus = nvml?.available ? [...Array(nvml.load.deviceCount ?? 0).keys()] : [];
  const watcher = nvml?.available
    ? new GpuUsageWatcher(
        { listProcesses: (i) => nvml.binding.runningProcesses(i) },
        gpus,
        opts.gpuPollMs ?? GPU_POLL_MS,
      )
    : null;
  let usage: GpuUsage | null = null;
  let exitCode = 0;
  try {
    const baseline = opts.baselineSeconds ?? (command.length ? 5 : 0);
    if (baseline > 0) {
      await sampler.mark(MEASUREMENT_PHASES.baseline);
      await sleep(baseline * 1000);
    }
    if (command.length) {
      await sampler.mark(MEASUREMENT_PHASES.command);
      exitCode = await runCommand(command, opts.childStdout, undefined, (pid) => watcher?.start(pid));
      usage = watcher?.stop() ?? null;
    } else {
      await sampler.mark(MEASUREMENT_PHASES.window);
      await sleep((opts.seconds as number) * 1000);
    }
    if ((opts.cooldownSeconds ?? 0) > 0) {
      await sampler.mark(MEASUREMENT_PHASES.cooldown);
      await sleep((opts.cooldownSeconds as number) * 1000);
    }
  } catch (e) {
    watcher?.stop();
    await sampler.abort();
    throw e;
  }
  const report = await sampler.stop();
  for (const u of plan.unavailable) report.warnings.unshift(`${u.source} not used: ${u.reason}`);
  if (gpus.length) applyGpuSelection(report, decideGpuSelection(gpus, opts.gpus, usage, report.channels));
  // The run already happened: a wall CSV that fails to read now costs its figures, not the report.
  try {
    addWallFigures(report, opts);
  } catch (e) {
    if (!(e instanceof HalfwattError)) throw e;
    report.warnings.push(`wall-meter figures left out: ${e.message}`);
  }
  return { report, exitCode };
}
