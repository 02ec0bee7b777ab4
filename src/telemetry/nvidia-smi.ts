// nvidia-smi's power.draw, logged by a child `nvidia-smi -lms` process, as a cross-check on
// NVML: it is the figure most people quote, read through a different path (the CLI's own
// sampling). Left out of totals. Used by `halfwatt measure --nvidia-smi`.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { monotonicMs } from "./clock.js";
import { TelemetryError } from "./errors.js";
import type { Availability, ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

export function nvidiaSmiAvailability(): Availability {
  const r = spawnSync("nvidia-smi", ["--query-gpu=index", "--format=csv,noheader"], { encoding: "utf8" });
  if (r.error) return { available: false, reason: `nvidia-smi: ${r.error.message}` };
  if (r.status !== 0)
    return { available: false, reason: `nvidia-smi exited ${r.status}: ${r.stderr.trim()}` };
  return { available: true, detail: `nvidia-smi sees GPU(s) ${r.stdout.trim().split("\n").join(", ")}` };
}

/** Parses one `index, power.draw` line (csv,noheader,nounits); null for "[N/A]" and the like. */
export function parseNvidiaSmiLine(line: string): { index: number; watts: number } | null {
  const [i, w] = line.split(",").map((s) => s.trim());
  const index = Number(i);
  const watts = Number(w);
  return Number.isInteger(index) && Number.isFinite(watts) ? { index, watts } : null;
}

export class NvidiaSmiSource implements TelemetrySource {
  readonly name = "nvidia-smi";
  readonly channels: ChannelInfo[];
  private readonly child: ChildProcess;
  private pending: ChannelReading[] = [];
  private failure: string | null = null;

  constructor(
    devices: number[],
    readonly intervalMs = 100,
  ) {
    this.channels = devices.map((i) => ({
      id: `nvidia-smi:${i}`,
      component: "gpu" as const,
      source: `nvidia-smi power.draw GPU ${i}`,
      power: "sampled" as const,
      updatePeriodMs: intervalMs,
      crossCheck: true,
    }));
    const wanted = new Set(devices);
    this.child = spawn(
      "nvidia-smi",
      ["--query-gpu=index,power.draw", "--format=csv,noheader,nounits", `-lms`, String(intervalMs)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.on("error", (e) => {
      this.failure = `nvidia-smi: ${e.message}`;
    });
    // Stamped on arrival: nvidia-smi prints as soon as it has read, so that is within a few ms.
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const r = parseNvidiaSmiLine(line);
      if (r && wanted.has(r.index))
        this.pending.push({ channel: `nvidia-smi:${r.index}`, powerW: r.watts, t: monotonicMs() });
    });
  }

  read(): ChannelReading[] {
    if (this.failure) throw new TelemetryError(this.failure);
    const out = this.pending;
    this.pending = [];
    return out;
  }

  close(): void {
    this.child.kill();
  }
}
