// Issue 12: the RAM per-module model, the checked TDP table, and low/high ranges through sums.
// Expectations are worked by hand from the models' stated constants (CodeCarbon 3: 5 W per x86
// module, 1.5 W per ARM module, 100/90/80/70 % tiers; 0.08 W/GB low end; idle floor 0…0.3) and
// from the SMBIOS spec's field layout (DMTF DSP0134 §7.18), never from the code under test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  CpuModelSource,
  IDLE_FRACTION_RANGE,
  lookupTdp,
  modelledCpuPowerW,
  resolveCpuModel,
  tdpTable,
} from "../../src/telemetry/cpu-model.js";
import { TelemetryInputError } from "../../src/telemetry/errors.js";
import { formatEnergyReport } from "../../src/telemetry/format.js";
import { type ChannelEnergy, componentTotals, EnergyLedger, phaseTotal } from "../../src/telemetry/ledger.js";
import {
  estimateModuleCount,
  modulePowerW,
  parseDmidecodeMemory,
  parseSmbiosType17,
  RamModelSource,
  readSmbiosModules,
  resolveRamModel,
  resolveRamPowerModel,
} from "../../src/telemetry/ram-model.js";
import type { ChannelInfo, Sample } from "../../src/telemetry/types.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A type-17 record as SMBIOS 2.7 lays it out: 0x22 formatted bytes, then its strings. */
function type17(sizeWord: number, extendedMb = 0, length = 0x22): Uint8Array {
  const strings = Buffer.from("DIMM_A1\0\0", "latin1");
  const buf = new Uint8Array(length + strings.length);
  const v = new DataView(buf.buffer);
  v.setUint8(0, 17);
  v.setUint8(1, length);
  v.setUint16(2, 0x1100, true); // handle
  v.setUint16(0x08, 72, true); // total width (ECC)
  v.setUint16(0x0a, 64, true); // data width
  v.setUint16(0x0c, sizeWord, true);
  v.setUint8(0x0e, 0x09); // form factor: DIMM
  v.setUint8(0x10, 1); // device locator: string 1
  v.setUint8(0x12, 0x1a); // memory type: DDR4
  if (length >= 0x20) v.setUint32(0x1c, extendedMb, true);
  buf.set(strings, length);
  return buf;
}

/** A fake /sys/firmware/dmi/entries with the given type-17 records (and a type-16 decoy). */
function dmiTree(records: Uint8Array[]): string {
  const root = mkdtempSync(join(tmpdir(), "halfwatt-dmi-"));
  dirs.push(root);
  records.forEach((r, i) => {
    mkdirSync(join(root, `17-${i}`));
    writeFileSync(join(root, `17-${i}`, "raw"), r);
  });
  mkdirSync(join(root, "16-0"));
  writeFileSync(join(root, "16-0", "raw"), Buffer.from([16, 0x17, 0, 0]));
  return root;
}

const GiB = 2 ** 30;
const meminfo = (gib: number) => `MemTotal:       ${Math.round((gib * GiB) / 1024)} kB\nMemFree: 1 kB\n`;
const NO_DMI = join(tmpdir(), "halfwatt-no-such-dmi-dir");

