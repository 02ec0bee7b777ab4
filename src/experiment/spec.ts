// The suite specification: a preset name or a .yaml/.yml/.json file, validated with zod into a
// SuiteSpec. Every problem of a bad file is reported at once, each with its path
// (`configurations[1].batch: must be an integer ≥ 1`), in one SuiteSpecError (E_INPUT, exit 2),
// so the user fixes the file in one pass and nothing runs until it is right.
import { readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import * as z from "zod";
import { HalfwattError } from "../errors.js";
import { MAX_HZ } from "../telemetry/sampler.js";
import { knownZones, validateCarbon } from "./carbon.js";
import { PRESETS } from "./presets.js";
import { trainSettingIssues } from "./train-settings.js";
import type { CarbonSpec, OptimizerSpec, RunConfiguration, SuiteSpec } from "./types.js";

export interface SpecIssue {
  /** Where in the file, e.g. "configurations[1].batch"; "" for the whole document. */
  path: string;
  message: string;
}

/** A suite file (or preset plus options) that cannot be used; lists every problem found. */
export class SuiteSpecError extends HalfwattError {
  constructor(
    /** The file path or preset name. */
    readonly origin: string,
    readonly issues: SpecIssue[],
  ) {
    const lines = issues.map((i) => `  - ${i.path === "" ? "(document)" : i.path}: ${i.message}`);
    const n = issues.length;
    super(
      "E_INPUT",
      `${origin}: ${n} problem${n === 1 ? "" : "s"} in the suite specification:\n${lines.join("\n")}`,
    );
  }
}

export interface SpecOverrides {
  data?: string;
  replicates?: number;
  seed?: number;
  baselineSeconds?: number | null;
}

/** A thousand replicates of even the quick suite would take days: above is surely a typo. */
export const MAX_REPLICATES = 1000;

// ---------------------------------------------------------------------------------------------
// The schema. Messages say what is allowed; a missing required key reads "is required" (the
// parse-level error map below), an unknown key "unknown key" plus the nearest known one.

type IssueLike = { code?: string; input?: unknown };
/** A schema-level message, except for a missing value (left to the parse-level "is required"). */
const says = (text: string) => (iss: IssueLike) => (iss.input === undefined ? undefined : text);

function int(min: number, max?: number) {
  const text = max === undefined ? `must be an integer ≥ ${min}` : `must be an integer from ${min} to ${max}`;
  const s = z
    .number({ error: says(text) })
    .int({ error: says(text) })
    .min(min, { error: says(text) });
  return max === undefined ? s : s.max(max, { error: says(text) });
}

function num(text: string, check: (x: number) => boolean) {
  return z.number({ error: says(text) }).refine((x) => Number.isFinite(x) && check(x), { error: text });
}

// Marks an unknown-key issue so the post-processing can split it per key and suggest a name.
const UNKNOWN = "\u0000unknown:";
function strict<T extends z.ZodRawShape>(shape: T, what: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? UNKNOWN + JSON.stringify({ keys: iss.keys, known })
        : iss.input === undefined
          ? undefined
          : `must be ${what}`,
  });
}

const OPTIMIZERS = ["adam", "adamw", "sgd"] as const;
const optimizerName = z.enum(OPTIMIZERS, { error: says(`must be one of ${OPTIMIZERS.join(", ")}`) });
const optimizerSchema = strict(
  {
    name: optimizerName,
    lr: num("must be a number > 0", (x) => x > 0).optional(),
    momentum: num("must be a number ≥ 0", (x) => x >= 0).optional(),
    nesterov: z.boolean({ error: says("must be true or false") }).optional(),
    weightDecay: num("must be a number ≥ 0", (x) => x >= 0).optional(),
  },
  'an object like {"name": "adam", "lr": 0.001}',
);
const precision = z.enum(["f32", "mixed"], { error: says('must be "f32" or "mixed"') });
// 65536 is far beyond what a dense layer on one GPU holds; above it is surely a typo.
const neurons = z
  .array(int(1, 65536), { error: says("must be a list of hidden layer widths, e.g. [1024]") })
  .min(1, { error: "must list at least one hidden layer width" });

