// halfwatt merge (issue 11): task stores written through the store's own API with seeded made-up
// runs (fixtures/store-data.ts), joined, and read back. The expectations come from what was
// written, never from the merge: every run back with its epochs, phases, energy, samples, kernels
// and loss scale under its new id; row counts per table equal to the sum over the stores, counted
// in each store by SQL; a foreign suite refused; duplicates refused or resolved to the latest;
// failed and missing tasks listed with the command that resubmits only those.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { MergeError, mergeStores } from "../../src/experiment/merge.js";
import { openStore } from "../../src/experiment/store.js";
import type { PlannedRun, RunRecord, SampleRecord, SuiteSpec } from "../../src/experiment/types.js";
import { makeRng, runSeed } from "../helpers/rng.js";
import {
  expectedRun,
  makeEnv,
  makeEpoch,
  makeFinish,
  makePlan,
  makeSamples,
  makeSpec,
} from "./fixtures/store-data.js";

const seed = runSeed();
console.log(`merge.test.ts seed ${seed} (HALFWATT_SEED=${seed} replays it)`);
const rng = makeRng(seed);
const dir = mkdtempSync(join(tmpdir(), "halfwatt-merge-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLI = resolve("dist/src/cli/main.js");
let n = 0;
const fresh = (name = "job") => {
  const d = join(dir, `${name}-${++n}`);
  mkdirSync(join(d, "tasks"), { recursive: true });
  return d;
};

type Expected = Omit<RunRecord, "id" | "startedAt" | "endedAt"> & { samples: SampleRecord[] };

interface TaskOptions {
  host?: string;
  /** Plan indices whose run fails (and is then not retried). */
  fail?: number[];
  /** Plan indices whose run fails first and completes on a resubmission, in the same store. */
  retried?: number[];
  /** Plan indices left `running`, as a task killed at its time limit leaves them. */
  killed?: number[];
  /** Plan indices never started. */
  skip?: number[];
}

/** Writes block `block` of the plan into its own task store, as `suite --task` would; returns what each run must read back as. */
function writeTask(
  path: string,
  spec: SuiteSpec,
  plan: PlannedRun[],
  block: number,
  o: TaskOptions = {},
): Expected[] {
  const out: Expected[] = [];
  const store = openStore(path);
  const suite = store.openSuite(spec, plan);
  store.markTask(suite.id, [block], `4711_${block}`);
  store.addSuiteNote(suite.id, `note from ${o.host ?? "node"}`);
  const configs = new Map(spec.configurations.map((c) => [c.id, c]));
  const attempt = (run: PlannedRun, end: "completed" | "failed" | "running") => {
    const config = configs.get(run.configId);
    if (!config) throw new Error("fixture plan names an unknown configuration");
    const env = {
      ...makeEnv(rng),
      hostname: o.host ?? "node",
      gpu: { index: block % 2, pciBusId: null, uuid: null, name: null },
    };
    const temp = rng() < 0.3 ? null : 30 + 10 * rng();
    const id = store.startRun(suite.id, run, config, env, temp);
    const epochs = Array.from({ length: 1 + (run.index % 3) }, (_, e) => makeEpoch(rng, e + 1));
    for (const e of epochs) store.addEpoch(id, e);
    const samples = makeSamples(rng, 3 + ((run.index * 7) % 11));
    store.addSamples(id, samples);
    let written: ReturnType<typeof expectedRun>;
    if (end === "completed") {
      const finish = makeFinish(rng, { noLossScale: config.precision === "f32" });
      store.finishRun(id, finish);
      written = expectedRun(id, run, config, env, temp, epochs, { status: "completed", finish });
    } else if (end === "failed") {
      const error = `out of memory at run ${run.index}\nstack…`;
      store.failRun(id, "failed", error);
      written = expectedRun(id, run, config, env, temp, epochs, { status: "failed", error });
    } else written = expectedRun(id, run, config, env, temp, epochs, { status: "running" });
    // The merged store gives the run a new id: compared without it.
    const { id: _id, ...rest } = written;
    out.push({ ...rest, samples });
  };
  for (const run of plan.filter((r) => r.block === block)) {
    if (o.skip?.includes(run.index)) continue;
    if (o.retried?.includes(run.index)) attempt(run, "failed");
    attempt(
      run,
      o.fail?.includes(run.index) ? "failed" : o.killed?.includes(run.index) ? "running" : "completed",
    );
  }
  store.close();
  return out;
}

const suiteOf = (replicates: number, name = "study"): { spec: SuiteSpec; plan: PlannedRun[] } => {
  const spec = { ...makeSpec(rng, name), replicates };
  return { spec, plan: makePlan(spec, rng) };
};

/** Rows of each table of a store, counted by SQL. */
function counts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  const out = Object.fromEntries(
    tables.map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number]),
  );
  db.close();
  return out;
}

