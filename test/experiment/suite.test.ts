// The suite end to end on this adapter: the quick preset for real (through the CLI, as the
// README's main job runs it), an interrupted suite resumed without redoing finished runs, the
// store intact after a SIGINT, and the report's numbers equal to the store's.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { MEASUREMENT_RULES } from "../../src/experiment/measurement-rules.js";
import { replicateChecks } from "../../src/experiment/phase-checks.js";
import { planRuns } from "../../src/experiment/plan.js";
import { runSuite } from "../../src/experiment/runner.js";
import { parseSuiteSpec } from "../../src/experiment/spec.js";
import { openStore } from "../../src/experiment/store.js";
import { measuredPhasesSection } from "../../src/report/baseline-power.js";
import { buildReport } from "../../src/report/report.js";
import { useGpu } from "../helpers/gpu.js";

const env = useGpu("suite");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-suite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLI = resolve("dist/src/cli/main.js");
const cache = join(dir, "cache");

const tinyRaw = (name: string) => ({
  name,
  data: "synthetic:classes=4,size=8,train=96,valid=32,test=32,seed=5",
  replicates: 2,
  epochs: 2,
  optimizer: { name: "adam", lr: 0.003 },
  configurations: [
    { precision: "f32", batch: 16, neurons: [16] },
    { precision: "mixed", batch: 32, neurons: [32] },
  ],
  baselineSeconds: 0.2,
  cooldown: { withinCelsius: 3, maxSeconds: 0 },
  carbon: { intensity: 268, pue: 1.2 },
});
const tiny = (name: string) => parseSuiteSpec(tinyRaw(name), "test");

// The phase checks' timings are recorded and shown, but not bounded here: on this shared 2-core
// machine (load average ~14 while eight engineers test) an epoch's time jitters by up to 2× between
// epochs of one run. What the test holds deterministically is the cause they guard against: no
// pipeline is compiled while a run's train or test phase is marked.