const configurationSchema = strict(
  {
    precision,
    batch: int(1),
    neurons,
    epochs: int(1).optional(),
    optimizer: optimizerSchema.optional(),
  },
  'an object like {"precision": "f32", "batch": 32, "neurons": [1024]}',
);

function levels<T extends z.ZodType>(item: T) {
  return z
    .array(item, { error: says("must be a list of levels") })
    .min(1, { error: "must list at least one level" });
}

const factorsSchema = strict(
  {
    precision: levels(precision),
    batch: levels(int(1)),
    neurons: levels(neurons),
    epochs: levels(int(1)).optional(),
    lr: levels(num("must be a number > 0", (x) => x > 0)).optional(),
    // A level is an optimizer object or just its name.
    optimizer: levels(
      z.preprocess((v) => (typeof v === "string" ? { name: v } : v), optimizerSchema),
    ).optional(),
  },
  "an object of factor levels",
);

const nonNegative = num("must be a number ≥ 0", (x) => x >= 0);

const suiteSchema = strict(
  {
    name: z
      .string({ error: says("must be a non-empty string") })
      .trim()
      .min(1, { error: "must be a non-empty string" }),
    data: z
      .string({ error: says("must be a folder path, a synthetic:… spec or fashion-mnist[:DIR]") })
      .min(1, {
        error: "must be a folder path, a synthetic:… spec or fashion-mnist[:DIR]",
      }),
    imageSize: int(1, 4096).optional(),
    replicates: int(1, MAX_REPLICATES).default(5),
    seed: int(0, 0xffffffff).default(1),
    epochs: int(1).optional(),
    optimizer: optimizerSchema.default({ name: "adam" }),
    configurations: z
      .array(configurationSchema, { error: says("must be a list of configurations") })
      .min(1, { error: "must list at least one configuration" })
      .optional(),
    factors: factorsSchema.optional(),
    baselineSeconds: nonNegative.nullable().default(null),
    cooldown: strict(
      {
        withinCelsius: num("must be a number > 0", (x) => x > 0).default(3),
        maxSeconds: nonNegative.default(120),
      },
      'an object like {"withinCelsius": 3, "maxSeconds": 120}',
    ).default({ withinCelsius: 3, maxSeconds: 120 }),
    carbon: strict(
      {
        intensity: num("must be a number ≥ 0 (gCO2e/kWh)", (x) => x >= 0).optional(),
        zone: z.string({ error: says("must be a zone code such as GB") }).optional(),
        csv: z
          .string({ error: says("must be a CSV file path") })
          .min(1, { error: "must be a CSV file path" })
          .optional(),
        // PUE is facility energy over IT energy: below 1 is impossible, above 10 surely a typo.
        pue: num("must be a number from 1 to 10", (x) => x >= 1 && x <= 10).default(1),
      },
      'an object like {"intensity": 268} or {"zone": "GB"} or {"csv": "file.csv"}',
    ),
    // What the report judges, not how runs run (absent: the report's defaults, src/report).
    accuracyTarget: num(
      "must be a validation accuracy above 0 and at most 1 (a fraction, e.g. 0.8)",
      (x) => x > 0 && x <= 1,
    ).optional(),
    equivalenceMargin: num(
      "must be a test accuracy difference above 0 and below 1 (a fraction: 0.01 = ±1 percentage point)",
      (x) => x > 0 && x < 1,
    ).optional(),
    telemetry: strict(
      // The sampler's own limit (NVML power's useful rate), so a file the spec accepts also runs.
      { hz: num(`must be a number > 0 and ≤ ${MAX_HZ}`, (x) => x > 0 && x <= MAX_HZ).default(10) },
      'an object like {"hz": 10}',
    ).default({ hz: 10 }),
  },
  "an object (the suite specification)",
);

type RawSuite = z.infer<typeof suiteSchema>;
type RawOptimizer = z.infer<typeof optimizerSchema>;

// ---------------------------------------------------------------------------------------------
// Issues: zod's, turned into {path, message}.

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

