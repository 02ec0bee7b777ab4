// `halfwatt suite PRESET|FILE`: the main job. Validates the spec (every problem listed, nothing
// run), plans the blocked random order, runs it under telemetry into OUT/results.sqlite, and
// writes the report (OUT/report.html, report.md). A live line on a terminal (runs done/total,
// the current run's phase and epoch, watts, ETA), plain lines (per run and per epoch) otherwise,
// on stderr with or without --json; Ctrl-C or SIGTERM (a Slurm time limit) stops at the next step
// boundary, marks the run interrupted, writes the report, exits 130 or 143, and `--resume`
// finishes the suite later (src/experiment/stop-signals.ts).
// On a cluster (experiment/slurm.ts): `--slurm` writes a Slurm array job instead of running, and
// `--task N`, what each array task runs, runs block N alone into OUT/task-N.db with no report.
import { mkdirSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { HalfwattError } from "../../errors.js";
import { runSuiteOnDevices, serveWorker } from "../../experiment/devices.js";
import { planRuns } from "../../experiment/plan.js";
import { checkResumable } from "../../experiment/resume-check.js";
import { runSuite, type SuiteRunSummary } from "../../experiment/runner.js";
import {
  checkTask,
  type SlurmOptions,
  slurmJobOf,
  slurmTaskGpu,
  taskStorePath,
  writeSlurmJob,
} from "../../experiment/slurm.js";
import { loadSuiteSpec, MAX_REPLICATES } from "../../experiment/spec.js";
import { handleStopSignals } from "../../experiment/stop-signals.js";
import { openStore } from "../../experiment/store.js";
import { suiteExitCode, summaryLine } from "../../experiment/summary.js";
import type { PlannedRun, RunGpu, SuiteSpec } from "../../experiment/types.js";
import { packageVersions } from "../../experiment/versions.js";
import { writeReport } from "../../report/report.js";
import { openNvml } from "../../telemetry/nvml.js";
import { choiceOption, integerOption, nonNegativeOption, positiveOption, seedOption } from "../options.js";
import { checkOutputFolder } from "../paths.js";
import { type ProgressLine, progressLine, stderrIsTerminal } from "../progress.js";
import { devicesProgress, launchWorker } from "../suite-workers.js";

/** The options (the Slurm job's own: partition, account, time, GPUs/CPUs per task, mem). */
interface SuiteOpts extends SlurmOptions {
  data?: string;
  out: string;
  replicates?: number;
  seed?: number;
  baselineSeconds?: number;
  resume?: boolean;
  cacheDir?: string;
  cpuTdp?: number;
  ramModel?: "modules" | "constant";
  json?: boolean;
  /** Slurm (issue 11): write an array job instead of running; or run one array task's block. */
  slurm?: boolean;
  task?: number;
  /** Several GPUs of this host (issue 11): "all" or indices; --worker is the hidden worker mode. */
  devices?: string;
  worker?: number;
}

const SLURM_ONLY = ["partition", "account", "time", "gpusPerTask", "cpusPerTask", "mem"] as const;
/** gpusPerTask → --gpus-per-task */
const optionName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** `--slurm`: writes the array job (library: experiment/slurm.ts) and prints how to submit it. */
function writeSlurm(spec: SuiteSpec, o: SuiteOpts): void {
  if (o.task !== undefined || o.resume || o.devices !== undefined)
    throw new HalfwattError(
      "E_USAGE",
      "--slurm writes a job and runs nothing: leave out --task, --resume and --devices (Slurm gives each task its GPU)",
    );
  const options: SlurmOptions = {};
  for (const k of SLURM_ONLY) if (o[k] !== undefined) Object.assign(options, { [k]: o[k] });
  const job = writeSlurmJob(spec, {
    out: o.out,
    // Absolute paths of this node and this halfwatt: the nodes run the same ones (a shared filesystem).
    halfwatt: [process.execPath, realpathSync(process.argv[1])],
    options,
    // --adapter (or HALFWATT_ADAPTER) is passed on: the nodes may not share this shell's environment.
    pass: {
      cacheDir: o.cacheDir,
      cpuTdp: o.cpuTdp,
      ramModel: o.ramModel,
      adapter: process.env.HALFWATT_ADAPTER,
    },
    version: packageVersions().halfwatt,
  });
  if (o.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
  else
    process.stdout.write(
      `wrote ${job.script} (${job.tasks} array task(s), one per block) and ${job.suiteFile}\nnext: ${job.submit}\n`,
    );
}

const fmtTime = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
    : s >= 60
      ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
      : `${Math.round(s)} s`;

/**
 * The suite in this process (or one Slurm task's block) into `dbPath`: the store opened, written,
 * closed (its lock released) whatever happens. Progress: a live line on a terminal; otherwise a
 * plain line per run and per epoch.
 */
async function runHere(
  spec: SuiteSpec,
  plan: PlannedRun[],
  o: SuiteOpts,
  dbPath: string,
  signal: AbortSignal,
  say: (s: string) => void,
  line: ProgressLine,
): Promise<SuiteRunSummary> {
  const task = o.task;
  const live = stderrIsTerminal();
  const store = openStore(dbPath, { wait: false });
  const started = Date.now();
  let doneAtStart = 0;
  let finished = 0;
  let total = plan.length;
  let current = "";
  let phase = "";
  let epoch = "";
  let watts = "";
  const redraw = () => {
    const elapsed = (Date.now() - started) / 1000;
    const eta = finished > 0 ? fmtTime((elapsed / finished) * (total - doneAtStart - finished)) : "…";
    line.update(
      `run ${doneAtStart + finished + 1}/${total} ${current} · ${phase}${epoch} ${watts}· ETA ${eta}`,
    );
  };
  try {
    // A task's store records the whole plan and which block it holds (for halfwatt merge), and
    // its runs the GPU Slurm gave it.
    let taskGpu: RunGpu | null = null;
    if (task !== undefined) {
      const suiteId = store.openSuite(spec, plan).id;
      store.markTask(suiteId, [task], slurmJobOf());
      const found = slurmTaskGpu(openNvml());
      taskGpu = found.gpu;
      if (found.note) store.addSuiteNote(suiteId, found.note);
    }
    return await runSuite(spec, plan, {
      store,
      // A task resumes its store: a resubmitted task finishes its block without redoing runs.
      resume: o.resume || task !== undefined,
      ...(task !== undefined ? { blocks: [task], gpu: taskGpu } : {}),
      signal,
      cacheDir: o.cacheDir,
      telemetry: { cpuTdpW: o.cpuTdp, ramModel: o.ramModel },
      progress: {
        onStart: (i) => {
          doneAtStart = i.done;
          total = i.total;
          say(
            `suite "${spec.name}" (${spec.origin}): ${task === undefined ? `${spec.configurations.length} configurations × ${spec.replicates} replicates` : `task ${task} (block ${task} of ${spec.replicates})`} = ${i.total} runs${i.done ? `, ${i.done} already done` : ""}, on ${i.adapter}`,
          );
          say(
            `telemetry: ${i.sources.join(", ")}${i.unavailable.length ? `; not available: ${i.unavailable.join("; ")}` : ""}`,
          );
          say(`store: ${dbPath}`);
        },
        onRunStart: (run, config) => {
          current = `${config.id} #${run.replicate}`;
          epoch = "";
          redraw();
        },
        onPhase: (_run, p) => {
          phase = p;
          redraw();
        },
        onEpoch: (run, e, of, result) => {
          epoch = ` epoch ${e}/${of}`;
          if (live) redraw();
          else
            say(
              `run ${doneAtStart + finished + 1}/${total} ${run.configId} #${run.replicate}: epoch ${e}/${of}${result ? `, loss ${result.train.loss.toFixed(4)}, valid acc ${(100 * result.valid.accuracy).toFixed(1)} %` : ""}`,
            );
        },
        onPower: (w) => {
          watts = `${w.toFixed(0)} W `;
          redraw();
        },
        onRunEnd: (run, status, detail) => {
          finished++;
          line.done();
          say(
            `run ${doneAtStart + finished}/${total} ${run.configId} #${run.replicate}: ${status} (${detail})`,
          );
        },
        onNote: (n) => {
          line.done();
          say(`note: ${n}`);
        },
      },
    });
  } finally {
    store.close();
  }
}

/**
 * The report of a suite just run, from its store (read-only: the writer's lock is released). When
 * it cannot be written the runs are safe in the store, which the error says, with the command that
 * writes the report again (exit 1).
 */
async function reportAtTheEnd(dbPath: string, summary: SuiteRunSummary, out: string) {
  const store = openStore(dbPath, { readonly: true });
  try {
    return await writeReport(store.results(summary.suiteId), out, { store: dbPath });
  } catch (e) {
    const held = summary.stopped ? "holds every run recorded so far" : "is complete";
    throw new HalfwattError(
      "E_RUNTIME",
      `${summaryLine(summary)}. The results store ${dbPath} ${held}, but the report could not be written: ${(e as Error).message ?? String(e)}`,
      { cause: e },
    );
  } finally {
    store.close();
  }
}

export function register(program: Command): void {
  program
    .command("suite")
    .description("run a replicated, randomised precision experiment under telemetry, store it, report it")
    .argument("<preset|file>", "dissertation, quick, or a suite file (.yaml/.yml/.json)")
    .option("--data <dir|synthetic:…>", "dataset (the dissertation preset needs your image folder)")
    .option("--out <dir>", "where results.sqlite and the report go", "results")
    .option(
      "--replicates <n>",
      "replicates per configuration",
      integerOption("--replicates", { min: 1, max: MAX_REPLICATES }),
    )
    .option("--seed <n>", "master seed of the order and the runs' seeds", seedOption("--seed"))
    .option("--baseline-seconds <s>", "idle window before each run", nonNegativeOption("--baseline-seconds"))
    .option("--resume", "finish a suite already in --out without redoing completed runs")
    .option("--cache-dir <dir>", "where decoded datasets are cached")
    .option(
      "--cpu-tdp <w>",
      "CPU TDP in watts for the CPU model (where RAPL is absent)",
      positiveOption("--cpu-tdp"),
    )
    .option(
      "--ram-model <kind>",
      "RAM model: modules (default) or constant (W per GB, as older studies)",
      choiceOption("--ram-model", ["modules", "constant"] as const),
    )
    .option("--json", "print a JSON summary at the end")
    .option("--slurm", "write OUT/suite.sbatch, a Slurm array job with one task per block, and run nothing")
    .option("--partition <p>", "with --slurm: the partition(s)")
    .option("--account <a>", "with --slurm: the account charged")
    .option("--time <HH:MM:SS>", "with --slurm: each task's time limit (HH:MM:SS or D-HH:MM:SS)")
    .option(
      "--gpus-per-task <n>",
      "with --slurm: GPUs per task (default 1; 0 for a CPU adapter)",
      integerOption("--gpus-per-task", { min: 0 }),
    )
    .option(
      "--cpus-per-task <n>",
      "with --slurm: CPUs per task",
      integerOption("--cpus-per-task", { min: 1 }),
    )
    .option("--mem <amount>", "with --slurm: memory per node, e.g. 16G")
    .option(
      "--task <n>",
      "run block N of the plan alone into OUT/task-N.db, without a report (a Slurm array task)",
      integerOption("--task", { min: 0 }),
    )
    .option(
      "--devices <all|i,j,…>",
      "run on several GPUs of this host at once, one worker process per GPU (indices as halfwatt devices lists them)",
    )
    // Internal: a worker of --devices, started by its parent (src/cli/suite-workers.ts).
    .addOption(new Option("--worker <n>").argParser(integerOption("--worker", { min: 0 })).hideHelp())
    .addOption(new Option("--gpu <i>").hideHelp())
    .action(async (source: string, o: SuiteOpts) => {
      if (o.worker !== undefined) {
        process.exitCode = await serveWorker();
        return;
      }
      const spec = loadSuiteSpec(
        source,
        {
          ...(o.data !== undefined ? { data: o.data } : {}),
          ...(o.replicates !== undefined ? { replicates: o.replicates } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.baselineSeconds !== undefined ? { baselineSeconds: o.baselineSeconds } : {}),
        },
        { runsFrom: Date.now() },
      );
      // Paths before any work: a file where a folder belongs is bad input (exit 2), not EEXIST.
      checkOutputFolder("--out", o.out);
      if (o.cacheDir !== undefined) checkOutputFolder("--cache-dir", o.cacheDir);
      if (o.slurm) return writeSlurm(spec, o);
      const misplaced = SLURM_ONLY.filter((k) => o[k] !== undefined);
      if (misplaced.length)
        throw new HalfwattError("E_USAGE", `${misplaced.map(optionName).join(", ")}: only with --slurm`);
      const task = o.task;
      if (task !== undefined) checkTask(spec, task);
      if (o.devices !== undefined && task !== undefined)
        throw new HalfwattError("E_USAGE", "--devices and --task: choose one");
      if (task === undefined) checkResumable(join(resolve(o.out), "results.sqlite"), spec.name, o.resume);
      const plan = planRuns(spec);
      const out = resolve(o.out);
      // Progress goes to stderr whatever stdout carries (--json's one document).
      const say = (s: string) => process.stderr.write(`${s}\n`);
      const line = progressLine();
      const stops = handleStopSignals((signal) => {
        line.done();
        say(
          `halfwatt: ${signal}: stopping after the current step${o.devices !== undefined ? " on every worker" : ""}; the run in progress is marked interrupted (--resume finishes the suite)`,
        );
      });
      const telemetry = { cpuTdpW: o.cpuTdp, ramModel: o.ramModel };
      try {
        let summary: SuiteRunSummary;
        let dbPath: string;
        let extra: Record<string, unknown> = {};
        let lost = false;
        if (o.devices !== undefined) {
          const run = await runSuiteOnDevices(spec, plan, {
            devices: o.devices,
            out,
            resume: o.resume,
            cacheDir: o.cacheDir,
            telemetry,
            signal: stops.signal,
            launch: launchWorker(source),
            onDiscoveryNote: (n) => say(`note: ${n}`),
            progress: devicesProgress(
              say,
              (i) =>
                `suite "${spec.name}" (${spec.origin}): ${spec.configurations.length} configurations × ${spec.replicates} replicates = ${i.total} runs${i.done ? `, ${i.done} already done` : ""}, on ${i.gpus.length} GPU(s), one worker each, whole blocks per GPU\nstore: ${join(out, "results.sqlite")}`,
              () => stops.signal.aborted,
            ),
          });
          summary = run.summary;
          dbPath = run.storePath;
          lost = run.summary.workers.some((w) => w.lost !== null);
          extra = { gpus: run.gpus.map((g) => ({ index: g.index, name: g.name, pci: g.pci, uuid: g.uuid })) };
        } else {
          mkdirSync(out, { recursive: true });
          dbPath = task === undefined ? join(out, "results.sqlite") : taskStorePath(out, task);
          summary = await runHere(spec, plan, o, dbPath, stops.signal, say, line);
        }
        line.done();
        const exit = suiteExitCode(summary, { stopExit: stops.exitCode(), lost });
        if (task !== undefined) {
          // A task's report would show one block: the merged store's report is the one to read.
          if (o.json)
            process.stdout.write(`${JSON.stringify({ store: dbPath, task, ...summary }, null, 2)}\n`);
          else say(`task ${task}: ${summaryLine(summary)}; store ${dbPath}`);
          process.exitCode = exit;
          return;
        }
        const report = await reportAtTheEnd(dbPath, summary, out);
        if (o.json)
          process.stdout.write(
            `${JSON.stringify({ store: dbPath, report: { html: join(out, "report.html"), markdown: join(out, "report.md") }, ...extra, ...summary, conclusion: report.data.conclusion }, null, 2)}\n`,
          );
        else {
          say(summaryLine(summary));
          say(`report: ${join(out, "report.html")} and report.md`);
        }
        process.exitCode = exit;
      } finally {
        stops.dispose();
      }
    });
}
