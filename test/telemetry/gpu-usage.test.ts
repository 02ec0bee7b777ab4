// Which GPUs a measured command used, without NVML: /proc parsing, the process tree (grandchildren,
// reparenting, reused PIDs), matching NVML's process lists against it, the selection rule and the
// totals it leaves. Expected values are written out by hand from the fixtures.
import { describe, expect, it } from "vitest";
import { TelemetryInputError } from "../../src/telemetry/errors.js";
import { decideGpuSelection, validateGpuChoice } from "../../src/telemetry/gpu-selection.js";
import { applyGpuSelection } from "../../src/telemetry/gpu-total.js";
import { type GpuUsage, GpuUsageMonitor } from "../../src/telemetry/gpu-usage.js";
import type { ChannelEnergy, EnergyReport, PhaseEnergy } from "../../src/telemetry/ledger.js";
import type { NvmlProcess } from "../../src/telemetry/nvml.js";
import { type ProcStat, parseProcPidStat, pidNamespace, readProcessTable } from "../../src/telemetry/proc.js";
import { ProcessTree } from "../../src/telemetry/process-tree.js";
import type { ChannelInfo } from "../../src/telemetry/types.js";

const table = (...rows: [pid: number, ppid: number, start: number][]): Map<number, ProcStat> =>
  new Map(rows.map(([pid, ppid, startTime]) => [pid, { pid, ppid, startTime }]));

describe("/proc/PID/stat", () => {
  it("reads pid, ppid and start time after the last ')' (comm may hold spaces and parentheses)", () => {
    // Fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    // utime stime cutime cstime priority nice threads itreal starttime vsize …
    const text =
      "4242 (python3 (x) y) S 4100 4242 4100 0 -1 4194560 10 0 0 0 5 6 0 0 20 0 3 0 987654 1000 7\n";
    expect(parseProcPidStat(text)).toEqual({ pid: 4242, ppid: 4100, startTime: 987654 });
  });

  it("refuses text that is not a stat line", () => {
    expect(() => parseProcPidStat("garbage")).toThrow(/cannot parse "garbage"/);
  });

  it("this process is in the live table with its parent, and the namespace is known", () => {
    const t = readProcessTable();
    expect(t.get(process.pid)?.ppid).toBe(process.ppid);
    expect(["host", "other", "unknown"]).toContain(pidNamespace());
    expect(pidNamespace("/nonexistent-proc")).toBe("unknown");
  });
});

describe("ProcessTree", () => {
  it("holds the root, its children and grandchildren, not its parent or strangers", () => {
    const tree = new ProcessTree(100);
    // 90 → 100 (root) → 101 → 102; 200 is unrelated; 90 is halfwatt itself.
    tree.update(table([90, 1, 5], [100, 90, 10], [101, 100, 11], [102, 101, 12], [200, 1, 3]));
    expect(tree.pids()).toEqual([100, 101, 102]);
    expect([90, 200].map((p) => tree.isMember(p))).toEqual([false, false]);
  });

  it("keeps a grandchild reparented to init, and refuses a stranger that reuses a member's PID", () => {
    const tree = new ProcessTree(100);
    tree.update(table([100, 90, 10], [101, 100, 11], [102, 101, 12]));
    // 101 exits; 102 is reparented to 1; a new, unrelated process gets PID 101 later.
    const later = table([100, 90, 10], [102, 1, 12], [101, 1, 50]);
    tree.update(later);
    expect(tree.isMember(102, later)).toBe(true);
    expect(tree.isMember(101, later)).toBe(false);
    // The stranger's child is not adopted either.
    const after = table([100, 90, 10], [101, 1, 50], [103, 101, 51]);
    tree.update(after);
    expect(tree.isMember(103, after)).toBe(false);
  });

  it("skips a 'child' older than its parent (a reused parent PID)", () => {
    const tree = new ProcessTree(100);
    tree.update(table([100, 90, 10], [105, 100, 4]));
    expect(tree.pids()).toEqual([100]);
  });
});

