// The NVML addon: it must load without NVIDIA's driver and say why NVML is unavailable, and,
// against a fake libnvidia-ml, read every field and map NVML's return codes to readable errors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { monotonicMs } from "../../src/telemetry/clock.js";
import { EnergyLedger } from "../../src/telemetry/ledger.js";
import { addonPath, loadNvmlBinding, NvmlSource, nvmlLibrary, openNvml } from "../../src/telemetry/nvml.js";
import type { Sample } from "../../src/telemetry/types.js";
import { buildFakeNvml, hasCompiler } from "./helpers.js";

/**
 * Whether the real libnvidia-ml loads here (a GPU machine). Asked in a child process: the addon
 * holds one NVML library per process, and the fake-library tests below need this one unloaded.
 */
const driverPresent = (() => {
  const b = loadNvmlBinding();
  if (!("binding" in b)) return false;
  const probe = `const b = require(${JSON.stringify(addonPath())}); process.exit(b.load("libnvidia-ml.so.1").ok ? 0 : 1);`;
  return spawnSync(process.execPath, ["-e", probe], { stdio: "ignore" }).status === 0;
})();
if (driverPresent)
  console.log("nvml.test: a real NVML is present: its no-driver and fake-library tests are skipped");

describe("NVML addon", () => {
  it("is built and loads (npm run build:native)", () => {
    expect(addonPath()).toMatch(/native\/nvml\/build\/Release\/halfwatt_nvml\.node$/);
    const b = loadNvmlBinding();
    expect("binding" in b ? typeof b.binding.load : b.reason).toBe("function");
  });

  it("reports NVML unavailable when the addon was never built", async () => {
    vi.resetModules();
    vi.doMock("node:fs", async (orig) => {
      const fs = await orig<typeof import("node:fs")>();
      return { ...fs, existsSync: (p: string) => !String(p).endsWith(".node") && fs.existsSync(p) };
    });
    try {
      const fresh = await import("../../src/telemetry/nvml.js");
      const s = fresh.openNvml();
      expect(s.available).toBe(false);
      expect(!s.available && s.reason).toMatch(/addon is not built .*npm run build:native/);
    } finally {
      vi.doUnmock("node:fs");
      vi.resetModules();
    }
  });

  it.skipIf(!driverPresent)("loads the real NVML where there is a driver, and lists its GPUs", () => {
    const s = openNvml("libnvidia-ml.so.1");
    expect(s.available, !s.available ? s.reason : "").toBe(true);
    expect(s.available && s.load.deviceCount).toBeGreaterThan(0);
  });

  it.skipIf(driverPresent)("reports NVML unavailable, with the reason, where there is no driver", () => {
    const s = openNvml("libnvidia-ml.so.1");
    expect(s.available).toBe(false);
    expect(!s.available && s.reason).toMatch(/cannot open libnvidia-ml\.so\.1 .*NVIDIA driver/);
  });

  it("takes the library from HALFWATT_NVML_LIB, else libnvidia-ml.so.1", () => {
    const saved = process.env.HALFWATT_NVML_LIB;
    try {
      process.env.HALFWATT_NVML_LIB = "/opt/x/libnvidia-ml.so.1";
      expect(nvmlLibrary()).toBe("/opt/x/libnvidia-ml.so.1");
      delete process.env.HALFWATT_NVML_LIB;
      expect(nvmlLibrary()).toBe("libnvidia-ml.so.1");
    } finally {
      if (saved === undefined) delete process.env.HALFWATT_NVML_LIB;
      else process.env.HALFWATT_NVML_LIB = saved;
    }
  });

  it("maps return codes to names and explanations without the library", () => {
    const b = loadNvmlBinding();
    if (!("binding" in b)) throw new Error(b.reason);
    expect(b.binding.errorText(3)).toMatch(/^NVML_ERROR_NOT_SUPPORTED \(3\): /);
    expect(b.binding.errorText(18)).toMatch(/LIB_RM_VERSION_MISMATCH.*driver/);
    expect(b.binding.errorText(4242)).toMatch(/UNRECOGNISED \(4242\)/);
  });
});

