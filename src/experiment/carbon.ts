// Carbon intensity of a run: a constant, a zone of the shipped annual-average table
// (carbon-zones.json, each figure with its source and year), or a `timestamp,gco2_per_kwh` series
// (e.g. an Electricity Maps export) averaged over the run's window, weighted by time.
import { readFileSync } from "node:fs";
import { CsvError, parse } from "csv-parse/sync";
import { HalfwattError } from "../errors.js";
import table from "./carbon-zones.json" with { type: "json" };
import type { CarbonSpec } from "./types.js";

export interface ResolvedCarbon {
  /** gCO2e/kWh applied to the run. */
  intensity: number;
  pue: number;
  /** What the figure came from, for the report's provenance. */
  source: string;
}

interface ZoneEntry {
  name: string;
  intensity: number;
  year: number;
  source: string;
}
interface SourceEntry {
  name: string;
  year: number;
  url: string | null;
  basis: string;
}
const ZONES = table.zones as Record<string, ZoneEntry>;
const SOURCES = table.sources as Record<string, SourceEntry>;

/** A carbon setting that cannot be used: an unknown zone, a bad PUE or intensity (E_INPUT). */
export class CarbonError extends HalfwattError {
  constructor(message: string) {
    super("E_INPUT", message);
  }
}

/** A carbon CSV that does not parse or does not cover the run (E_CSV); names file, row, field. */
export class CarbonCsvError extends HalfwattError {
  constructor(
    readonly file: string,
    /** 1-based line of the file (the header is line 1); 0 when the error is about the whole file. */
    readonly row: number,
    readonly field: string | null,
    detail: string,
    /** True when the file is fine but does not cover the time asked for. */
    readonly coverage = false,
  ) {
    super("E_CSV", `${file}${row > 0 ? `, row ${row}` : ""}${field ? `, ${field}` : ""}: ${detail}`);
  }
}

/** Zone codes of the shipped table, sorted. */
export function knownZones(): string[] {
  return Object.keys(ZONES).sort();
}

/** A zone's entry with its source, or a CarbonError listing the known zones. */
export function zoneIntensity(zone: string): ZoneEntry & { sourceInfo: SourceEntry } {
  const e = ZONES[zone.toUpperCase()];
  if (!e) throw new CarbonError(`unknown carbon zone "${zone}" (known: ${knownZones().join(", ")})`);
  return { ...e, sourceInfo: SOURCES[e.source] };
}

export interface IntensityPoint {
  /** Unix ms. */
  t: number;
  gco2PerKwh: number;
}

// ISO 8601 date-time (T or a space), seconds and fraction optional; without an offset it is UTC,
// as in Electricity Maps' exports ("2024-01-01 00:00:00").
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/i;

function parseIso(text: string): number | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [, date, time, zone] = m;
  const ms = Date.parse(`${date}T${time ?? "00:00"}${zone ? zone.toUpperCase() : "Z"}`);
  return Number.isNaN(ms) ? null : ms;
}

/** Parses a `timestamp,gco2_per_kwh` series: strictly increasing ISO timestamps, values ≥ 0. */
export function parseIntensityCsv(text: string, file: string): IntensityPoint[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // info: each record's line number, so errors name the file's own line even past blank lines.
    records = parse(text, {
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      info: true,
    }) as never;
  } catch (e) {
    const line = e instanceof CsvError ? Number((e as CsvError & { lines?: number }).lines ?? 0) : 0;
    throw new CarbonCsvError(file, line, null, `not a readable CSV (${(e as Error).message})`);
  }
  const rows = records.map((r) => r.record);
  if (rows.length === 0)
    throw new CarbonCsvError(file, 0, null, "is empty: expected a header timestamp,gco2_per_kwh");
  const header = rows[0].map((h) => h.replace(/^\uFEFF/, "").toLowerCase());
  const ti = header.indexOf("timestamp");
  const vi = header.indexOf("gco2_per_kwh");
  if (ti < 0 || vi < 0)
    throw new CarbonCsvError(
      file,
      1,
      null,
      `the header must name the columns timestamp and gco2_per_kwh, got "${rows[0].join(",")}"`,
    );
  const out: IntensityPoint[] = [];
  for (let i = 1; i < rows.length; i++) {
    const row = records[i].info.lines;
    const cells = rows[i];
    const tText = cells[ti] ?? "";
    const vText = cells[vi] ?? "";
    const t = parseIso(tText);
    if (t === null)
      throw new CarbonCsvError(
        file,
        row,
        "timestamp",
        `"${tText}" is not an ISO 8601 date-time (e.g. 2024-05-01T14:00:00Z)`,
      );
    const v = Number(vText);
    if (vText === "" || !Number.isFinite(v))
      throw new CarbonCsvError(file, row, "gco2_per_kwh", `"${vText}" is not a number`);
    if (v < 0) throw new CarbonCsvError(file, row, "gco2_per_kwh", `${v} is negative`);
    const prev = out.at(-1);
    if (prev && t <= prev.t)
      throw new CarbonCsvError(file, row, "timestamp", `${tText} is not after the previous row's timestamp`);
    out.push({ t, gco2PerKwh: v });
  }
  // Each row holds until the next: the last row only closes the series, so two rows are the least.
  if (out.length < 2)
    throw new CarbonCsvError(
      file,
      0,
      null,
      `needs at least 2 rows (each value holds until the next row), found ${out.length}`,
    );
  return out;
}

