// The suite specification: every problem of a bad file listed with its path, unknown keys, the
// configurations/factors rule, YAML/JSON syntax errors with line and column, the presets against
// the dissertation's Tables 1–2, the crossing, defaults and overrides.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exitCodeOf, HalfwattError } from "../../src/errors.js";
import { PRESETS } from "../../src/experiment/presets.js";
import { loadSuiteSpec, parseSuiteSpec, type SpecIssue, SuiteSpecError } from "../../src/experiment/spec.js";
import { MAX_HZ } from "../../src/telemetry/sampler.js";

const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);

function issuesOf(f: () => unknown): SpecIssue[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SuiteSpecError);
    expect(e).toBeInstanceOf(HalfwattError);
    expect((e as HalfwattError).code).toBe("E_INPUT");
    expect(exitCodeOf(e)).toBe(2);
    return (e as SuiteSpecError).issues;
  }
  throw new Error("expected a SuiteSpecError");
}

const paths = (issues: SpecIssue[]) => issues.map((i) => i.path).sort();

const minimal = () => ({
  name: "t",
  data: "synthetic:classes=10,size=16",
  epochs: 3,
  configurations: [{ precision: "f32", batch: 32, neurons: [64] }],
  carbon: { intensity: 268 },
});

describe("bad files", () => {
  it("lists every problem of a file, each with its path, in one error", () => {
    const issues = issuesOf(() => loadSuiteSpec(fixture("bad-many.yaml")));
    expect(paths(issues)).toEqual(
      [
        "carbon.pue",
        "configurations[1].batch",
        "configurations[1].precision",
        "configurations[2].neurons",
        "replicates",
      ].sort(),
    );
    const by = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(by["configurations[1].batch"]).toBe("must be an integer ≥ 1");
    expect(by["configurations[1].precision"]).toBe('must be "f32" or "mixed"');
    expect(by["replicates"]).toBe("must be an integer from 1 to 1000");
    expect(by["carbon.pue"]).toMatch(/from 1 to 10/);
    expect(by["configurations[2].neurons"]).toMatch(/at least one/);
    // The message carries the file and every line.
    try {
      loadSuiteSpec(fixture("bad-many.yaml"));
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain("bad-many.yaml: 5 problems");
      expect(msg).toContain("configurations[1].batch: must be an integer ≥ 1");
    }
  });

  it("reports unknown keys (typos) with the key's path and the name meant", () => {
    const issues = issuesOf(() => loadSuiteSpec(fixture("typo.yaml")));
    expect(paths(issues)).toEqual(["configurations[0].epoch", "replicate"]);
    for (const i of issues)
      expect(i.message).toMatch(/^unknown key \(did you mean "(replicates|epochs)"\?\)$/);
  });

  it("an unknown key far from every name lists the known keys instead", () => {
    const v = { ...minimal(), carbon: { intensity: 268, colour: "green" } };
    const issues = issuesOf(() => parseSuiteSpec(v, "x"));
    expect(issues).toEqual([
      { path: "carbon.colour", message: "unknown key (known: intensity, zone, csv, pue)" },
    ]);
  });

  it("wants exactly one of configurations and factors", () => {
    const both = issuesOf(() => loadSuiteSpec(fixture("both.json")));
    expect(both).toHaveLength(1);
    expect(both[0].path).toBe("");
    expect(both[0].message).toMatch(/not both/);
    const neither = issuesOf(() => loadSuiteSpec(fixture("neither.json")));
    expect(neither).toHaveLength(1);
    expect(neither[0].message).toMatch(/"configurations".*or "factors"/);
  });

  it("names line and column of a YAML syntax error", () => {
    const issues = issuesOf(() => loadSuiteSpec(fixture("syntax.yaml")));
    expect(issues.length).toBeGreaterThanOrEqual(1);
    expect(issues[0].path).toBe("");
    expect(issues[0].message).toMatch(/^YAML syntax error at line [45], column \d+/);
  });

  it("names line and column of a JSON syntax error", () => {
    // Written here, not kept as a fixture: the linter would reject a broken .json file.
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-spec-json-"));
    try {
      const f = join(dir, "syntax.json");
      writeFileSync(f, '{\n  "name": "broken",\n  "epochs": 3,,\n  "carbon": { "intensity": 268 }\n}\n');
      const issues = issuesOf(() => loadSuiteSpec(f));
      expect(issues).toHaveLength(1);
      expect(issues[0].message).toMatch(/^JSON syntax error at line 3, column 15: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says what is missing, and rejects a source that is neither preset nor suite file", () => {
    const { name: _n, carbon: _c, ...rest } = minimal();
    const issues = issuesOf(() => parseSuiteSpec(rest, "x"));
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "name", message: "is required" },
        { path: "carbon", message: "is required" },
      ]),
    );
    expect(issuesOf(() => loadSuiteSpec("dissertaton"))[0].message).toMatch(
      /not a preset \(dissertation, quick, fashion\)/,
    );
    expect(issuesOf(() => loadSuiteSpec("/nonexistent/suite.yaml"))[0].message).toMatch(/no such file/);
  });

  it("rejects duplicate configurations, naming both", () => {
    const v = minimal();
    v.configurations.push(
      { precision: "mixed", batch: 32, neurons: [64] },
      { precision: "f32", batch: 32, neurons: [64] },
    );
    expect(issuesOf(() => parseSuiteSpec(v, "x"))).toEqual([
      { path: "configurations[2]", message: "the same configuration as configurations[0] (f32-b32-n64)" },
    ]);
    // Equal after the suite's epochs apply: still the same configuration.
    const w = minimal();
    w.configurations.push({ precision: "f32", batch: 32, neurons: [64], epochs: 3 } as never);
    expect(paths(issuesOf(() => parseSuiteSpec(w, "x")))).toEqual(["configurations[1]"]);
  });

  it("rejects repeated factor levels and a crossing without epochs", () => {
    const { configurations: _c, epochs: _e, ...base } = minimal();
    const v = { ...base, factors: { precision: ["f32", "mixed"], batch: [32, 64, 32], neurons: [[64]] } };
    const issues = issuesOf(() => parseSuiteSpec(v, "x"));
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "factors.batch[2]", message: "repeats factors.batch[0]" },
        { path: "epochs", message: 'is required when "factors" has no "epochs" levels' },
      ]),
    );
  });

  it("carbon: exactly one source, a known zone", () => {
    const v = { ...minimal(), carbon: { intensity: 268, zone: "GB" } };
    expect(issuesOf(() => parseSuiteSpec(v, "x"))[0]).toEqual({
      path: "carbon",
      message: 'give only one of "intensity", "zone" or "csv", not intensity and zone',
    });
    const w = { ...minimal(), carbon: { zone: "XX" } };
    const [iss] = issuesOf(() => parseSuiteSpec(w, "x"));
    expect(iss.path).toBe("carbon.zone");
    expect(iss.message).toMatch(/unknown zone "XX" \(known: .*GB.*\)/);
  });

  it("the report's accuracy target and equivalence margin: fractions, validated with their paths", () => {
    const v = { ...minimal(), accuracyTarget: 80, equivalenceMargin: 0 };
    expect(issuesOf(() => parseSuiteSpec(v, "x"))).toEqual([
      {
        path: "accuracyTarget",
        message: "must be a validation accuracy above 0 and at most 1 (a fraction, e.g. 0.8)",
      },
      {
        path: "equivalenceMargin",
        message:
          "must be a test accuracy difference above 0 and below 1 (a fraction: 0.01 = ±1 percentage point)",
      },
    ]);
    const w = { ...minimal(), accuracyTarget: "high" };
    expect(issuesOf(() => parseSuiteSpec(w, "x"))[0].path).toBe("accuracyTarget");
    const s = parseSuiteSpec({ ...minimal(), accuracyTarget: 0.8, equivalenceMargin: 0.02 }, "x");
    expect([s.accuracyTarget, s.equivalenceMargin]).toEqual([0.8, 0.02]);
    // Absent: absent from the spec (the report's defaults), so older stored specs still match.
    const d = parseSuiteSpec(minimal(), "x");
    expect("accuracyTarget" in d || "equivalenceMargin" in d).toBe(false);
  });

  it("optimizer settings that do not apply are errors", () => {
    const v = { ...minimal(), optimizer: { name: "adam", momentum: 0.9 } };
    expect(issuesOf(() => parseSuiteSpec(v, "x"))).toEqual([
      { path: "optimizer.momentum", message: "applies to sgd only, not adam" },
    ]);
  });
});