/** The merged store's runs, read through the store's reader, as the report reads them. */
function mergedRuns(path: string): {
  runs: RunRecord[];
  samples: (id: number) => SampleRecord[];
  close: () => void;
} {
  const store = openStore(path, { readonly: true });
  const [suite] = store.suites();
  const r = store.results(suite.id);
  return { runs: r.runs, samples: r.samples, close: () => store.close() };
}

const key = (r: { index: number; status: string }) => `${r.index}/${r.status}`;

/** Every expected run is in the merged store once, with all its rows, under a new id. */
function expectRunsBack(path: string, expected: Expected[]) {
  const m = mergedRuns(path);
  try {
    expect(m.runs.map(key).sort()).toStrictEqual(expected.map(key).sort());
    // Several attempts at one plan index (failed, then completed) are told apart by status.
    for (const want of expected) {
      const got = m.runs.find((r) => key(r) === key(want));
      expect(got, key(want)).toBeDefined();
      if (!got) continue;
      const { id, startedAt: _s, endedAt: _e, ...rest } = got;
      const { samples, ...record } = want;
      expect(rest, `run ${key(want)}`).toStrictEqual(record);
      expect(m.samples(id), `samples of ${key(want)}`).toStrictEqual(samples);
    }
    // New ids: 1..N, in the order the runs started.
    expect(m.runs.map((r) => r.id)).toStrictEqual(m.runs.map((_, i) => i + 1));
    const starts = m.runs.map((r) => r.startedAt ?? "");
    expect(starts).toStrictEqual([...starts].sort());
  } finally {
    m.close();
  }
}

function integrity(path: string) {
  const db = new Database(path, { readonly: true });
  const result = {
    integrity: db.pragma("integrity_check", { simple: true }),
    orphans: db.pragma("foreign_key_check"),
  };
  db.close();
  return result;
}

