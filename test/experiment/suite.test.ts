// The suite end to end on this adapter: the quick preset for real (through the CLI, as the
// README's main job runs it), an interrupted suite resumed without redoing finished runs, the
// store intact after a SIGINT, and the report's numbers equal to the store's.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    for (const r of runs)
      expect(r.measurement?.epochCheck?.deviation, table.join("; ")).toBeGreaterThanOrEqual(0);
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
