// A suite on a Slurm cluster (issue 11): `halfwatt suite FILE --slurm --out DIR` writes an array
// job, DIR/suite.sbatch, with one task per block of the plan (a block is one replicate: every
// configuration once, in a seeded random order), so each node runs whole blocks and the node (or
// GPU) becomes a blocking factor of the statistics. Task i runs
// `halfwatt suite DIR/suite.yaml --task i --out DIR/tasks` into its own store DIR/tasks/task-i.db;
// `halfwatt merge` (merge.ts) joins the stores afterwards.
//
// DIR/suite.yaml is the suite as resolved here (presets expanded, command-line overrides applied,
// relative data and carbon paths made absolute), so every task plans exactly what was planned at
// submission, whatever the file it came from becomes. The script names node and halfwatt by their
// absolute paths: the nodes must see DIR, node and halfwatt at the same paths (a shared filesystem,
// as HPC sites have for home and project folders).
import { mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { stringify } from "yaml";
import { HalfwattError } from "../errors.js";
import type { NvmlStatus } from "../telemetry/nvml.js";
import { planRuns } from "./plan.js";
import type { RunGpu, SuiteSpec } from "./types.js";

/** Options of the generated script that the user gives; everything else is fixed. */
export interface SlurmOptions {
  /** Partition(s), comma-separated as sbatch takes them. */
  partition?: string;
  account?: string;
  /** Wall-time limit per task: HH:MM:SS or D-HH:MM:SS. */
  time?: string;
  /** GPUs per task (default 1); 0 requests none (a CPU adapter such as lavapipe). */
  gpusPerTask?: number;
  cpusPerTask?: number;
  /** Memory per node as sbatch's --mem takes it: an integer with an optional K, M, G or T (MB without). */
  mem?: string;
}

/** What the task's command line passes on to `halfwatt suite … --task`. */
export interface TaskPassThrough {
  cacheDir?: string;
  cpuTdp?: number;
  ramModel?: string;
  adapter?: string;
}

export interface SlurmJobInput {
  /** The job's folder (--out): absolute or resolved against the working directory. */
  out: string;
  /** How to start halfwatt on a node: absolute paths, e.g. [process.execPath, main.js]. */
  halfwatt: readonly string[];
  options: SlurmOptions;
  pass?: TaskPassThrough;
  /** The halfwatt version, for the script's header. */
  version?: string;
}

export interface SlurmJobFiles {
  dir: string;
  script: string;
  suiteFile: string;
  tasksDir: string;
  logsDir: string;
  tasks: number;
  /** The command that submits the job. */
  submit: string;
}

/** The file names inside the job's folder. */
export const SLURM_FILES = {
  script: "suite.sbatch",
  suite: "suite.yaml",
  tasks: "tasks",
  logs: "logs",
} as const;

/** Options or a job folder Slurm cannot take; lists every problem. */
export class SlurmError extends HalfwattError {
  readonly problems: string[];
  constructor(problems: string[]) {
    const n = problems.length;
    super(
      "E_INPUT",
      n === 1
        ? problems[0]
        : `${n} problems with the Slurm job:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.problems = problems;
  }
}

// Slurm's names (partitions, accounts) are letters, digits, '_', '-' and '.': anything else would
// be refused by sbatch after the user waited for the queue, or break the #SBATCH line.
const NAME = /^[A-Za-z0-9_.-]+$/;
const TIME = /^(?:(\d+)-)?(\d+):([0-5]\d):([0-5]\d)$/;
const MEM = /^\d+[KMGT]?$/;
// An #SBATCH line is split on whitespace and reads quotes and backslashes; '%' starts a filename
// pattern in --output. A job folder holding any of these cannot be named there reliably.
const UNSAFE_IN_SBATCH = /[\s"'\\%#$`]/;

/** Every problem with `o`, each naming its option; empty when Slurm can take them. */
export function slurmOptionProblems(o: SlurmOptions): string[] {
  const out: string[] = [];
  if (o.partition !== undefined && !o.partition.split(",").every((p) => NAME.test(p)))
    out.push(
      `--partition ${JSON.stringify(o.partition)}: a partition name is letters, digits, '_', '-' and '.' (several separated by commas)`,
    );
  if (o.account !== undefined && !NAME.test(o.account))
    out.push(`--account ${JSON.stringify(o.account)}: an account name is letters, digits, '_', '-' and '.'`);
  if (o.time !== undefined) {
    const m = TIME.exec(o.time);
    const days = m?.[1] === undefined ? 0 : Number(m[1]);
    const hours = m ? Number(m[2]) : 0;
    if (!m || (m[1] !== undefined && hours > 23))
      out.push(
        `--time ${JSON.stringify(o.time)}: expected HH:MM:SS or D-HH:MM:SS (minutes and seconds below 60, hours below 24 after a day count), e.g. 02:00:00 or 1-12:00:00`,
      );
    else if (days * 86400 + hours * 3600 + Number(m[3]) * 60 + Number(m[4]) === 0)
      out.push(
        `--time ${JSON.stringify(o.time)}: a task needs more than no time (Slurm reads 0 as no limit)`,
      );
  }
  const integer = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= min))
      out.push(`${name} ${v}: expected an integer ≥ ${min}`);
  };
  integer("--gpus-per-task", o.gpusPerTask, 0);
  integer("--cpus-per-task", o.cpusPerTask, 1);
  if (o.mem !== undefined && !MEM.test(o.mem))
    out.push(
      `--mem ${JSON.stringify(o.mem)}: expected an amount such as 16G or 4096 (MB): an integer with an optional K, M, G or T`,
    );
  return out;
}

