// suite --devices end to end through the CLI on this machine's one adapter, with two logical GPUs
// (HALFWATT_TEST_LOGICAL_GPUS=2, a test-only hook: both workers share the one device): every
// planned run completed exactly once, each block on one worker, the store intact, overlapping runs'
// CPU/RAM energy apportioned and labelled; then one worker killed mid-run: its run is marked
// failed, the other worker finishes, and --resume completes the suite without redoing a run.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";

const CLI = resolve("dist/src/cli/main.js");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-workers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cache = join(dir, "cache");

const spec = (name: string, replicates: number) => ({
  name,
  data: "synthetic:classes=4,size=8,train=96,valid=32,test=32,seed=5",
  replicates,
  epochs: 2,
  optimizer: { name: "adam", lr: 0.003 },
  configurations: [
    { precision: "f32", batch: 16, neurons: [16] },
    { precision: "mixed", batch: 32, neurons: [32] },
  ],
  baselineSeconds: 0.3,
  cooldown: { withinCelsius: 3, maxSeconds: 0 },
  carbon: { intensity: 268, pue: 1.2 },
});
const env = { ...process.env, HALFWATT_TEST_LOGICAL_GPUS: "2" };

interface Row {
  id: number;
  plan_index: number;
  block: number;
  status: string;
  worker: number | null;
  gpu: number | null;
  overlapped: number | null;
  started_at: string;
  ended_at: string | null;
}
function readRuns(db: string): Row[] {
  const raw = new Database(db, { readonly: true });
  try {
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    return raw
      .prepare(
        `SELECT id, plan_index, block, status, json_extract(env, '$.worker') AS worker, json_extract(env, '$.gpu.index') AS gpu,
                json_extract(env, '$.overlapped') AS overlapped, started_at, ended_at FROM runs ORDER BY id`,
      )
      .all() as Row[];
  } finally {
    raw.close();
  }
}