describe.skipIf(!hasCompiler || driverPresent)("NVML addon against a fake libnvidia-ml", () => {
  let lib: string;
  beforeAll(() => {
    const built = buildFakeNvml();
    if (!built) throw new Error("could not compile fixtures/fake-nvml.c");
    lib = built;
  });

  it("loads it and reads driver, GPUs and every snapshot field", async () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    expect(s.load).toMatchObject({
      ok: true,
      driverVersion: "999.1-fake",
      nvmlVersion: "12.999",
      deviceCount: 2,
    });
    const snap = await s.binding.snapshotAsync(0);
    expect(snap).toMatchObject({
      index: 0,
      name: "Fake H100",
      uuid: "GPU-fake-0",
      pciBusId: "00000000:3B:00.0",
      powerMilliwatts: 123456,
      gpuUtilPercent: 87,
      memUtilPercent: 42,
      temperatureC: 61,
      smClockMHz: 1980,
      memClockMHz: 2619,
      memoryUsedBytes: 3 * 2 ** 30,
      memoryTotalBytes: 80 * 2 ** 30,
      powerLimitMilliwatts: 700000,
      errors: {},
    });
    const e1 = s.binding.energyMillijoules(0);
    expect(s.binding.energyMillijoules(0) - e1).toBe(1234);
  });

  it("explains unsupported fields and bad indices instead of throwing", () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    const old = s.binding.snapshot(1);
    expect(old.energyMillijoules).toBeUndefined();
    expect(old.errors.energyMillijoules).toMatch(
      /NVML_ERROR_NOT_SUPPORTED \(3\).*\[nvmlErrorString: Not Supported \(fake\)\]/,
    );
    expect(old.powerMilliwatts).toBe(55000);
    expect(s.binding.snapshot(7).errors.device).toMatch(/INVALID_ARGUMENT \(2\)/);
    expect(() => s.binding.energyMillijoules(1)).toThrow(
      /nvmlDeviceGetTotalEnergyConsumption\(GPU 1\): NVML_ERROR_NOT_SUPPORTED/,
    );
  });

  it("makes a source: a counter where the GPU has one, power everywhere", () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    const src = new NvmlSource(s.binding, [0, 1]);
    expect(src.channels.map((c) => [c.id, c.counter, c.power])).toEqual([
      ["nvml:0", "counter", "sampled"],
      ["nvml:1", undefined, "sampled"],
    ]);
    expect(src.channels[1].note).toMatch(/no energy counter/);
    const rs = src.read({ counters: true });
    expect(rs.filter((r) => r.powerW !== undefined).map((r) => r.powerW)).toEqual([123.456, 55]);
    expect(rs.filter((r) => r.energyJ !== undefined).map((r) => r.channel)).toEqual(["nvml:0"]);
    expect(src.read({ counters: false }).some((r) => r.energyJ !== undefined)).toBe(false);
  });

  // The fake's GPU 0 draws 123 456 mW and its counter gains exactly 1234 mJ per read, so every
  // figure below is known in joules; a lost or doubled unit conversion is off by 1000×.
  it("reads joules and watts: counter values exact, after the mJ → J and mW → W conversions", () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    const src = new NvmlSource(s.binding, [0]); // its constructor probes the counter once
    const mj0 = s.binding.energyMillijoules(0);
    for (let k = 1; k <= 3; k++) {
      const rs = src.read({ counters: true });
      expect(rs.map((r) => [r.channel, r.powerW, r.energyJ])).toEqual([
        ["nvml:0", 123.456, undefined],
        ["nvml:0", undefined, (mj0 + 1234 * k) / 1000],
      ]);
    }
  });

  it("stamps each reading inside the call that made it, on the shared monotonic clock", () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    const src = new NvmlSource(s.binding, [0]);
    const before = monotonicMs();
    const rs = src.read({ counters: true });
    const after = monotonicMs();
    for (const r of rs) {
      expect(r.t).toBeGreaterThanOrEqual(before);
      expect(r.t).toBeLessThanOrEqual(after);
    }
  });

  it("counter delta, power integral and their cross-check come out in exact joules", () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    const src = new NvmlSource(s.binding, [0]);
    const ledger = new EnergyLedger(src.channels, { agreementTolerance: 1e-4 });
    // Eleven reads, re-stamped every 10 ms from 0 to 100 ms (the update period, so the window
    // is long enough to count): the counter climbs 10 × 1.234 J = 12.34 J, a steady 123.4 W;
    // the power is 123.456 W throughout, so its trapezoid integral is 123.456 W × 0.1 s.
    // The phase ends at 100 ms before the read stamped 100 ms arrives, as the sampler orders it.
    ledger.mark("run", 0, 0);
    for (let k = 0; k <= 10; k++) {
      if (k === 10) ledger.end(100);
      const rs: Sample[] = src.read({ counters: true }).map((r) => ({ ...r, t: 10 * k }));
      ledger.add(rs);
    }
    const [c] = ledger.report().phases[0].channels;
    expect(c.gross).toMatchObject({ provenance: "counter", method: "counter delta" });
    expect(c.gross.joules).toBeCloseTo(12.34, 9);
    expect(c.meanPowerW).toBeCloseTo(123.4, 7);
    expect(c.integrated).toMatchObject({ provenance: "sampled", method: "trapezoid integral of power" });
    expect(c.integrated?.joules).toBeCloseTo(12.3456, 9);
    // |12.3456 − 12.34| / 12.34, past the 1e-4 tolerance set above: a warning in joules.
    expect(c.disagreement).toBeCloseTo(0.0056 / 12.34, 12);
    expect(ledger.report().warnings.join("\n")).toMatch(
      /counter 12\.34 J and integrated power 12\.35 J differ by 0\.0 % \(> 0 %\)/,
    );
    expect([c.powerSamples, c.counterSamples]).toEqual([10, 10]);
  });
});

