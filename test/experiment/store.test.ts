// The SQLite results store: every field back through results() as written (nulls, NaN of empty
// splits, infinities, optional fields), resume bookkeeping, the spec check, the writer's lock
// against a second process, and a store that survives a writer killed mid-write.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/experiment/migrations.js";
import { migrate, openStore, StoreError } from "../../src/experiment/store.js";
import type { RunRecord, SuiteSpec } from "../../src/experiment/types.js";
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
console.log(`store.test.ts seed ${seed} (HALFWATT_SEED=${seed} replays it)`);

let dir: string;
let n = 0;
const freshPath = () => join(dir, `store-${++n}.db`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "halfwatt-store-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const withoutTimes = (r: RunRecord) => {
  const { startedAt: _s, endedAt: _e, ...rest } = r;
  return rest;
};

describe("round trip", () => {
  it("reads back every field of every run as written, through a reopened store", () => {
    const rng = makeRng(seed);
    const path = freshPath();
    const spec = makeSpec(rng);
    const plan = makePlan(spec, rng);
    const configs = new Map(spec.configurations.map((c) => [c.id, c]));
    const expected: Omit<RunRecord, "startedAt" | "endedAt">[] = [];
    const samplesOf = new Map<number, ReturnType<typeof makeSamples>>();
    const before = new Date().toISOString();

    const store = openStore(path);
    const suite = store.openSuite(spec, plan);
    store.addSuiteNote(suite.id, 'rapl not used: permission denied on /sys/class/powercap, "intel-rapl:0"');
    store.addSuiteNote(suite.id, "");
    store.setIdleTemp(suite.id, 38.25);
    plan.forEach((run, i) => {
      const config = configs.get(run.configId);
      if (!config) throw new Error("fixture plan names an unknown configuration");
      const env = makeEnv(rng);
      const temp = i % 2 ? null : 30 + 20 * rng();
      const id = store.startRun(suite.id, run, config, env, temp);
      const epochs = Array.from({ length: i % 3 }, (_, e) =>
        makeEpoch(rng, e + 1, { emptyValid: e === 1, infiniteLoss: i === 2 }),
      );
      for (const e of epochs) store.addEpoch(id, e);
      const samples = [...makeSamples(rng, 1 + (i % 4) * 37), ...makeSamples(rng, i % 2 ? 0 : 11, 1e6)];
      store.addSamples(id, samples.slice(0, 5));
      store.addSamples(id, samples.slice(5));
      samplesOf.set(id, samples);
      if (i === 1) {
        store.failRun(id, "failed", 'out of memory, "f16"\nat line 2');
        expected.push(
          expectedRun(id, run, config, env, temp, epochs, {
            status: "failed",
            error: 'out of memory, "f16"\nat line 2',
          }),
        );
      } else if (i === 3) {
        expected.push(expectedRun(id, run, config, env, temp, epochs, { status: "running" }));
      } else {
        const finish = makeFinish(rng, { noTest: i === 4, noLossScale: i === 2 });
        store.finishRun(id, finish);
        expected.push(expectedRun(id, run, config, env, temp, epochs, { status: "completed", finish }));
      }
    });
    store.close();

    const again = openStore(path);
    try {
      expect(again.suites()).toStrictEqual([{ id: suite.id, name: spec.name }]);
      const results = again.results(suite.id);
      expect(results.suite).toStrictEqual({
        id: suite.id,
        name: spec.name,
        spec,
        createdAt: suite.createdAt,
        plan,
        notes: ['rapl not used: permission denied on /sys/class/powercap, "intel-rapl:0"', ""],
        idleTempC: 38.25,
      });
      expect(results.runs.map(withoutTimes)).toStrictEqual(expected);
      // NaN and infinity kept, not turned into null or 0.
      expect(results.runs[2].epochs[1].valid.loss).toBeNaN();
      expect(results.runs[2].epochs[0].train.loss).toBe(Number.POSITIVE_INFINITY);
      for (const r of results.runs) {
        expect(r.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect((r.startedAt ?? "") >= before).toBe(true);
        if (r.status === "running") expect(r.endedAt).toBeNull();
        else expect((r.endedAt ?? "") >= (r.startedAt ?? "")).toBe(true);
        expect(results.samples(r.id)).toStrictEqual(samplesOf.get(r.id));
      }
    } finally {
      again.close();
    }
  });

  it("keeps suites apart and migrates a new file to the current schema version", () => {
    const rng = makeRng(seed + 1);
    const path = freshPath();
    const store = openStore(path);
    const a = makeSpec(rng, "a");
    const b = makeSpec(rng, "b");
    const sa = store.openSuite(a, makePlan(a, rng));
    const sb = store.openSuite(b, makePlan(b, rng));
    const run = sb.plan[0];
    const config = b.configurations.find((c) => c.id === run.configId);
    if (!config) throw new Error("fixture");
    store.startRun(sb.id, run, config, makeEnv(rng), null);
    expect(store.results(sa.id).runs).toStrictEqual([]);
    expect(store.results(sb.id).runs).toHaveLength(1);
    expect(store.suites()).toStrictEqual([
      { id: sa.id, name: "a" },
      { id: sb.id, name: "b" },
    ]);
    store.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT version FROM schema_version ORDER BY version").pluck().all()).toStrictEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT count(*) FROM lock").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe("migrations", () => {
  it("brings a version-1 store up to a later version once, keeping its data, and refuses a broken migration whole", () => {
    const rng = makeRng(seed + 5);
    const path = freshPath();
    const store = openStore(path);
    const spec = makeSpec(rng);
    store.openSuite(spec, makePlan(spec, rng));
    store.close();
    const later = [
      ...MIGRATIONS,
      "ALTER TABLE runs ADD COLUMN power_limit_w REAL",
      "CREATE TABLE hosts (name TEXT)",
    ];
    const db = new Database(path);
    try {
      migrate(db, path, later);
      migrate(db, path, later); // nothing left to do
      expect(db.prepare("SELECT version FROM schema_version ORDER BY version").pluck().all()).toStrictEqual(
        Array.from({ length: SCHEMA_VERSION + 2 }, (_, i) => i + 1),
      );
      expect(
        (db.prepare("PRAGMA table_info(runs)").all() as { name: string }[]).map((c) => c.name),
      ).toContain("power_limit_w");
      expect(db.prepare("SELECT name FROM suites").pluck().all()).toStrictEqual([spec.name]);
      // A failing migration rolls back with the ones before it in the same call.
      expect(() => migrate(db, path, [...later, "CREATE TABLE t4 (x)", "THIS IS NOT SQL"])).toThrow(
        /syntax error/,
      );
      expect(db.prepare("SELECT max(version) FROM schema_version").pluck().get()).toBe(SCHEMA_VERSION + 2);
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 't4'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
    // This halfwatt now refuses the newer store rather than misread it.
    expect(() => openStore(path)).toThrow(
      new RegExp(
        `has schema version ${SCHEMA_VERSION + 2}, written by a newer halfwatt; this one reads up to version ${SCHEMA_VERSION}`,
      ),
    );
  });
});

describe("resume bookkeeping", () => {
  it("counts completed runs, marks crashed ones interrupted, and re-runs them as new rows", () => {
    const rng = makeRng(seed + 2);
    const path = freshPath();
    const spec = makeSpec(rng);
    const plan = makePlan(spec, rng);
    const config = (i: number) => {
      const c = spec.configurations.find((x) => x.id === plan[i].configId);
      if (!c) throw new Error("fixture");
      return c;
    };
    const env = makeEnv(rng);

    const first = openStore(path);
    const suite = first.openSuite(spec, plan);
    const r0 = first.startRun(suite.id, plan[0], config(0), env, null);
    first.finishRun(r0, makeFinish(rng));
    const r1 = first.startRun(suite.id, plan[1], config(1), env, null); // left running: the "crash"
    first.addEpoch(r1, makeEpoch(rng, 1));
    const r2 = first.startRun(suite.id, plan[2], config(2), env, null);
    first.failRun(r2, "interrupted", "stopped by the user (SIGINT)");
    first.close();

    const second = openStore(path);
    try {
      const resumed = second.openSuite({ ...spec, origin: "another/path.yaml" }, plan);
      expect(resumed.id).toBe(suite.id);
      expect(resumed.spec.origin).toBe("test");
      expect(second.completedIndices(suite.id)).toStrictEqual(new Set([0]));
      expect(second.recoverInterrupted(suite.id)).toBe(1);
      expect(second.recoverInterrupted(suite.id)).toBe(0);
      const afterRecovery = second.results(suite.id).runs;
      expect(afterRecovery.map((r) => [r.id, r.index, r.status])).toStrictEqual([
        [r0, 0, "completed"],
        [r1, 1, "interrupted"],
        [r2, 2, "interrupted"],
      ]);
      expect(afterRecovery[1].error).toMatch(/stopped before it ended/);
      expect(afterRecovery[1].epochs).toHaveLength(1);
      expect(afterRecovery[2].error).toBe("stopped by the user (SIGINT)");

      // Plan index 1 again: a new row; the interrupted one stays for the record.
      const r1b = second.startRun(suite.id, plan[1], config(1), env, null);
      expect(r1b).not.toBe(r1);
      second.finishRun(r1b, makeFinish(rng));
      expect(second.completedIndices(suite.id)).toStrictEqual(new Set([0, 1]));
      const runs = second.results(suite.id).runs;
      expect(runs.map((r) => [r.id, r.index, r.status])).toStrictEqual([
        [r0, 0, "completed"],
        [r1, 1, "interrupted"],
        [r2, 2, "interrupted"],
        [r1b, 1, "completed"],
      ]);
      expect(runs[3].epochs).toStrictEqual([]);

      // Completed runs are final, and only planned runs can start.
      expect(() => second.startRun(suite.id, plan[0], config(0), env, null)).toThrow(
        /run 0 of suite \d+ is already completed/,
      );
      expect(() => second.finishRun(r0, makeFinish(rng))).toThrow(/is completed, not running/);
      expect(() => second.failRun(r0, "failed", "x")).toThrow(/is completed, not running/);
      expect(() => second.addEpoch(r1, makeEpoch(rng, 2))).toThrow(/is interrupted, not running/);
      expect(() => second.addSamples(r1, makeSamples(rng, 3))).toThrow(/is interrupted, not running/);
      expect(() =>
        second.startRun(suite.id, { ...plan[3], seed: plan[3].seed + 1 }, config(3), env, null),
      ).toThrow(/run 3 does not match suite \d+'s plan: seed is \d+, the plan says \d+/);
      expect(() =>
        second.startRun(suite.id, { ...plan[3], index: plan.length }, config(3), env, null),
      ).toThrow(/not in suite/);
      expect(() => second.startRun(suite.id, plan[3], { ...config(3), id: "other" }, env, null)).toThrow(
        /configuration other was given/,
      );
      expect(() => second.completedIndices(999)).toThrow(/has no suite 999/);
      expect(() => second.addEpoch(999, makeEpoch(rng, 1))).toThrow(/has no run 999/);
      expect(second.results(suite.id).runs).toHaveLength(4);
    } finally {
      second.close();
    }
  });
});

describe("spec check on resume", () => {
  const rng = makeRng(seed + 3);
  let path: string;
  let spec: SuiteSpec;
  let plan: ReturnType<typeof makePlan>;

  beforeAll(() => {
    path = freshPath();
    spec = { ...makeSpec(rng, "my-study"), replicates: 5 };
    plan = makePlan(spec, rng);
    const store = openStore(path);
    store.openSuite(spec, plan);
    store.close();
  });

  const attempt = (other: SuiteSpec, otherPlan = plan) => {
    const store = openStore(path);
    try {
      store.openSuite(other, otherPlan);
      return null;
    } catch (e) {
      return e as StoreError;
    } finally {
      store.close();
    }
  };

  it("names the first difference with both values", () => {
    const e = attempt({ ...spec, replicates: 3 });
    expect(e).toBeInstanceOf(StoreError);
    expect(e?.code).toBe("E_INPUT");
    expect(e?.message).toBe(
      'the store\'s suite "my-study" was run with replicates 5, this spec says 3: use another --out or the same spec',
    );
  });

  it("finds differences deep inside, in a missing field and in an added configuration", () => {
    const configs = structuredClone(spec.configurations);
    configs[1].neurons = [...configs[1].neurons, 5];
    expect(attempt({ ...spec, configurations: configs })?.message).toMatch(
      /^the store's suite "my-study" was run with configurations\[1\]\.neurons\[2\] \(not set\), this spec says 5: /,
    );
    const { imageSize: _i, ...noSize } = spec;
    expect(attempt(noSize as SuiteSpec)?.message).toMatch(
      /was run with imageSize 8, this spec says \(not set\)/,
    );
    expect(
      attempt({ ...spec, carbon: { ...spec.carbon, source: { kind: "constant", intensity: 268 } } })?.message,
    ).toMatch(/was run with carbon\.source\.kind "zone", this spec says "constant"/);
    expect(
      attempt({ ...spec, configurations: [...spec.configurations, { ...spec.configurations[0], id: "x" }] })
        ?.message,
    ).toMatch(/configurations\[3\] \(not set\), this spec says \{"id":"x"/);
  });

  it("accepts the same spec from another origin or with its keys in another order, and refuses another plan", () => {
    const reordered = Object.fromEntries(
      Object.entries({ ...spec, origin: "quick" }).reverse(),
    ) as unknown as SuiteSpec;
    expect(attempt(reordered)).toBeNull();
    const otherPlan = plan.map((r, i) => (i === 4 ? { ...r, seed: r.seed + 1 } : r));
    expect(attempt(spec, otherPlan)?.message).toMatch(
      /same spec but another run plan \(plan\[4\]\.seed \d+ there, \d+ here/,
    );
    const store = openStore(path);
    try {
      expect(store.suites()).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Other processes.

const CHILD = join(import.meta.dirname, "fixtures", "store-child.ts");
const HOOKS = join(import.meta.dirname, "fixtures", "store-ts-hooks.mjs");

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves when a line matching `re` has been printed (rejects if the child exits first). */
  until(re: RegExp, ms?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function child(...args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", HOOKS, CHILD, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  const waiters: (() => void)[] = [];
  let buf = "";
  proc.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.on("exit", (code, signal) => {
      res({ code, signal });
      for (const w of waiters.splice(0)) w();
    });
  });
  const until = (re: RegExp, ms = 30_000) =>
    new Promise<string>((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`child printed no ${re} in ${ms} ms: ${lines.join(" | ")} ${stderr}`)),
        ms,
      );
      const check = () => {
        const hit = lines.find((l) => re.test(l));
        if (hit) {
          clearTimeout(timer);
          res(hit);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          rej(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) before ${re}: ${stderr}`));
        } else waiters.push(check);
      };
      check();
    });
  return { proc, lines, until, exited };
}

async function stop(c: Child) {
  if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  await c.exited;
}

describe("two processes on one store", () => {
  it("fails at once, or after the wait, naming the store and the other process", async () => {
    const path = freshPath();
    const holder = child("hold", path, "60000", "0");
    try {
      await holder.until(/^ready$/);
      // The lock row names the holder, down to its start time (so a reused pid is not taken for it).
      const raw = new Database(path, { readonly: true });
      const row = raw.prepare("SELECT pid, host, proc_start FROM lock").get();
      raw.close();
      const stat = readFileSync(`/proc/${holder.proc.pid}/stat`, "utf8");
      expect(row).toStrictEqual({
        pid: holder.proc.pid,
        host: hostname(),
        proc_start: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19],
      });
      let t0 = Date.now();
      let error: unknown = null;
      try {
        openStore(path).close();
      } catch (e) {
        error = e;
      }
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe("E_RUNTIME");
      expect((error as Error).message).toMatch(
        new RegExp(
          `^the results store ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by halfwatt pid ${holder.proc.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: wait for it to finish, or use another --out$`,
        ),
      );
      t0 = Date.now();
      expect(() => openStore(path, { wait: true, timeoutMs: 600 })).toThrow(
        /in use by halfwatt pid \d+ .* \(waited 0\.\d s\)/,
      );
      expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
      // Reading does not need the lock.
      const reader = openStore(path, { readonly: true });
      expect(reader.suites()).toStrictEqual([]);
      expect(() => reader.setIdleTemp(1, 30)).toThrow(/opened read-only/);
      reader.close();
    } finally {
      await stop(holder);
    }
  });

  it("waits until the other process closes the store (while it still runs)", async () => {
    const path = freshPath();
    const holder = child("hold", path, "1500", "20000");
    try {
      await holder.until(/^ready$/);
      const t0 = Date.now();
      const store = openStore(path, { wait: true, timeoutMs: 30_000 });
      const waited = Date.now() - t0;
      try {
        expect(waited).toBeGreaterThan(500);
        // The holder is alive: close(), not its death, released the store.
        expect(holder.proc.exitCode).toBeNull();
        expect(holder.proc.signalCode).toBeNull();
        const rng = makeRng(seed + 4);
        const spec = makeSpec(rng);
        expect(store.openSuite(spec, makePlan(spec, rng)).id).toBe(1);
      } finally {
        store.close();
      }
    } finally {
      await stop(holder);
    }
  });

  it("waiting, takes the store over when the other process dies without closing it", async () => {
    const path = freshPath();
    const holder = child("die", path, "1200");
    try {
      await holder.until(/^ready$/);
      const t0 = Date.now();
      const store = openStore(path, { wait: true, timeoutMs: 30_000 });
      store.close();
      expect(Date.now() - t0).toBeGreaterThan(300);
      expect((await holder.exited).signal).toBe("SIGKILL");
    } finally {
      await stop(holder);
    }
  });

  it("refuses a second handle in the same process, and frees the store on close", () => {
    const path = freshPath();
    const a = openStore(path);
    expect(() => openStore(path)).toThrow(new RegExp(`in use by halfwatt pid ${process.pid} on host`));
    a.close();
    a.close(); // twice is harmless
    expect(() => a.suites()).toThrow(/is closed/);
    openStore(path).close();
  });

  it("takes over the lock of a process that no longer exists or whose pid was reused, not that of another host", () => {
    const path = freshPath();
    openStore(path).close();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const db = new Database(path);
    const setLock = (pid: number, host: string, procStart: string | null = null) =>
      db
        .prepare(
          "INSERT OR REPLACE INTO lock (id, pid, host, proc_start, token, started_at) VALUES (1, ?, ?, ?, 't', '2026-01-01T00:00:00.000Z')",
        )
        .run(pid, host, procStart);
    // Field 22 of /proc/PID/stat: the process's start time (proc(5)).
    const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const parentStart = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    try {
      setLock(dead, hostname());
      openStore(path).close();
      setLock(dead, `not-${hostname()}`);
      expect(() => openStore(path)).toThrow(
        new RegExp(
          `in use by halfwatt pid ${dead} on host not-${hostname()} since 2026-01-01T00:00:00.000Z: .*another host: if that process no longer runs, remove its lock with: sqlite3 `,
        ),
      );
      setLock(process.ppid, hostname()); // alive
      expect(() => openStore(path)).toThrow(new RegExp(`in use by halfwatt pid ${process.ppid} `));
      setLock(process.ppid, hostname(), parentStart); // alive, and the very process that wrote the row
      expect(() => openStore(path)).toThrow(new RegExp(`in use by halfwatt pid ${process.ppid} `));
      setLock(process.ppid, hostname(), `${Number(parentStart) + 1}`); // the pid now belongs to another process
      openStore(path).close();
    } finally {
      db.close();
    }
  });

  it("stays intact when a writer is killed mid-write; the run is then marked interrupted", async () => {
    const path = freshPath();
    const BATCH = 50_000;
    const writer = child("write", path, String(BATCH), String(seed));
    let batches: number;
    try {
      await writer.until(/^batch 3$/, 60_000);
      // Into the next batch's transaction (one batch takes ~150 ms here).
      await new Promise((r) => setTimeout(r, 20 + 30 * makeRng(seed)()));
    } finally {
      writer.proc.kill("SIGKILL");
      const { signal } = await writer.exited;
      expect(signal).toBe("SIGKILL");
      batches = Math.max(
        ...writer.lines.filter((l) => l.startsWith("batch ")).map((l) => Number(l.slice(6))),
      );
    }
    const raw = new Database(path);
    try {
      expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(raw.pragma("foreign_key_check")).toStrictEqual([]);
      // Whole batches only: a batch is one transaction; the one being written may or may not have landed.
      const count = raw.prepare("SELECT count(*) FROM samples").pluck().get() as number;
      expect(count % BATCH).toBe(0);
      expect(count / BATCH).toBeGreaterThanOrEqual(batches);
      expect(count / BATCH).toBeLessThanOrEqual(batches + 1);
    } finally {
      raw.close();
    }
    const store = openStore(path); // the dead writer's lock is taken over
    try {
      const [suite] = store.suites();
      expect(store.recoverInterrupted(suite.id)).toBe(1);
      const [run] = store.results(suite.id).runs;
      expect(run.status).toBe("interrupted");
      expect(run.epochs).toHaveLength(1);
      expect(run.gpuTempC).toBe(41.5);
      expect(store.completedIndices(suite.id).size).toBe(0);
      // ...and the suite goes on: the same plan entry again, as a new run.
      const { suite: record } = store.results(suite.id);
      const config = record.spec.configurations.find((c) => c.id === record.plan[0].configId);
      if (!config) throw new Error("fixture");
      const again = store.startRun(suite.id, record.plan[0], config, run.env ?? makeEnv(makeRng(seed)), null);
      store.finishRun(again, makeFinish(makeRng(seed)));
      expect(store.completedIndices(suite.id)).toStrictEqual(new Set([0]));
      expect(store.results(suite.id).runs.map((r) => [r.index, r.status])).toStrictEqual([
        [0, "interrupted"],
        [0, "completed"],
      ]);
    } finally {
      store.close();
    }
  }, 120_000);
});

describe("bad files", () => {
  it("refuses a file that is not SQLite, an SQLite file of something else, and a newer store", () => {
    const text = join(dir, "notes.txt");
    writeFileSync(
      text,
      "this is not a database, just some text that is long enough to have a header page".repeat(20),
    );
    expect(() => openStore(text)).toThrow(
      new RegExp(`cannot open the results store ${text.replace(/\./g, "\\.")}: file is not a database`),
    );
    const other = join(dir, "other.db");
    const db = new Database(other);
    db.exec("CREATE TABLE photos (id INTEGER)");
    db.close();
    expect(() => openStore(other)).toThrow(
      /other\.db is an SQLite database but not a halfwatt results store/,
    );
    const newer = freshPath();
    openStore(newer).close();
    const n2 = new Database(newer);
    n2.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, 'x')").run(SCHEMA_VERSION + 1);
    n2.close();
    expect(() => openStore(newer)).toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1}, written by a newer halfwatt`),
    );
    expect(() => openStore(join(dir, "absent.db"), { readonly: true })).toThrow(
      /cannot open the results store .*absent\.db/,
    );
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    expect(() => openStore(empty, { readonly: true })).toThrow(
      /empty\.db is empty, not a halfwatt results store/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// A store in a folder the reader cannot write (an archive, a read-only share, another user's
// results): report, export and merge's inputs open it read-only and must not write beside it.
// Root ignores a folder's mode bits, so as root the reader runs as `nobody` (setpriv); the test
// first checks that this reader really cannot write there.

const READER = join(import.meta.dirname, "fixtures", "read-only-child.ts");
const asRoot = process.getuid?.() === 0;
const setpriv = spawnSync("setpriv", ["--version"]).status === 0;

function reader(...args: string[]): string {
  const node = [process.execPath, "--import", HOOKS, READER, ...args];
  const cmd = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...node] : node;
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`reader exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

describe.skipIf(asRoot && !setpriv)("a store in a read-only folder", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "halfwatt-ro-"));
    chmodSync(root, 0o755);
  });
  afterAll(() => {
    for (const d of readdirSync(root)) chmodSync(join(root, d), 0o755);
    rmSync(root, { recursive: true, force: true });
  });

  /** A folder holding a closed store of one suite (`runs` completed runs), then made read-only. */
  function archive(name: string, runs: number) {
    const rng = makeRng(seed + runs);
    const folder = join(root, name);
    mkdirSync(folder);
    const path = join(folder, "results.sqlite");
    const spec = makeSpec(rng);
    const plan = makePlan(spec, rng);
    const store = openStore(path);
    const suite = store.openSuite(spec, plan);
    const sampleCounts: number[] = [];
    for (const run of plan.slice(0, runs)) {
      const config = spec.configurations.find((c) => c.id === run.configId);
      if (!config) throw new Error("no configuration");
      const id = store.startRun(suite.id, run, config, makeEnv(rng), null);
      store.addEpoch(id, makeEpoch(rng, 1));
      const samples = makeSamples(rng, 3 + sampleCounts.length);
      store.addSamples(id, samples);
      sampleCounts.push(samples.length);
      store.finishRun(id, makeFinish(rng));
    }
    store.close();
    return { folder, path, spec, plan, sampleCounts };
  }

  const lockDown = (folder: string, path: string) => {
    chmodSync(path, 0o444);
    chmodSync(folder, 0o555);
  };
  /** The reader's JSON, or its error line as a failure. */
  const parsed = (out: string) => {
    if (out.startsWith("error ")) throw new Error(`the reader failed: ${out}`);
    return JSON.parse(out);
  };
  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

  it("opens it read-only and reads every run, writing nothing beside it", () => {
    const { folder, path, spec, plan, sampleCounts } = archive("closed", 3);
    lockDown(folder, path);
    expect(readdirSync(folder)).toStrictEqual(["results.sqlite"]);
    // The premise: this reader cannot write there (else the test proves nothing).
    expect(reader("can-write", folder)).toMatch(/^read-only EACCES$/);
    const before = sha(path);
    const read = parsed(reader("read", path));
    expect(read).toStrictEqual({
      suites: [spec.name],
      runs: plan.slice(0, 3).map((r) => ({ index: r.index, status: "completed", epochs: 1 })),
      samples: sampleCounts,
    });
    const out = join(root, "csv");
    mkdirSync(out);
    chmodSync(out, 0o777);
    const exported = parsed(reader("export", path, out)) as { table: string; rows: number }[];
    expect(Object.fromEntries(exported.map((t) => [t.table, t.rows]))).toMatchObject({
      suites: 1,
      runs: 3,
      epochs: 3,
      samples: sampleCounts.reduce((x, y) => x + y, 0),
    });
    const merged = parsed(reader("merge", path, join(out, "merged.sqlite"))) as Record<string, number>;
    expect(merged).toMatchObject({ suites: 1, runs: 3, epochs: 3 });
    expect(readdirSync(folder)).toStrictEqual(["results.sqlite"]);
    expect(sha(path)).toBe(before);
  });

  it("says plainly when commits sit in a write-ahead log it cannot read there", () => {
    const { path } = archive("with-wal", 1);
    // A store copied while its writer was still open: the file and a non-empty -wal, no -shm.
    const writer = openStore(path);
    const extra = makeSpec(makeRng(seed + 99), "written-last");
    writer.openSuite(extra, makePlan(extra, makeRng(seed + 99)));
    const copy = join(root, "copied");
    mkdirSync(copy);
    cpSync(path, join(copy, "results.sqlite"));
    cpSync(`${path}-wal`, join(copy, "results.sqlite-wal"));
    writer.close();
    expect(statSync(join(copy, "results.sqlite-wal")).size).toBeGreaterThan(0);
    lockDown(copy, join(copy, "results.sqlite"));
    chmodSync(join(copy, "results.sqlite-wal"), 0o444);
    expect(reader("read", join(copy, "results.sqlite"))).toMatch(
      /^error E_INPUT cannot read the results store .*copied\/results\.sqlite: its folder is read-only and its write-ahead log .*results\.sqlite-wal holds commits not yet in the store file/,
    );
  });
});

describe("a store that needs a migration, opened read-only", () => {
  it("is refused, saying that a read-only open does not migrate, and left as it was", () => {
    const path = freshPath();
    const db = new Database(path);
    migrate(db, path, MIGRATIONS.slice(0, 2));
    db.close();
    expect(() => openStore(path, { readonly: true })).toThrow(
      new RegExp(
        `has schema version 2, this halfwatt reads ${SCHEMA_VERSION}: it needs a migration, which a read-only open \\(report, export, merge's inputs\\) never writes`,
      ),
    );
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT max(version) FROM schema_version").pluck().get()).toBe(2);
    raw.close();
  });
});

describe("store.ts, the facade", () => {
  it("exports the names the store had before its split into modules (and openReadOnlyDatabase)", async () => {
    const facade = await import("../../src/experiment/store.js");
    // Read off the single-file store.ts of commit 3062afa: its runtime exports, types aside.
    expect(Object.keys(facade).sort()).toStrictEqual(
      [
        "SHARED_PROVENANCE",
        "StoreError",
        "firstDifference",
        "migrate",
        "openReadOnlyDatabase",
        "openStore",
        "schemaVersion",
      ].sort(),
    );
    expect(facade.SHARED_PROVENANCE).toBe("estimated, shared");
  });
});
