// `halfwatt merge`: joins results stores of one suite into one, typically the stores of a Slurm
// array's tasks (slurm.ts), so that `halfwatt report` sees the whole suite. Stores of another
// suite (another name, spec or plan) are refused; a plan index completed in two stores is a
// duplicate, refused unless told to keep the one that ended last. Every run is copied with its
// rows in every table that refers to it (epochs, phases, energy, samples, and whatever table a
// later schema adds with a run_id), under new ids; the whole merge is one transaction into a new
// file, renamed into place only when complete, so a failed merge leaves no half-merged store.
// Afterwards it lists the blocks (array tasks) that are not complete and the sbatch line that
// resubmits only those.
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { HalfwattError } from "../errors.js";
import { SCHEMA_VERSION } from "./migrations.js";
import { SLURM_FILES, shellQuote } from "./slurm.js";
import { show, withoutOrigin } from "./store/difference.js";
import { json } from "./store/rows.js";
import { firstDifference, migrate, openReadOnlyDatabase, schemaVersion } from "./store.js";
import type { PlannedRun } from "./types.js";

type Db = Database.Database;
type Row = Record<string, unknown>;

/** A merge the user must fix (E_INPUT): a foreign suite, duplicates, a missing file. */
export class MergeError extends HalfwattError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_INPUT", message, options);
  }
}

export interface MergeOptions {
  /** The merged store to write (a new file; an existing one only with `force`). */
  out: string;
  /** A plan index completed in two stores: keep the run that ended last instead of failing. */
  preferLatest?: boolean;
  /** Replace `out` if it exists. */
  force?: boolean;
  /** The suite to merge, where a store holds several. */
  suite?: string;
  /** The array job's script, for the resubmit line (default: found next to the tasks' folder). */
  sbatch?: string;
}

export interface MergedSource {
  path: string;
  /** Blocks the store was marked with (a Slurm task); null: the whole plan. */
  blocks: number[] | null;
  /** Where Slurm ran it ("<array job>_<task>"), per block marked. */
  slurmJobs: string[];
  runs: number;
  completed: number;
}

export interface RunRef {
  store: string;
  runId: number;
  endedAt: string | null;
  host: string | null;
}

export interface MergeDuplicate {
  planIndex: number;
  block: number;
  configId: string;
  replicate: number;
  kept: RunRef;
  dropped: RunRef[];
}

/** A block (a Slurm array task) whose runs are not all completed. */
export interface IncompleteBlock {
  block: number;
  planned: number;
  completed: number;
  failed: number;
  /** Interrupted, or left `running` by a task that was killed (or still runs). */
  interrupted: number;
  /** Stores that hold runs of this block or were marked with it; empty: no task's store was given. */
  stores: string[];
  /** The first line of each distinct error of its failed runs (at most three). */
  errors: string[];
}

export interface MergeResult {
  out: string;
  suite: string;
  sources: MergedSource[];
  /** Rows written per table. */
  rows: Record<string, number>;
  duplicates: MergeDuplicate[];
  /** Blocks of the plan not completed, ascending. */
  incomplete: IncompleteBlock[];
  /** `sbatch --array=… SCRIPT` rerunning only the incomplete blocks; null when none is. */
  resubmit: string | null;
  /** Whether the script named in `resubmit` exists (else its path is a guess). */
  sbatchFound: boolean;
  replaced: boolean;
}

/**
 * Tables that are not the suite's data: the schema's own bookkeeping, the writer's lock, and the
 * block claims of one session's GPU workers (migration 4: coordination of processes that have
 * ended; a later session on the merged store claims afresh).
 */
const NOT_COPIED = new Set(["schema_version", "lock", "block_claims"]);

interface Source {
  path: string;
  name: string;
  db: Db;
  suite: Row;
  runs: Row[];
  blocks: number[];
  slurmJobs: string[];
}