/** Quotes `s` for bash: inside single quotes nothing is special but the quote itself. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The store of array task `task` in the tasks folder. */
export function taskStorePath(tasksDir: string, task: number): string {
  return join(tasksDir, `task-${task}.db`);
}

/** A task number of a suite: a block of its plan (0 to replicates − 1). */
export function checkTask(spec: SuiteSpec, task: number): void {
  if (!Number.isSafeInteger(task) || task < 0 || task >= spec.replicates)
    throw new SlurmError([
      `--task ${task}: suite "${spec.name}" has ${spec.replicates} block(s), one per replicate: tasks 0 to ${spec.replicates - 1}`,
    ]);
}

/** "<array job>_<task>" where Slurm runs this process as an array task, else null. */
export function slurmJobOf(env: NodeJS.ProcessEnv = process.env): string | null {
  const job = env.SLURM_ARRAY_JOB_ID;
  const task = env.SLURM_ARRAY_TASK_ID;
  return job && task ? `${job}_${task}` : null;
}

/**
 * The GPU a Slurm task runs on, for its runs' records. Slurm names the node's GPUs it allocated in
 * SLURM_STEP_GPUS / SLURM_JOB_GPUS (the node's own indices, which tell two tasks on one node apart
 * in the statistics' device blocks); where the site constrains devices (cgroup.conf
 * ConstrainDevices=yes, as GPU clusters do) NVML shows the task that GPU alone, and its PCI
 * address and UUID identify the card. A task that sees several GPUs cannot tell which one Dawn
 * took (it takes the first) nor keep its neighbours' energy out: no GPU, and a note saying why.
 * Without NVML (a CPU adapter) there is nothing to record.
 */
