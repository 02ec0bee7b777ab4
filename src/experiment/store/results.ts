// The results proper: suites, their runs, and each run's epochs, samples, phases and energy, as
// the runner writes them (ResultStore) and the report reads them (results()). Every write is its
// own committed transaction (a batch of samples, an epoch, a run's end), so a crash or SIGKILL
// loses at most the run in progress, which recoverInterrupted() then marks `interrupted`.
import type { EpochResult } from "../../model/trainer.js";
import type {
  FinishedRun,
  PlannedRun,
  RunConfiguration,
  RunEnvironment,
  RunMeasurement,
  SampleRecord,
  SuiteRecord,
  SuiteResults,
  SuiteSpec,
} from "../types.js";
import type { StoreConnection } from "./connection.js";
import { firstDifference, show, specJson, withoutOrigin } from "./difference.js";
import { StoreError } from "./errors.js";
import {
  ENERGY_COLUMNS,
  EPOCH_COLUMNS,
  energyValues,
  epochValues,
  insertSql,
  json,
  now,
  num,
  type Row,
  runRecord,
  splitValues,
  suiteRecord,
} from "./rows.js";

export function openSuite(c: StoreConnection, spec: SuiteSpec, plan: PlannedRun[]): SuiteRecord {
  return c.guard(`opening suite "${spec.name}"`, true, () =>
    c.tx(() => {
      const given = specJson(spec);
      const planJson = JSON.parse(JSON.stringify(plan)) as PlannedRun[];
      const existing = c.db.prepare("SELECT * FROM suites WHERE name = ?").get(spec.name) as Row | undefined;
      if (existing) {
        const record = suiteRecord(existing);
        const d = firstDifference(withoutOrigin(json(existing.spec)), withoutOrigin(given));
        if (d)
          throw new StoreError(
            "E_INPUT",
            `the store's suite "${spec.name}" was run with ${d.path} ${show(d.stored)}, this spec says ${show(d.given)}: use another --out or the same spec`,
          );
        const p = firstDifference(record.plan, planJson, "plan");
        if (p)
          throw new StoreError(
            "E_INPUT",
            `the store's suite "${spec.name}" has the same spec but another run plan (${p.path} ${show(p.stored)} there, ${show(p.given)} here; a different halfwatt version?): use another --out`,
          );
        c.plans.set(record.id, record.plan);
        return record;
      }
      const info = c.db
        .prepare(
          "INSERT INTO suites (name, spec, plan, notes, idle_temp_c, created_at) VALUES (?, ?, ?, '[]', NULL, ?)",
        )
        .run(spec.name, JSON.stringify(given), JSON.stringify(planJson), now());
      const id = Number(info.lastInsertRowid);
      c.plans.set(id, planJson);
      return suiteRecord(c.suiteRow(id));
    }),
  );
}

export function completedIndices(c: StoreConnection, suiteId: number): Set<number> {
  return c.guard("reading completed runs", false, () => {
    c.suiteRow(suiteId);
    const rows = c.db
      .prepare("SELECT DISTINCT plan_index FROM runs WHERE suite_id = ? AND status = 'completed'")
      .pluck()
      .all(suiteId) as number[];
    return new Set(rows);
  });
}

export function recoverInterrupted(c: StoreConnection, suiteId: number): number {
  return c.guard("recovering interrupted runs", true, () => {
    c.suiteRow(suiteId);
    return c.db
      .prepare(
        "UPDATE runs SET status = 'interrupted', error = coalesce(error, ?) WHERE suite_id = ? AND status = 'running'",
      )
      .run("the process writing this run stopped before it ended (crash or kill)", suiteId).changes;
  });
}