describe("suite", () => {
  it("interrupted after the first run, then resumed: every planned run completed once, none redone; the store intact", async () => {
    const spec = tiny("resume");
    const plan = planRuns(spec);
    const db = join(dir, "resume.sqlite");
    const stop = new AbortController();
    let store = openStore(db);
    const first = await runSuite(spec, plan, {
      store,
      ctx: env.ctx,
      cacheDir: cache,
      signal: stop.signal,
      progress: { onEpoch: (run) => void (run.index === 1 && stop.abort()) },
    });
    store.close();
    expect(first.completed).toBe(1);
    expect(first.interrupted).toBe(1);
    expect(first.stopped).toBe(true);

    store = openStore(db);
    // Without --resume a store holding completed runs is refused.
    await expect(runSuite(spec, plan, { store, ctx: env.ctx, cacheDir: cache })).rejects.toThrow(/--resume/);
    const second = await runSuite(spec, plan, { store, ctx: env.ctx, cacheDir: cache, resume: true });
    expect(second.skipped).toBe(1);
    expect(second.completed).toBe(plan.length - 1);
    const results = store.results(second.suiteId);
    // The suite says which GEMM kernels ran: tuned choices or the heuristics.
    expect(results.suite.notes.filter((n) => n.startsWith("GEMM kernels: "))).toHaveLength(1);
    const completed = results.runs.filter((r) => r.status === "completed");
    expect(completed.map((r) => r.index).sort()).toEqual(plan.map((p) => p.index));
    expect(results.runs.filter((r) => r.status === "interrupted")).toHaveLength(1);
    for (const r of completed) {
      expect(r.epochs).toHaveLength(2);
      expect(r.seed).toBe(plan[r.index].seed);
      expect(r.phases.map((p) => p.name)).toEqual(["idle-baseline", "setup", "train", "test"]);
      const train = r.energy.find((e) => e.phase === "train" && e.component === "cpu" && e.channel === null);
      expect(train?.provenance).toBe("estimated");
      expect(train?.grossJ).toBeGreaterThan(0);
      // The models' ranges (issue 12) reach the store: low ≤ value ≤ high, a real spread.
      const [lo, v, hi] = [
        train?.grossLowJ ?? Number.NaN,
        train?.grossJ ?? Number.NaN,
        train?.grossHighJ ?? Number.NaN,
      ];
      expect(lo).toBeLessThanOrEqual(v);
      expect(hi).toBeGreaterThanOrEqual(v);
      // A real spread: the RAM model's (0.08 W/GB to 5 W a module) whatever the load. (The CPU
      // model's closes at 100 % utilisation, where the idle-floor assumption no longer matters,
      // as on a busy 2-core CI machine.)
      const ram = r.energy.find((e) => e.phase === "train" && e.component === "dram" && e.channel === null);
      expect(ram?.grossHighJ ?? Number.NaN).toBeGreaterThan(ram?.grossLowJ ?? Number.NaN);
      expect(r.carbon).toEqual({ intensity: 268, pue: 1.2, source: expect.any(String) });
      expect(results.samples(r.id).length).toBeGreaterThan(0);
    }
    store.close();
    const raw = new Database(db, { readonly: true });
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    raw.close();
  });

  it("measured phases: no pipeline compiled inside train or test, the phase checks recorded, the upload paid once, baseline watts and the settle wait recorded, a short phase warned of", async () => {
    // Epochs of 40 steps: long enough that a shared 2-core machine's jitter stays inside 10 %,
    // where one pipeline's first dispatch on lavapipe costs seconds.
    const spec = parseSuiteSpec(
      {
        ...tinyRaw("phases"),
        data: "synthetic:classes=10,size=16,train=640,valid=100,test=100,seed=9",
        epochs: 3,
        configurations: [
          { precision: "f32", batch: 32, neurons: [64] },
          { precision: "mixed", batch: 32, neurons: [128] },
        ],
      },
      "test",
    );
    const plan = planRuns(spec);
    const store = openStore(join(dir, "phases.sqlite"));
    // Every pipeline compiled while a run's train or test phase is marked: none may be.
    const device = env.ctx.device as unknown as Record<string, (...a: unknown[]) => unknown>;
    const originals = {
      sync: device.createComputePipeline,
      async: device.createComputePipelineAsync,
    };
    let phase = "";
    const compiledIn: string[] = [];
    device.createComputePipeline = function (this: unknown, ...a: unknown[]) {
      compiledIn.push(phase);
      return originals.sync.apply(this, a);
    };
    device.createComputePipelineAsync = function (this: unknown, ...a: unknown[]) {
      compiledIn.push(phase);
      return originals.async.apply(this, a);
    };
    let powerReads = 0;
    const summary = await runSuite(spec, plan, {
      store,
      ctx: env.ctx,
      cacheDir: cache,
      // A GPU whose power is flat at 80 W: the settle rule is met after its window.
      progress: {
        onPhase: (_run, p) => {
          phase = p;
        },
      },
      gpuPower: () => {
        powerReads++;
        return 80;
      },
      rules: {
        settle: { windowSeconds: 0.02, withinWatts: 1, maxSlopeWPerS: 1, timeoutSeconds: 5, intervalMs: 5 },
        minTrainSeconds: { nvml: 60, other: 1e6 },
        // A short clock ramp here too (none by default off NVML): its pipeline is compiled in
        // setup, and it must not leak into train either.
        rampSeconds: { nvml: 1, other: 0.05 },
        planMinSeconds: 0,
      },
    });
    device.createComputePipeline = originals.sync;
    device.createComputePipelineAsync = originals.async;
    expect(summary.completed).toBe(plan.length);
    // Compilation happened (the first suite on this device compiles) and all of it outside train/test.
    expect(compiledIn.length).toBeGreaterThan(0);
    expect(compiledIn.filter((p) => p === "train" || p === "test")).toEqual([]);
    const results = store.results(summary.suiteId);
    store.close();
    const runs = results.runs.filter((r) => r.status === "completed");
    const table = runs.map(
      (r) =>
        `run ${r.id} ${r.configId} epochs ${r.epochs.map((e) => e.seconds.toFixed(3))} → ${r.measurement?.epochCheck?.deviation.toFixed(2)}`,
    );
    console.log(table.join("\n"));
    for (const r of runs) {
      expect(r.measurement?.epochCheck?.deviation, table.join("; ")).toBeGreaterThanOrEqual(0);
      expect(r.measurement?.ramp?.seconds).toBeGreaterThanOrEqual(0.05);
      expect(r.measurement?.ramp?.dispatches).toBeGreaterThan(0);
      // The ramp before the warm-up's timed steps too, and the plan checked against the phase.
      expect(r.measurement?.warmupRamp?.seconds).toBeGreaterThanOrEqual(0.05);
      expect(r.measurement?.warmupRamp?.dispatches).toBeGreaterThan(0);
      const pc = r.measurement?.planCheck;
      const phase = r.phases.find((p) => p.name === "train");
      const trainS = ((phase?.endMs ?? 0) - (phase?.startMs ?? 0)) / 1000;
      const planned = r.measurement?.plannedTrainSeconds ?? Number.NaN;
      // (planMinSeconds 0 in this suite's rules: its sub-second phases are checked too.)
      expect(pc?.plannedS).toBe(planned);
      expect(pc?.trainS).toBeCloseTo(trainS, 9);
    }
    expect(powerReads).toBeGreaterThanOrEqual(2 * runs.length);
    // The resident dataset: uploaded by the first run only, in its setup phase.
    const byIndex = [...runs].sort((a, b) => a.index - b.index);
    expect(byIndex.map((r) => r.measurement?.upload.paidBy)).toEqual([
      "this-run",
      ...byIndex.slice(1).map(() => "earlier-run"),
    ]);
    const checks = replicateChecks(runs, MEASUREMENT_RULES.phaseTolerance);
    expect(checks).toHaveLength(2);
    console.log(
      checks.map((c) => `${c.configId}: first ${c.firstSPerSample} vs ${c.othersSPerSample}`).join("\n"),
    );
    for (const c of checks) expect(c.deviation, JSON.stringify(c)).toBeGreaterThanOrEqual(0);
    for (const r of runs) {
      const m = r.measurement;
      expect(m, `run ${r.id}`).toBeTruthy();
      if (!m) continue;
      expect(m.warmup.steps).toBeGreaterThan(0);
      expect(m.plannedTrainSeconds).toBeGreaterThan(0);
      expect(m.settle?.settled).toBe(true);
      expect(m.baselineW.cpu).toBeGreaterThan(0);
    }
    expect(results.suite.notes.filter((n) => n.includes("planned train phase is about"))).toHaveLength(2);
    const section = measuredPhasesSection(results);
    expect(section?.title).toBe("Measured phases");
    expect(JSON.stringify(section)).not.toMatch(/NaN|undefined/);
  });

  it.skipIf(!existsSync(CLI))(
    "the CLI: SIGINT mid-suite leaves an interrupted run and an intact store; --resume finishes; report and CSV export",
    async () => {
      const specFile = join(dir, "cli-suite.json");
      writeFileSync(specFile, JSON.stringify(tinyRaw("cli")));
      const out = join(dir, "cli-out");
      const args = [CLI, "suite", specFile, "--out", out, "--cache-dir", cache];
      // Detached: its own process group, so SIGINT reaches the filter parent and the worker child, as Ctrl-C does.
      const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      let sent = false;
      const interrupted = new Promise<number>((done) => {
        child.stderr.on("data", (d: Buffer) => {
          err += d.toString();
          // Once: a second Ctrl-C is the user insisting, which (as in any CLI) kills outright.
          if (!sent && /run 1\/4 .*completed/.test(err) && child.pid) {
            sent = true;
            process.kill(-child.pid, "SIGINT");
          }
        });
        child.on("close", (code) => done(code ?? -1));
      });
      expect(await interrupted, err).toBe(130);
      const raw = new Database(join(out, "results.sqlite"), { readonly: true });
      expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
      const statuses = raw.prepare("select status from runs order by id").pluck().all() as string[];
      raw.close();
      expect(statuses[0]).toBe("completed");
      expect(statuses).toContain("interrupted");
      const resumed = spawnSync(process.execPath, [...args, "--resume", "--json"], { encoding: "utf8" });
      expect(resumed.status, resumed.stderr).toBe(0);
      const summary = JSON.parse(resumed.stdout);
      expect(summary.skipped).toBe(1);
      expect(summary.completed).toBe(3);
      const html = readFileSync(join(out, "report.html"), "utf8");
      expect(html).toContain("<svg");
      // No unprintable value; "undefined" in a sentence ("Levene's test is undefined: …", which two
      // replicates per group make likely) is the report explaining itself, not a leak.
      expect(html).not.toMatch(/NaN|(?<!(is|are) )undefined|Infinity/);
      const exp = spawnSync(
        process.execPath,
        [CLI, "export", join(out, "results.sqlite"), "--csv", join(out, "csv"), "--json"],
        { encoding: "utf8" },
      );
      expect(exp.status, exp.stderr).toBe(0);
      // Every run row (the interrupted one kept for the record) plus the header.
      const runsCsv = readFileSync(join(out, "csv", "runs.csv"), "utf8");
      expect(runsCsv.trim().split(/\r?\n/)).toHaveLength(1 + statuses.length + 3);
    },
  );

  it("a configuration that diverges (lr 1e30): its runs stop after the NaN epoch, are marked diverged, are not redone, and stay out of the report's comparison", async () => {
    const raw = {
      ...tinyRaw("diverge"),
      epochs: 3,
      configurations: [
        { precision: "f32", batch: 16, neurons: [16] },
        { precision: "f32", batch: 16, neurons: [16], optimizer: { name: "adam", lr: 1e30 } },
      ],
    };
    const spec = parseSuiteSpec(raw, "test");
    const plan = planRuns(spec);
    const wild = spec.configurations[1].id;
    const ended: string[] = [];
    const store = openStore(join(dir, "diverge.sqlite"));
    try {
      const summary = await runSuite(spec, plan, {
        store,
        ctx: env.ctx,
        cacheDir: cache,
        progress: { onRunEnd: (run, status) => ended.push(`${run.configId} ${status}`) },
      });
      expect(summary).toMatchObject({ completed: 2, diverged: 2, failed: 0, interrupted: 0, stopped: false });
      expect(ended.filter((e) => e === `${wild} diverged`)).toHaveLength(2);
      const results = store.results(summary.suiteId);
      for (const r of results.runs) {
        expect(r.status).toBe("completed");
        if (r.configId === wild) {
          expect(r.diverged).toMatch(/^epoch 1: training loss (NaN|-?Infinity) \(not finite\)$/);
          // Stopped early: the first of three epochs, no test evaluation; its energy kept.
          expect(r.epochs).toHaveLength(1);
          expect(r.test).toBeNull();
          expect(r.energy.some((e) => e.phase === "train" && (e.grossJ ?? 0) > 0)).toBe(true);
        } else {
          expect(r.diverged).toBeUndefined();
          expect(r.epochs).toHaveLength(3);
        }
      }
      const { data } = await buildReport(results);
      expect(data.configurations.map((c) => c.id)).toEqual([spec.configurations[0].id]);
      expect(data.conclusion.join(" ")).not.toMatch(/real difference/);
      expect(data.caveats.join(" ")).toMatch(/2 run\(s\) diverged/);
      // A resume redoes nothing: a diverged run would diverge again.
      const again = await runSuite(spec, plan, { store, ctx: env.ctx, cacheDir: cache, resume: true });
      expect(again).toMatchObject({ skipped: 4, completed: 0, diverged: 0 });
    } finally {
      store.close();
    }
  });

  it.skipIf(!existsSync(CLI))(
    "the CLI: SIGTERM (Slurm's time limit) to the suite's process stops it after the step: run interrupted, lock released, report written, exit 143, --json one document; then a report that cannot be written says the store is complete",
    async () => {
      const specFile = join(dir, "term-suite.json");
      // Long enough after the first epoch's line (5 more epochs of 30 steps) that the signal lands mid-run.
      const slow = { data: "synthetic:classes=4,size=8,train=480,valid=32,test=32,seed=5", epochs: 6 };
      writeFileSync(specFile, JSON.stringify({ ...tinyRaw("term"), ...slow }));
      const out = join(dir, "term-out");
      const args = [CLI, "suite", specFile, "--out", out, "--cache-dir", cache, "--json"];
      // Not detached: the signal goes to the top process alone (the Dawn filter), which passes it on.
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      let doc = "";
      let sent = false;
      child.stdout.on("data", (d: Buffer) => {
        doc += d.toString();
      });
      const ended = new Promise<number>((done) => {
        child.stderr.on("data", (d: Buffer) => {
          err += d.toString();
          // Progress reaches stderr with --json and off a terminal, one line per epoch: signal the second run mid-way.
          if (!sent && /^run 2\/4 .*: epoch 1\/6/m.test(err)) {
            sent = true;
            child.kill("SIGTERM");
          }
        });
        child.on("close", (code) => done(code ?? -1));
      });
      expect(await ended, err).toBe(143);
      expect(err).toMatch(/SIGTERM: stopping after the current step/);
      const summary = JSON.parse(doc);
      expect(summary).toMatchObject({ completed: 1, interrupted: 1, failed: 0, stopped: true });
      const raw = new Database(join(out, "results.sqlite"), { readonly: true });
      try {
        expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
        const runs = raw.prepare("select status, error from runs order by id").all() as {
          status: string;
          error: string | null;
        }[];
        expect(runs.map((r) => r.status)).toEqual(["completed", "interrupted"]);
        expect(runs.at(-1)?.error).toMatch(/SIGTERM/);
        expect(raw.prepare("select count(*) from lock").pluck().get()).toBe(0);
      } finally {
        raw.close();
      }
      expect(readFileSync(join(out, "report.html"), "utf8")).toContain("<svg");

      // Finish it, then make the report unwritable (report.html a folder holding a file): the
      // runs are safe, the message says so and how to write the report again; exit 1.
      const resumed = spawnSync(process.execPath, [...args, "--resume"], { encoding: "utf8" });
      expect(resumed.status, resumed.stderr).toBe(0);
      rmSync(join(out, "report.html"));
      mkdirSync(join(out, "report.html"));
      writeFileSync(join(out, "report.html", "keep"), "");
      const blocked = spawnSync(process.execPath, [...args, "--resume"], { encoding: "utf8" });
      expect(blocked.status, blocked.stderr).toBe(1);
      const e = JSON.parse(blocked.stdout).error;
      expect(e.code).toBe("E_RUNTIME");
      expect(e.message).toContain(`The results store ${join(out, "results.sqlite")} is complete`);
      expect(e.message).toContain(`cannot write ${join(out, "report.html")}`);
      expect(e.message).toContain(`halfwatt report ${join(out, "results.sqlite")} --out ${out}`);
    },
  );

  it.skipIf(!existsSync(CLI))(
    "the CLI: SIGTERM to a Slurm task (--task) marks its run interrupted, releases its store, exits 143",
    async () => {
      const specFile = join(dir, "task-suite.json");
      const slow = { data: "synthetic:classes=4,size=8,train=480,valid=32,test=32,seed=5", epochs: 6 };
      writeFileSync(specFile, JSON.stringify({ ...tinyRaw("task-term"), ...slow }));
      const out = join(dir, "task-out");
      const child = spawn(
        process.execPath,
        [CLI, "suite", specFile, "--task", "1", "--out", out, "--cache-dir", cache],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let err = "";
      let sent = false;
      const ended = new Promise<number>((done) => {
        child.stderr.on("data", (d: Buffer) => {
          err += d.toString();
          if (!sent && /^run 1\/2 .*: epoch 1\/6/m.test(err)) {
            sent = true;
            child.kill("SIGTERM");
          }
        });
        child.on("close", (code) => done(code ?? -1));
      });
      expect(await ended, err).toBe(143);
      const raw = new Database(join(out, "task-1.db"), { readonly: true });
      try {
        const runs = raw.prepare("select status, block from runs order by id").all() as {
          status: string;
          block: number;
        }[];
        expect(runs).toEqual([{ status: "interrupted", block: 1 }]);
        expect(raw.prepare("select count(*) from lock").pluck().get()).toBe(0);
      } finally {
        raw.close();
      }
    },
  );

  it.skipIf(!existsSync(CLI))(
    "an invalid suite file: every problem listed with its path, exit 2, nothing run",
    () => {
      const bad = join(dir, "bad.json");
      writeFileSync(
        bad,
        JSON.stringify({
          name: "x",
          data: "synthetic",
          replicate: 3,
          configurations: [{ precision: "f16", batch: 0, neurons: [] }],
          carbon: { intensity: -1 },
        }),
      );
      const r = spawnSync(process.execPath, [CLI, "suite", bad, "--out", join(dir, "bad-out"), "--json"], {
        encoding: "utf8",
      });
      expect(r.status).toBe(2);
      const e = JSON.parse(r.stdout).error;
      expect(e.code).toBe("E_INPUT");
      for (const field of [
        "replicate",
        "configurations[0].precision",
        "configurations[0].batch",
        "configurations[0].neurons",
        "carbon",
      ])
        expect(e.message).toContain(field);
      expect(existsSync(join(dir, "bad-out", "results.sqlite"))).toBe(false);
    },
  );
});
