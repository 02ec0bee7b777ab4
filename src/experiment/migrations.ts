// The results store's schema, as numbered migrations: MIGRATIONS[i] takes a store from version i
// to version i + 1. A released migration is never edited; a later schema adds a new entry (ALTER
// TABLE, new tables, a data copy), so every store written by an older halfwatt can be opened and
// brought up to date. store.ts applies them in order, each in its own transaction, and records
// each in `schema_version`.
//
// Conventions: times are ISO 8601 text (UTC); JSON columns hold JSON text (kept as text so the CSV
// export shows them as written); numbers a run can legitimately lack are NULL. SQLite cannot store
// NaN (it binds as NULL), so a NULL in a metric column that the types call `number` reads back as
// NaN (an empty split's loss, for instance).

export const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE suites (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    spec        TEXT NOT NULL,              -- SuiteSpec, JSON
    plan        TEXT NOT NULL,              -- PlannedRun[], JSON, in executed order
    notes       TEXT NOT NULL DEFAULT '[]', -- string[], JSON
    idle_temp_c REAL,
    created_at  TEXT NOT NULL
  );

  CREATE TABLE runs (
    id                    INTEGER PRIMARY KEY,
    suite_id              INTEGER NOT NULL REFERENCES suites(id),
    plan_index            INTEGER NOT NULL,
    block                 INTEGER NOT NULL,
    replicate             INTEGER NOT NULL,
    config_id             TEXT NOT NULL,
    config                TEXT NOT NULL,    -- RunConfiguration, JSON
    seed                  INTEGER NOT NULL,
    status                TEXT NOT NULL
      CHECK (status IN ('pending', 'running', 'completed', 'interrupted', 'failed')),
    env                   TEXT,             -- RunEnvironment, JSON: adapter, driver, hostname, versions
    started_at            TEXT,
    ended_at              TEXT,
    seconds               REAL,
    error                 TEXT,
    test_loss             REAL,
    test_accuracy         REAL,
    test_top5             REAL,
    test_samples          INTEGER,          -- NULL: the run has no test metrics
    test_non_finite_rows  INTEGER,
    loss_scale            TEXT,             -- LossScaleSummary, JSON
    kernels               TEXT NOT NULL DEFAULT '[]', -- KernelRecord[], JSON
    gpu_temp_c            REAL,
    carbon_intensity      REAL,             -- gCO2e/kWh
    carbon_pue            REAL,
    carbon_source         TEXT              -- NULL: no carbon (the run did not finish)
  );
  CREATE INDEX runs_suite ON runs(suite_id, plan_index);

  CREATE TABLE epochs (
    run_id                INTEGER NOT NULL REFERENCES runs(id),
    epoch                 INTEGER NOT NULL,
    train_loss            REAL,
    train_accuracy        REAL,
    train_top5            REAL,
    train_samples         INTEGER NOT NULL,
    train_non_finite_rows INTEGER NOT NULL,
    valid_loss            REAL,
    valid_accuracy        REAL,
    valid_top5            REAL,
    valid_samples         INTEGER NOT NULL,
    valid_non_finite_rows INTEGER NOT NULL,
    seconds               REAL,
    samples_per_second    REAL,
    steps                 INTEGER NOT NULL,
    skipped_steps         INTEGER NOT NULL,
    PRIMARY KEY (run_id, epoch)
  );

  CREATE TABLE phases (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    name     TEXT NOT NULL,
    start_ms REAL,
    end_ms   REAL
  );
  CREATE INDEX phases_run ON phases(run_id);

  CREATE TABLE energy (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    phase        TEXT NOT NULL,
    component    TEXT NOT NULL,
    channel      TEXT,                      -- NULL: the component's total
    source       TEXT NOT NULL,
    provenance   TEXT NOT NULL,
    gross_j      REAL,
    net_j        REAL,
    seconds      REAL,
    mean_power_w REAL,
    flag         TEXT
  );
  CREATE INDEX energy_run ON energy(run_id);

  CREATE TABLE samples (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    t        REAL NOT NULL,                 -- ms from the run's start
    channel  TEXT NOT NULL,
    power_w  REAL,
    energy_j REAL
  );
  CREATE INDEX samples_run ON samples(run_id);

  -- The writer's lock: at most one row, the process that holds the store open for writing.
  CREATE TABLE lock (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    proc_start TEXT,                        -- its start time in /proc (Linux): a reused pid is not it
    token      TEXT NOT NULL,               -- tells two handles of one process apart
    started_at TEXT NOT NULL
  );
  `,
  // 2: the bounds of every energy figure (issue 12: estimates come as ranges).
  `
  ALTER TABLE energy ADD COLUMN gross_low_j REAL;
  ALTER TABLE energy ADD COLUMN gross_high_j REAL;
  ALTER TABLE energy ADD COLUMN net_low_j REAL;
  ALTER TABLE energy ADD COLUMN net_high_j REAL;
  `,
  // 3: Slurm array tasks (issue 11). A task's store holds only some blocks of its suite's plan and
  // says which, so a merge can tell a block that no task ran from one that was never assigned.
  // No rows for a suite: the store holds (or is meant to hold) the whole plan.
  `
  CREATE TABLE task_blocks (
    suite_id  INTEGER NOT NULL REFERENCES suites(id),
    block     INTEGER NOT NULL,
    slurm_job TEXT,                         -- "<array job id>_<task id>", where Slurm ran it
    PRIMARY KEY (suite_id, block)
  );
  `,
  // 4: worker processes of one suite on several GPUs of a host (issue 11). A worker claims a whole
  // block (replicate) of the plan, so each block runs on one GPU; the session is the parent
  // process's run of the suite, so a resumed suite (a new session) may claim again the blocks an
  // earlier session left unfinished.
  `
  CREATE TABLE block_claims (
    suite_id   INTEGER NOT NULL REFERENCES suites(id),
    block      INTEGER NOT NULL,
    session    TEXT NOT NULL,
    worker     INTEGER NOT NULL,
    gpu        TEXT,                        -- the worker's GPU: "index pci" as halfwatt numbers it
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (suite_id, block)
  );
  `,
  // 5: runs the divergence rule stopped (issue 17, src/experiment/divergence.ts). Such a run keeps
  // status 'completed' (it ran its course: a resume must not redo it, and SQLite cannot alter the
  // status CHECK) and holds here why it diverged; NULL for a run that trained. The report leaves
  // diverged runs out of its statistics.
  `
  ALTER TABLE runs ADD COLUMN diverged TEXT;
  `,
  // 6: how each run's phases were kept clean (issue 18 §1): its GPU's mean power over the idle
  // baseline (W, NULL where no GPU was measured) and the settle wait, upload, warm-up, planned
  // length and epoch check (RunMeasurement, JSON).
  `
  ALTER TABLE runs ADD COLUMN baseline_w REAL;
  ALTER TABLE runs ADD COLUMN measurement TEXT;
  `,
];

/** The schema version this halfwatt writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