describe("valid specs", () => {
  it("fills the defaults: replicates 5, seed 1, auto baseline, cooldown 3 °C / 120 s, PUE 1, 10 Hz, Adam 0.001", () => {
    const s = parseSuiteSpec(minimal(), "mem");
    expect(s.replicates).toBe(5);
    expect(s.seed).toBe(1);
    expect(s.baselineSeconds).toBeNull();
    expect(s.cooldown).toEqual({ withinCelsius: 3, maxSeconds: 120 });
    expect(s.carbon).toEqual({ source: { kind: "constant", intensity: 268 }, pue: 1 });
    expect(s.telemetry).toEqual({ hz: 10 });
    expect(s.configurations).toEqual([
      {
        id: "f32-b32-n64",
        precision: "f32",
        batch: 32,
        neurons: [64],
        epochs: 3,
        optimizer: { name: "adam", lr: 0.001 },
      },
    ]);
    expect(s.origin).toBe("mem");
  });

  it("per-configuration epochs and optimizer override the suite's, and the ids say so", () => {
    const v = minimal();
    v.configurations.push({
      precision: "f32",
      batch: 32,
      neurons: [64],
      epochs: 5,
      optimizer: { name: "sgd", momentum: 0.9 },
    } as never);
    const s = parseSuiteSpec(v, "x");
    expect(s.configurations.map((c) => [c.id, c.epochs, c.optimizer])).toEqual([
      ["f32-b32-n64-e3-lr0.001-adam", 3, { name: "adam", lr: 0.001 }],
      ["f32-b32-n64-e5-lr0.01-sgd-m0.9", 5, { name: "sgd", lr: 0.01, momentum: 0.9 }],
    ]);
  });

  it("factors: the full crossing, each cell once, with unique readable ids", () => {
    const s = loadSuiteSpec(fixture("good.yml"));
    expect(s.configurations).toHaveLength(2 * 2 * 2);
    const cells = s.configurations.map((c) => `${c.precision}/${c.batch}/${c.neurons.join("x")}`).sort();
    const expected: string[] = [];
    for (const p of ["f32", "mixed"])
      for (const b of [32, 256]) for (const n of ["64", "128"]) expected.push(`${p}/${b}/${n}`);
    expect(cells).toEqual(expected.sort());
    expect(new Set(s.configurations.map((c) => c.id)).size).toBe(8);
    expect(s.configurations.map((c) => c.id)).toContain("mixed-b256-n128");
    // The CSV path is resolved next to the suite file (and was read and checked while loading).
    expect(s.carbon.source).toEqual({ kind: "csv", file: fixture("series.csv") });
    expect(s.carbon.pue).toBe(1.2);
  });

  it("crossing over optimizer, lr and epochs levels multiplies, and every id differs", () => {
    const { configurations: _c, ...base } = minimal();
    const v = {
      ...base,
      factors: {
        precision: ["f32", "mixed"],
        batch: [16, 32, 64],
        neurons: [[64], [64, 32]],
        epochs: [1, 2],
        optimizer: ["adam", { name: "sgd", momentum: 0.9 }],
        lr: [0.1, 0.01, 0.001],
      },
    };
    const s = parseSuiteSpec(v, "x");
    expect(s.configurations).toHaveLength(2 * 3 * 2 * 2 * 2 * 3);
    expect(new Set(s.configurations.map((c) => c.id)).size).toBe(s.configurations.length);
    expect(s.configurations.map((c) => c.id)).toContain("mixed-b64-n64x32-e2-lr0.01-sgd-m0.9");
  });

  it("command-line overrides replace the file's values and are validated like them", () => {
    const s = loadSuiteSpec(fixture("good.yml"), {
      replicates: 4,
      seed: 99,
      baselineSeconds: 0,
      data: "synthetic",
    });
    expect([s.replicates, s.seed, s.baselineSeconds, s.data]).toEqual([4, 99, 0, "synthetic"]);
    expect(issuesOf(() => loadSuiteSpec(fixture("good.yml"), { replicates: 0 }))).toEqual([
      { path: "--replicates", message: "must be an integer from 1 to 1000 (got 0)" },
    ]);
  });

  it("an out-of-range flag is blamed on the flag, not on the (good) file", () => {
    try {
      loadSuiteSpec(fixture("good.yml"), { replicates: 1_000_000 });
      throw new Error("expected a SuiteSpecError");
    } catch (e) {
      expect(e).toBeInstanceOf(SuiteSpecError);
      expect((e as SuiteSpecError).origin).toBe("the command line");
      expect((e as Error).message).not.toContain("good.yml");
      expect((e as Error).message).toContain("--replicates: must be an integer from 1 to 1000 (got 1000000)");
    }
  });
});