// Running processes: the fake reads its lists from HALFWATT_FAKE_NVML_PROCS at every call
// (lines "GPU PID KIND [MEM]"), so each test writes the lists it expects to read back.
describe.skipIf(!hasCompiler || driverPresent)("NVML running processes, against a fake libnvidia-ml", () => {
  const dir = mkdtempSync(join(tmpdir(), "halfwatt-nvml-procs-"));
  const procsFile = join(dir, "procs.txt");
  let lib: string;
  beforeAll(() => {
    const built = buildFakeNvml();
    if (!built) throw new Error("could not compile fixtures/fake-nvml.c");
    lib = built;
    process.env.HALFWATT_FAKE_NVML_PROCS = procsFile;
  });
  const binding = () => {
    const s = openNvml(lib);
    if (!s.available) throw new Error(s.reason);
    return s.binding;
  };
  const withFailure = <T>(spec: string, f: () => T): T => {
    process.env.HALFWATT_FAKE_NVML_PROCS_FAIL = spec;
    try {
      return f();
    } finally {
      delete process.env.HALFWATT_FAKE_NVML_PROCS_FAIL;
    }
  };

  it("lists compute and graphics processes with memory, null where NVML cannot tell", () => {
    writeFileSync(procsFile, "0 4001 c 2048\n0 4002 g -\n1 4003 cg 4096\n");
    const b = binding();
    expect(b.runningProcesses(0)).toEqual([
      { pid: 4001, usedGpuMemoryBytes: 2048, kind: "compute" },
      { pid: 4002, usedGpuMemoryBytes: null, kind: "graphics" },
    ]);
    expect(b.runningProcesses(1)).toEqual([
      { pid: 4003, usedGpuMemoryBytes: 4096, kind: "compute" },
      { pid: 4003, usedGpuMemoryBytes: 4096, kind: "graphics" },
    ]);
    writeFileSync(procsFile, "");
    expect(b.runningProcesses(0)).toEqual([]);
    expect(() => b.runningProcesses(9)).toThrow(/GPU 9: NVML_ERROR_INVALID_ARGUMENT/);
  });

  it("grows its buffer on NVML_ERROR_INSUFFICIENT_SIZE: 75 processes on one GPU all come back", () => {
    const pids = Array.from({ length: 75 }, (_, k) => 10_000 + 7 * k);
    writeFileSync(procsFile, pids.map((pid, k) => `1 ${pid} c ${k * 1_000_000}\n`).join(""));
    const got = binding().runningProcesses(1);
    expect(got.map((p) => p.pid)).toEqual(pids);
    expect(got.map((p) => p.usedGpuMemoryBytes)).toEqual(pids.map((_, k) => k * 1_000_000));
  });

  it("skips a list the GPU does not offer, throws for real failures, naming the symbol", () => {
    writeFileSync(procsFile, "0 4001 c\n0 4002 g\n");
    const b = binding();
    expect(withFailure("0:g:3", () => b.runningProcesses(0).map((p) => p.pid))).toEqual([4001]);
    expect(() => withFailure("0:g:4", () => b.runningProcesses(0))).toThrow(
      /^nvmlDeviceGetGraphicsRunningProcesses_v3\(GPU 0\): NVML_ERROR_NO_PERMISSION \(4\)/,
    );
    expect(() => withFailure("0:c:999", () => b.runningProcesses(0))).toThrow(
      /nvmlDeviceGetComputeRunningProcesses_v3\(GPU 0\): NVML_ERROR_UNKNOWN/,
    );
  });

  // NVML < 11 has only the unversioned symbols, whose entries are 16 bytes, not 24: read with the
  // wrong layout, every entry after the first is garbage. The addon holds one library per
  // process, so this runs in a child.
  it("falls back to the unversioned symbols and their 16-byte entries", () => {
    const v1 = buildFakeNvml("v1");
    if (!v1) throw new Error("could not compile fixtures/fake-nvml.c with -DFAKE_NVML_V1_ONLY");
    writeFileSync(procsFile, "1 501 c 111\n1 502 g -\n1 503 c 333\n");
    const script = `const b = require(${JSON.stringify(addonPath())}); const l = b.load(${JSON.stringify(v1)}); if (!l.ok) throw new Error(l.reason); console.log(JSON.stringify(b.runningProcesses(1)));`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([
      { pid: 501, usedGpuMemoryBytes: 111, kind: "compute" },
      { pid: 503, usedGpuMemoryBytes: 333, kind: "compute" },
      { pid: 502, usedGpuMemoryBytes: null, kind: "graphics" },
    ]);
  });
});