export function slurmTaskGpu(
  nvml: NvmlStatus,
  env: NodeJS.ProcessEnv = process.env,
): { gpu: RunGpu | null; note: string | null } {
  if (!nvml.available) return { gpu: null, note: null };
  const listed = env.SLURM_STEP_GPUS ?? env.SLURM_JOB_GPUS ?? "";
  const slurmIndices = listed
    .split(",")
    .filter((x) => /^\d+$/.test(x.trim()))
    .map(Number);
  const count = nvml.load.deviceCount ?? 0;
  if (count !== 1)
    return {
      gpu: null,
      note: `this task sees ${count} GPUs${listed ? ` (Slurm allocated ${listed})` : ""}: Dawn runs on the first and NVML reads them all, so its runs record no GPU and their GPU energy may include other tasks' — ask the site to constrain devices (cgroup.conf ConstrainDevices=yes) so a task sees only its own GPU`,
    };
  const snap = nvml.binding.snapshot(0);
  return {
    gpu: {
      index: slurmIndices.length === 1 ? slurmIndices[0] : 0,
      pciBusId: snap.pciBusId ?? null,
      uuid: snap.uuid ?? null,
      name: snap.name ?? null,
    },
    note: null,
  };
}

/**
 * The suite as a suite file that `loadSuiteSpec` reads back into the same SuiteSpec (every field
 * explicit; the configurations listed with their own optimizer and epochs, so they get the same
 * ids). A data folder or carbon CSV given relative is made absolute against `cwd`, as the run
 * here would have read it.
 */
export function suiteFileOf(spec: SuiteSpec, cwd = process.cwd()): Record<string, unknown> {
  const data =
    spec.data.startsWith("synthetic") || isAbsolute(spec.data) ? spec.data : resolve(cwd, spec.data);
  const src = spec.carbon.source;
  const carbon =
    src.kind === "constant"
      ? { intensity: src.intensity }
      : src.kind === "zone"
        ? { zone: src.zone }
        : { csv: resolve(cwd, src.file) };
  return {
    name: spec.name,
    data,
    ...(spec.imageSize !== undefined ? { imageSize: spec.imageSize } : {}),
    replicates: spec.replicates,
    seed: spec.seed,
    configurations: spec.configurations.map((c) => ({
      precision: c.precision,
      batch: c.batch,
      neurons: [...c.neurons],
      epochs: c.epochs,
      optimizer: { ...c.optimizer },
    })),
    baselineSeconds: spec.baselineSeconds,
    cooldown: { ...spec.cooldown },
    carbon: { ...carbon, pue: spec.carbon.pue },
    telemetry: { ...spec.telemetry },
  };
}

/** sbatch's job name: the suite's name reduced to the characters Slurm shows everywhere. */
function jobName(spec: SuiteSpec): string {
  return `halfwatt-${spec.name.replace(/[^A-Za-z0-9_.-]+/g, "_")}`.slice(0, 64);
}

/**
 * The array job's script. Pure: the same suite, folder and options give the same text, which the
 * tests parse. `dir` must be absolute and safe in an #SBATCH line (see writeSlurmJob).
 */
