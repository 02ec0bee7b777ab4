// /proc parsing (fixtures and this machine) and the CPU/RAM power models.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CpuModelSource,
  lookupTdp,
  modelledCpuPowerW,
  normaliseCpuName,
  resolveCpuModel,
} from "../../src/telemetry/cpu-model.js";
import {
  parseCpuInfo,
  parseMemTotalBytes,
  parseProcStat,
  readCpuTimes,
  utilisation,
} from "../../src/telemetry/proc.js";
import { DEFAULT_RAM_WATTS_PER_GB, RamModelSource, resolveRamModel } from "../../src/telemetry/ram-model.js";

const STAT = `cpu  4158 10 1840 47059 146 3 35 8 0 0
cpu0 1871 0 812 23900 23 0 9 3 0 0
intr 1 2 3
`;

describe("/proc parsing", () => {
  it("parses the aggregate cpu line (idle includes iowait; guest is not double counted)", () => {
    expect(parseProcStat(STAT)).toEqual({
      idle: 47059 + 146,
      total: 4158 + 10 + 1840 + 47059 + 146 + 3 + 35 + 8,
    });
    expect(() => parseProcStat("intr 1 2")).toThrow(/no aggregate 'cpu' line/);
  });

  it("computes utilisation between two readings", () => {
    expect(utilisation({ idle: 100, total: 200 }, { idle: 130, total: 300 })).toBeCloseTo(0.7, 12);
    expect(utilisation({ idle: 100, total: 200 }, { idle: 100, total: 200 })).toBeNull();
  });

  it("reads this machine's /proc/stat and sees a busy loop", () => {
    const before = readCpuTimes();
    expect(before.total).toBeGreaterThan(before.idle);
    expect(before.idle).toBeGreaterThan(0);
    const until = Date.now() + 400;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const u = utilisation(before, readCpuTimes());
    // One of N cores spinning: at least 1/N busy, less some scheduling slack.
    const cores = parseCpuInfo(readFileSync("/proc/cpuinfo", "utf8")).logicalCpus;
    expect(u).toBeGreaterThan(0.6 / Math.max(1, cores));
    expect(x).toBeGreaterThan(0);
  });

  it("parses MemTotal and cpuinfo", () => {
    expect(parseMemTotalBytes("MemTotal:       24684084 kB\nMemFree: 1 kB\n")).toBe(24684084 * 1024);
    const info = parseCpuInfo(
      "processor\t: 0\nmodel name\t: AMD EPYC 9654 96-Core Processor\nphysical id\t: 0\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 9654 96-Core Processor\nphysical id\t: 1\n",
    );
    expect(info).toEqual({ model: "AMD EPYC 9654 96-Core Processor", logicalCpus: 2, packages: 2 });
  });
});

describe("CPU model", () => {
  it("normalises model names and finds the longest matching table key", () => {
    expect(normaliseCpuName("Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz")).toBe(
      "intel xeon platinum 8480+",
    );
    expect(lookupTdp("Intel(R) Xeon(R) Platinum 8480+")?.entry.tdpW).toBe(350);
    expect(lookupTdp("AMD EPYC 7763 64-Core Processor")?.key).toBe("EPYC 7763");
    expect(lookupTdp("AMD EPYC 77630 Processor")).toBeNull();
    expect(lookupTdp("AMD EPYC")).toBeNull();
  });

  it("scales a table TDP to the threads a VM sees, multiplies by packages", () => {
    const vm = resolveCpuModel({
      cpuinfo: { model: "AMD EPYC 9654 96-Core Processor", logicalCpus: 16, packages: 1 },
    });
    expect(vm.tdpW).toBeCloseTo((360 * 16) / 192, 10);
    expect(vm.origin).toMatch(/scaled to the 16 of 192 threads/);
    const dual = resolveCpuModel({ cpuinfo: { model: "AMD EPYC 9654", logicalCpus: 384, packages: 2 } });
    expect(dual.tdpW).toBe(720);
  });

  it("falls back to 4 W per thread for unknown CPUs, and --cpu-tdp overrides", () => {
    const unknown = resolveCpuModel({ cpuinfo: { model: "AMD EPYC", logicalCpus: 2, packages: 1 } });
    expect(unknown.tdpW).toBe(8);
    expect(unknown.origin).toMatch(/not in the TDP table/);
    expect(resolveCpuModel({ tdpW: 65, cpuinfo: { model: "x", logicalCpus: 2, packages: 1 } })).toMatchObject(
      {
        tdpW: 65,
        origin: expect.stringMatching(/--cpu-tdp/),
      },
    );
    expect(() => resolveCpuModel({ tdpW: -1 })).toThrow(/positive/);
  });

  it("applies P = TDP × (f_idle + (1 − f_idle)·u)", () => {
    const m = { tdpW: 200, idleFraction: 0.1 };
    expect(modelledCpuPowerW(m, 0)).toBeCloseTo(20, 12);
    expect(modelledCpuPowerW(m, 0.5)).toBeCloseTo(110, 12);
    expect(modelledCpuPowerW(m, 1)).toBeCloseTo(200, 12);
  });

  it("accumulates modelled energy from a fake /proc/stat", async () => {
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-stat-"));
    const stat = join(dir, "stat");
    writeFileSync(stat, "cpu  100 0 0 900 0 0 0 0 0 0\n");
    const src = new CpuModelSource({ tdpW: 100, idleFraction: 0.1, cpuModel: "fake", origin: "test" }, stat);
    const r0 = src.read()[0];
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(stat, "cpu  175 0 0 925 0 0 0 0 0 0\n"); // 75 of 100 ticks busy
    const r1 = src.read()[0];
    const dt = ((r1.t as number) - (r0.t as number)) / 1000;
    expect(r0.energyJ).toBe(0);
    expect(r1.energyJ).toBeCloseTo(100 * (0.1 + 0.9 * 0.75) * dt, 9);
    expect(src.channels[0]).toMatchObject({ component: "cpu", counter: "estimated" });
  });
});

describe("RAM model", () => {
  it("uses 3/8 W per GB of MemTotal by default, settable", () => {
    const m = resolveRamModel({ meminfo: "MemTotal:       16777216 kB\n" });
    expect(m.gigabytes).toBe(16);
    expect(m.powerW).toBeCloseTo(16 * DEFAULT_RAM_WATTS_PER_GB, 12);
    expect(resolveRamModel({ meminfo: "MemTotal: 8388608 kB\n", wattsPerGb: 0.5 }).powerW).toBe(4);
  });

  it("integrates constant power as an estimated counter", async () => {
    const src = new RamModelSource({ gigabytes: 32, wattsPerGb: 0.375, powerW: 12 });
    const r0 = src.read()[0];
    await new Promise((r) => setTimeout(r, 30));
    const r1 = src.read()[0];
    expect(r1.energyJ).toBeCloseTo((12 * ((r1.t as number) - (r0.t as number))) / 1000, 9);
    expect(r1.energyJ).toBeGreaterThan(0);
  });
});
