// Carbon intensity: the CSV series' time-weighted mean against hand-computed windows and against a
// minute-by-minute reference on fresh random series; CSV errors naming file, row and field; the
// shipped zone table (figures as the cited pages print them, every zone with a source and year).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/errors.js";
import {
  type IntensityPoint,
  knownZones,
  parseIntensityCsv,
  resolveIntensity,
  runCarbon,
  validateCarbon,
  weightedMean,
} from "../../src/experiment/carbon.js";
import table from "../../src/experiment/carbon-zones.json" with { type: "json" };
import { openStore } from "../../src/experiment/store.js";
import type { CarbonSpec } from "../../src/experiment/types.js";
import { makeRng, runSeed } from "../helpers/rng.js";
import { makeEnv, makeFinish, makePlan, makeSpec } from "./fixtures/store-data.js";

const series = join(import.meta.dirname, "fixtures", "series.csv");
const at = (hhmm: string) => Date.parse(`2024-05-01T${hhmm}:00Z`);
const csv = (file: string, pue = 1): CarbonSpec => ({ source: { kind: "csv", file }, pue });

describe("CSV series: time-weighted mean", () => {
  // fixtures/series.csv: 200 from 12:00, 100 from 13:00, 300 from 14:00, closed at 15:00.
  const cases: [string, string, number][] = [
    ["12:30", "13:30", (30 * 200 + 30 * 100) / 60], // 150
    ["12:00", "15:00", (60 * 200 + 60 * 100 + 60 * 300) / 180], // 200
    ["12:45", "14:15", (15 * 200 + 60 * 100 + 15 * 300) / 90], // 150
    ["13:10", "13:50", 100],
    ["12:00", "12:06", 200],
    ["13:54", "14:54", (6 * 100 + 54 * 300) / 60], // 280
  ];
  for (const [a, b, want] of cases)
    it(`${a}–${b} → ${want}`, () => {
      const r = resolveIntensity(csv(series, 1.1), { startMs: at(a), endMs: at(b) });
      expect(r.intensity).toBeCloseTo(want, 10);
      expect(r.pue).toBe(1.1);
      expect(r.source).toContain("series.csv");
    });

  it("an empty window takes the value in force at that instant", () => {
    expect(resolveIntensity(csv(series), { startMs: at("13:30"), endMs: at("13:30") }).intensity).toBe(100);
    expect(resolveIntensity(csv(series), { startMs: at("14:00"), endMs: at("14:00") }).intensity).toBe(300);
  });

  it("a window outside the series is an error naming both ranges", () => {
    for (const [a, b] of [
      ["11:00", "12:30"],
      ["14:30", "15:30"],
      ["11:00", "16:00"],
    ])
      expect(() => resolveIntensity(csv(series), { startMs: at(a), endMs: at(b) })).toThrow(
        new RegExp(
          `series\\.csv: the series covers 2024-05-01T12:00:00\\.000Z to 2024-05-01T15:00:00\\.000Z, but the run's window is 2024-05-01T${a}:00\\.000Z to 2024-05-01T${b}:00\\.000Z`,
        ),
      );
  });

  it("matches a minute-by-minute sum on fresh random series and windows", () => {
    const seed = runSeed();
    const rng = makeRng(seed);
    for (let trial = 0; trial < 50; trial++) {
      // Steps at whole minutes with random gaps; values in [0, 800).
      const points: IntensityPoint[] = [];
      const values: number[] = []; // value in force during each minute from the first timestamp
      let minute = 0;
      const n = 2 + Math.floor(rng() * 12);
      for (let i = 0; i < n; i++) {
        const v = Math.round(rng() * 8000) / 10;
        points.push({ t: 1.7e12 + minute * 60000, gco2PerKwh: v });
        const len = 1 + Math.floor(rng() * 90);
        if (i < n - 1) for (let k = 0; k < len; k++) values.push(v);
        if (i < n - 1) minute += len;
      }
      const total = values.length;
      const a = Math.floor(rng() * total);
      const b = a + 1 + Math.floor(rng() * (total - a));
      let ref = 0;
      for (let m = a; m < b; m++) ref += values[m];
      ref /= b - a;
      const got = weightedMean(points, 1.7e12 + a * 60000, 1.7e12 + b * 60000);
      expect(got, `seed ${seed}, trial ${trial}`).toBeCloseTo(ref, 8);
    }
  });
});