export function readIntensityCsv(file: string): IntensityPoint[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CarbonCsvError(
      file,
      0,
      null,
      code === "ENOENT" ? "no such file" : `cannot read (${(e as Error).message})`,
    );
  }
  return parseIntensityCsv(text, file);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The time-weighted mean of a step series over [startMs, endMs]: row i's value holds from its
 * timestamp to row i+1's. A window reaching outside [first, last timestamp] is an error; an empty
 * window (start = end) takes the value in force at that instant.
 */
export function weightedMean(
  points: IntensityPoint[],
  startMs: number,
  endMs: number,
  file = "<series>",
): number {
  if (!(Number.isFinite(startMs) && Number.isFinite(endMs)) || endMs < startMs)
    throw new CarbonError(`carbon window ${startMs}..${endMs} is not a time range`);
  const first = points[0].t;
  const last = points[points.length - 1].t;
  if (startMs < first || endMs > last)
    throw new CarbonCsvError(
      file,
      0,
      null,
      `the series covers ${iso(first)} to ${iso(last)}, but the run's window is ${iso(startMs)} to ${iso(endMs)}`,
      true,
    );
  if (endMs === startMs) {
    let i = 0;
    while (i + 1 < points.length - 1 && points[i + 1].t <= startMs) i++;
    return points[i].gco2PerKwh;
  }
  let sum = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = Math.max(points[i].t, startMs);
    const b = Math.min(points[i + 1].t, endMs);
    if (b > a) sum += points[i].gco2PerKwh * (b - a);
  }
  return sum / (endMs - startMs);
}

function checkPue(pue: number): void {
  if (!(Number.isFinite(pue) && pue >= 1)) throw new CarbonError(`carbon pue ${pue} must be a number ≥ 1`);
}

/**
 * Checks a carbon setting before any run: the constant and PUE are usable, the zone is known, the
 * CSV reads and parses, and — given `now`, the time the runs start — the series is in force now
 * (starts at or before it, ends after it): a series that ends before the runs, or starts after
 * them, would leave every run without an intensity, so it is refused here, not at each run's end.
 */
export function validateCarbon(carbon: CarbonSpec, at: { now?: number } = {}): void {
  checkPue(carbon.pue);
  const s = carbon.source;
  if (s.kind === "constant") {
    if (!(Number.isFinite(s.intensity) && s.intensity >= 0))
      throw new CarbonError(`carbon intensity ${s.intensity} must be a number ≥ 0 (gCO2e/kWh)`);
  } else if (s.kind === "zone") zoneIntensity(s.zone);
  else {
    const points = readIntensityCsv(s.file);
    if (at.now !== undefined) checkCoversStart(points, at.now, s.file);
  }
}

/** A CarbonCsvError unless the series is in force at `now` and goes on after it. */
export function checkCoversStart(points: IntensityPoint[], now: number, file: string): void {
  const first = points[0].t;
  const last = points[points.length - 1].t;
  if (first <= now && now < last) return;
  throw new CarbonCsvError(
    file,
    0,
    null,
    `the series covers ${iso(first)} to ${iso(last)}, but the runs start now (${iso(now)}), ${now < first ? "before it begins" : "after it ends"}: give a series that covers the whole suite (e.g. a forecast), or a constant intensity or zone`,
  );
}

/**
 * The intensity of a run that spanned [startMs, endMs], or null with the reason when a CSV series
 * does not cover the whole window (it ended during the run): the run's energy stands, its carbon
 * is missing. Any other problem (an unreadable file) still throws.
 */
export function runCarbon(
  carbon: CarbonSpec,
  window: { startMs: number; endMs: number },
): { carbon: ResolvedCarbon | null; note: string | null } {
  try {
    return { carbon: resolveIntensity(carbon, window), note: null };
  } catch (e) {
    if (e instanceof CarbonCsvError && e.coverage)
      return { carbon: null, note: `carbon missing: ${e.message}` };
    throw e;
  }
}

/** The intensity applied to a run that spanned [startMs, endMs] (Date.now() values), with its source. */
export function resolveIntensity(
  carbon: CarbonSpec,
  window: { startMs: number; endMs: number },
): ResolvedCarbon {
  validateCarbon(carbon);
  const s = carbon.source;
  if (s.kind === "constant")
    return { intensity: s.intensity, pue: carbon.pue, source: `constant ${s.intensity} gCO2e/kWh` };
  if (s.kind === "zone") {
    const z = zoneIntensity(s.zone);
    const where = z.sourceInfo.url ? `, ${z.sourceInfo.url}` : "";
    return {
      intensity: z.intensity,
      pue: carbon.pue,
      source: `zone ${s.zone.toUpperCase()} (${z.name}): ${z.year} annual average, ${z.sourceInfo.name}${where}`,
    };
  }
  const points = readIntensityCsv(s.file);
  const mean = weightedMean(points, window.startMs, window.endMs, s.file);
  return {
    intensity: mean,
    pue: carbon.pue,
    source: `${s.file}: time-weighted mean over ${iso(window.startMs)} to ${iso(window.endMs)}`,
  };
}