function openSource(path: string, suiteName: string | undefined): Source {
  let db: Db;
  try {
    // Read-only, also where the task stores lie in a folder this process cannot write.
    db = openReadOnlyDatabase(path);
  } catch (e) {
    throw new MergeError((e as Error).message, { cause: e });
  }
  try {
    let v: number;
    try {
      v = schemaVersion(db, path);
    } catch (e) {
      if (e instanceof HalfwattError) throw e;
      throw new MergeError(`${path} is not a halfwatt results store: ${(e as Error).message}`, { cause: e });
    }
    if (v !== SCHEMA_VERSION)
      throw new MergeError(
        v === 0
          ? `${path} is empty, not a halfwatt results store`
          : `the results store ${path} has schema version ${v}, this halfwatt merges ${SCHEMA_VERSION}: open it for writing once (halfwatt suite … --resume) to bring it up to date`,
      );
    // One read transaction: a task still writing gives a consistent snapshot.
    db.exec("BEGIN");
    const suites = db.prepare("SELECT * FROM suites ORDER BY id").all() as Row[];
    const names = () => suites.map((s) => `"${s.name}"`).join(", ");
    let suite: Row | undefined;
    if (suiteName !== undefined) {
      suite = suites.find((s) => s.name === suiteName);
      if (!suite)
        throw new MergeError(
          `${path} holds no suite "${suiteName}"${suites.length ? ` (it holds ${names()})` : ""}`,
        );
    } else if (suites.length === 1) suite = suites[0];
    else
      throw new MergeError(
        suites.length
          ? `${path} holds several suites (${names()}): say which with --suite`
          : `${path} holds no suite (a task that stopped before it began?)`,
      );
    const runs = db.prepare("SELECT * FROM runs WHERE suite_id = ? ORDER BY id").all(suite.id) as Row[];
    const marks = db
      .prepare("SELECT block, slurm_job FROM task_blocks WHERE suite_id = ? ORDER BY block")
      .all(suite.id) as Row[];
    return {
      path,
      name: suite.name as string,
      db,
      suite,
      runs,
      blocks: marks.map((m) => m.block as number),
      slurmJobs: marks.flatMap((m) => (m.slurm_job === null ? [] : [m.slurm_job as string])),
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Refuses a store whose suite is not the first store's: name, spec (but where it came from) and plan. */
function checkSameSuite(ref: Source, s: Source): void {
  const where = `${s.path} and ${ref.path}`;
  if (s.name !== ref.name)
    throw new MergeError(
      `${where} hold different suites ("${s.name}" and "${ref.name}"): merge the stores of one suite`,
    );
  const d = firstDifference(withoutOrigin(json(ref.suite.spec)), withoutOrigin(json(s.suite.spec)));
  if (d)
    throw new MergeError(
      `${where} hold different suites named "${s.name}": ${d.path} is ${show(d.given)} in ${s.path}, ${show(d.stored)} in ${ref.path}`,
    );
  const p = firstDifference(json<PlannedRun[]>(ref.suite.plan), json<PlannedRun[]>(s.suite.plan), "plan");
  if (p)
    throw new MergeError(
      `${where} hold suite "${s.name}" with the same spec but different run plans (${p.path} ${show(p.given)} in ${s.path}, ${show(p.stored)} in ${ref.path}; written by different halfwatt versions?)`,
    );
}

const ref = (s: Source, r: Row): RunRef => ({
  store: s.path,
  runId: r.id as number,
  endedAt: (r.ended_at as string | null) ?? null,
  host: r.env ? ((json<{ hostname?: string }>(r.env).hostname ?? null) as string | null) : null,
});

/** The plan indices completed in more than one store, and which run of each is kept. */
function findDuplicates(sources: Source[], preferLatest: boolean): MergeDuplicate[] {
  const byIndex = new Map<number, { s: Source; r: Row }[]>();
  for (const s of sources)
    for (const r of s.runs)
      if (r.status === "completed") {
        const list = byIndex.get(r.plan_index as number);
        if (list) list.push({ s, r });
        else byIndex.set(r.plan_index as number, [{ s, r }]);
      }
  const out: MergeDuplicate[] = [];
  for (const [index, list] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    if (list.length < 2) continue;
    // The latest end wins (ISO times compare as text); on a tie, the store named first.
    let keep = list[0];
    for (const c of list.slice(1))
      if (((c.r.ended_at as string) ?? "") > ((keep.r.ended_at as string) ?? "")) keep = c;
    out.push({
      planIndex: index,
      block: keep.r.block as number,
      configId: keep.r.config_id as string,
      replicate: keep.r.replicate as number,
      kept: ref(keep.s, keep.r),
      dropped: list.filter((c) => c !== keep).map((c) => ref(c.s, c.r)),
    });
  }
  if (out.length && !preferLatest) {
    const lines = out
      .slice(0, 10)
      .map(
        (d) =>
          `  - plan index ${d.planIndex} (${d.configId} #${d.replicate}, block ${d.block}): ${[
            d.kept,
            ...d.dropped,
          ]
            .map((x) => `${x.store} run ${x.runId} ended ${x.endedAt ?? "?"}`)
            .join("; ")}`,
      );
    throw new MergeError(
      `${out.length} run(s) completed in more than one store (the same task run twice, or a store given under two names):\n${lines.join("\n")}${out.length > 10 ? `\n  - … and ${out.length - 10} more` : ""}\npass --prefer-latest to keep the run that ended last, or leave one store out`,
    );
  }
  return out;
}

/** How each table of the schema is merged; a table halfwatt does not know stops the merge. */
function tablePlan(db: Db): { children: string[]; suiteChildren: string[] } {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const children: string[] = [];
  const suiteChildren: string[] = [];
  for (const t of tables) {
    if (NOT_COPIED.has(t) || t === "suites" || t === "runs") continue;
    const cols = columns(db, t).map((c) => c.name);
    if (cols.includes("run_id")) children.push(t);
    else if (cols.includes("suite_id")) suiteChildren.push(t);
    else
      throw new HalfwattError(
        "E_RUNTIME",
        `the results store's table ${t} refers to neither a run nor a suite: halfwatt merge does not know how to join it`,
      );
  }
  return { children, suiteChildren };
}

function columns(db: Db, table: string): { name: string; pk: number; type: string }[] {
  return db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number; type: string }[];
}

/** The columns copied as they are: all but an INTEGER PRIMARY KEY `id` (the target assigns its own). */
function copiedColumns(db: Db, table: string): string[] {
  const cols = columns(db, table);
  const pks = cols.filter((c) => c.pk > 0);
  const ownId = pks.length === 1 && pks[0].name === "id" && pks[0].type.toUpperCase() === "INTEGER";
  return cols.filter((c) => !(ownId && c.name === "id")).map((c) => c.name);
}

function insertInto(db: Db, table: string, cols: string[]) {
  return db.prepare(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`);
}

/** The array job's script: as given, else next to the tasks' folder or the merged store. */
function findSbatch(
  inputs: string[],
  out: string,
  given: string | undefined,
): { path: string; found: boolean } {
  if (given !== undefined) return { path: resolve(given), found: existsSync(given) };
  const candidates = [
    join(dirname(dirname(resolve(inputs[0]))), SLURM_FILES.script),
    join(dirname(resolve(out)), SLURM_FILES.script),
  ];
  const hit = candidates.find((c) => existsSync(c));
  return { path: hit ?? candidates[0], found: hit !== undefined };
}

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/** Joins the stores at `inputs` into `options.out`. */
export function mergeStores(inputs: readonly string[], options: MergeOptions): MergeResult {
  if (!inputs.length) throw new MergeError("no stores to merge");
  const out = resolve(options.out);
  const seen = new Map<string, string>();
  for (const p of inputs) {
    if (!existsSync(p)) throw new MergeError(`${p}: no such results store`);
    const r = real(p);
    const first = seen.get(r);
    if (first !== undefined)
      throw new MergeError(`${p} and ${first} are the same file: give each store once`);
    seen.set(r, p);
  }
  if (seen.has(real(out)))
    throw new MergeError(
      `--out ${options.out} is one of the stores being merged: write the merge to a new file`,
    );
  const replaced = existsSync(out);
  if (replaced && !options.force)
    throw new MergeError(`${options.out} exists: pass --force to replace it, or choose another --out`);

  const sources: Source[] = [];
  let tmp: string | null = null;
  try {
    for (const p of inputs) sources.push(openSource(p, options.suite));
    for (const s of sources.slice(1)) checkSameSuite(sources[0], s);
    const duplicates = findDuplicates(sources, options.preferLatest ?? false);
    const dropped = new Set(duplicates.flatMap((d) => d.dropped.map((x) => `${x.store}\u0000${x.runId}`)));
    const kept = (s: Source, r: Row) => !dropped.has(`${s.path}\u0000${r.id}`);

    mkdirSync(dirname(out), { recursive: true });
    tmp = join(dirname(out), `.${basename(out)}.merging-${process.pid}`);
    rmSync(tmp, { force: true });
    const db = new Database(tmp);
    let rows: Record<string, number>;
    try {
      // A rollback journal while building: the finished file is then one file, renamed into place
      // (the first writer to open it switches it to WAL, as for any store).
      db.pragma("journal_mode = DELETE");
      migrate(db, tmp);
      db.pragma("foreign_keys = ON");
      rows = copyAll(db, sources, kept);
      const integrity = db.pragma("integrity_check", { simple: true });
      const orphans = db.pragma("foreign_key_check") as unknown[];
      if (integrity !== "ok" || orphans.length)
        throw new HalfwattError(
          "E_RUNTIME",
          `the merged store failed its check (integrity: ${integrity}; ${orphans.length} row(s) referring to nothing)`,
        );
    } finally {
      db.close();
    }
    // The old store's write-ahead log must not be replayed into the new file.
    for (const ext of ["-wal", "-shm"]) rmSync(out + ext, { force: true });
    renameSync(tmp, out);
    tmp = null;

    const ref0 = sources[0];
    const plan = json<PlannedRun[]>(ref0.suite.plan);
    const incomplete = incompleteBlocks(plan, sources, kept);
    const sbatch = findSbatch([...inputs], out, options.sbatch);
    return {
      out,
      suite: ref0.name,
      sources: sources.map((s) => ({
        path: s.path,
        blocks: s.blocks.length ? s.blocks : null,
        slurmJobs: s.slurmJobs,
        runs: s.runs.length,
        completed: s.runs.filter((r) => r.status === "completed").length,
      })),
      rows,
      duplicates,
      incomplete,
      resubmit: incomplete.length
        ? `sbatch --array=${incomplete.map((b) => b.block).join(",")} ${shellQuote(sbatch.path)}`
        : null,
      sbatchFound: sbatch.found,
      replaced,
    };
  } finally {
    for (const s of sources) s.db.close();
    if (tmp) rmSync(tmp, { force: true });
  }
}

/** Writes the suite, its runs (in the order they started) and every row that refers to them; one transaction. */
function copyAll(db: Db, sources: Source[], kept: (s: Source, r: Row) => boolean): Record<string, number> {
  return db.transaction(() => {
    const { children, suiteChildren } = tablePlan(db);
    const rows: Record<string, number> = { suites: 1, runs: 0 };
    const ref0 = sources[0];
    // The suite: the first store's spec and plan (all equal, checked); notes of every store, once
    // each; the idle temperature where every store agrees (it is one GPU's, and tasks ran on several).
    const notes = [...new Set(sources.flatMap((s) => json<string[]>(s.suite.notes)))];
    const temps = new Set(sources.map((s) => s.suite.idle_temp_c));
    const created = sources.map((s) => s.suite.created_at as string).sort()[0];
    const suiteId = Number(
      db
        .prepare(
          "INSERT INTO suites (name, spec, plan, notes, idle_temp_c, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .run(
          ref0.name,
          ref0.suite.spec,
          ref0.suite.plan,
          JSON.stringify(notes),
          temps.size === 1 ? ref0.suite.idle_temp_c : null,
          created,
        ).lastInsertRowid,
    );

    // Runs in the order they started across the stores, so ids read as time, as in one store.
    const runs = sources
      .flatMap((s, si) => s.runs.filter((r) => kept(s, r)).map((r) => ({ s, si, r })))
      .sort(
        (a, b) =>
          String(a.r.started_at ?? "\uffff").localeCompare(String(b.r.started_at ?? "\uffff")) ||
          a.si - b.si ||
          (a.r.id as number) - (b.r.id as number),
      );
    const runCols = copiedColumns(db, "runs");
    const insertRun = insertInto(db, "runs", runCols);
    /** source index → its run id → the merged store's run id */
    const newId = sources.map(() => new Map<number, number>());
    for (const { si, r } of runs) {
      const values = runCols.map((c) => (c === "suite_id" ? suiteId : r[c]));
      newId[si].set(r.id as number, Number(insertRun.run(...(values as unknown[])).lastInsertRowid));
      rows.runs++;
    }

    for (const table of children) {
      const cols = copiedColumns(db, table);
      const insert = insertInto(db, table, cols);
      rows[table] = 0;
      sources.forEach((s, si) => {
        const select = s.db.prepare(
          `SELECT c.* FROM ${table} c JOIN runs r ON r.id = c.run_id WHERE r.suite_id = ? ORDER BY c.rowid`,
        );
        for (const row of select.iterate(s.suite.id) as Iterable<Row>) {
          const runId = newId[si].get(row.run_id as number);
          if (runId === undefined) continue; // a dropped duplicate's row
          insert.run(...(cols.map((c) => (c === "run_id" ? runId : row[c])) as unknown[]));
          rows[table]++;
        }
      });
    }

    for (const table of suiteChildren) {
      rows[table] = 0;
      if (table === "task_blocks") {
        // The union of the tasks' blocks; none when the merge covers the whole plan or a whole store.
        const planned = new Set(json<PlannedRun[]>(ref0.suite.plan).map((r) => r.block));
        const marked = new Map<number, string | null>();
        let whole = false;
        for (const s of sources) {
          if (!s.blocks.length) whole = true;
          const jobs = s.db
            .prepare("SELECT block, slurm_job FROM task_blocks WHERE suite_id = ?")
            .all(s.suite.id) as Row[];
          for (const j of jobs) marked.set(j.block as number, (j.slurm_job as string | null) ?? null);
        }
        if (whole || marked.size === planned.size) continue;
        const insert = db.prepare("INSERT INTO task_blocks (suite_id, block, slurm_job) VALUES (?, ?, ?)");
        for (const [block, job] of [...marked].sort((a, b) => a[0] - b[0])) {
          insert.run(suiteId, block, job);
          rows[table]++;
        }
      } else
        throw new HalfwattError(
          "E_RUNTIME",
          `the results store's table ${table} belongs to a suite: halfwatt merge does not know how to join it`,
        );
    }
    return rows;
  })();
}