function suggestion(key: string, known: string[]): string {
  let best = "";
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(key.toLowerCase(), k.toLowerCase());
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  // Only close names (a typo, a plural): a far one would mislead.
  return bestD <= Math.max(2, Math.floor(best.length / 3))
    ? ` (did you mean "${best}"?)`
    : ` (known: ${known.join(", ")})`;
}

function zodIssues(error: z.ZodError): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const iss of error.issues) {
    if (iss.message.startsWith(UNKNOWN)) {
      const { keys, known } = JSON.parse(iss.message.slice(UNKNOWN.length)) as {
        keys: string[];
        known: string[];
      };
      for (const key of keys)
        out.push({ path: formatPath([...iss.path, key]), message: `unknown key${suggestion(key, known)}` });
    } else out.push({ path: formatPath(iss.path), message: iss.message });
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks that need several fields at once, made on the raw value so they join the schema's. */
function crossChecks(value: unknown): SpecIssue[] {
  const out: SpecIssue[] = [];
  if (!isObject(value)) return out;
  const hasConf = value.configurations !== undefined;
  const hasFactors = value.factors !== undefined;
  if (hasConf === hasFactors)
    out.push({
      path: "",
      message: hasConf
        ? 'give either "configurations" (a list) or "factors" (levels to cross), not both'
        : 'give "configurations" (a list of runs) or "factors" (levels to cross)',
    });
  const carbon = value.carbon;
  if (isObject(carbon)) {
    const given = ["intensity", "zone", "csv"].filter((k) => carbon[k] !== undefined);
    if (given.length !== 1)
      out.push({
        path: "carbon",
        message:
          given.length === 0
            ? 'give one of "intensity" (gCO2e/kWh), "zone" (e.g. GB) or "csv" (a timestamp,gco2_per_kwh file)'
            : `give only one of "intensity", "zone" or "csv", not ${given.join(" and ")}`,
      });
    if (typeof carbon.zone === "string" && !knownZones().includes(carbon.zone.toUpperCase()))
      out.push({
        path: "carbon.zone",
        message: `unknown zone "${carbon.zone}" (known: ${knownZones().join(", ")})`,
      });
  }
  if (value.carbon === undefined) out.push({ path: "carbon", message: "is required" });
  return out;
}

// ---------------------------------------------------------------------------------------------
// From the validated value to configurations.

/** Torch's (and the trainer's) default learning rates, made explicit so every record states its lr. */
const DEFAULT_LR: Record<OptimizerSpec["name"], number> = { adam: 0.001, adamw: 0.001, sgd: 0.01 };

function optimizerOf(o: RawOptimizer, lr?: number): OptimizerSpec {
  const out: OptimizerSpec = { name: o.name, lr: lr ?? o.lr ?? DEFAULT_LR[o.name] };
  if (o.momentum !== undefined) out.momentum = o.momentum;
  if (o.nesterov !== undefined) out.nesterov = o.nesterov;
  if (o.weightDecay !== undefined) out.weightDecay = o.weightDecay;
  return out;
}

/** The optimizer's combination rule (train-settings.ts, the one `halfwatt train` applies to its flags). */
function optimizerIssues(o: RawOptimizer, path: string): SpecIssue[] {
  return trainSettingIssues({ optimizer: o }).map((i) => ({
    path: `${path}.${i.field}`,
    message: i.message,
  }));
}

type Draft = Omit<RunConfiguration, "id"> & { path: string };

function optimizerTag(o: OptimizerSpec): string {
  let s = o.name;
  if (o.momentum !== undefined) s += `-m${o.momentum}`;
  if (o.nesterov) s += "-nesterov";
  if (o.weightDecay !== undefined) s += `-wd${o.weightDecay}`;
  return s;
}

/**
 * Readable ids: precision, batch and widths always ("f32-b32-n1024"); epochs, lr and the optimizer
 * only where they vary across the suite, so the dissertation's four stay short while a crossing
 * over lr still gets distinct ids. Every field of a configuration that varies is in its id, so
 * equal ids mean equal configurations.
 */
function assignIds(drafts: Draft[]): RunConfiguration[] {
  const varies = (f: (d: Draft) => string) => new Set(drafts.map(f)).size > 1;
  const withEpochs = varies((d) => String(d.epochs));
  const withLr = varies((d) => String(d.optimizer.lr));
  const withOpt = varies((d) => optimizerTag(d.optimizer));
  return drafts.map(({ path: _path, ...d }) => {
    let id = `${d.precision}-b${d.batch}-n${d.neurons.join("x")}`;
    if (withEpochs) id += `-e${d.epochs}`;
    if (withLr) id += `-lr${d.optimizer.lr}`;
    if (withOpt) id += `-${optimizerTag(d.optimizer)}`;
    return { id, ...d };
  });
}

function duplicateLevels(list: unknown[], path: string): SpecIssue[] {
  const out: SpecIssue[] = [];
  const seen = new Map<string, number>();
  list.forEach((v, i) => {
    const key = JSON.stringify(v);
    const first = seen.get(key);
    if (first !== undefined) out.push({ path: `${path}[${i}]`, message: `repeats ${path}[${first}]` });
    else seen.set(key, i);
  });
  return out;
}

// The crossing is for designs of a few dozen cells; thousands is surely a mistake in the levels.
const MAX_CONFIGURATIONS = 1000;

function configurationsOf(raw: RawSuite): { configs: RunConfiguration[]; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [...optimizerIssues(raw.optimizer, "optimizer")];
  const drafts: Draft[] = [];
  if (raw.configurations) {
    raw.configurations.forEach((c, i) => {
      const path = `configurations[${i}]`;
      const epochs = c.epochs ?? raw.epochs;
      if (epochs === undefined)
        issues.push({ path: `${path}.epochs`, message: 'is required here when the suite sets no "epochs"' });
      if (c.optimizer) issues.push(...optimizerIssues(c.optimizer, `${path}.optimizer`));
      drafts.push({
        path,
        precision: c.precision,
        batch: c.batch,
        neurons: c.neurons,
        epochs: epochs ?? 0,
        optimizer: optimizerOf(c.optimizer ?? raw.optimizer),
      });
    });
  } else if (raw.factors) {
    const f = raw.factors;
    for (const k of ["precision", "batch", "neurons", "epochs", "lr", "optimizer"] as const)
      if (f[k]) issues.push(...duplicateLevels(f[k], `factors.${k}`));
    f.optimizer?.forEach((o, i) => {
      issues.push(...optimizerIssues(o, `factors.optimizer[${i}]`));
    });
    const epochLevels = f.epochs ?? (raw.epochs === undefined ? [] : [raw.epochs]);
    if (epochLevels.length === 0)
      issues.push({ path: "epochs", message: 'is required when "factors" has no "epochs" levels' });
    const optLevels = f.optimizer ?? [raw.optimizer];
    const lrLevels: (number | undefined)[] = f.lr ?? [undefined];
    const count =
      f.precision.length *
      f.batch.length *
      f.neurons.length *
      epochLevels.length *
      optLevels.length *
      lrLevels.length;
    if (count > MAX_CONFIGURATIONS) {
      issues.push({
        path: "factors",
        message: `the crossing has ${count} configurations; at most ${MAX_CONFIGURATIONS}`,
      });
      return { configs: [], issues };
    }
    for (const p of f.precision)
      for (const b of f.batch)
        for (const n of f.neurons)
          for (const e of epochLevels)
            for (const o of optLevels)
              for (const lr of lrLevels)
                drafts.push({
                  path: "factors",
                  precision: p,
                  batch: b,
                  neurons: n,
                  epochs: e,
                  optimizer: optimizerOf(o, lr),
                });
  }
  if (issues.length > 0) return { configs: [], issues };
  const configs = assignIds(drafts);
  const seen = new Map<string, number>();
  configs.forEach((c, i) => {
    const first = seen.get(c.id);
    if (first === undefined) seen.set(c.id, i);
    else
      issues.push({
        path: drafts[i].path === "factors" ? "factors" : drafts[i].path,
        message:
          drafts[i].path === "factors"
            ? `the crossing yields configuration ${c.id} twice (two optimizer levels that differ only in lr, with "lr" levels?)`
            : `the same configuration as ${drafts[first].path} (${c.id})`,
      });
  });
  return { configs, issues };
}

// ---------------------------------------------------------------------------------------------
// Entry points.

/** Validates a parsed document (from a file, a preset, or a test) into a SuiteSpec. */
export function parseSuiteSpec(value: unknown, origin: string): SuiteSpec {
  const parsed = suiteSchema.safeParse(value, {
    error: (iss) => (iss.code === "invalid_type" && iss.input === undefined ? "is required" : undefined),
  });
  const issues = [...(parsed.success ? [] : zodIssues(parsed.error)), ...crossChecks(value)];
  if (!parsed.success || issues.length > 0) throw new SuiteSpecError(origin, dedupe(issues));
  const raw = parsed.data;
  const { configs, issues: more } = configurationsOf(raw);
  if (more.length > 0) throw new SuiteSpecError(origin, more);
  const carbon: CarbonSpec = {
    source:
      raw.carbon.intensity !== undefined
        ? { kind: "constant", intensity: raw.carbon.intensity }
        : raw.carbon.zone !== undefined
          ? { kind: "zone", zone: raw.carbon.zone.toUpperCase() }
          : { kind: "csv", file: raw.carbon.csv as string },
    pue: raw.carbon.pue,
  };
  return {
    name: raw.name,
    data: raw.data,
    ...(raw.imageSize !== undefined ? { imageSize: raw.imageSize } : {}),
    replicates: raw.replicates,
    seed: raw.seed,
    configurations: configs,
    baselineSeconds: raw.baselineSeconds,
    cooldown: raw.cooldown,
    carbon,
    telemetry: raw.telemetry,
    // Only when given, so that a stored suite's spec from before these fields still matches on --resume.
    ...(raw.accuracyTarget !== undefined ? { accuracyTarget: raw.accuracyTarget } : {}),
    ...(raw.equivalenceMargin !== undefined ? { equivalenceMargin: raw.equivalenceMargin } : {}),
    origin,
  };
}

function dedupe(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The 1-based line and column of a character offset (for JSON syntax errors). */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split(/\r?\n/);
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function readDocument(file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (![".yaml", ".yml", ".json"].includes(ext))
    throw new SuiteSpecError(file, [
      {
        path: "",
        message: `not a preset (${Object.keys(PRESETS).join(", ")}) nor a .yaml, .yml or .json file`,
      },
    ]);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SuiteSpecError(file, [
      {
        path: "",
        message:
          code === "ENOENT"
            ? `no such file (and not a preset: ${Object.keys(PRESETS).join(", ")})`
            : `cannot read (${(e as Error).message})`,
      },
    ]);
  }
  if (ext === ".json") {
    try {
      JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message.replace(/ \(line \d+ column \d+\)$/, "");
      const m = /position (\d+)/.exec(msg);
      const where = m ? lineCol(text, Number(m[1])) : null;
      throw new SuiteSpecError(file, [
        {
          path: "",
          message: `JSON syntax error${where ? ` at line ${where.line}, column ${where.col}` : ""}: ${msg}`,
        },
      ]);
    }
  }
  // JSON is YAML 1.2, so the YAML parser reads both. JSON.parse above gives JSON's own syntax
  // messages; this parse adds what JSON.parse lets pass: a repeated key (the last one silently won).
  const kind = ext === ".json" ? "JSON" : "YAML";
  // maxAliasCount: an alias bomb (a billion laughs) is refused rather than expanded (yaml's default, stated).
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new SuiteSpecError(
      file,
      doc.errors.map((err) => {
        const pos = err.linePos?.[0];
        const at = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
        if (err.code === "DUPLICATE_KEY")
          return {
            path: "",
            message: `${kind}: the key ${keyAt(text, err.pos[0])} appears twice in one object${at}`,
          };
        // prettyErrors adds linePos and a " at line L, column C:" tail with a code excerpt: keep the gist.
        const first = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        return { path: "", message: `${kind} syntax error${at}: ${first}` };
      }),
    );
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new SuiteSpecError(file, [
      {
        path: "",
        message: `${kind}: ${(e as Error).message} (aliases expand to more than ${MAX_ALIAS_COUNT} times the nodes they name); write the values out`,
      },
    ]);
  }
}