describe("GpuUsageMonitor", () => {
  const proc = (pid: number, kind: NvmlProcess["kind"] = "compute", mem: number | null = 1 << 20) => ({
    pid,
    kind,
    usedGpuMemoryBytes: mem,
  });

  it("marks a GPU used when a grandchild appears on it; the parent and strangers count as others", () => {
    const lists: Record<number, NvmlProcess[]> = {
      0: [proc(90), proc(7, "graphics")],
      1: [proc(102, "graphics", null), proc(102, "graphics", 5000)],
    };
    const m = new GpuUsageMonitor(
      {
        listProcesses: (i) => lists[i],
        processTable: () => table([90, 1, 5], [100, 90, 10], [101, 100, 11], [102, 101, 12], [7, 1, 1]),
        namespace: "host",
      },
      [0, 1],
      100,
      250,
    );
    m.poll();
    lists[1] = [proc(102, "graphics", 3000), proc(101, "compute", null)];
    m.poll();
    const u = m.result();
    expect(u).toMatchObject({ polls: 2, intervalMs: 250, pidNamespace: "host", treePids: [100, 101, 102] });
    expect(u.devices).toEqual([
      { index: 0, processes: [], otherProcesses: 2, polls: 2 },
      {
        index: 1,
        processes: [
          { pid: 101, kind: "compute", usedGpuMemoryBytes: null },
          { pid: 102, kind: "graphics", usedGpuMemoryBytes: 5000 }, // the largest seen
        ],
        otherProcesses: 0,
        polls: 2,
      },
    ]);
  });

  it("records a GPU whose lists fail, and keeps polling the others", () => {
    const m = new GpuUsageMonitor(
      {
        listProcesses: (i) => {
          if (i === 0) throw new Error("NVML_ERROR_NO_PERMISSION (4)");
          return [proc(100)];
        },
        processTable: () => table([100, 90, 10]),
        namespace: "host",
      },
      [0, 1],
      100,
    );
    m.poll();
    const [d0, d1] = m.result().devices;
    expect(d0).toMatchObject({ error: "NVML_ERROR_NO_PERMISSION (4)", polls: 0, processes: [] });
    expect(d1.processes.map((p) => p.pid)).toEqual([100]);
  });
});

// Two GPUs; GPU 0 has a counter (12.5 J gross, net 2.5 J), GPU 1 power only (30 J, net 20 J);
// CPU model 40 J. Totals below are these numbers added by hand.
function report(): EnergyReport {
  const ch = (channel: string, component: ChannelEnergy["component"], gross: number, net: number) =>
    ({
      channel,
      component,
      source: channel,
      gross: {
        joules: gross,
        provenance: component === "cpu" ? "estimated" : "counter",
        source: channel,
        method: "counter delta",
        low: gross - 1,
        high: gross + 1,
      },
      net: {
        joules: net,
        provenance: component === "cpu" ? "estimated" : "counter",
        source: channel,
        method: "counter delta",
        low: net - 1,
        high: net + 1,
      },
      meanPowerW: null,
      powerSamples: 0,
      counterSamples: 0,
    }) satisfies ChannelEnergy;
  const phase: PhaseEnergy = {
    name: "command",
    startMs: 0,
    endMs: 1000,
    wallStartMs: 0,
    durationS: 1,
    channels: [ch("nvml:0", "gpu", 12.5, 2.5), ch("nvml:1", "gpu", 30, 20), ch("cpu-model", "cpu", 40, 10)],
    totals: [],
  };
  const channels: ChannelInfo[] = [
    { id: "nvml:0", component: "gpu", source: "NVML GPU 0 (A)", updatePeriodMs: 100 },
    { id: "nvml:1", component: "gpu", source: "NVML GPU 1 (B)", updatePeriodMs: 100 },
  ];
  return { channels, phases: [phase], baselinePhase: "idle-baseline", warnings: [] };
}

const usage = (over: Partial<GpuUsage> = {}, used: number[] = [1]): GpuUsage => ({
  devices: [0, 1].map((index) => ({
    index,
    processes: used.includes(index) ? [{ pid: 102, kind: "compute" as const, usedGpuMemoryBytes: null }] : [],
    otherProcesses: index === 0 ? 1 : 0,
    polls: 3,
  })),
  polls: 3,
  intervalMs: 1000,
  pidNamespace: "host",
  treePids: [100, 102],
  ...over,
});