export function slurmScript(spec: SuiteSpec, dir: string, input: Omit<SlurmJobInput, "out">): string {
  const o = input.options;
  const gpus = o.gpusPerTask ?? 1;
  const tasks = spec.replicates;
  const runs = planRuns(spec).filter((r) => r.block === 0).length;
  const suiteFile = join(dir, SLURM_FILES.suite);
  const tasksDir = join(dir, SLURM_FILES.tasks);
  const sbatch = [
    `--job-name=${jobName(spec)}`,
    `--array=0-${tasks - 1}`,
    // One process per task; --gpus-per-task needs the task count stated.
    "--ntasks=1",
    ...(gpus > 0 ? [`--gpus-per-task=${gpus}`] : []),
    ...(o.partition !== undefined ? [`--partition=${o.partition}`] : []),
    ...(o.account !== undefined ? [`--account=${o.account}`] : []),
    ...(o.time !== undefined ? [`--time=${o.time}`] : []),
    ...(o.cpusPerTask !== undefined ? [`--cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.mem !== undefined ? [`--mem=${o.mem}`] : []),
    // %A: the array's job id, %a: the task; stderr goes to the same file.
    `--output=${join(dir, SLURM_FILES.logs)}/%A_%a.out`,
  ];
  const pass = input.pass ?? {};
  const command = [
    ...input.halfwatt.map(shellQuote),
    ...(pass.adapter !== undefined ? ["--adapter", shellQuote(pass.adapter)] : []),
    "suite",
    shellQuote(suiteFile),
    "--task",
    '"$SLURM_ARRAY_TASK_ID"',
    "--out",
    shellQuote(tasksDir),
    ...(pass.cacheDir !== undefined ? ["--cache-dir", shellQuote(resolve(pass.cacheDir))] : []),
    ...(pass.cpuTdp !== undefined ? ["--cpu-tdp", String(pass.cpuTdp)] : []),
    ...(pass.ramModel !== undefined ? ["--ram-model", shellQuote(pass.ramModel)] : []),
  ];
  return [
    "#!/bin/bash",
    `# halfwatt${input.version ? ` ${input.version}` : ""}: suite "${spec.name.replace(/\n/g, " ")}" as a Slurm array job.`,
    `# ${tasks} task(s), one per block of the plan: each runs the block's ${runs} configuration(s) once, in the`,
    "# block's planned order, on one node, into its own store tasks/task-<i>.db (a resubmitted task",
    "# resumes its store). The nodes must see this folder, node and halfwatt at the paths below",
    "# (a shared filesystem).",
    "#",
    `#   submit:       sbatch ${shellQuote(join(dir, SLURM_FILES.script))}`,
    `#   afterwards:   halfwatt merge ${shellQuote(tasksDir)}/*.db --out ${shellQuote(join(dir, "suite.db"))}`,
    "#                 (lists the tasks that failed and the sbatch --array=… line that reruns only them)",
    ...sbatch.map((s) => `#SBATCH ${s}`),
    "",
    "set -euo pipefail",
    `exec ${command.join(" ")}`,
    "",
  ].join("\n");
}

/**
 * Validates the options and the folder, then writes DIR/suite.yaml (the resolved suite),
 * DIR/suite.sbatch, and the empty DIR/tasks and DIR/logs (Slurm does not create the log folder).
 * Nothing is written when anything is wrong.
 */
export function writeSlurmJob(spec: SuiteSpec, input: SlurmJobInput): SlurmJobFiles {
  const dir = resolve(input.out);
  const problems = slurmOptionProblems(input.options);
  if (UNSAFE_IN_SBATCH.test(dir))
    problems.push(
      `--out ${JSON.stringify(dir)}: the job's folder is named in #SBATCH lines, which cannot carry spaces, quotes, backslashes, %, # or $: choose another folder`,
    );
  if (!input.halfwatt.length || !input.halfwatt.every((p) => isAbsolute(p)))
    problems.push(`halfwatt's own path must be absolute on the nodes: ${input.halfwatt.join(" ")}`);
  if (problems.length) throw new SlurmError(problems);
  const script = slurmScript(spec, dir, input);
  const files: SlurmJobFiles = {
    dir,
    script: join(dir, SLURM_FILES.script),
    suiteFile: join(dir, SLURM_FILES.suite),
    tasksDir: join(dir, SLURM_FILES.tasks),
    logsDir: join(dir, SLURM_FILES.logs),
    tasks: spec.replicates,
    submit: `sbatch ${shellQuote(join(dir, SLURM_FILES.script))}`,
  };
  mkdirSync(files.tasksDir, { recursive: true });
  mkdirSync(files.logsDir, { recursive: true });
  const header = [
    `# Suite "${spec.name}" as resolved for a Slurm array job (from ${spec.origin}): the tasks read this`,
    "# file, so each plans exactly this suite. Editing it while tasks run makes their stores unmergeable.",
  ].join("\n");
  writeFileSync(files.suiteFile, `${header}\n${stringify(suiteFileOf(spec))}`);
  writeFileSync(files.script, script, { mode: 0o755 });
  return files;
}