export function startRun(
  c: StoreConnection,
  suiteId: number,
  run: PlannedRun,
  config: RunConfiguration,
  env: RunEnvironment,
  gpuTempC: number | null,
): number {
  return c.guard(`starting run ${run.index}`, true, () =>
    c.tx(() => {
      const suite = c.suiteRow(suiteId);
      const plan = c.plans.get(suiteId) ?? json<PlannedRun[]>(suite.plan);
      const planned = plan[run.index];
      const d = planned ? firstDifference(planned, JSON.parse(JSON.stringify(run))) : null;
      if (!planned || d)
        throw new StoreError(
          "E_INPUT",
          planned
            ? `run ${run.index} does not match suite ${suiteId}'s plan: ${d?.path} is ${show(d?.given)}, the plan says ${show(d?.stored)}`
            : `run index ${run.index} is not in suite ${suiteId}'s plan of ${plan.length} runs`,
        );
      if (config.id !== run.configId)
        throw new StoreError(
          "E_INPUT",
          `run ${run.index} is of configuration ${run.configId}, but configuration ${config.id} was given`,
        );
      const done = c.db
        .prepare("SELECT id FROM runs WHERE suite_id = ? AND plan_index = ? AND status = 'completed'")
        .pluck()
        .get(suiteId, run.index);
      if (done !== undefined)
        throw new StoreError(
          "E_INPUT",
          `run ${run.index} of suite ${suiteId} is already completed (run id ${done})`,
        );
      const info = c.db
        .prepare(
          `INSERT INTO runs (suite_id, plan_index, block, replicate, config_id, config, seed, status, env, started_at, gpu_temp_c)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)`,
        )
        .run(
          suiteId,
          run.index,
          run.block,
          run.replicate,
          run.configId,
          JSON.stringify(config),
          run.seed,
          JSON.stringify(env),
          now(),
          gpuTempC,
        );
      return Number(info.lastInsertRowid);
    }),
  );
}

export function addEpoch(c: StoreConnection, runId: number, e: EpochResult): void {
  c.guard(`adding epoch ${e.epoch} to run ${runId}`, true, () =>
    c.tx(() => {
      c.requireRunning(runId, `adding epoch ${e.epoch}`);
      c.db.prepare(insertSql("epochs", EPOCH_COLUMNS)).run(...epochValues(runId, e));
    }),
  );
}

export function addSamples(c: StoreConnection, runId: number, samples: readonly SampleRecord[]): void {
  if (!samples.length) return;
  c.guard(`adding ${samples.length} samples to run ${runId}`, true, () => {
    const insert = c.db.prepare(
      "INSERT INTO samples (run_id, t, channel, power_w, energy_j) VALUES (?, ?, ?, ?, ?)",
    );
    // One transaction per batch: thousands of rows cost one commit, and a kill keeps the batch whole or not at all.
    c.tx(() => {
      c.requireRunning(runId, "adding samples");
      for (const s of samples) insert.run(runId, s.t, s.channel, s.powerW ?? null, s.energyJ ?? null);
    });
  });
}

export function finishRun(c: StoreConnection, runId: number, r: FinishedRun): void {
  c.guard(`finishing run ${runId}`, true, () => {
    c.tx(() => {
      c.requireRunning(runId, "finishing the run");
      c.db
        .prepare(
          `UPDATE runs SET status = 'completed', ended_at = ?, seconds = ?, test_loss = ?, test_accuracy = ?, test_top5 = ?,
             test_samples = ?, test_non_finite_rows = ?, loss_scale = ?, kernels = ?, carbon_intensity = ?, carbon_pue = ?,
             carbon_source = ? WHERE id = ?`,
        )
        .run(
          now(),
          r.seconds,
          ...splitValues(r.test),
          r.lossScale ? JSON.stringify(r.lossScale) : null,
          JSON.stringify(r.kernels),
          r.carbon?.intensity ?? null,
          r.carbon?.pue ?? null,
          r.carbon?.source ?? null,
          runId,
        );
      const phase = c.db.prepare("INSERT INTO phases (run_id, name, start_ms, end_ms) VALUES (?, ?, ?, ?)");
      for (const p of r.phases) phase.run(runId, p.name, p.startMs, p.endMs);
      const energy = c.db.prepare(insertSql("energy", ENERGY_COLUMNS));
      for (const e of r.energy) energy.run(...energyValues(runId, e));
      // Divergence (issue 17, migration "runs.diverged"): the rule's reason, NULL for a run that trained.
      if (r.diverged !== undefined)
        c.db.prepare("UPDATE runs SET diverged = ? WHERE id = ?").run(r.diverged, runId);
    });
    // A checkpoint syncs the WAL (synchronous = NORMAL syncs only there): the completed run survives a power cut.
    // Best effort: the run is already committed, and a failed checkpoint only defers the sync.
    try {
      c.db.pragma("wal_checkpoint(PASSIVE)");
    } catch {}
  });
}