/** yaml's limit on alias expansion (its default): a suite file has no need of more. */
const MAX_ALIAS_COUNT = 100;

/** The key starting at `offset` of a JSON or YAML text, quoted as written ("name", 'name', name). */
function keyAt(text: string, offset: number): string {
  const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^:\s,{}]+)/.exec(text.slice(offset));
  return m ? (m[1].startsWith('"') || m[1].startsWith("'") ? m[1] : `"${m[1]}"`) : "(unknown)";
}

/** The command line's name of each override, so an out-of-range value blames the flag, not the file. */
const OVERRIDE_FLAGS: Record<keyof SpecOverrides, string> = {
  data: "--data",
  replicates: "--replicates",
  seed: "--seed",
  baselineSeconds: "--baseline-seconds",
};

/**
 * Each override checked by its field's schema alone, before it joins the file's values: a problem
 * blames the flag (`--replicates: must be … (got 1000000)`), not the file, which may be fine.
 */
function checkOverrides(overrides: SpecOverrides): void {
  const issues: SpecIssue[] = [];
  for (const [k, v] of Object.entries(overrides) as [keyof SpecOverrides, unknown][]) {
    if (v === undefined) continue;
    const r = (suiteSchema.shape[k] as z.ZodType).safeParse(v);
    if (!r.success)
      issues.push({
        path: OVERRIDE_FLAGS[k],
        message: `${r.error.issues[0]?.message} (got ${JSON.stringify(v)})`,
      });
  }
  if (issues.length) throw new SuiteSpecError("the command line", issues);
}