describe("SMBIOS type 17", () => {
  it("reads the Size word in MB and in KB, the Extended Size, empty and unknown sockets", () => {
    expect(parseSmbiosType17(type17(8192))).toEqual({ installed: true, bytes: 8 * GiB });
    expect(parseSmbiosType17(type17(0x8000 | 512))).toEqual({ installed: true, bytes: 512 * 1024 });
    expect(parseSmbiosType17(type17(0x7fff, 32768))).toEqual({ installed: true, bytes: 32 * GiB });
    // bit 31 of the Extended Size is reserved, not part of the size
    expect(parseSmbiosType17(type17(0x7fff, 0x80000000 | 65536))).toEqual({
      installed: true,
      bytes: 64 * GiB,
    });
    expect(parseSmbiosType17(type17(0))).toEqual({ installed: false });
    expect(parseSmbiosType17(type17(0xffff))).toEqual({ installed: true, bytes: null });
  });

  it("names the record when it is not type 17 or too short", () => {
    const t16 = type17(8192);
    t16[0] = 16;
    expect(() => parseSmbiosType17(t16, "/x/17-3/raw")).toThrow(/\/x\/17-3\/raw: structure type 16/);
    expect(() => parseSmbiosType17(type17(8192, 0, 0x0c), "r")).toThrow(TelemetryInputError);
    expect(() => parseSmbiosType17(type17(0x7fff, 32768, 0x15), "r")).toThrow(/Extended Size/);
  });

  it("reads populated modules from an entries tree, skipping empty sockets and other types", () => {
    const root = dmiTree([type17(8192), type17(0), type17(8192)]);
    expect(readSmbiosModules(root)).toEqual({ sizesGb: [8, 8] });
    expect(readSmbiosModules(NO_DMI)).toMatchObject({ reason: expect.stringMatching(/ENOENT/) });
    expect(readSmbiosModules(dmiTree([type17(0)]))).toMatchObject({ reason: /no populated/ });
  });

  it("parses dmidecode -t memory: sizes in MB/GB, empty sockets skipped, other Size lines ignored", () => {
    const text = [
      "# dmidecode 3.5",
      "Handle 0x1000, DMI type 16, 23 bytes\nPhysical Memory Array\n\tMaximum Capacity: 2 TB",
      "Handle 0x1100, DMI type 17, 40 bytes\nMemory Device\n\tSize: 32 GB\n\tForm Factor: DIMM\n\tVolatile Size: 32 GB",
      "Handle 0x1101, DMI type 17, 40 bytes\nMemory Device\n\tSize: No Module Installed",
      "Handle 0x1102, DMI type 17, 40 bytes\nMemory Device\n\tSize: 16384 MB",
      "Handle 0x0700, DMI type 7, 27 bytes\nCache Information\n\tInstalled Size: 512 kB",
    ].join("\n\n");
    expect(parseDmidecodeMemory(text)).toEqual([32, 16]);
    expect(() => parseDmidecodeMemory("Memory Device\n\tSize: lots")).toThrow(/Size "lots"/);
  });
});

