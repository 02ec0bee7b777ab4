// The Slurm array job (issue 11) without a cluster: the generated script's #SBATCH lines parsed
// back, the command it runs executed by bash against a stand-in halfwatt that records its argv,
// every option validated before anything is written, the resolved suite file read back into the
// same plan, and `suite --slurm` through the CLI. (scripts/slurm-check.sh runs it on a real Slurm.)
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planRuns } from "../../src/experiment/plan.js";
import {
  checkTask,
  SlurmError,
  type SlurmOptions,
  slurmJobOf,
  slurmOptionProblems,
  slurmScript,
  slurmTaskGpu,
  suiteFileOf,
  taskStorePath,
  writeSlurmJob,
} from "../../src/experiment/slurm.js";
import { loadSuiteSpec, parseSuiteSpec } from "../../src/experiment/spec.js";
import type { SuiteSpec } from "../../src/experiment/types.js";
import type { NvmlStatus } from "../../src/telemetry/nvml.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-slurm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLI = resolve("dist/src/cli/main.js");

const spec = (replicates: number, extra: Record<string, unknown> = {}): SuiteSpec =>
  parseSuiteSpec(
    {
      name: "cluster study",
      data: "synthetic:classes=4,size=8,train=64,valid=16,test=16",
      replicates,
      epochs: 1,
      configurations: [
        { precision: "f32", batch: 16, neurons: [16] },
        { precision: "mixed", batch: 16, neurons: [16] },
        { precision: "mixed", batch: 32, neurons: [32] },
      ],
      carbon: { intensity: 268 },
      ...extra,
    },
    "test",
  );

/** #SBATCH lines as sbatch reads them: option → value, from the lines before the first command. */
function sbatchOptions(script: string): Map<string, string> {
  const lines = script.split("\n");
  expect(lines[0]).toBe("#!/bin/bash");
  const out = new Map<string, string>();
  for (const line of lines.slice(1)) {
    // sbatch stops at the first line that is neither a comment nor blank.
    if (line.trim() !== "" && !line.startsWith("#")) break;
    const m = /^#SBATCH\s+--([a-z-]+)(?:=(.*))?$/.exec(line);
    if (m) {
      expect(out.has(m[1]), `--${m[1]} given twice`).toBe(false);
      out.set(m[1], m[2] ?? "");
    }
  }
  return out;
}

const NODE = "/usr/local/bin/node";
const MAIN = "/opt/halfwatt/dist/src/cli/main.js";