/**
 * A preset name (dissertation, quick) or a suite file; the overrides are the command line's
 * (--data, --replicates, --seed, --baseline-seconds) and are validated like the file's own fields.
 * The file's relative paths (data, carbon.csv) are its folder's; a CSV carbon file is read and
 * checked here, before anything runs (with `runsFrom`, also that it is in force when the runs start).
 */
export function loadSuiteSpec(
  source: string,
  overrides: SpecOverrides = {},
  /** runsFrom: when the runs start (Date.now() for a suite about to run): a carbon series must be in force then. */
  when: { runsFrom?: number } = {},
): SuiteSpec {
  const preset = Object.hasOwn(PRESETS, source) ? PRESETS[source] : undefined;
  let value: unknown;
  if (preset) {
    if (preset.needsData && overrides.data === undefined)
      throw new SuiteSpecError(source, [{ path: "data", message: preset.needsData }]);
    value = structuredClone(preset.spec);
  } else value = readDocument(source);
  checkOverrides(overrides);
  if (isObject(value)) for (const [k, v] of Object.entries(overrides)) if (v !== undefined) value[k] = v;
  const spec = parseSuiteSpec(value, source);
  // One rule for a suite file's paths: relative to the file's folder (a preset's, and a flag's,
  // to the working directory), made absolute here so the runs, the store and a Slurm job agree.
  const base = preset ? process.cwd() : dirname(resolve(source));
  const fromFile = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  // A named set (synthetic…, fashion-mnist) is not a path; fashion-mnist:DIR's DIR is one.
  if (overrides.data === undefined && !preset && !/^synthetic(:|$)/.test(spec.data.trim())) {
    const fm = /^fashion-mnist(?::(.+))?$/.exec(spec.data.trim());
    if (!fm) spec.data = fromFile(spec.data);
    else if (fm[1] !== undefined) spec.data = `fashion-mnist:${fromFile(fm[1].trim())}`;
  }
  const src = spec.carbon.source;
  if (src.kind === "csv" && !preset)
    spec.carbon = { ...spec.carbon, source: { kind: "csv", file: fromFile(src.file) } };
  validateCarbon(spec.carbon, { now: when.runsFrom });
  return spec;
}
