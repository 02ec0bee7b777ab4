// Wall meters: the whole machine's power at the plug (component `system`).
// - CSV import (`timestamp,watts`), e.g. a logger's export; timestamps are ISO 8601 or Unix
//   seconds, placed into phases by the wall-clock time recorded at each phase mark;
// - a manual average (read off a plug's display, as the dissertation did): `estimated`;
// - live polling of a networked smart plug over HTTP: Shelly Gen2 (`/rpc/Switch.GetStatus?id=0`,
//   field `apower`) and Tasmota (`/cm?cmnd=Status%208`, `StatusSNS.ENERGY.Power`).
import { readFileSync } from "node:fs";
import { HalfwattError } from "../errors.js";
import { monotonicMs } from "./clock.js";
import { TelemetryError, TelemetryInputError } from "./errors.js";
import { EnergyLedger, type PhaseEnergy, type PhaseMark } from "./ledger.js";
import type { ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

export interface WallReading {
  wallMs: number;
  watts: number;
}

export class WallCsvError extends HalfwattError {
  constructor(
    readonly file: string,
    readonly row: number,
    detail: string,
  ) {
    super("E_CSV", `${file}, row ${row}: ${detail}`);
  }
}

function parseTimestamp(text: string): number | null {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000; // Unix seconds
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** Parses `timestamp,watts` rows (an optional header row is skipped). Errors name file and row. */
export function parseWallCsv(text: string, file = "<csv>"): WallReading[] {
  const out: WallReading[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const row = i + 1;
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const cells = line.split(",").map((c) => c.trim());
    if (row === 1 && /^[a-z_ ]+$/i.test(cells[0])) return; // header
    if (cells.length < 2) throw new WallCsvError(file, row, `expected "timestamp,watts", got "${line}"`);
    const wallMs = parseTimestamp(cells[0]);
    if (wallMs === null)
      throw new WallCsvError(file, row, `timestamp "${cells[0]}" is neither ISO 8601 nor Unix seconds`);
    const watts = Number(cells[1]);
    if (cells[1] === "" || !Number.isFinite(watts))
      throw new WallCsvError(file, row, `watts "${cells[1]}" is not a number`);
    if (watts < 0) throw new WallCsvError(file, row, `watts ${watts} is negative`);
    const prev = out.at(-1);
    if (prev && wallMs <= prev.wallMs)
      throw new WallCsvError(file, row, `timestamp ${cells[0]} is not after the previous row's`);
    out.push({ wallMs, watts });
  });
  if (out.length < 2)
    throw new WallCsvError(file, lines.length, `needs at least 2 readings, found ${out.length}`);
  return out;
}

export function readWallCsv(file: string): WallReading[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TelemetryError(
      `${file}: ${code === "ENOENT" ? "no such file" : `cannot read (${(e as Error).message})`}`,
      { code: "E_INPUT", cause: e },
    );
  }
  return parseWallCsv(text, file);
}

const WALL_CSV_CHANNEL = "wall:csv";

/**
 * Energy per phase from imported readings: they are moved onto the monotonic clock with the
 * offset between Date.now() and the monotonic clock at the first mark, then integrated like any
 * sampled power. `updatePeriodMs` is the meter's logging interval.
 */
export function wallCsvEnergy(
  readings: readonly WallReading[],
  marks: readonly PhaseMark[],
  end: { t: number },
  file: string,
  updatePeriodMs = 1000,
): PhaseEnergy[] {
  if (!marks.length) return [];
  const channel: ChannelInfo = {
    id: WALL_CSV_CHANNEL,
    component: "system",
    source: `wall meter CSV ${file}`,
    power: "sampled",
    updatePeriodMs,
  };
  const ledger = new EnergyLedger([channel]);
  for (const m of marks) ledger.mark(m.name, m.t, m.wallMs);
  ledger.end(end.t);
  const offset = marks[0].wallMs - marks[0].t;
  ledger.add(readings.map((r) => ({ channel: WALL_CSV_CHANNEL, powerW: r.watts, t: r.wallMs - offset })));
  return ledger.report().phases;
}

/** A manual average: W × duration per phase, labelled estimated. */
export function manualWallEnergy(watts: number, phases: readonly { name: string; durationS: number }[]) {
  if (!(watts >= 0)) throw new TelemetryInputError(`manual wall power ${watts} W must be >= 0`);
  return phases.map((p) => ({
    phase: p.name,
    joules: watts * p.durationS,
    provenance: "estimated" as const,
    source: `wall meter, manual average of ${watts} W`,
  }));
}

// ---- smart plugs ------------------------------------------------------------------------------

export type PlugKind = "shelly" | "tasmota";

export function plugStatusUrl(kind: PlugKind, base: string): string {
  const root = base.replace(/\/+$/, "");
  return kind === "shelly" ? `${root}/rpc/Switch.GetStatus?id=0` : `${root}/cm?cmnd=Status%208`;
}

/** Watts from a plug's JSON status; throws naming the missing field. */
export function plugWatts(kind: PlugKind, body: unknown): number {
  const b = body as Record<string, unknown> | null;
  const w =
    kind === "shelly"
      ? b?.apower
      : ((b?.StatusSNS as Record<string, unknown> | undefined)?.ENERGY as Record<string, unknown> | undefined)
          ?.Power;
  if (typeof w !== "number" || !Number.isFinite(w))
    throw new TelemetryError(
      `${kind} status has no numeric ${kind === "shelly" ? "apower" : "StatusSNS.ENERGY.Power"}: ${JSON.stringify(body).slice(0, 200)}`,
    );
  return w;
}

export async function pollPlug(kind: PlugKind, base: string, timeoutMs = 2000): Promise<number> {
  const url = plugStatusUrl(kind, base);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new TelemetryError(`${url}: HTTP ${res.status}`);
  return plugWatts(kind, await res.json());
}

/** Polls a plug (once a second by default: plugs refresh their reading about that often). */
export class SmartPlugSource implements TelemetrySource {
  readonly name: string;
  readonly channels: ChannelInfo[];

  constructor(
    private readonly kind: PlugKind,
    private readonly base: string,
    readonly minIntervalMs = 1000,
  ) {
    this.name = `plug:${kind}`;
    this.channels = [
      {
        id: `wall:${kind}`,
        component: "system",
        source: `${kind === "shelly" ? "Shelly" : "Tasmota"} plug at ${base}`,
        power: "sampled",
        updatePeriodMs: minIntervalMs,
      },
    ];
  }

  async read(): Promise<ChannelReading[]> {
    const before = monotonicMs();
    const watts = await pollPlug(this.kind, this.base);
    // The plug's value dates from somewhere inside the request; its middle is the best guess.
    return [{ channel: `wall:${this.kind}`, powerW: watts, t: (before + monotonicMs()) / 2 }];
  }
}
