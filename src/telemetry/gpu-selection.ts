// Which GPUs enter a measurement's `gpu` total. Every GPU NVML reads is reported; the total holds
// the GPUs the user chose (--gpus), else those the command was seen using (gpu-usage.ts), else,
// with the reason said, all of them. GPUs left out keep their figures, marked "not in total", so
// an idle neighbour is visible but never summed.
import { TelemetryInputError } from "./errors.js";
import type { GpuProcessSeen, GpuUsage } from "./gpu-usage.js";
import type { ChannelInfo } from "./types.js";

/** NVML indices, or every GPU. */
export type GpuChoice = number[] | "all";

export interface GpuSelectionEntry {
  index: number;
  /** The ledger channel of this GPU ("nvml:1") and its source text. */
  channel: string;
  source: string;
  /** A process of the command's tree appeared in this GPU's process lists. */
  used: boolean;
  inTotal: boolean;
  processes: GpuProcessSeen[];
  otherProcesses: number;
  error?: string;
}

export interface GpuSelection {
  /**
   * explicit: --gpus chose; used: the GPUs the command was seen on; all: every GPU (an idle
   * window, or nothing could be attributed; `reason` says which).
   */
  rule: "explicit" | "used" | "all";
  reason: string;
  /** NVML indices summed into the `gpu` total. */
  inTotal: number[];
  /** What polling saw; null for an idle window (no command). */
  detection: Pick<GpuUsage, "polls" | "intervalMs" | "pidNamespace" | "treePids"> | null;
  gpus: GpuSelectionEntry[];
}

export const nvmlChannelId = (index: number) => `nvml:${index}`;

/** --gpus against the GPUs NVML has (0 … count − 1); an error names the bad indices. */
export function validateGpuChoice(choice: GpuChoice, count: number, what = "--gpus"): void {
  if (choice === "all") return;
  if (!choice.length) throw new TelemetryInputError(`${what}: give at least one GPU index, or all`);
  const bad = choice.filter((i) => !Number.isInteger(i) || i < 0 || i >= count);
  if (bad.length)
    throw new TelemetryInputError(
      `${what} ${choice.join(",")}: no GPU ${bad.join(", ")} here; NVML has ${count} GPU(s)${count ? ` (indices 0–${count - 1})` : ""}; nothing was run`,
    );
}

/** Why no GPU could be attributed to the command (the `all` fallback's reason). */
function fallbackReason(usage: GpuUsage): string {
  const choose = "every GPU is in the total; choose with --gpus";
  if (usage.pidNamespace === "other")
    return `halfwatt runs in a PID namespace other than the host's (a container): NVML lists host PIDs, which cannot be matched to the command's, so ${choose}`;
  const failed = usage.devices.filter((d) => d.error && !d.polls);
  if (usage.devices.length && failed.length === usage.devices.length)
    return `NVML's process lists could not be read (${failed.map((d) => `GPU ${d.index}: ${d.error}`).join("; ")}), so ${choose}`;
  if (!usage.polls)
    return `the command ended before the first poll of NVML's process lists (after ${(usage.intervalMs / 1000).toFixed(1)} s), so ${choose}`;
  const others = usage.devices.reduce((n, d) => n + d.otherProcesses, 0);
  return `no process of the command's tree appeared in NVML's process lists in ${usage.polls} poll(s), ${(usage.intervalMs / 1000).toFixed(1)} s apart (it used no GPU, or its GPU work ran outside its process tree${others ? `; ${others} other process(es) were seen` : ""}), so ${choose}`;
}

/**
 * The selection for the GPUs `gpus` (NVML indices read), given the user's choice (wins), what
 * polling saw (null: no command was run) and the report's channels (for source names).
 */
export function decideGpuSelection(
  gpus: readonly number[],
  choice: GpuChoice | undefined,
  usage: GpuUsage | null,
  channels: readonly ChannelInfo[],
): GpuSelection {
  const used = new Set(usage?.devices.filter((d) => d.processes.length).map((d) => d.index) ?? []);
  let rule: GpuSelection["rule"];
  let reason: string;
  let inTotal: number[];
  if (choice !== undefined) {
    rule = "explicit";
    inTotal = choice === "all" ? [...gpus] : gpus.filter((i) => choice.includes(i));
    reason = `--gpus ${choice === "all" ? "all" : choice.join(",")} chose the GPUs in the total; what the command was seen using is reported, not applied`;
  } else if (!usage) {
    rule = "all";
    inTotal = [...gpus];
    reason = "an idle window runs no command to attribute, so every GPU is in the total";
  } else if (used.size && usage.pidNamespace !== "other") {
    rule = "used";
    inTotal = gpus.filter((i) => used.has(i));
    reason = `the GPUs where a process of the command's tree appeared in NVML's process lists (${usage.polls} poll(s), ${(usage.intervalMs / 1000).toFixed(1)} s apart)`;
  } else {
    rule = "all";
    inTotal = [...gpus];
    reason = fallbackReason(usage);
  }
  const byIndex = new Map(usage?.devices.map((d) => [d.index, d]) ?? []);
  return {
    rule,
    reason,
    inTotal,
    detection: usage
      ? {
          polls: usage.polls,
          intervalMs: usage.intervalMs,
          pidNamespace: usage.pidNamespace,
          treePids: usage.treePids,
        }
      : null,
    gpus: gpus.map((index) => {
      const d = byIndex.get(index);
      const channel = nvmlChannelId(index);
      return {
        index,
        channel,
        source: channels.find((c) => c.id === channel)?.source ?? `NVML GPU ${index}`,
        used: used.has(index),
        inTotal: inTotal.includes(index),
        processes: d?.processes ?? [],
        otherProcesses: d?.otherProcesses ?? 0,
        ...(d?.error ? { error: d.error } : {}),
      };
    }),
  };
}

/** "GPU 1 in the gpu total (used); GPU 0 reported, not in the total (idle)": one line. */
export function describeGpuSelection(s: GpuSelection): string {
  const state = (g: GpuSelectionEntry) => (g.used ? "used" : "idle");
  const inside = s.gpus.filter((g) => g.inTotal);
  const outside = s.gpus.filter((g) => !g.inTotal);
  const part = (gs: GpuSelectionEntry[]) => gs.map((g) => `GPU ${g.index} (${state(g)})`).join(", ");
  return `gpu total = ${inside.length ? part(inside) : "no GPU"}${outside.length ? `; reported, not in the total: ${part(outside)}` : ""} [${s.rule}: ${s.reason}]`;
}