describe("suite files: one rule for paths, duplicate keys, alias bombs, the sampler's rate", () => {
  const dir = mkdtempSync(join(tmpdir(), "halfwatt-spec-files-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("a JSON file with a repeated key is refused, naming the key and its line", () => {
    const f = write(
      "dup.json",
      '{\n  "name": "a",\n  "data": "synthetic",\n  "replicates": 2,\n  "replicates": 3\n}\n',
    );
    const issues = issuesOf(() => loadSuiteSpec(f));
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toBe(
      'JSON: the key "replicates" appears twice in one object at line 5, column 3',
    );
  });

  it("a YAML file with a repeated key names the key and its line too", () => {
    const f = write("dup.yaml", "name: a\ndata: synthetic\nepochs: 2\nname: b\n");
    const [iss] = issuesOf(() => loadSuiteSpec(f));
    expect(iss.message).toBe('YAML: the key "name" appears twice in one object at line 4, column 1');
  });

  it("a YAML alias bomb is refused as bad input (E_INPUT, exit 2) in the usual format", () => {
    // 9 aliases per level, 8 levels: 9⁸ ≈ 43 million strings if expanded.
    let text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    let prev = "a";
    for (const n of "bcdefgh") {
      text += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(",")}]\n`;
      prev = n;
    }
    const f = write("bomb.yaml", text);
    const [iss] = issuesOf(() => loadSuiteSpec(f));
    expect(iss.path).toBe("");
    expect(iss.message).toMatch(/^YAML: .*alias.*write the values out/i);
  });

  it("data and carbon.csv both resolve against the suite file's folder, not the working directory", () => {
    const sub = join(dir, "sub");
    mkdirSync(sub, { recursive: true });
    // A series in force now: from an hour ago to a day ahead.
    const h = 3_600_000;
    const t0 = new Date(Date.now() - h).toISOString();
    const t1 = new Date(Date.now() + 24 * h).toISOString();
    writeFileSync(join(sub, "grid.csv"), `timestamp,gco2_per_kwh\n${t0},100\n${t1},100\n`);
    const f = join(sub, "suite.json");
    writeFileSync(f, JSON.stringify({ ...minimal(), data: "images/birds", carbon: { csv: "grid.csv" } }));
    const s = loadSuiteSpec(f, {}, { runsFrom: Date.now() });
    expect(s.data).toBe(join(sub, "images", "birds"));
    expect(s.carbon.source).toEqual({ kind: "csv", file: join(sub, "grid.csv") });
    // --data is the command line's: the working directory's, as given.
    expect(loadSuiteSpec(f, { data: "here/imgs" }).data).toBe("here/imgs");
    // A preset's paths are the working directory's.
    expect(loadSuiteSpec("dissertation", { data: "rel/birds" }).data).toBe("rel/birds");
  });

  it("a named dataset in a suite file stays a name: synthetic…, fashion-mnist; fashion-mnist:DIR's DIR is the file's", () => {
    const sub = join(dir, "named");
    mkdirSync(sub, { recursive: true });
    const f = join(sub, "suite.json");
    const withData = (data: string) => {
      writeFileSync(f, JSON.stringify({ ...minimal(), data }));
      return loadSuiteSpec(f).data;
    };
    // An H200 run of a suite file with "data": "fashion-mnist" once looked for sub/fashion-mnist.
    expect(withData("fashion-mnist")).toBe("fashion-mnist");
    expect(withData("fashion-mnist:idx")).toBe(`fashion-mnist:${join(sub, "idx")}`);
    expect(withData("fashion-mnist:/abs/idx")).toBe("fashion-mnist:/abs/idx");
    expect(withData("synthetic:classes=3")).toBe("synthetic:classes=3");
    // A folder that happens to be called fashion-mnist is written as a path, as --data says.
    expect(withData("./fashion-mnist")).toBe(join(sub, "fashion-mnist"));
  });

  it("telemetry.hz: the sampler's limit (MAX_HZ), one constant for both", () => {
    const ok = parseSuiteSpec({ ...minimal(), telemetry: { hz: MAX_HZ } }, "t");
    expect(ok.telemetry.hz).toBe(100);
    expect(issuesOf(() => parseSuiteSpec({ ...minimal(), telemetry: { hz: 101 } }, "t"))).toEqual([
      { path: "telemetry.hz", message: "must be a number > 0 and ≤ 100" },
    ]);
  });
});

describe("carbon CSV checked while loading", () => {
  const dir = mkdtempSync(join(tmpdir(), "halfwatt-spec-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a suite whose carbon CSV is bad fails before anything runs, naming the row", () => {
    writeFileSync(
      join(dir, "s.csv"),
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,100\n2024-01-01T01:00:00Z,abc\n",
    );
    writeFileSync(join(dir, "suite.json"), JSON.stringify({ ...minimal(), carbon: { csv: "s.csv" } }));
    expect(() => loadSuiteSpec(join(dir, "suite.json"))).toThrow(
      /s\.csv, row 3, gco2_per_kwh: "abc" is not a number/,
    );
  });
  it("a series that ended before the runs (or starts after them) is refused up front", () => {
    // Independent of the code: 2024 is in the past, 2999 in the future.
    writeFileSync(
      join(dir, "past.csv"),
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,100\n2024-01-02T00:00:00Z,120\n",
    );
    writeFileSync(
      join(dir, "future.csv"),
      "timestamp,gco2_per_kwh\n2999-01-01T00:00:00Z,100\n2999-01-02T00:00:00Z,120\n",
    );
    for (const [name, when] of [
      ["past", "after it ends"],
      ["future", "before it begins"],
    ] as const) {
      writeFileSync(
        join(dir, `${name}.json`),
        JSON.stringify({ ...minimal(), carbon: { csv: `${name}.csv` } }),
      );
      let err: unknown;
      try {
        loadSuiteSpec(join(dir, `${name}.json`), {}, { runsFrom: Date.now() });
      } catch (e) {
        err = e;
      }
      expect(exitCodeOf(err)).toBe(2);
      expect((err as Error).message).toContain(`${name}.csv`);
      expect((err as Error).message).toContain(when);
    }
  });
});

describe("presets", () => {
  it("dissertation = Tables 1–2 (f32/32/1024, mixed/32/1024, mixed/256/1024, mixed/256/2048) + f32 twins at 256, 25 epochs, 224×224", () => {
    const s = loadSuiteSpec("dissertation", { data: "/data/birds" });
    expect(s.configurations.map((c) => [c.precision, c.batch, c.neurons, c.epochs])).toEqual([
      ["f32", 32, [1024], 25],
      ["mixed", 32, [1024], 25],
      ["mixed", 256, [1024], 25],
      ["mixed", 256, [2048], 25],
      ["f32", 256, [1024], 25],
      ["f32", 256, [2048], 25],
    ]);
    // The dissertation's four keep their ids; the twins' follow the same rule.
    expect(s.configurations.map((c) => c.id)).toEqual([
      "f32-b32-n1024",
      "mixed-b32-n1024",
      "mixed-b256-n1024",
      "mixed-b256-n2048",
      "f32-b256-n1024",
      "f32-b256-n2048",
    ]);
    expect(s.imageSize).toBe(224);
    expect(s.data).toBe("/data/birds");
    // Keras' Adam default (the dissertation names no learning rate).
    for (const c of s.configurations) expect(c.optimizer).toEqual({ name: "adam", lr: 0.001 });
    // Table 3, step 3: 268 gCO2e.
    expect(s.carbon).toEqual({ source: { kind: "constant", intensity: 268 }, pue: 1 });
    expect(s.replicates).toBe(5);
  });

  it("dissertation without --data is a clear error", () => {
    const [iss] = issuesOf(() => loadSuiteSpec("dissertation"));
    expect(iss.path).toBe("data");
    expect(iss.message).toMatch(/--data DIR/);
  });

  it("quick: the same six designs shrunk (batches 32/256, widths 1:2), 3 replicates, 18 runs, CPU-sized", () => {
    const s = loadSuiteSpec("quick");
    expect(s.configurations.map((c) => [c.precision, c.batch, c.neurons])).toEqual([
      ["f32", 32, [64]],
      ["mixed", 32, [64]],
      ["mixed", 256, [64]],
      ["mixed", 256, [128]],
      ["f32", 256, [64]],
      ["f32", 256, [128]],
    ]);
    expect(s.replicates).toBe(3);
    expect(s.replicates * s.configurations.length).toBe(18);
    expect(s.data).toMatch(/^synthetic:/);
    expect(s.baselineSeconds).toBe(2);
    expect(s.cooldown.maxSeconds).toBe(0);
    for (const c of s.configurations) expect(c.epochs).toBe(3);
  });

  it("every mixed configuration of a preset has an f32 twin (same batch, widths, epochs, optimizer)", () => {
    for (const name of ["dissertation", "quick"]) {
      const s = loadSuiteSpec(name, { data: "synthetic" });
      const key = (c: (typeof s.configurations)[number]) =>
        JSON.stringify([c.batch, c.neurons, c.epochs, c.optimizer]);
      const f32 = new Set(s.configurations.filter((c) => c.precision === "f32").map(key));
      for (const c of s.configurations.filter((c) => c.precision === "mixed"))
        expect(f32.has(key(c)), `${name}: ${c.id}`).toBe(true);
    }
  });

  it("every preset validates as a file would", () => {
    for (const [name, p] of Object.entries(PRESETS))
      expect(() => parseSuiteSpec({ data: "synthetic", ...p.spec }, name)).not.toThrow();
  });
});
