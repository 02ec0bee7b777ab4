// `halfwatt measure -- CMD` on a two-GPU machine (the fake libnvidia-ml): the command's
// grandchild shows up in GPU 1's process list, so GPU 1 alone makes the gpu total; GPU 0 is
// reported, idle, not summed. The fake's GPU 1 draws a constant 55 W (55000 mW) and has no
// energy counter, so its figure is 55 W × the phase's duration; GPU 0's counter gains 1.234 J per
// read. Expected joules are those constants, or sums of the channels' own figures done by hand.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildProgram, reportError } from "../../src/cli/program.js";
import { TelemetryInputError } from "../../src/telemetry/errors.js";
import { formatEnergyReport } from "../../src/telemetry/format.js";
import type { ChannelEnergy, EnergyReport } from "../../src/telemetry/ledger.js";
import { measure } from "../../src/telemetry/measurement.js";
import { buildFakeNvml, hasCompiler } from "./helpers.js";

const GPU1_WATTS = 55;
const dir = mkdtempSync(join(tmpdir(), "halfwatt-measure-gpus-"));
const procsFile = join(dir, "procs.txt");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A shell whose own child (halfwatt's grandchild) appends itself to GPU 1's graphics list, then
 * stays alive for `seconds`; the outer shell waits (`; true` keeps it from exec'ing the inner).
 */
const grandchildOnGpu1 = (seconds: number) => [
  "sh",
  "-c",
  `sh -c 'echo "1 $$ g" >> "$HALFWATT_FAKE_NVML_PROCS"; sleep ${seconds}'; true`,
];

/** Listed before the run: halfwatt's own process (the command's parent) and init, on GPU 0. */
const strangers = () => `0 ${process.pid} c 1000\n0 1 g -\n`;

const channel = (r: EnergyReport, phase: string, id: string) =>
  r.phases.find((p) => p.name === phase)?.channels.find((c) => c.channel === id) as ChannelEnergy;
const gpuTotal = (r: EnergyReport, phase: string) =>
  r.phases.find((p) => p.name === phase)?.totals.find((t) => t.component === "gpu");

const fast = { hz: 20, gpuPollMs: 100, baselineSeconds: 0, childStdout: "stderr" as const };

describe.skipIf(!hasCompiler)("measure on two GPUs (fake NVML)", () => {
  beforeAll(() => {
    const lib = buildFakeNvml();
    if (!lib) throw new Error("could not compile fixtures/fake-nvml.c");
    process.env.HALFWATT_NVML_LIB = lib;
    process.env.HALFWATT_FAKE_NVML_PROCS = procsFile;
  });
  afterAll(() => {
    delete process.env.HALFWATT_NVML_LIB;
    delete process.env.HALFWATT_FAKE_NVML_PROCS;
  });

  it("totals only the GPU the command's grandchild ran on; the idle one is reported, not summed", async () => {
    writeFileSync(procsFile, strangers());
    const { report, exitCode } = await measure(grandchildOnGpu1(1.2), { ...fast, baselineSeconds: 0.4 });
    expect(exitCode).toBe(0);
    const grandchild = Number(readFileSync(procsFile, "utf8").trim().split("\n").at(-1)?.split(" ")[1]);
    expect(report.gpus).toMatchObject({ rule: "used", inTotal: [1] });
    const [g0, g1] = report.gpus?.gpus ?? [];
    expect(g0).toMatchObject({ index: 0, used: false, inTotal: false, processes: [], otherProcesses: 2 });
    expect(g1).toMatchObject({ index: 1, used: true, inTotal: true, otherProcesses: 0 });
    expect(g1.processes).toEqual([{ pid: grandchild, kind: "graphics", usedGpuMemoryBytes: 1048576 }]);
    // The grandchild is not the command itself: the tree holds at least the shell above it.
    expect(report.gpus?.detection?.treePids).toContain(grandchild);
    expect(report.gpus?.detection?.treePids.filter((p) => p !== grandchild).length).toBeGreaterThan(0);

    for (const phase of ["idle-baseline", "command"]) {
      const p = report.phases.find((x) => x.name === phase);
      const c1 = channel(report, phase, "nvml:1");
      const c0 = channel(report, phase, "nvml:0");
      // 55 W throughout: the trapezoid of a constant is exact.
      expect(c1.gross.joules).toBeCloseTo(GPU1_WATTS * (p?.durationS ?? 0), 6);
      expect(c0.gross.joules).toBeGreaterThan(0); // reported …
      expect(c0.notInTotal).toBe("idle: no process of the command seen on it"); // … not summed
      expect(gpuTotal(report, phase)).toMatchObject({ gross: c1.gross.joules, sources: [c1.source] });
    }
    // Net: GPU 1's own, 55 W − 55 W of baseline = 0 J up to rounding; GPU 0's never enters.
    expect(gpuTotal(report, "command")?.net).toBe(channel(report, "command", "nvml:1").net?.joules);
    expect(gpuTotal(report, "command")?.net).toBeCloseTo(0, 6);

    const text = formatEnergyReport(report);
    expect(text).toMatch(/^gpu total = GPU 1 \(used\); reported, not in the total: GPU 0 \(idle\) \[used: /m);
    expect(text).toMatch(/NVML GPU 0 \(Fake H100\) \[idle, not in total\]: gross/);
    expect(text).toMatch(/NVML GPU 1 \(Fake Old GPU\) \[used\]: gross/);
    const json = JSON.parse(JSON.stringify(report)) as EnergyReport;
    expect(json.gpus?.gpus.map((g) => [g.index, g.used, g.inTotal])).toEqual([
      [0, false, false],
      [1, true, true],
    ]);
  });

  it("--gpus 0,1 wins over detection: both summed, GPU 1 still shown as the used one", async () => {
    writeFileSync(procsFile, strangers());
    const { report } = await measure(grandchildOnGpu1(0.6), { ...fast, gpus: [0, 1] });
    const c0 = channel(report, "command", "nvml:0");
    const c1 = channel(report, "command", "nvml:1");
    expect(c1.gross.joules).toBeCloseTo(GPU1_WATTS * (report.phases[0].durationS ?? 0), 6);
    expect(gpuTotal(report, "command")?.gross).toBe(
      (c0.gross.joules as number) + (c1.gross.joules as number),
    );
    expect(report.gpus).toMatchObject({ rule: "explicit", inTotal: [0, 1] });
    expect(report.gpus?.gpus.map((g) => g.used)).toEqual([false, true]);
    // --gpus 0 alone leaves out the GPU the command did use, and says so.
    writeFileSync(procsFile, strangers());
    const only0 = await measure(grandchildOnGpu1(0.6), { ...fast, gpus: [0] });
    expect(gpuTotal(only0.report, "command")?.gross).toBe(
      channel(only0.report, "command", "nvml:0").gross.joules,
    );
    expect(channel(only0.report, "command", "nvml:1").notInTotal).toBe(
      "not among --gpus (used by the command)",
    );
  });

  it("no process of the command seen: every GPU, with a note saying why", async () => {
    writeFileSync(procsFile, strangers());
    const { report } = await measure(["sh", "-c", "sleep 0.5"], fast);
    const c0 = channel(report, "command", "nvml:0");
    const c1 = channel(report, "command", "nvml:1");
    expect(report.gpus).toMatchObject({ rule: "all", inTotal: [0, 1] });
    expect(report.gpus?.gpus.map((g) => g.used)).toEqual([false, false]);
    expect(gpuTotal(report, "command")?.gross).toBe(
      (c0.gross.joules as number) + (c1.gross.joules as number),
    );
    expect(report.warnings.join("\n")).toMatch(
      /gpu total: no process of the command's tree appeared in NVML's process lists in \d+ poll\(s\), 0\.1 s apart .*2 other process\(es\) were seen\), so every GPU is in the total; choose with --gpus/,
    );
  });

  it("an idle window has no command: every GPU, no detection", async () => {
    const { report } = await measure([], { ...fast, seconds: 0.3 });
    expect(report.gpus).toMatchObject({ rule: "all", inTotal: [0, 1], detection: null });
    expect(report.warnings.join("\n")).not.toMatch(/gpu total/);
  });

  it("a GPU index NVML does not have is refused before anything runs", async () => {
    const marker = join(dir, "ran");
    await expect(measure(["touch", marker], { ...fast, gpus: [1, 5] })).rejects.toThrow(TelemetryInputError);
    await expect(measure(["touch", marker], { ...fast, gpus: [5] })).rejects.toThrow(
      "--gpus 5: no GPU 5 here; NVML has 2 GPU(s) (indices 0–1); nothing was run",
    );
    expect(existsSync(marker)).toBe(false);
  });

  describe("the command line", () => {
    async function cli(args: string[]): Promise<{ status: number; stdout: string }> {
      const out: string[] = [];
      const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        out.push(String(chunk));
        return true;
      });
      let status = 0;
      try {
        await buildProgram().parseAsync(["node", "halfwatt", ...args]);
      } catch (e) {
        status = reportError(e, args.includes("--json"));
      } finally {
        spy.mockRestore();
      }
      return { status, stdout: out.join("") };
    }

    it("--gpus 5 --json: a JSON error, status 2, nothing run", async () => {
      const marker = join(dir, "ran-cli");
      const r = await cli(["measure", "--json", "--gpus", "5", "--", "touch", marker]);
      expect(r.status).toBe(2);
      expect(JSON.parse(r.stdout)).toEqual({
        error: {
          code: "E_INPUT",
          message: "--gpus 5: no GPU 5 here; NVML has 2 GPU(s) (indices 0–1); nothing was run",
        },
      });
      expect(existsSync(marker)).toBe(false);
    });

    it("--gpus that are not indices, or all mixed with indices, are usage errors naming the value", async () => {
      for (const [args, message] of [
        [["--gpus", "1,x"], '--gpus: expected an integer >= 0, got "x"'],
        [["--gpus", "-1"], '--gpus: expected an integer >= 0, got "-1"'],
        [["--gpus", "0", "--gpus", "all"], '--gpus: expected either all or indices, not both, got "all"'],
      ] as const) {
        const r = await cli(["measure", "--json", ...args, "--", "true"]);
        expect(r.status).toBe(2);
        expect(JSON.parse(r.stdout).error.message).toContain(message);
      }
    });

    it("--json carries per-GPU entries with used and the selection rule", async () => {
      writeFileSync(procsFile, strangers());
      const r = await cli([
        "measure",
        "--json",
        "--hz",
        "20",
        "--baseline-seconds",
        "0",
        "--gpus",
        "all",
        "--",
        ...grandchildOnGpu1(1.6), // past the first poll, 1 s after the start
      ]);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as EnergyReport;
      expect(report.gpus?.rule).toBe("explicit");
      expect(report.gpus?.gpus.map((g) => ({ index: g.index, used: g.used, inTotal: g.inTotal }))).toEqual([
        { index: 0, used: false, inTotal: true },
        { index: 1, used: true, inTotal: true },
      ]);
    });
  });
});