describe("the array job's script", () => {
  it("one task per block: --array=0-(replicates − 1), a GPU each by default, the options given, logs per task", () => {
    const options: SlurmOptions = {
      partition: "gpu,gpu-long",
      account: "proj_17",
      time: "1-12:30:00",
      cpusPerTask: 8,
      mem: "32G",
    };
    const text = slurmScript(spec(5), "/scratch/me/job", { halfwatt: [NODE, MAIN], options });
    const o = sbatchOptions(text);
    expect(Object.fromEntries(o)).toStrictEqual({
      "job-name": "halfwatt-cluster_study",
      array: "0-4",
      ntasks: "1",
      "gpus-per-task": "1",
      partition: "gpu,gpu-long",
      account: "proj_17",
      time: "1-12:30:00",
      "cpus-per-task": "8",
      mem: "32G",
      output: "/scratch/me/job/logs/%A_%a.out",
    });
    // One replicate is one task (0-0); no GPU asked for with 0; no option the user did not give.
    const one = sbatchOptions(
      slurmScript(spec(1), "/j", { halfwatt: [NODE, MAIN], options: { gpusPerTask: 0 } }),
    );
    expect(Object.fromEntries(one)).toStrictEqual({
      "job-name": "halfwatt-cluster_study",
      array: "0-0",
      ntasks: "1",
      output: "/j/logs/%A_%a.out",
    });
    expect(
      sbatchOptions(slurmScript(spec(3), "/j", { halfwatt: [NODE, MAIN], options: { gpusPerTask: 2 } })).get(
        "gpus-per-task",
      ),
    ).toBe("2");
    // bash reads it.
    const file = join(dir, "syntax.sbatch");
    writeFileSync(file, text);
    const check = spawnSync("bash", ["-n", file], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
  });

  it("runs `halfwatt suite DIR/suite.yaml --task $SLURM_ARRAY_TASK_ID --out DIR/tasks` with the options passed on, quoted", () => {
    // A stand-in halfwatt at a path bash must quote (a space and a quote), recording its argv.
    const binDir = join(dir, "it's a bin");
    mkdirSync(binDir, { recursive: true });
    const fake = join(binDir, "fake halfwatt");
    const argvFile = join(dir, "argv.txt");
    writeFileSync(fake, `#!/bin/bash\nprintf '%s\\n' "$@" > ${JSON.stringify(argvFile)}\n`);
    chmodSync(fake, 0o755);
    const job = join(dir, "job-a");
    const text = slurmScript(spec(4), job, {
      halfwatt: [fake],
      options: {},
      pass: { cacheDir: "/data/cache dir", cpuTdp: 125, ramModel: "constant", adapter: "NVIDIA H200" },
    });
    const file = join(dir, "run.sbatch");
    writeFileSync(file, text);
    const r = spawnSync("bash", [file], {
      encoding: "utf8",
      env: { ...process.env, SLURM_ARRAY_TASK_ID: "3" },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(argvFile, "utf8").split("\n").slice(0, -1)).toStrictEqual([
      "--adapter",
      "NVIDIA H200",
      "suite",
      `${job}/suite.yaml`,
      "--task",
      "3",
      "--out",
      `${job}/tasks`,
      "--cache-dir",
      "/data/cache dir",
      "--cpu-tdp",
      "125",
      "--ram-model",
      "constant",
    ]);
    // Outside an array task the script stops rather than run a task with no number.
    const bare = { ...process.env };
    delete bare.SLURM_ARRAY_TASK_ID;
    expect(spawnSync("bash", [file], { encoding: "utf8", env: bare }).status).not.toBe(0);
  });

  it("validates every option before writing, each problem naming its option", () => {
    const good: SlurmOptions[] = [
      { time: "02:00:00" },
      { time: "100:00:00" },
      { time: "0-23:59:59" },
      { time: "00:00:01" },
      { partition: "gpu" },
      { partition: "a100.x_2,debug" },
      { mem: "16G" },
      { mem: "4096" },
      { mem: "0" },
      { gpusPerTask: 0, cpusPerTask: 1 },
    ];
    for (const o of good) expect(slurmOptionProblems(o), JSON.stringify(o)).toStrictEqual([]);
    const bad: [SlurmOptions, string][] = [
      [{ time: "2:00" }, "--time"],
      [{ time: "02:60:00" }, "--time"],
      [{ time: "02:00:60" }, "--time"],
      [{ time: "1-24:00:00" }, "--time"],
      [{ time: "00:00:00" }, "--time"],
      [{ time: "two hours" }, "--time"],
      [{ time: "02:00:00 " }, "--time"],
      [{ partition: "gpu debug" }, "--partition"],
      [{ partition: "gpu;rm" }, "--partition"],
      [{ partition: "gpu," }, "--partition"],
      [{ partition: "" }, "--partition"],
      [{ account: "a b" }, "--account"],
      [{ mem: "16GB" }, "--mem"],
      [{ mem: "1.5G" }, "--mem"],
      [{ cpusPerTask: 0 }, "--cpus-per-task"],
      [{ gpusPerTask: -1 }, "--gpus-per-task"],
      [{ gpusPerTask: 1.5 }, "--gpus-per-task"],
    ];
    for (const [o, name] of bad) {
      const problems = slurmOptionProblems(o);
      expect(problems, JSON.stringify(o)).toHaveLength(1);
      expect(problems[0].startsWith(`${name} `), problems[0]).toBe(true);
    }
    // All at once, in one error; nothing written.
    const out = join(dir, "never");
    const attempt = () =>
      writeSlurmJob(spec(2), {
        out,
        halfwatt: [NODE, MAIN],
        options: { time: "9", partition: "a b", mem: "lots" },
      });
    expect(attempt).toThrow(SlurmError);
    try {
      attempt();
    } catch (e) {
      expect((e as SlurmError).problems.map((p) => p.split(" ")[0])).toStrictEqual([
        "--partition",
        "--time",
        "--mem",
      ]);
      expect((e as SlurmError).code).toBe("E_INPUT");
    }
    expect(existsSync(out)).toBe(false);
    // A folder #SBATCH cannot carry; a relative halfwatt (the nodes would not find it).
    expect(() =>
      writeSlurmJob(spec(2), { out: join(dir, "my job"), halfwatt: [NODE, MAIN], options: {} }),
    ).toThrow(/--out .*my job.*spaces/);
    expect(() =>
      writeSlurmJob(spec(2), { out: join(dir, "j%"), halfwatt: [NODE, MAIN], options: {} }),
    ).toThrow(/%/);
    expect(() =>
      writeSlurmJob(spec(2), { out: join(dir, "j"), halfwatt: ["node", MAIN], options: {} }),
    ).toThrow(/absolute/);
    expect(existsSync(join(dir, "my job"))).toBe(false);
  });

  it("tasks and their stores: 0 to replicates − 1, task-N.db, the Slurm job from the environment", () => {
    expect(() => checkTask(spec(3), 2)).not.toThrow();
    for (const bad of [3, -1, 1.5]) expect(() => checkTask(spec(3), bad)).toThrow(/tasks 0 to 2/);
    expect(taskStorePath("/x/tasks", 7)).toBe("/x/tasks/task-7.db");
    expect(slurmJobOf({ SLURM_ARRAY_JOB_ID: "812", SLURM_ARRAY_TASK_ID: "3" })).toBe("812_3");
    expect(slurmJobOf({ SLURM_JOB_ID: "812" })).toBeNull();
  });
});

describe("the GPU a task records", () => {
  const nvml = (deviceCount: number): NvmlStatus =>
    ({
      available: true,
      load: { ok: true, deviceCount },
      binding: {
        snapshot: (i: number) => ({
          name: "NVIDIA H100 80GB HBM3",
          uuid: `GPU-${i}-5d1c`,
          pciBusId: "00000000:1B:00.0",
        }),
      },
    }) as unknown as NvmlStatus;

  it("the one GPU the task sees, numbered as Slurm numbers it on the node; several: none, and why", () => {
    expect(slurmTaskGpu(nvml(1), { SLURM_JOB_GPUS: "3" })).toStrictEqual({
      gpu: { index: 3, pciBusId: "00000000:1B:00.0", uuid: "GPU-0-5d1c", name: "NVIDIA H100 80GB HBM3" },
      note: null,
    });
    // The step's allocation wins over the job's; no Slurm numbering: NVML's index 0.
    expect(slurmTaskGpu(nvml(1), { SLURM_JOB_GPUS: "0,1", SLURM_STEP_GPUS: "1" }).gpu?.index).toBe(1);
    expect(slurmTaskGpu(nvml(1), {}).gpu?.index).toBe(0);
    const seen = slurmTaskGpu(nvml(4), { SLURM_JOB_GPUS: "2" });
    expect(seen.gpu).toBeNull();
    expect(seen.note).toMatch(/sees 4 GPUs \(Slurm allocated 2\).*ConstrainDevices=yes/);
    expect(slurmTaskGpu({ available: false, reason: "no NVML" }, { SLURM_JOB_GPUS: "2" })).toStrictEqual({
      gpu: null,
      note: null,
    });
  });
});

describe("the resolved suite file", () => {
  const roundTrip = (s: SuiteSpec, name: string) => {
    const job = join(dir, name);
    const files = writeSlurmJob(s, { out: job, halfwatt: [NODE, MAIN], options: {} });
    expect(files.suiteFile).toBe(join(job, "suite.yaml"));
    expect(existsSync(join(job, "tasks")) && existsSync(join(job, "logs"))).toBe(true);
    const back = loadSuiteSpec(files.suiteFile);
    const { origin: _a, ...given } = s;
    const { origin: _b, ...read } = back;
    expect(read).toStrictEqual(given);
    // What matters on the nodes: the same plan, run for run (order, configurations, seeds).
    expect(planRuns(back)).toStrictEqual(planRuns(s));
    return back;
  };

  it("reads back into the same spec and plan: the quick preset", () => {
    roundTrip(loadSuiteSpec("quick", { replicates: 4, seed: 99 }), "rt-quick");
  });

  it("…a crossing with lr levels, SGD with momentum, a zone, an image size and a null baseline", () => {
    const s = parseSuiteSpec(
      {
        name: "crossed",
        data: "synthetic:classes=3,size=8",
        imageSize: 12,
        replicates: 3,
        seed: 5,
        factors: {
          precision: ["f32", "mixed"],
          batch: [8, 64],
          neurons: [[16], [8, 8]],
          epochs: [1, 2],
          lr: [0.01, 0.1],
          optimizer: [{ name: "sgd", momentum: 0.9, nesterov: true, weightDecay: 0.0001 }],
        },
        baselineSeconds: null,
        cooldown: { withinCelsius: 2, maxSeconds: 30 },
        carbon: { zone: "gb", pue: 1.3 },
        telemetry: { hz: 20 },
      },
      "test",
    );
    expect(s.configurations).toHaveLength(32);
    roundTrip(s, "rt-crossed");
  });

  it("…a relative data folder and carbon CSV, made absolute against the working directory", () => {
    const csv = "test/experiment/fixtures/series.csv";
    const s = spec(2, { data: "some/images", carbon: { csv } });
    // loadSuiteSpec resolves a file's CSV against the file; a preset or test spec keeps it as given.
    const file = suiteFileOf(s, "/work/here") as { data: string; carbon: { csv: string } };
    expect(file.data).toBe("/work/here/some/images");
    expect(file.carbon.csv).toBe(`/work/here/${csv}`);
    const back = roundTrip(
      {
        ...s,
        data: resolve("some/images"),
        carbon: { ...s.carbon, source: { kind: "csv", file: resolve(csv) } },
      },
      "rt-csv",
    );
    expect(back.carbon.source).toStrictEqual({ kind: "csv", file: resolve(csv) });
  });
});

describe.skipIf(!existsSync(CLI))("halfwatt suite --slurm", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

  it("writes suite.sbatch and suite.yaml, runs nothing, prints the sbatch line; --json", () => {
    const out = join(dir, "cli-job");
    const r = cli([
      "suite",
      "quick",
      "--slurm",
      "--out",
      out,
      "--partition",
      "gpu",
      "--time",
      "04:00:00",
      "--replicates",
      "6",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`next: sbatch ${out}/suite.sbatch`);
    const text = readFileSync(join(out, "suite.sbatch"), "utf8");
    const o = sbatchOptions(text);
    expect(o.get("array")).toBe("0-5");
    expect(o.get("partition")).toBe("gpu");
    expect(o.get("time")).toBe("04:00:00");
    // This node and this halfwatt, by absolute path.
    expect(text).toContain(
      `exec ${process.execPath} ${CLI} suite ${out}/suite.yaml --task "$SLURM_ARRAY_TASK_ID" --out ${out}/tasks`,
    );
    expect(loadSuiteSpec(join(out, "suite.yaml")).replicates).toBe(6);
    expect(existsSync(join(out, "results.sqlite"))).toBe(false);

    const j = cli([
      "suite",
      "quick",
      "--slurm",
      "--out",
      join(dir, "cli-job-2"),
      "--gpus-per-task",
      "0",
      "--json",
    ]);
    expect(j.status, j.stderr).toBe(0);
    const files = JSON.parse(j.stdout);
    expect(files).toMatchObject({ tasks: 3, submit: `sbatch ${join(dir, "cli-job-2")}/suite.sbatch` });
  });

  it("bad options: exit 2, JSON error naming each, nothing written; Slurm options without --slurm refused", () => {
    const out = join(dir, "cli-bad");
    const r = cli(["suite", "quick", "--slurm", "--out", out, "--time", "25:00", "--mem", "8GB", "--json"]);
    expect(r.status).toBe(2);
    const e = JSON.parse(r.stdout).error;
    expect(e.code).toBe("E_INPUT");
    expect(e.message).toMatch(/--time "25:00"/);
    expect(e.message).toMatch(/--mem "8GB"/);
    expect(existsSync(out)).toBe(false);
    const n = cli(["suite", "quick", "--slurm", "--out", out, "--cpus-per-task", "0", "--json"]);
    expect(n.status).toBe(2);
    expect(JSON.parse(n.stdout).error.message).toContain("--cpus-per-task");
    const w = cli(["suite", "quick", "--partition", "gpu", "--out", out, "--json"]);
    expect(w.status).toBe(2);
    expect(JSON.parse(w.stdout).error.message).toBe("--partition: only with --slurm");
    const t = cli(["suite", "quick", "--task", "3", "--out", out, "--json"]);
    expect(t.status).toBe(2);
    expect(JSON.parse(t.stdout).error.message).toMatch(/--task 3: .* tasks 0 to 2/);
    expect(existsSync(out)).toBe(false);
  });
});