describe("GPU selection", () => {
  it("used GPUs make the total; the idle one is reported, marked, never summed", () => {
    const r = report();
    const sel = decideGpuSelection([0, 1], undefined, usage(), r.channels);
    applyGpuSelection(r, sel);
    const gpu = r.phases[0].totals.find((t) => t.component === "gpu");
    expect(gpu).toMatchObject({ gross: 30, net: 20, low: 29, high: 31, netLow: 19, netHigh: 21 });
    expect(gpu?.sources).toEqual(["nvml:1"]);
    expect(r.phases[0].totals.find((t) => t.component === "cpu")?.gross).toBe(40);
    expect(r.phases[0].channels[0].notInTotal).toMatch(/idle: no process of the command seen on it/);
    expect(r.phases[0].channels[0].gross.joules).toBe(12.5); // still reported
    expect(r.gpus).toMatchObject({
      rule: "used",
      inTotal: [1],
      gpus: [
        { index: 0, source: "NVML GPU 0 (A)", used: false, inTotal: false, otherProcesses: 1 },
        { index: 1, source: "NVML GPU 1 (B)", used: true, inTotal: true },
      ],
    });
    expect(r.warnings).toEqual([]);
  });

  it("--gpus wins over detection, and a used GPU outside it is said to be so", () => {
    const r = report();
    applyGpuSelection(r, decideGpuSelection([0, 1], [0], usage(), r.channels));
    expect(r.phases[0].totals.find((t) => t.component === "gpu")).toMatchObject({ gross: 12.5, net: 2.5 });
    expect(r.phases[0].channels[1].notInTotal).toBe("not among --gpus (used by the command)");
    expect(r.gpus?.rule).toBe("explicit");
    const all = report();
    applyGpuSelection(all, decideGpuSelection([0, 1], "all", usage(), all.channels));
    expect(all.phases[0].totals.find((t) => t.component === "gpu")).toMatchObject({ gross: 42.5, net: 22.5 });
  });

  it("nothing seen: every GPU, with the reason as a warning", () => {
    const r = report();
    applyGpuSelection(r, decideGpuSelection([0, 1], undefined, usage({}, []), r.channels));
    expect(r.phases[0].totals.find((t) => t.component === "gpu")?.gross).toBe(42.5);
    expect(r.gpus?.rule).toBe("all");
    expect(r.warnings).toEqual([
      expect.stringMatching(
        /^gpu total: no process of the command's tree appeared in NVML's process lists in 3 poll\(s\), 1\.0 s apart .*1 other process\(es\) were seen.*choose with --gpus$/,
      ),
    ]);
  });

  it("falls back to every GPU, saying why: a container's PID namespace, unreadable lists, no poll", () => {
    const why = (u: GpuUsage) => decideGpuSelection([0, 1], undefined, u, []);
    // In a foreign PID namespace a PID match is a coincidence, so even a "used" GPU is not trusted.
    expect(why(usage({ pidNamespace: "other" }))).toMatchObject({
      rule: "all",
      inTotal: [0, 1],
      reason: expect.stringMatching(/PID namespace other than the host's .*host PIDs/),
    });
    const failed = usage({}, []);
    for (const d of failed.devices) Object.assign(d, { polls: 0, error: "NVML_ERROR_NOT_SUPPORTED (3)" });
    expect(why(failed).reason).toMatch(/could not be read \(GPU 0: NVML_ERROR_NOT_SUPPORTED \(3\); GPU 1: /);
    expect(why(usage({ polls: 0 }, [])).reason).toMatch(/ended before the first poll .*after 1\.0 s/);
    expect(decideGpuSelection([0, 1], undefined, null, []).reason).toMatch(/idle window/);
  });

  it("--gpus indices are checked against the GPUs NVML has", () => {
    expect(() => validateGpuChoice([1, 5, 7], 2)).toThrow(TelemetryInputError);
    expect(() => validateGpuChoice([1, 5, 7], 2)).toThrow(
      "--gpus 1,5,7: no GPU 5, 7 here; NVML has 2 GPU(s) (indices 0–1); nothing was run",
    );
    expect(() => validateGpuChoice([], 2)).toThrow(/at least one/);
    expect(() => validateGpuChoice([0, 1], 2)).not.toThrow();
    expect(() => validateGpuChoice("all", 0)).not.toThrow();
  });
});