/** The pid of the worker process of `out` numbered `worker` (from /proc: the CLI starts it). */
function workerPid(out: string, worker: number): number | null {
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      const at = args.indexOf("--worker");
      if (at >= 0 && args[at + 1] === String(worker) && args.includes(out)) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

describe.skipIf(!existsSync(CLI))("suite --devices (two logical GPUs on one adapter)", () => {
  it("runs every planned run once, whole blocks per worker, energy of overlapping runs shared, store intact", () => {
    const file = join(dir, "all.json");
    writeFileSync(file, JSON.stringify(spec("all", 3)));
    const out = join(dir, "all-out");
    const r = spawnSync(
      process.execPath,
      [CLI, "suite", file, "--devices", "all", "--out", out, "--cache-dir", cache],
      {
        encoding: "utf8",
        env,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^6 run\(s\) completed, 0 interrupted, 0 failed$/m);
    expect(r.stderr).not.toMatch(/ended early/);
    // Every line of progress names its GPU.
    expect(r.stderr).toMatch(/^\[GPU 0\] run \d\/6 .*: completed/m);
    expect(r.stderr).toMatch(/^\[GPU 1\] run \d\/6 .*: completed/m);
    const db = join(out, "results.sqlite");
    const runs = readRuns(db);
    expect(runs.map((x) => x.plan_index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(runs.every((x) => x.status === "completed")).toBe(true);
    // A block never spans two workers, and both workers ran something.
    for (const b of [0, 1, 2])
      expect(new Set(runs.filter((x) => x.block === b).map((x) => x.worker)).size).toBe(1);
    expect(new Set(runs.map((x) => x.worker))).toEqual(new Set([0, 1]));
    expect(runs.every((x) => x.gpu === x.worker)).toBe(true);
    // Runs that overlapped say so, and their CPU/RAM figures are labelled shared; the others are not.
    const raw = new Database(db, { readonly: true });
    try {
      const overlap = (a: Row, b: Row) =>
        Date.parse(a.started_at) < Date.parse(b.ended_at ?? "") &&
        Date.parse(b.started_at) < Date.parse(a.ended_at ?? "");
      for (const x of runs) {
        const others = runs.some((y) => y.id !== x.id && overlap(x, y));
        const prov = raw
          .prepare("SELECT DISTINCT provenance FROM energy WHERE run_id = ? AND component IN ('cpu', 'dram')")
          .pluck()
          .all(x.id) as string[];
        if (x.overlapped) {
          expect(others, `run ${x.id} says it overlapped`).toBe(true);
          expect(prov).toEqual(["estimated, shared"]);
        } else expect(prov).toEqual(["estimated"]);
      }
      expect(runs.some((x) => x.overlapped)).toBe(true);
      const notes = JSON.parse(raw.prepare("SELECT notes FROM suites").pluck().get() as string) as string[];
      expect(notes.join("\n")).toMatch(/apportioned among the runs in flight.*its CPU part is not idle/);
    } finally {
      raw.close();
    }
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("<svg");
  });

  it("a worker killed mid-run: its run is marked failed, the other finishes; --resume completes the rest once", async () => {
    const file = join(dir, "kill.json");
    writeFileSync(file, JSON.stringify(spec("kill", 4)));
    const out = join(dir, "kill-out");
    const args = [CLI, "suite", file, "--devices", "all", "--out", out, "--cache-dir", cache];
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    let killed = false;
    const ended = new Promise<number>((done) => {
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        // Kill worker 1 during its second run's training (after one of its runs completed).
        if (!killed && /\[GPU 1\] run \d\/8 .*completed[\s\S]*\[GPU 1\] .*epoch 1\/2/.test(err)) {
          const pid = workerPid(out, 1);
          if (pid) {
            killed = true;
            process.kill(pid, "SIGKILL");
          }
        }
      });
      child.on("close", (code) => done(code ?? -1));
    });
    const code = await ended;
    expect(killed, err).toBe(true);
    expect(code, err).toBe(1);
    expect(err).toMatch(
      /\[GPU 1\] worker 1 ended early \(killed by SIGKILL\); its run in progress is marked failed; the other workers go on/,
    );
    const db = join(out, "results.sqlite");
    let runs = readRuns(db);
    expect(runs.filter((x) => x.status === "failed").map((x) => x.worker)).toEqual([1]);
    expect(runs.filter((x) => x.status === "running")).toEqual([]);
    // Worker 0 went on to the end: nothing it claimed was left.
    const failedBlock = runs.find((x) => x.status === "failed")?.block;
    const doneBefore = runs.filter((x) => x.status === "completed").length;
    const lastIdBefore = Math.max(...runs.map((x) => x.id));
    expect(doneBefore).toBeGreaterThan(0);
    expect(doneBefore).toBeLessThan(8);

    const resumed = spawnSync(process.execPath, [...args, "--resume", "--json"], { encoding: "utf8", env });
    expect(resumed.status, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.skipped).toBe(doneBefore);
    expect(summary.completed).toBe(8 - doneBefore);
    runs = readRuns(db);
    const completed = runs.filter((x) => x.status === "completed").map((x) => x.plan_index);
    expect(completed.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The killed worker's block was taken up again as a whole by one worker of the new session.
    const redo = runs.filter((x) => x.block === failedBlock && x.id > lastIdBefore);
    expect(redo.length).toBeGreaterThan(0);
    expect(new Set(redo.map((x) => x.worker)).size).toBe(1);
  });

  it("SIGTERM to the suite (Slurm's time limit): the parent stops every worker after its step, their runs are marked interrupted, the lock is released, the report written, exit 143", async () => {
    const file = join(dir, "term.json");
    // Six epochs of 30 steps: the signal lands while both workers are mid-run.
    writeFileSync(
      file,
      JSON.stringify({
        ...spec("term", 2),
        data: "synthetic:classes=4,size=8,train=480,valid=32,test=32,seed=5",
        epochs: 6,
      }),
    );
    const out = join(dir, "term-out");
    const child = spawn(
      process.execPath,
      [CLI, "suite", file, "--devices", "all", "--out", out, "--cache-dir", cache],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    let sent = false;
    const ended = new Promise<number>((done) => {
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (!sent && /\[GPU 0\] .*epoch 1\/6/.test(err) && /\[GPU 1\] .*epoch 1\/6/.test(err)) {
          sent = true;
          child.kill("SIGTERM");
        }
      });
      child.on("close", (code) => done(code ?? -1));
    });
    expect(await ended, err).toBe(143);
    const db = join(out, "results.sqlite");
    const runs = readRuns(db);
    expect(runs.filter((x) => x.status === "running")).toEqual([]);
    expect(runs.filter((x) => x.status === "interrupted").length).toBeGreaterThanOrEqual(1);
    const raw0 = new Database(db, { readonly: true });
    try {
      // The interrupted runs name the cause the parent passed on.
      const errors = raw0
        .prepare("SELECT error FROM runs WHERE status = 'interrupted'")
        .pluck()
        .all() as string[];
      for (const e of errors) expect(e).toMatch(/SIGTERM/);
    } finally {
      raw0.close();
    }
    const raw = new Database(db, { readonly: true });
    try {
      expect(raw.prepare("SELECT count(*) FROM lock").pluck().get()).toBe(0);
    } finally {
      raw.close();
    }
    expect(existsSync(join(out, "report.html"))).toBe(true);
  });

  it("--devices names a GPU that does not exist: refused before anything is written", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(spec("bad", 1)));
    const out = join(dir, "bad-out");
    const r = spawnSync(process.execPath, [CLI, "suite", file, "--devices", "0,5", "--out", out, "--json"], {
      encoding: "utf8",
      env,
    });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "E_INPUT",
      message: expect.stringMatching(/no GPU 5/),
    });
    expect(existsSync(join(out, "results.sqlite"))).toBe(false);
  });
});
