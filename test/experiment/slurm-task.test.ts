// A Slurm array's work without Slurm, on this adapter (lavapipe in CI): `suite --task N` for each
// block of a tiny suite, as the array's tasks run it, then `merge` and `report` on the merged
// store. scripts/slurm-check.sh does the same through a real single-node Slurm.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { planRuns } from "../../src/experiment/plan.js";
import { parseSuiteSpec } from "../../src/experiment/spec.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-task-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLI = resolve("dist/src/cli/main.js");

const raw = {
  name: "tasks",
  data: "synthetic:classes=3,size=8,train=48,valid=16,test=16,seed=3",
  replicates: 2,
  epochs: 1,
  optimizer: { name: "adam", lr: 0.003 },
  configurations: [
    { precision: "f32", batch: 16, neurons: [8] },
    { precision: "mixed", batch: 16, neurons: [8] },
  ],
  baselineSeconds: 0.1,
  cooldown: { withinCelsius: 3, maxSeconds: 0 },
  carbon: { intensity: 268 },
};

describe.skipIf(!existsSync(CLI))("suite --task, merge, report", () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  const specFile = join(dir, "suite.json");
  writeFileSync(specFile, JSON.stringify(raw));
  const tasks = join(dir, "tasks");
  const cache = join(dir, "cache");
  const plan = planRuns(parseSuiteSpec(raw, "test"));

  it("each task runs its block alone into tasks/task-N.db, holding the whole plan and marked with its block", () => {
    for (const task of [0, 1]) {
      const r = cli(
        ["suite", specFile, "--task", String(task), "--out", tasks, "--cache-dir", cache, "--json"],
        {
          SLURM_ARRAY_JOB_ID: "900",
          SLURM_ARRAY_TASK_ID: String(task),
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({ store: join(tasks, `task-${task}.db`), task, completed: 2, failed: 0 });
      // No report for a task.
      expect(existsSync(join(tasks, "report.html"))).toBe(false);
      const db = new Database(join(tasks, `task-${task}.db`), { readonly: true });
      const runs = db.prepare("SELECT plan_index, block, status, env FROM runs ORDER BY id").all() as {
        plan_index: number;
        block: number;
        status: string;
        env: string;
      }[];
      // This block's runs, in the plan's order for the block.
      expect(runs.map((x) => x.plan_index)).toStrictEqual(
        plan.filter((p) => p.block === task).map((p) => p.index),
      );
      expect(runs.every((x) => x.status === "completed")).toBe(true);
      expect(runs.every((x) => JSON.parse(x.env).hostname === hostname())).toBe(true);
      expect(JSON.parse(db.prepare("SELECT plan FROM suites").pluck().get() as string)).toStrictEqual(plan);
      expect(db.prepare("SELECT block, slurm_job FROM task_blocks").all()).toStrictEqual([
        { block: task, slurm_job: `900_${task}` },
      ]);
      db.close();
    }
    // A resubmitted task whose block is complete redoes nothing.
    const again = cli(["suite", specFile, "--task", "1", "--out", tasks, "--cache-dir", cache, "--json"]);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ completed: 0, skipped: 2 });
  });

  it("merge then report: every run completed, the report written", () => {
    const merged = join(dir, "suite.db");
    const m = cli(["merge", join(tasks, "task-0.db"), join(tasks, "task-1.db"), "--out", merged, "--json"]);
    expect(m.status, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ incomplete: [], duplicates: [], rows: { runs: 4 } });
    const r = cli(["report", merged, "--out", join(dir, "report"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, "report", "report.html"))).toBe(true);
    const db = new Database(merged, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM runs WHERE status = 'completed'").pluck().get()).toBe(4);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });
});
