// RAPL through a fake powercap tree in a temp dir: discovery, wrap-around, failures.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnergyLedger } from "../../src/telemetry/ledger.js";
import { probeRapl, RaplSource, WrapUnwrapper } from "../../src/telemetry/rapl.js";

let root: string;
const MAX = 262_143_328_850; // a real max_energy_range_uj

function zone(name: string, dirName: string, energyUj: number) {
  const dir = join(root, dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "name"), `${name}\n`);
  writeFileSync(join(dir, "energy_uj"), `${energyUj}\n`);
  writeFileSync(join(dir, "max_energy_range_uj"), `${MAX}\n`);
  return (uj: number) => writeFileSync(join(dir, "energy_uj"), `${uj}\n`);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "halfwatt-rapl-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("RAPL", () => {
  it("finds package and dram domains and skips core/uncore", () => {
    zone("package-0", "intel-rapl:0", 1);
    zone("core", "intel-rapl:0:0", 1);
    zone("dram", "intel-rapl:0:1", 1);
    zone("package-1", "intel-rapl:1", 1);
    mkdirSync(join(root, "intel-rapl")); // the control-type directory
    const { domains, availability } = probeRapl(root);
    expect(availability.available).toBe(true);
    expect(domains.map((d) => [d.id, d.component])).toEqual([
      ["rapl:package-0", "cpu"],
      ["rapl:package-0/dram", "dram"],
      ["rapl:package-1", "cpu"],
    ]);
  });

  it("unwraps the counter at max_energy_range_uj", () => {
    const set = zone("package-0", "intel-rapl:0", MAX - 2_000_000);
    const src = new RaplSource(probeRapl(root).domains);
    const first = src.read()[0].energyJ as number;
    set(MAX - 500_000);
    const second = src.read()[0].energyJ as number;
    set(3_000_000); // wrapped: 0.5 J to the top, then 3 J
    const third = src.read()[0].energyJ as number;
    expect(second - first).toBeCloseTo(1.5, 9);
    expect(third - second).toBeCloseTo(3.5, 9);
    expect(src.channels[0]).toMatchObject({ component: "cpu", counter: "counter" });
  });

  it("gives the right phase energy across a wrap", () => {
    const u = new WrapUnwrapper(1000);
    const raw = [900, 950, 20, 70];
    const l = new EnergyLedger([
      { id: "p", component: "cpu", source: "pkg", counter: "counter", updatePeriodMs: 1 },
    ]);
    l.mark("run", 0);
    l.end(3000);
    l.add(raw.map((v, i) => ({ channel: "p", t: i * 1000, energyJ: u.next(v) })));
    expect(l.report().phases[0].channels[0].gross.joules).toBe(170);
    expect(u.wraps).toBe(1);
  });

  it("says why when there is no powercap tree or no zones", () => {
    const missing = probeRapl(join(root, "nope"));
    expect(missing.availability).toMatchObject({ available: false });
    expect(!missing.availability.available && missing.availability.reason).toMatch(/no .*nope.*RAPL/);
    const empty = probeRapl(root);
    expect(!empty.availability.available && empty.availability.reason).toMatch(/no intel-rapl/);
  });

  it("says why when energy_uj cannot be read", () => {
    zone("package-0", "intel-rapl:0", 1);
    rmSync(join(root, "intel-rapl:0", "energy_uj"));
    mkdirSync(join(root, "intel-rapl:0", "energy_uj")); // EISDIR on read
    const r = probeRapl(root);
    expect(!r.availability.available && r.availability.reason).toMatch(/cannot read .*energy_uj/);
  });

  it.skipIf(process.getuid?.() === 0)("reports permission denied (root-only energy_uj) with the fix", () => {
    zone("package-0", "intel-rapl:0", 1);
    chmodSync(join(root, "intel-rapl:0", "energy_uj"), 0o000);
    const r = probeRapl(root);
    expect(!r.availability.available && r.availability.reason).toMatch(/permission denied.*CVE-2020-8694/);
  });
});