describe("RAM per-module model (CodeCarbon 3)", () => {
  it("estimates module counts: CodeCarbon's typical configurations, ≥ 2 modules, ≤ 128 GB each", () => {
    const cases: [number, number][] = [
      [1, 2], // CodeCarbon says 1 up to 2 GB; the floor is 2
      [4, 2],
      [16, 2],
      [16.5, 4],
      [64, 4],
      [65, 8],
      [128, 8],
      [129, 9], // 129/8 = 16.1 → 16 GB modules → ceil(129/16)
      [251.5, 16], // a 256 GB server's MemTotal: 251.5/8 < 32 → 16 GB modules
      [256, 8],
      [1024, 8],
      [2048, 16],
      [8192, 64], // CodeCarbon caps at 32 (256 GB a module); 128 GB a module → 64
    ];
    for (const [gb, n] of cases) expect([gb, estimateModuleCount(gb)]).toEqual([gb, n]);
    expect(() => estimateModuleCount(0)).toThrow(/must be > 0/);
  });

  it("discounts modules at scale: 100 % for 1–4, 90 % for 5–8, 80 % for 9–16, 70 % after", () => {
    const cases: [number, number][] = [
      [1, 5],
      [2, 10],
      [4, 20],
      [5, 24.5],
      [8, 38],
      [9, 42],
      [16, 70],
      [17, 73.5],
      [20, 84],
    ];
    for (const [n, w] of cases) expect(modulePowerW(n, 5)).toBeCloseTo(w, 12);
    expect(modulePowerW(2, 1.5)).toBeCloseTo(3, 12);
  });

  it("16 GB laptop, 2 × 8 GB read from SMBIOS: 10 W, range 1.28–10 W; constant model 6 W", () => {
    const dmiEntries = dmiTree([type17(8192), type17(0), type17(8192), type17(0)]);
    const o = { meminfo: meminfo(16), dmiEntries, dmidecode: null, arch: "x64" };
    const m = resolveRamPowerModel(o);
    expect(m).toMatchObject({
      kind: "modules",
      wattsPerModule: 5,
      modules: { how: "smbios", sizesGb: [8, 8] },
    });
    expect(m.powerW).toBeCloseTo(10, 12);
    expect(m.lowW).toBeCloseTo(0.08 * 16, 12);
    expect(m.highW).toBeCloseTo(10, 12);
    expect(m.note).toMatch(/SMBIOS/);
    const c = resolveRamModel(o);
    expect(c).toMatchObject({ kind: "constant", wattsPerGb: 0.375 });
    expect(c.powerW).toBeCloseTo(6, 12);
    expect([c.lowW, c.highW]).toEqual([expect.closeTo(1.28, 12), expect.closeTo(10, 12)]);
    // --ram-w-per-gb alone selects the constant model, as before
    expect(resolveRamPowerModel({ ...o, wattsPerGb: 0.5 }).powerW).toBeCloseTo(8, 12);
  });

  it("256 GB server, 8 × 32 GB (Extended Size) from SMBIOS or dmidecode: 38 W, range 20.48–40 W", () => {
    const dmiEntries = dmiTree(Array.from({ length: 8 }, () => type17(0x7fff, 32768)));
    const m = resolveRamPowerModel({ meminfo: meminfo(251.5), dmiEntries, dmidecode: null, arch: "x64" });
    expect(m.modules).toMatchObject({ how: "smbios", sizesGb: Array(8).fill(32) });
    expect(m.powerW).toBeCloseTo(4 * 5 + 4 * 4.5, 12);
    expect(m.lowW).toBeCloseTo(0.08 * 256, 12); // installed GB, not MemTotal
    expect(m.highW).toBeCloseTo(40, 12);

    const dmidecode = Array.from({ length: 16 }, (_, i) =>
      i % 2 ? "Memory Device\n\tSize: No Module Installed" : "Memory Device\n\tSize: 32 GB",
    ).join("\n\n");
    const d = resolveRamPowerModel({ meminfo: meminfo(251.5), dmiEntries: NO_DMI, dmidecode, arch: "x64" });
    expect(d.modules.how).toBe("dmidecode");
    expect(d.powerW).toBeCloseTo(38, 12);
    expect(d.note).toMatch(/dmidecode/);

    const c = resolveRamModel({ meminfo: meminfo(256), dmiEntries, dmidecode: null, arch: "x64" });
    expect(c.powerW).toBeCloseTo(96, 12); // the old constant: more than the module model
    expect([c.lowW, c.highW]).toEqual([expect.closeTo(20.48, 12), expect.closeTo(96, 12)]);

    // Without DMI, a MemTotal of exactly 256 GiB is estimated as 8 × 32 GB as well.
    const e = resolveRamPowerModel({
      meminfo: meminfo(256),
      dmiEntries: NO_DMI,
      dmidecode: null,
      arch: "x64",
    });
    expect(e.modules).toMatchObject({ how: "estimated", sizesGb: Array(8).fill(32) });
    expect(e.powerW).toBeCloseTo(38, 12);
  });

  it("ARM board, 4 GB soldered, no DMI: estimated 2 modules × 1.5 W = 3 W, range 0.32–3 W", () => {
    const m = resolveRamPowerModel({
      meminfo: meminfo(4),
      dmiEntries: NO_DMI,
      dmidecode: null,
      arch: "arm64",
    });
    expect(m.modules).toMatchObject({ how: "estimated", sizesGb: [2, 2] });
    expect(m.wattsPerModule).toBe(1.5);
    expect(m.powerW).toBeCloseTo(3, 12);
    expect(m.lowW).toBeCloseTo(0.32, 12);
    expect(m.highW).toBeCloseTo(3, 12);
    expect(m.note).toMatch(/estimated from MemTotal.*did not tell.*ENOENT/);
    expect(() => resolveRamPowerModel({ meminfo: meminfo(4), model: "dimm" as never })).toThrow(/"dimm"/);
  });

  it("the source integrates value, low and high power as three estimated counters", async () => {
    const src = new RamModelSource({ gigabytes: 16, powerW: 10, lowW: 1.28, highW: 10, kind: "modules" });
    const r0 = src.read()[0];
    await new Promise((r) => setTimeout(r, 30));
    const r1 = src.read()[0];
    const s = ((r1.t as number) - (r0.t as number)) / 1000;
    expect(s).toBeGreaterThan(0);
    expect(r1.energyJ).toBeCloseTo(10 * s, 9);
    expect(r1.energyLowJ).toBeCloseTo(1.28 * s, 9);
    expect(r1.energyHighJ).toBeCloseTo(10 * s, 9);
    expect(src.channels[0]).toMatchObject({ component: "dram", counter: "estimated" });
  });
});