/** Blocks of the plan with a planned run that no kept run completed. */
function incompleteBlocks(
  plan: PlannedRun[],
  sources: Source[],
  kept: (s: Source, r: Row) => boolean,
): IncompleteBlock[] {
  const completed = new Set<number>();
  for (const s of sources)
    for (const r of s.runs) if (r.status === "completed" && kept(s, r)) completed.add(r.plan_index as number);
  const blocks = [...new Set(plan.map((r) => r.block))].sort((a, b) => a - b);
  const out: IncompleteBlock[] = [];
  for (const block of blocks) {
    const planned = plan.filter((r) => r.block === block);
    const done = planned.filter((r) => completed.has(r.index)).length;
    if (done === planned.length) continue;
    const stores = sources
      .filter((s) => s.blocks.includes(block) || s.runs.some((r) => r.block === block))
      .map((s) => s.path);
    // The runs of this block that did not complete and were not later completed elsewhere.
    const open = sources.flatMap((s) =>
      s.runs.filter(
        (r) => r.block === block && r.status !== "completed" && !completed.has(r.plan_index as number),
      ),
    );
    const latest = new Map<number, Row>();
    for (const r of open) {
      const before = latest.get(r.plan_index as number);
      if (!before || String(r.started_at ?? "") >= String(before.started_at ?? ""))
        latest.set(r.plan_index as number, r);
    }
    const last = [...latest.values()];
    out.push({
      block,
      planned: planned.length,
      completed: done,
      failed: last.filter((r) => r.status === "failed").length,
      interrupted: last.filter((r) => r.status === "interrupted" || r.status === "running").length,
      stores,
      errors: [
        ...new Set(
          last.filter((r) => r.status === "failed" && r.error).map((r) => String(r.error).split("\n")[0]),
        ),
      ].slice(0, 3),
    });
  }
  return out;
}