export function failRun(
  c: StoreConnection,
  runId: number,
  status: "interrupted" | "failed",
  error: string,
): void {
  c.guard(`marking run ${runId} ${status}`, true, () =>
    c.tx(() => {
      c.requireRunning(runId, `marking it ${status}`);
      c.db
        .prepare("UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?")
        .run(status, error, now(), runId);
    }),
  );
}

/** What measureRun did to keep a run's phases clean (migration 6): its baseline watts and checks. */
export function setRunMeasurement(c: StoreConnection, runId: number, m: RunMeasurement): void {
  c.guard(`recording run ${runId}'s measurement`, true, () => {
    c.db
      .prepare("UPDATE runs SET baseline_w = ?, measurement = ? WHERE id = ?")
      .run(m.baselineW.gpu ?? null, JSON.stringify(m), runId);
  });
}

export function addSuiteNote(c: StoreConnection, suiteId: number, note: string): void {
  c.guard("adding a suite note", true, () => {
    const n = c.db
      .prepare("UPDATE suites SET notes = json_insert(notes, '$[#]', ?) WHERE id = ?")
      .run(note, suiteId).changes;
    if (!n) c.suiteRow(suiteId);
  });
}

export function setIdleTemp(c: StoreConnection, suiteId: number, celsius: number): void {
  c.guard("setting the idle temperature", true, () => {
    const n = c.db.prepare("UPDATE suites SET idle_temp_c = ? WHERE id = ?").run(celsius, suiteId).changes;
    if (!n) c.suiteRow(suiteId);
  });
}

export function results(c: StoreConnection, suiteId: number): SuiteResults {
  return c.guard(`reading suite ${suiteId}`, false, () => {
    // One read transaction: the runs and their children are one consistent snapshot.
    const read = c.db.transaction(() => {
      const suite = suiteRecord(c.suiteRow(suiteId));
      const runRows = c.db.prepare("SELECT * FROM runs WHERE suite_id = ? ORDER BY id").all(suiteId) as Row[];
      const children = (table: string, order: string) => {
        const byRun = new Map<number, Row[]>();
        const rows = c.db
          .prepare(
            `SELECT c.* FROM ${table} c JOIN runs r ON r.id = c.run_id WHERE r.suite_id = ? ORDER BY c.run_id, ${order}`,
          )
          .all(suiteId) as Row[];
        for (const row of rows) {
          const list = byRun.get(row.run_id as number);
          if (list) list.push(row);
          else byRun.set(row.run_id as number, [row]);
        }
        return (runId: number) => byRun.get(runId) ?? [];
      };
      const epochs = children("epochs", "c.epoch");
      const phases = children("phases", "c.id");
      const energy = children("energy", "c.id");
      return {
        suite,
        runs: runRows.map((r) =>
          runRecord(r, epochs(r.id as number), phases(r.id as number), energy(r.id as number)),
        ),
      };
    });
    const { suite, runs } = read();
    const samples = (runId: number): SampleRecord[] =>
      c.guard(`reading the samples of run ${runId}`, false, () =>
        (
          c.db
            .prepare("SELECT t, channel, power_w, energy_j FROM samples WHERE run_id = ? ORDER BY id")
            .all(runId) as Row[]
        ).map((s) => ({
          t: num(s.t),
          channel: s.channel as string,
          ...(s.power_w === null ? {} : { powerW: s.power_w as number }),
          ...(s.energy_j === null ? {} : { energyJ: s.energy_j as number }),
        })),
      );
    return { suite, runs, samples };
  });
}

export function suites(c: StoreConnection): { id: number; name: string }[] {
  return c.guard(
    "listing suites",
    false,
    () => c.db.prepare("SELECT id, name FROM suites ORDER BY id").all() as { id: number; name: string }[],
  );
}