/**
 * [key, W, threads] per package, transcribed from the makers' data (Intel ARK "TDP" / "Processor
 * Base Power", AMD "Default TDP"; read from the ARK and amd.com exports in
 * github.com/felixsteinke/cpu-spec-dataset @ 4c08d88), not from cpu-tdp.json.
 */
const SPEC_SHEET: [string, number, number][] = [
  ["Xeon Platinum 8480+", 350, 112],
  ["Xeon Platinum 8468", 350, 96],
  ["Xeon Platinum 8462Y+", 300, 64],
  ["Xeon Gold 6430", 270, 64],
  ["Xeon Platinum 8380", 270, 80],
  ["Xeon Platinum 8358", 250, 64],
  ["Xeon Gold 6348", 235, 56],
  ["Xeon Silver 4310", 120, 24],
  ["Xeon Platinum 8280", 205, 56],
  ["Xeon Gold 6248", 150, 40],
  ["Xeon Gold 6230", 125, 40],
  ["Xeon Gold 6148", 150, 40],
  ["Xeon Silver 4214", 85, 24],
  ["Xeon E5-2690 v4", 135, 28],
  ["Xeon E5-2680 v4", 120, 28],
  ["Xeon E5-2620 v3", 85, 12],
  ["Xeon E3-1240 v2", 69, 8],
  ["EPYC 9754", 360, 256],
  ["EPYC 9654", 360, 192],
  ["EPYC 9554", 360, 128],
  ["EPYC 9454", 290, 96],
  ["EPYC 9354", 280, 64],
  ["EPYC 9124", 200, 32],
  ["EPYC 7763", 280, 128],
  ["EPYC 7742", 225, 128],
  ["EPYC 7713", 225, 128],
  ["EPYC 7543", 225, 64],
  ["EPYC 7513", 200, 64],
  ["EPYC 7452", 155, 64],
  ["EPYC 7282", 120, 32],
  ["Ryzen Threadripper 1950X", 180, 32],
  ["Ryzen 9 7950X", 170, 32],
  ["Ryzen 9 5950X", 105, 32],
  ["Ryzen 9 3900X", 105, 24],
  ["Ryzen 7 7800X3D", 120, 16],
  ["Ryzen 7 5800X", 105, 16],
  ["Core i9-13900K", 125, 32],
  ["Core i7-13700K", 125, 24],
  ["Core i7-12700K", 125, 20],
  ["Core i5-12600K", 125, 16],
  ["Core i9-9900K", 95, 16],
  ["Core i7-8700K", 95, 12],
  ["Core i7-7600U", 15, 4],
];

