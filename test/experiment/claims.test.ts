// The store's side of suite --devices: workers join the parent's lock (an unrelated writer is still
// refused), claim whole blocks — each exactly once under contention from several processes — in
// the preferred order, a new session (a resume) claims unfinished blocks again, and a dead worker's
// running run is marked. No GPU here: the worker processes only claim.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { Dataset } from "../../src/data/index.js";
import { gpuKey, nextBlock } from "../../src/experiment/blocks.js";
import { planRuns } from "../../src/experiment/plan.js";
import { runSuite } from "../../src/experiment/runner.js";
import { openStore } from "../../src/experiment/store.js";
import type { PlannedRun, RunEnvironment, SuiteSpec } from "../../src/experiment/types.js";
import type { GpuContext } from "../../src/gpu/device.js";
import { makeRng, runSeed } from "../helpers/rng.js";
import { makeSpec } from "./fixtures/store-data.js";

const seed = runSeed();
console.log(`claims.test: seed ${seed} (replay: HALFWATT_SEED=${seed})`);
const rng = makeRng(seed);
const dir = mkdtempSync(join(tmpdir(), "halfwatt-claims-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `store-${++n}.db`);
const CHILD = join(import.meta.dirname, "fixtures", "claim-child.ts");
const HOOKS = join(import.meta.dirname, "fixtures", "store-ts-hooks.mjs");

const specWith = (replicates: number): SuiteSpec => ({ ...makeSpec(rng), replicates });
const env = (worker: number, gpu: number): RunEnvironment => ({
  adapter: "a",
  driver: null,
  hostname: hostname(),
  versions: {},
  gpu: { index: gpu, pciBusId: null, uuid: null, name: null },
  worker,
});
const configOf = (spec: SuiteSpec, run: PlannedRun) => {
  const c = spec.configurations.find((x) => x.id === run.configId);
  if (!c) throw new Error("no configuration");
  return c;
};
/** Completes a run of the plan in the store (the fields that matter here: status, env). */
function complete(
  store: ReturnType<typeof openStore>,
  suiteId: number,
  spec: SuiteSpec,
  run: PlannedRun,
  e: RunEnvironment,
) {
  const id = store.startRun(suiteId, run, configOf(spec, run), e, null);
  store.finishRun(id, {
    seconds: 1,
    test: null,
    lossScale: null,
    kernels: [],
    phases: [],
    energy: [],
    carbon: { intensity: 1, pue: 1, source: "x" },
  });
  return id;
}

describe("workers on one store", () => {
  it("join the parent's lock; an unrelated writer and a wrong token are refused; a worker's close leaves the lock", () => {
    const path = freshPath();
    const parent = openStore(path);
    try {
      const token = parent.lockToken;
      expect(token).toMatch(/^[0-9a-f-]{36}$/);
      expect(() => openStore(path)).toThrow(/in use by halfwatt pid \d+/);
      expect(() => openStore(path, { join: "not-the-token" })).toThrow(
        /not held by the suite this worker belongs to/,
      );
      const worker = openStore(path, { join: token as string });
      const spec = specWith(2);
      const plan = planRuns(spec);
      const suite = worker.openSuite(spec, plan);
      worker.close();
      // The parent still holds it: still refused to others, and the parent still writes.
      expect(() => openStore(path)).toThrow(/in use/);
      parent.addSuiteNote(suite.id, "still writable");
    } finally {
      parent.close();
    }
    // Released by its owner: a worker can no longer join a lock no one holds.
    expect(() => openStore(path, { join: "x" })).toThrow(/its lock is free/);
    openStore(path).close();
  });

  it("under contention from 4 processes, every block is claimed exactly once", async () => {
    const path = freshPath();
    const parent = openStore(path);
    const spec = specWith(60);
    const plan = planRuns(spec);
    const suite = parent.openSuite(spec, plan);
    const go = join(dir, `go-${n}`);
    const session = "session-1";
    try {
      const children = [0, 1, 2, 3].map((w) => {
        const proc = spawn(
          process.execPath,
          [
            "--import",
            HOOKS,
            CHILD,
            path,
            parent.lockToken as string,
            session,
            String(w),
            String(suite.id),
            go,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        let out = "";
        let err = "";
        proc.stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        proc.stderr.on("data", (d: Buffer) => {
          err += d.toString();
        });
        const ready = new Promise<void>((res) => {
          const check = () => (out.includes("ready") ? res() : setTimeout(check, 10));
          check();
        });
        const exited = new Promise<{ code: number | null; out: string; err: string }>((res) =>
          proc.on("exit", (code) => res({ code, out, err })),
        );
        return { ready, exited };
      });
      await Promise.all(children.map((c) => c.ready));
      writeFileSync(go, "");
      const results = await Promise.all(children.map((c) => c.exited));
      const claimed: number[] = [];
      results.forEach((r, w) => {
        expect(r.code, r.err).toBe(0);
        const mine = [...r.out.matchAll(/claim (\d+)/g)].map((m) => Number(m[1]));
        claimed.push(...mine);
        // The store agrees on who holds each.
        for (const b of mine)
          expect(parent.claims(suite.id, session).find((c) => c.block === b)?.worker).toBe(w);
      });
      expect(claimed.slice().sort((a, b) => a - b)).toEqual([...Array(60).keys()]);
      // More than one process took part (they started together on a 60-block plan).
      expect(results.filter((r) => /claim/.test(r.out)).length).toBeGreaterThan(1);
    } finally {
      parent.close();
    }
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    raw.close();
  });

  it("prefers a block part-done on this GPU, then untouched ones, then the rest; a new session claims unfinished blocks again", () => {
    const path = freshPath();
    const store = openStore(path);
    try {
      const spec = specWith(4);
      const plan = planRuns(spec);
      const suite = store.openSuite(spec, plan);
      const ofBlock = (b: number) => plan.filter((r) => r.block === b);
      // Block 0 complete; block 1 part-done on GPU 1; block 3 part-done on GPU 0; block 2 untouched.
      for (const r of ofBlock(0)) complete(store, suite.id, spec, r, env(0, 0));
      complete(store, suite.id, spec, ofBlock(1)[0], env(1, 1));
      complete(store, suite.id, spec, ofBlock(3)[0], env(0, 0));
      expect(store.claimBlock(suite.id, "s1", 0, "0")).toBe(3); // its own GPU's partial block first
      expect(store.claimBlock(suite.id, "s1", 0, "0")).toBe(2); // then untouched
      expect(store.claimBlock(suite.id, "s1", 0, "0")).toBe(1); // then another GPU's partial block
      expect(store.claimBlock(suite.id, "s1", 1, "1")).toBeNull(); // block 0 is complete: nothing left
      // A new session (a resume): every block with runs left is claimable again; block 1 goes back to GPU 1.
      expect(store.claimBlock(suite.id, "s2", 1, "1")).toBe(1);
      expect(store.claims(suite.id, "s2")).toEqual([{ block: 1, worker: 1, gpu: "1" }]);
    } finally {
      store.close();
    }
  });

  it("a dead worker's running run is marked; the run times give n(t)", () => {
    const path = freshPath();
    const store = openStore(path);
    try {
      const spec = specWith(2);
      const plan = planRuns(spec);
      const suite = store.openSuite(spec, plan);
      const a = store.startRun(suite.id, plan[0], configOf(spec, plan[0]), env(0, 0), null);
      const b = store.startRun(suite.id, plan[1], configOf(spec, plan[1]), env(1, 1), null);
      expect(store.failWorkerRuns(suite.id, 1, "failed", "worker 1 died")).toBe(1);
      const runs = store.results(suite.id).runs;
      expect(runs.find((r) => r.id === b)).toMatchObject({ status: "failed", error: "worker 1 died" });
      expect(runs.find((r) => r.id === a)?.status).toBe("running");
      const times = store.runIntervals(suite.id, hostname());
      expect(times.find((t) => t.id === a)?.endMs).toBe(Number.POSITIVE_INFINITY);
      const tb = times.find((t) => t.id === b);
      expect(tb && tb.endMs >= tb.startMs && Number.isFinite(tb.endMs)).toBe(true);
      expect(store.runIntervals(suite.id, "another-host")).toEqual([]);
      // The environment is rewritten at a run's end (overlapped is known only then).
      store.setRunEnv(a, { ...env(0, 0), overlapped: true });
      expect(store.results(suite.id).runs.find((r) => r.id === a)?.env?.overlapped).toBe(true);
    } finally {
      store.close();
    }
  });

  it("a worker's runner leaves its siblings' running runs alone and only runs blocks it claims", async () => {
    const path = freshPath();
    const store = openStore(path);
    try {
      const spec = specWith(2);
      const plan = planRuns(spec);
      const suite = store.openSuite(spec, plan);
      // A sibling worker is running a run of block 0; block 1 is claimed by it too in this session.
      const sibling = store.startRun(suite.id, plan[0], configOf(spec, plan[0]), env(1, 1), null);
      expect(store.claimBlock(suite.id, "s", 1, "1")).toBe(0);
      expect(store.claimBlock(suite.id, "s", 1, "1")).toBe(1);
      // No block left to claim, so no GPU or dataset is touched: stand-ins suffice.
      const summary = await runSuite(spec, plan, {
        store,
        ctx: { adapterName: "stand-in" } as GpuContext,
        dataset: { close() {} } as Dataset,
        worker: { index: 0, gpu: null, nvmlIndex: null, session: "s", store },
      });
      expect(summary).toMatchObject({ completed: 0, failed: 0, interrupted: 0 });
      expect(store.results(suite.id).runs.find((r) => r.id === sibling)?.status).toBe("running");
    } finally {
      store.close();
    }
  });

  it("writes a shared figure's provenance as 'estimated, shared' and reads it back as an estimate marked shared", () => {
    const path = freshPath();
    const store = openStore(path);
    try {
      const spec = specWith(1);
      const plan = planRuns(spec);
      const suite = store.openSuite(spec, plan);
      const id = store.startRun(suite.id, plan[0], configOf(spec, plan[0]), env(0, 0), null);
      const row = {
        phase: "train",
        component: "cpu" as const,
        channel: null,
        source: "CPU model",
        provenance: "estimated" as const,
        grossJ: 1,
        netJ: 0.5,
        seconds: 1,
        meanPowerW: 1,
      };
      store.finishRun(id, {
        seconds: 1,
        test: null,
        lossScale: null,
        kernels: [],
        phases: [],
        energy: [
          { ...row, shared: true },
          { ...row, component: "dram" },
        ],
        carbon: { intensity: 1, pue: 1, source: "x" },
      });
      const energy = store.results(suite.id).runs[0].energy;
      expect(energy.map((e) => [e.component, e.provenance, e.shared])).toEqual([
        ["cpu", "estimated", true],
        ["dram", "estimated", undefined],
      ]);
    } finally {
      store.close();
    }
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT provenance FROM energy ORDER BY id").pluck().all()).toEqual([
      "estimated, shared",
      "estimated",
    ]);
    raw.close();
  });
});

// The scheduling policy alone (blocks.ts), on a hand-made plan: blocks 0–3 of two runs each
// (plan indices 2b and 2b + 1). Expected blocks are read off the rule, not run through the store.
describe("nextBlock: which block a worker takes next", () => {
  const plan: PlannedRun[] = [0, 1, 2, 3].flatMap((block) =>
    ["a", "b"].map((configId, k) => ({
      index: 2 * block + k,
      block,
      configId,
      replicate: block + 1,
      seed: 1000 + 2 * block + k,
    })),
  );
  const on = (entries: [number, string | null][]) => new Map(entries);

  it("untouched blocks in order; none once every run is completed or every open block claimed", () => {
    expect(nextBlock(plan, on([]), new Set(), "0 x")).toBe(0);
    expect(nextBlock(plan, on([]), new Set([0, 1]), "0 x")).toBe(2);
    expect(nextBlock(plan, on([]), new Set([0, 1, 2, 3]), "0 x")).toBeNull();
    const all = on(plan.map((r) => [r.index, "0 x"]));
    expect(nextBlock(plan, all, new Set(), "0 x")).toBeNull();
  });

  it("a block part-done on this GPU first, then untouched ones, then blocks part-done elsewhere", () => {
    // Block 0 whole (skipped), block 1 half on GPU "1 y", block 3 half on GPU "0 x", block 2 untouched.
    const done = on([
      [0, "0 x"],
      [1, "0 x"],
      [2, "1 y"],
      [6, "0 x"],
    ]);
    expect(nextBlock(plan, done, new Set(), "0 x")).toBe(3);
    expect(nextBlock(plan, done, new Set(), "1 y")).toBe(1);
    expect(nextBlock(plan, done, new Set([1]), "1 y")).toBe(2);
    expect(nextBlock(plan, done, new Set([1, 2]), "1 y")).toBe(3);
    // A worker whose GPU is unknown prefers nothing part-done: the untouched block.
    expect(nextBlock(plan, done, new Set(), null)).toBe(2);
  });

  it("gpuKey names a GPU by index and PCI address", () => {
    expect(gpuKey({ index: 1, pciBusId: "0000:41:00.0", uuid: null, name: null })).toBe("1 0000:41:00.0");
    expect(gpuKey({ index: 2, pciBusId: null, uuid: null, name: null })).toBe("2");
    expect(gpuKey(undefined)).toBeNull();
  });
});