describe("CSV series: bad files name file, row and field", () => {
  const dir = mkdtempSync(join(tmpdir(), "halfwatt-carbon-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  const bad: [string, string, RegExp][] = [
    [
      "header",
      "time,value\n2024-01-01T00:00:00Z,1\n",
      /header\.csv, row 1: the header must name the columns timestamp and gco2_per_kwh/,
    ],
    [
      "stamp",
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,1\nyesterday,2\n",
      /stamp\.csv, row 3, timestamp: "yesterday" is not an ISO 8601/,
    ],
    [
      "value",
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,\n",
      /value\.csv, row 3, gco2_per_kwh: "" is not a number/,
    ],
    [
      "negative",
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,-5\n2024-01-01T01:00:00Z,1\n",
      /negative\.csv, row 2, gco2_per_kwh: -5 is negative/,
    ],
    [
      "order",
      "timestamp,gco2_per_kwh\n2024-01-01T01:00:00Z,1\n2024-01-01T01:00:00Z,2\n",
      /order\.csv, row 3, timestamp: .* not after the previous/,
    ],
    [
      "blank",
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,1\n\n\n2024-01-01T01:00:00Z,x\n",
      /blank\.csv, row 5, gco2_per_kwh: "x"/,
    ],
    ["short", "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,1\n", /short\.csv: needs at least 2 rows/],
    ["empty", "", /empty\.csv: is empty/],
  ];
  for (const [name, text, re] of bad)
    it(`${name}: ${re.source.slice(0, 60)}`, () => {
      const f = write(`${name}.csv`, text);
      let err: unknown;
      try {
        validateCarbon(csv(f));
      } catch (e) {
        err = e;
      }
      expect(String((err as Error)?.message)).toMatch(re);
      expect((err as { code?: string }).code).toBe("E_CSV");
      expect(exitCodeOf(err)).toBe(2);
    });

  it("a missing file is named", () => {
    expect(() => validateCarbon(csv(join(dir, "nope.csv")))).toThrow(/nope\.csv: no such file/);
  });

  it("reads offsets, a space for T, no zone as UTC, extra columns and a BOM", () => {
    const pts = parseIntensityCsv(
      "\uFEFFzone,timestamp,gco2_per_kwh\nGB,2024-01-01 00:00:00,10\nGB,2024-01-01T02:00:00+01:00,20\nGB,2024-01-01T01:30Z,30\n",
      "x.csv",
    );
    expect(pts).toEqual([
      { t: Date.UTC(2024, 0, 1, 0, 0), gco2PerKwh: 10 },
      { t: Date.UTC(2024, 0, 1, 1, 0), gco2PerKwh: 20 },
      { t: Date.UTC(2024, 0, 1, 1, 30), gco2PerKwh: 30 },
    ]);
  });
});

describe("constant and zone", () => {
  it("a constant is itself, with the PUE", () => {
    expect(
      resolveIntensity({ source: { kind: "constant", intensity: 268 }, pue: 1.5 }, { startMs: 0, endMs: 1 }),
    ).toEqual({
      intensity: 268,
      pue: 1.5,
      source: "constant 268 gCO2e/kWh",
    });
  });

  it("zones give the cited figure with its year and source, case-insensitively", () => {
    const gb = resolveIntensity({ source: { kind: "zone", zone: "gb" }, pue: 1 }, { startMs: 0, endMs: 1 });
    expect(gb.intensity).toBe(162);
    expect(gb.source).toMatch(/^zone GB .*2023 annual average, Carbon Brief/);
    // Figures as printed in the Our World in Data table (Ember and Energy Institute, 2023).
    const owid: Record<string, number> = {
      DE: 381,
      FR: 56,
      IN: 713,
      CN: 582,
      IE: 291,
      GR: 337,
      FI: 79,
      BR: 98,
    };
    for (const [z, v] of Object.entries(owid)) {
      const r = resolveIntensity({ source: { kind: "zone", zone: z }, pue: 1 }, { startMs: 0, endMs: 1 });
      expect(r.intensity, z).toBe(v);
      expect(r.source, z).toContain("ourworldindata.org");
    }
    expect(
      resolveIntensity({ source: { kind: "zone", zone: "WORLD" }, pue: 1 }, { startMs: 0, endMs: 1 })
        .intensity,
    ).toBe(481);
  });

  it("an unknown zone lists the known ones", () => {
    expect(() => validateCarbon({ source: { kind: "zone", zone: "Atlantis" }, pue: 1 })).toThrow(
      /unknown carbon zone "Atlantis" \(known: AR, AT, .*GB.*WORLD\)/,
    );
  });

  it("rejects a PUE below 1 and a negative or non-finite intensity", () => {
    expect(() => validateCarbon({ source: { kind: "constant", intensity: 100 }, pue: 0.9 })).toThrow(
      /pue 0\.9/,
    );
    expect(() => validateCarbon({ source: { kind: "constant", intensity: -1 }, pue: 1 })).toThrow(
      /intensity -1/,
    );
    expect(() => validateCarbon({ source: { kind: "constant", intensity: Number.NaN }, pue: 1 })).toThrow(
      /intensity NaN/,
    );
  });

  it("the table: ≥ 25 zones incl. the required ones, each with a finite figure, a year and a cited source", () => {
    const zones = table.zones as Record<
      string,
      { intensity: number; year: number; source: string; name: string }
    >;
    const sources = table.sources as Record<
      string,
      { name: string; year: number; url: string | null; basis: string }
    >;
    expect(knownZones().length).toBeGreaterThanOrEqual(25);
    for (const z of ["GB", "DE", "FR", "US", "CN", "IN", "SE", "NO", "PL", "IE", "GR", "WORLD"])
      expect(knownZones(), z).toContain(z);
    for (const [code, e] of Object.entries(zones)) {
      expect(Number.isFinite(e.intensity) && e.intensity >= 0, code).toBe(true);
      expect(e.year, code).toBeGreaterThanOrEqual(2015);
      const s = sources[e.source];
      expect(s, `${code}: source ${e.source}`).toBeDefined();
      expect(s.name.length).toBeGreaterThan(10);
      expect(s.basis.length).toBeGreaterThan(10);
      expect(s.year).toBe(e.year);
    }
  });
});

describe("a series that ends during a run: the energy stands, the carbon is missing", () => {
  // fixtures/series.csv closes at 15:00; a run from 14:30 to 15:30 reaches past it.
  it("runCarbon gives null with a note naming the file, not an error", () => {
    const r = runCarbon(csv(series), { startMs: at("14:30"), endMs: at("15:30") });
    expect(r.carbon).toBeNull();
    expect(r.note).toMatch(/^carbon missing: .*series\.csv: the series covers .* but the run's window/);
    // A covered window still resolves (200·30 + 100·30)/60 = 150.
    expect(
      runCarbon(csv(series), { startMs: at("12:30"), endMs: at("13:30") }).carbon?.intensity,
    ).toBeCloseTo(150, 10);
  });

  it("an unreadable file is still an error (only coverage is forgiven)", () => {
    expect(() => runCarbon(csv("/nonexistent/grid.csv"), { startMs: 0, endMs: 1 })).toThrow(/no such file/);
  });

  it("the store keeps a completed run with its energy and no carbon", () => {
    const rng = makeRng(runSeed());
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-carbon-store-"));
    try {
      const store = openStore(join(dir, "r.db"));
      const spec = makeSpec(rng);
      const plan = makePlan(spec, rng);
      const suite = store.openSuite(spec, plan);
      const config = spec.configurations.find((c) => c.id === plan[0].configId);
      if (!config) throw new Error("fixture plan names an unknown configuration");
      const id = store.startRun(suite.id, plan[0], config, makeEnv(rng), null);
      const finish = makeFinish(rng);
      store.finishRun(id, { ...finish, carbon: null });
      const run = store.results(suite.id).runs.find((r) => r.id === id);
      expect(run?.status).toBe("completed");
      expect(run?.carbon).toBeNull();
      expect(run?.energy.length).toBe(finish.energy.length);
      expect(run?.energy.length).toBeGreaterThan(0);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