describe("merging task stores", () => {
  it("two tasks on two nodes: every run back with every row under its new id; counts per table the stores' sums; integrity ok", () => {
    const { spec, plan } = suiteOf(2);
    const job = fresh();
    const a = join(job, "tasks", "task-0.db");
    const b = join(job, "tasks", "task-1.db");
    const first = plan.find((r) => r.block === 1)?.index ?? -1;
    const expected = [
      ...writeTask(a, spec, plan, 0, { host: "node-a" }),
      // Task 1 failed once and was resubmitted: both attempts are in its store.
      ...writeTask(b, spec, plan, 1, { host: "node-b", retried: [first] }),
    ];
    const out = join(job, "suite.db");
    const result = mergeStores([a, b], { out });
    expect(integrity(out)).toStrictEqual({ integrity: "ok", orphans: [] });
    expectRunsBack(out, expected);

    const [ca, cb, cm] = [counts(a), counts(b), counts(out)];
    for (const t of Object.keys(cm)) {
      if (t === "schema_version") expect(cm[t]).toBe(ca[t]);
      else if (t === "lock") expect(cm[t]).toBe(0);
      else if (t === "suites") expect(cm[t]).toBe(1);
      // Both blocks present: the merged store holds the whole plan, so it marks no task.
      else if (t === "task_blocks") expect([ca[t], cb[t], cm[t]]).toStrictEqual([1, 1, 0]);
      else expect(cm[t], t).toBe(ca[t] + cb[t]);
    }
    expect(result.rows.runs).toBe(expected.length);
    expect(result.rows.samples).toBe(ca.samples + cb.samples);
    expect(result).toMatchObject({
      suite: spec.name,
      duplicates: [],
      incomplete: [],
      resubmit: null,
      replaced: false,
    });
    expect(result.sources.map((s) => [s.blocks, s.slurmJobs, s.runs, s.completed])).toStrictEqual([
      [[0], ["4711_0"], 3, 3],
      [[1], ["4711_1"], 4, 3],
    ]);

    // The suite: the stores' spec and plan; every store's notes; two nodes, so no one idle temperature.
    const m = openStore(out, { readonly: true });
    const [s] = m.suites();
    const suite = m.results(s.id).suite;
    m.close();
    const { origin: _o, ...given } = spec;
    const { origin: _p, ...stored } = suite.spec;
    expect(stored).toStrictEqual(given);
    expect(suite.plan).toStrictEqual(plan);
    expect(suite.notes).toStrictEqual(["note from node-a", "note from node-b"]);
    expect(suite.idleTempC).toBeNull();
    // The merged store opens for writing like any other (its lock, WAL).
    openStore(out).close();
  });

  it("refuses the store of another suite: another name, spec or plan; nothing written", () => {
    const { spec, plan } = suiteOf(2, "mine");
    const job = fresh();
    const a = join(job, "tasks", "task-0.db");
    writeTask(a, spec, plan, 0);
    const out = join(job, "suite.db");
    const cases: [SuiteSpec, PlannedRun[], RegExp][] = [
      [{ ...spec, name: "theirs" }, plan, /different suites \("theirs" and "mine"\)/],
      [{ ...spec, seed: spec.seed + 1 }, plan, new RegExp(`seed is ${spec.seed + 1} in .*, ${spec.seed} in`)],
      [{ ...spec, replicates: 3 }, makePlan({ ...spec, replicates: 3 }, rng), /replicates is 3 in/],
      [
        spec,
        plan.map((r) => (r.index === 1 ? { ...r, seed: r.seed + 1 } : r)),
        /different run plans \(plan\[1\]\.seed/,
      ],
    ];
    for (const [s, p, message] of cases) {
      const other = join(job, "tasks", `other-${++n}.db`);
      writeTask(other, s, p, 1);
      expect(() => mergeStores([a, other], { out })).toThrow(message);
      expect(existsSync(out)).toBe(false);
    }
    // Where the suite came from (a preset, a file) is not part of it.
    const moved = join(job, "tasks", "task-1.db");
    writeTask(moved, { ...spec, origin: "/elsewhere/suite.yaml" }, plan, 1);
    expect(mergeStores([a, moved], { out }).incomplete).toStrictEqual([]);
  });

  it("duplicates: a block completed in two stores is refused, or with --prefer-latest the run that ended last is kept", async () => {
    const { spec, plan } = suiteOf(2);
    const job = fresh();
    const a = join(job, "tasks", "task-0.db");
    const again = join(job, "tasks", "task-0-again.db");
    const b = join(job, "tasks", "task-1.db");
    const first = writeTask(a, spec, plan, 0, { host: "node-a" });
    await new Promise((r) => setTimeout(r, 5)); // later end times, to the millisecond
    const second = writeTask(again, spec, plan, 0, { host: "node-c" });
    const other = writeTask(b, spec, plan, 1);
    const out = join(job, "suite.db");
    const block0 = plan.filter((r) => r.block === 0).map((r) => r.index);
    let message = "";
    try {
      mergeStores([a, again, b], { out });
    } catch (e) {
      expect(e).toBeInstanceOf(MergeError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^3 run\(s\) completed in more than one store/);
    for (const i of block0) expect(message).toContain(`plan index ${i} (`);
    expect(message).toContain("--prefer-latest");
    expect(existsSync(out)).toBe(false);

    const result = mergeStores([a, again, b], { out, preferLatest: true });
    expect(result.duplicates.map((d) => d.planIndex)).toStrictEqual(block0);
    for (const d of result.duplicates) {
      expect(d.kept.store).toBe(again);
      expect(d.kept.host).toBe("node-c");
      expect(d.dropped.map((x) => x.store)).toStrictEqual([a]);
    }
    // The later store's runs, with their own rows; the earlier ones' rows left out entirely.
    expectRunsBack(out, [...second, ...other]);
    const [ca, cb, cm] = [counts(again), counts(b), counts(out)];
    for (const t of ["runs", "epochs", "phases", "energy", "samples"]) expect(cm[t], t).toBe(ca[t] + cb[t]);
    expect(first).toHaveLength(3);
  });

  it("failed and missing tasks: listed, with the one sbatch line that resubmits only those", () => {
    const { spec, plan } = suiteOf(4);
    const job = fresh();
    writeFileSync(join(job, "suite.sbatch"), "#!/bin/bash\n");
    const blockRuns = (b: number) => plan.filter((r) => r.block === b).map((r) => r.index);
    const [r1a, r1b, r1c] = blockRuns(1);
    const stores = [0, 1, 2].map((b) => join(job, "tasks", `task-${b}.db`));
    writeTask(stores[0], spec, plan, 0);
    // Task 1: one run failed, the next left running (killed at the time limit), the last never started.
    writeTask(stores[1], spec, plan, 1, { fail: [r1a], killed: [r1b], skip: [r1c] });
    writeTask(stores[2], spec, plan, 2);
    // Task 3 never ran: no store.
    const out = join(job, "suite.db");
    const result = mergeStores(stores, { out });
    expect(result.incomplete).toStrictEqual([
      {
        block: 1,
        planned: 3,
        completed: 0,
        failed: 1,
        interrupted: 1,
        stores: [stores[1]],
        errors: [`out of memory at run ${r1a}`],
      },
      { block: 3, planned: 3, completed: 0, failed: 0, interrupted: 0, stores: [], errors: [] },
    ]);
    expect(result.resubmit).toBe(`sbatch --array=1,3 ${job}/suite.sbatch`);
    expect(result.sbatchFound).toBe(true);
    // The merged store says which blocks it holds (0 to 2), so a later merge with task 3 knows.
    const db = new Database(out, { readonly: true });
    expect(db.prepare("SELECT block, slurm_job FROM task_blocks ORDER BY block").all()).toStrictEqual([
      { block: 0, slurm_job: "4711_0" },
      { block: 1, slurm_job: "4711_1" },
      { block: 2, slurm_job: "4711_2" },
    ]);
    db.close();

    // After the resubmission: task 1 completes its block in its own store, task 3 writes its store.
    // (A resubmitted task resumes its store: the killed run is marked interrupted, then the block runs.)
    const retry = join(job, "tasks", "task-1.db");
    const s = openStore(retry);
    s.recoverInterrupted(s.suites()[0].id);
    s.close();
    writeTask(retry, spec, plan, 1);
    writeTask(join(job, "tasks", "task-3.db"), spec, plan, 3);
    expect(() => mergeStores([...stores, join(job, "tasks", "task-3.db")], { out })).toThrow(
      /exists: pass --force/,
    );
    const again = mergeStores([...stores, join(job, "tasks", "task-3.db")], { out, force: true });
    expect(again).toMatchObject({ incomplete: [], resubmit: null, replaced: true });
    expect(counts(out).task_blocks).toBe(0);
    expect(integrity(out)).toStrictEqual({ integrity: "ok", orphans: [] });
  });

  it("bad input: a file given twice, --out among the stores, a missing file, a file that is no store", () => {
    const { spec, plan } = suiteOf(2);
    const job = fresh();
    const a = join(job, "tasks", "task-0.db");
    writeTask(a, spec, plan, 0);
    expect(() => mergeStores([a, `${job}/tasks/../tasks/task-0.db`], { out: join(job, "x.db") })).toThrow(
      /are the same file/,
    );
    expect(() => mergeStores([a], { out: a, force: true })).toThrow(/--out .* is one of the stores/);
    expect(() => mergeStores([a, join(job, "nope.db")], { out: join(job, "x.db") })).toThrow(
      /nope\.db: no such results store/,
    );
    const junk = join(job, "junk.db");
    writeFileSync(junk, "not sqlite at all, just text");
    expect(() => mergeStores([a, junk], { out: join(job, "x.db") })).toThrow(MergeError);
    expect(() => mergeStores([], { out: join(job, "x.db") })).toThrow(/no stores/);
    expect(existsSync(join(job, "x.db"))).toBe(false);
    // Two suites in one store: say which.
    const two = join(job, "two.db");
    copyFileSync(a, two);
    const st = openStore(two);
    st.openSuite({ ...spec, name: "another" }, plan);
    st.close();
    expect(() => mergeStores([two], { out: join(job, "x.db") })).toThrow(/several suites .*--suite/);
    expect(mergeStores([two], { out: join(job, "x.db"), suite: spec.name }).suite).toBe(spec.name);
  });
});

describe.skipIf(!existsSync(CLI))("halfwatt merge", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

  it("--json: the merge as JSON, exit 1 while tasks are incomplete, 0 once complete; errors as JSON with exit 2", () => {
    const { spec, plan } = suiteOf(3);
    const job = fresh();
    writeFileSync(join(job, "suite.sbatch"), "#!/bin/bash\n");
    const t0 = join(job, "tasks", "task-0.db");
    const t2 = join(job, "tasks", "task-2.db");
    writeTask(t0, spec, plan, 0);
    writeTask(t2, spec, plan, 2);
    const out = join(job, "suite.db");
    const r = cli(["merge", t0, t2, "--out", out, "--json"]);
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.incomplete.map((b: { block: number }) => b.block)).toStrictEqual([1]);
    expect(j.resubmit).toBe(`sbatch --array=1 ${job}/suite.sbatch`);
    const plain = cli(["merge", t0, t2, "--out", out, "--force"]);
    expect(plain.status).toBe(1);
    expect(plain.stdout).toContain("task 1 incomplete: no store");
    expect(plain.stdout).toContain(`resubmit only those: sbatch --array=1 ${job}/suite.sbatch`);

    const t1 = join(job, "tasks", "task-1.db");
    writeTask(t1, spec, plan, 1);
    const ok = cli(["merge", t0, t1, t2, "--out", out, "--force", "--json"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ incomplete: [], resubmit: null, rows: { runs: 9 } });

    const foreign = join(job, "foreign.db");
    writeTask(foreign, { ...spec, seed: spec.seed + 1 }, plan, 1);
    const bad = cli(["merge", t0, foreign, "--out", join(job, "f.db"), "--json"]);
    expect(bad.status).toBe(2);
    const e = JSON.parse(bad.stdout).error;
    expect(e.code).toBe("E_INPUT");
    expect(e.message).toContain("seed");
  });
});