describe("CPU model: checked table, fallback, range", () => {
  it("every table entry cites its source: Intel's ARK page, AMD's product specifications", () => {
    const t = tdpTable();
    expect(Object.keys(t).length).toBe(43);
    for (const [key, e] of Object.entries(t)) {
      expect(e.tdpW, key).toBeGreaterThan(0);
      expect(Number.isInteger(e.threads) && e.threads > 0, key).toBe(true);
      if (/^(Xeon|Core)/.test(key))
        expect(e.source, key).toMatch(/^https:\/\/ark\.intel\.com\/.*\/products\/\d+\//);
      else expect(e.source, key).toMatch(/AMD product specifications/);
    }
  });

  it("holds exactly the entries confirmed on a maker's page, with the maker's figures", () => {
    const t = tdpTable();
    expect(Object.keys(t).sort()).toEqual(SPEC_SHEET.map(([k]) => k).sort());
    for (const [key, w, th] of SPEC_SHEET) {
      expect([key, t[key].tdpW, t[key].threads]).toEqual([key, w, th]);
      expect(lookupTdp(key)?.key, key).toBe(key);
    }
  });

  it("matches the makers' spec sheets through /proc/cpuinfo-style names", () => {
    const sheet: [string, number, number][] = [
      ["Intel(R) Xeon(R) Platinum 8480+", 350, 112], // ARK: TDP 350 W
      ["Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 150, 40],
      ["Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz", 135, 28],
      ["12th Gen Intel(R) Core(TM) i7-12700K", 125, 20], // Processor Base Power
      ["Intel(R) Core(TM) i7-7600U CPU @ 2.80GHz", 15, 4],
      ["AMD EPYC 7763 64-Core Processor", 280, 128], // Default TDP
      ["AMD EPYC 9654 96-Core Processor", 360, 192],
      ["AMD Ryzen 9 7950X 16-Core Processor", 170, 32],
    ];
    for (const [name, w, th] of sheet)
      expect([name, lookupTdp(name)?.entry]).toMatchObject([name, { tdpW: w, threads: th }]);
  });

  it("dropped entries that no maker's page confirmed fall back, and say it is a fallback", () => {
    for (const name of [
      "Intel(R) Core(TM) i9-14900K",
      "AMD EPYC 9965 192-Core Processor",
      "INTEL(R) XEON(R) PLATINUM 8592+",
    ])
      expect(lookupTdp(name), name).toBeNull();
    const m = resolveCpuModel({
      cpuinfo: { model: "Intel(R) Core(TM) i9-14900K", logicalCpus: 32, packages: 1 },
    });
    expect(m.tdpW).toBe(128);
    expect(m.origin).toMatch(/^fallback, not a spec sheet/);
    const t = resolveCpuModel({
      cpuinfo: { model: "AMD EPYC 7763 64-Core Processor", logicalCpus: 128, packages: 1 },
    });
    expect(t.origin).toMatch(/source: AMD product specifications/);
  });

  it("range: the same curve with f_idle = 0 and 0.3, widened to a chosen f_idle", () => {
    expect(IDLE_FRACTION_RANGE).toEqual([0, 0.3]);
    const info = { model: "x", logicalCpus: 4, packages: 1 };
    expect(resolveCpuModel({ cpuinfo: info }).idleFractionRange).toEqual([0, 0.3]);
    expect(resolveCpuModel({ cpuinfo: info, idleFraction: 0.5 }).idleFractionRange).toEqual([0, 0.5]);
    // TDP 200 W at half load: 100 W (no floor), 110 W (0.1), 130 W (0.3 + 0.7 × 0.5)
    expect(modelledCpuPowerW({ tdpW: 200, idleFraction: 0 }, 0.5)).toBeCloseTo(100, 12);
    expect(modelledCpuPowerW({ tdpW: 200, idleFraction: 0.3 }, 0.5)).toBeCloseTo(130, 12);
  });

  it("the source accumulates the low and high curves next to the value", async () => {
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-stat-range-"));
    dirs.push(dir);
    const stat = join(dir, "stat");
    writeFileSync(stat, "cpu  100 0 0 900 0 0 0 0 0 0\n");
    const src = new CpuModelSource({ tdpW: 100, idleFraction: 0.1, cpuModel: "fake", origin: "test" }, stat);
    const r0 = src.read()[0];
    await new Promise((r) => setTimeout(r, 40));
    writeFileSync(stat, "cpu  160 0 0 940 0 0 0 0 0 0\n"); // 60 of 100 ticks busy
    const r1 = src.read()[0];
    const dt = ((r1.t as number) - (r0.t as number)) / 1000;
    expect(r1.energyJ).toBeCloseTo(100 * (0.1 + 0.9 * 0.6) * dt, 9);
    expect(r1.energyLowJ).toBeCloseTo(100 * 0.6 * dt, 9);
    expect(r1.energyHighJ).toBeCloseTo(100 * (0.3 + 0.7 * 0.6) * dt, 9);
    expect(src.channels[0].note).toMatch(/f_idle = 0 to 0\.3/);
  });
});

describe("ranges through the ledger and its sums", () => {
  const channels: ChannelInfo[] = [
    { id: "cpu-model", component: "cpu", source: "CPU model", counter: "estimated", updatePeriodMs: 0 },
    { id: "ram-model", component: "dram", source: "RAM model", counter: "estimated", updatePeriodMs: 0 },
    { id: "gpu", component: "gpu", source: "GPU", counter: "counter", power: "sampled", updatePeriodMs: 0 },
  ];

  /**
   * Baseline 0–1 s, command 1–3 s. CPU model: 5 W (low 2, high 10) in the baseline, 10 W
   * (low 5, high 20) after; RAM: 2 W (low 1, high 3); GPU counter at 100 W, its power reads 110 W.
   */
  function ledger(): EnergyLedger {
    const l = new EnergyLedger(channels);
    l.mark("idle-baseline", 0);
    const samples: Sample[] = [];
    const cpu = { v: 0, lo: 0, hi: 0 };
    for (let t = 0; t <= 3000; t += 100) {
      samples.push({ channel: "cpu-model", t, energyJ: cpu.v, energyLowJ: cpu.lo, energyHighJ: cpu.hi });
      const [p, lo, hi] = t < 1000 ? [5, 2, 10] : [10, 5, 20];
      cpu.v += p * 0.1;
      cpu.lo += lo * 0.1;
      cpu.hi += hi * 0.1;
      const s = t / 1000;
      samples.push({ channel: "ram-model", t, energyJ: 2 * s, energyLowJ: s, energyHighJ: 3 * s });
      samples.push({ channel: "gpu", t, energyJ: 100 * s, powerW: 110 });
    }
    l.add(samples.filter((x) => x.t < 1000));
    l.mark("command", 1000);
    l.add(samples.filter((x) => x.t >= 1000 && x.t < 3000));
    l.end(3000); // the ledger takes a phase's end reading once the end is known, as the sampler does
    l.add(samples.filter((x) => x.t === 3000));
    return l;
  }

  it("each figure carries hand-computed bounds; net pairs like with like", () => {
    const cmd = ledger().report().phases[1];
    const by = (id: string) => cmd.channels.find((c) => c.channel === id) as ChannelEnergy;
    const close = (x: number) => expect.closeTo(x, 9);
    expect(by("cpu-model").gross).toMatchObject({ joules: close(20), low: close(10), high: close(40) });
    expect(by("ram-model").gross).toMatchObject({ joules: close(4), low: close(2), high: close(6) });
    // the counter's known error term: its disagreement with the power integral
    expect(by("gpu").gross).toMatchObject({ joules: close(200), low: close(200), high: close(220) });
    expect(by("gpu").integrated).toMatchObject({ joules: close(220), low: close(220), high: close(220) });
    // net CPU = 20 − 5 W × 2 s = 10; low model 10 − 2 × 2 = 6; high model 40 − 10 × 2 = 20
    expect(by("cpu-model").net).toMatchObject({ joules: close(10), low: close(6), high: close(20) });
    // RAM is constant: net 0 at every bound
    expect(by("ram-model").net).toMatchObject({ joules: close(0), low: close(0), high: close(0) });
  });

  it("component and phase totals add the bounds; the text shows x (y–z)", () => {
    const r = ledger().report();
    const cmd = r.phases[1];
    const t = (c: string) => cmd.totals.find((x) => x.component === c);
    expect(t("cpu")).toMatchObject({ gross: 20, low: 10, high: 40, net: 10, netLow: 6, netHigh: 20 });
    const total = phaseTotal(cmd.totals);
    expect(total?.joules).toBeCloseTo(20 + 4 + 200, 9);
    expect(total?.low).toBeCloseTo(10 + 2 + 200, 9);
    expect(total?.high).toBeCloseTo(40 + 6 + 220, 9);
    expect(total?.provenance).toBe("estimated");
    // the wall plug already contains GPU, CPU and DRAM: left out of the default phase total
    const plug = {
      component: "system" as const,
      gross: 1000,
      net: null,
      provenance: "sampled" as const,
      sources: [],
    };
    expect(phaseTotal([...cmd.totals, plug])?.joules).toBeCloseTo(224, 9);
    expect(phaseTotal([...cmd.totals, plug], ["system"])).toEqual({
      joules: 1000,
      low: 1000,
      high: 1000,
      provenance: "sampled",
    });
    const net = phaseTotal(cmd.totals, ["cpu", "dram"], "net");
    expect([net?.joules, net?.low, net?.high]).toEqual([close9(10), close9(6), close9(20)]);
    const text = formatEnergyReport(r);
    expect(text).toContain("CPU model: gross 20.00 J (10.00 J–40.00 J) [estimated]");
    expect(text).toContain("total cpu: 20.00 J (10.00 J–40.00 J), net 10.00 J (6.00 J–20.00 J) [estimated]");
    expect(JSON.parse(JSON.stringify(r)).phases[1].totals[1]).toMatchObject({ low: 10, high: 40 });
  });

  it("a figure without bounds counts its value at both ends; a missing figure voids the sum", () => {
    const f = (j: number | null, lo?: number, hi?: number): ChannelEnergy => ({
      channel: String(Math.random()),
      component: "cpu",
      source: "s",
      gross: { joules: j, provenance: "estimated", source: "s", method: "counter delta", low: lo, high: hi },
      meanPowerW: null,
      powerSamples: 0,
      counterSamples: 0,
    });
    expect(componentTotals([f(3, 1, 5), f(2)])[0]).toMatchObject({ gross: 5, low: 3, high: 7 });
    expect(componentTotals([f(3, 1, 5), f(null)])[0]).toMatchObject({ gross: null, low: null, high: null });
  });

  it("property: sums of random bounded figures keep low ≤ value ≤ high and add exactly", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1e4, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        (parts) => {
          const chans: ChannelEnergy[] = parts.map(([v, a, b], i) => ({
            channel: `c${i}`,
            component: "dram",
            source: `c${i}`,
            gross: {
              joules: v,
              provenance: "estimated",
              source: "",
              method: "counter delta",
              low: v * a,
              high: v * (1 + b),
            },
            meanPowerW: null,
            powerSamples: 0,
            counterSamples: 0,
          }));
          const [t] = componentTotals(chans);
          let v = 0;
          let lo = 0;
          let hi = 0;
          for (const [x, a, b] of parts) {
            v += x;
            lo += x * a;
            hi += x * (1 + b);
          }
          expect(t.gross).toBeCloseTo(v, 6);
          expect(t.low).toBeCloseTo(lo, 6);
          expect(t.high).toBeCloseTo(hi, 6);
          expect(t.low as number).toBeLessThanOrEqual((t.gross as number) + 1e-9);
          expect(t.high as number).toBeGreaterThanOrEqual((t.gross as number) - 1e-9);
        },
      ),
      { seed: 12, numRuns: 200 },
    );
  });
});

const close9 = (x: number) => expect.closeTo(x, 9);
