// `halfwatt suite … --devices all|0,2`, the command line's side (the library:
// src/experiment/devices.ts and workers.ts): starting each worker as this same CLI in its hidden
// worker mode (`suite SOURCE --worker N --gpu I --out DIR`, bound to its GPU by its environment),
// and printing every worker's events as lines prefixed with its GPU.
import { spawn } from "node:child_process";
import type { DevicesRunOptions } from "../experiment/devices.js";
import type { MultiGpuProgress, WorkerEvent } from "../experiment/workers.js";
import type { PhysicalGpu } from "../gpu/gpus.js";
import { dawnWarningFilter } from "./dawn-stderr.js";

export const gpuLabel = (gpu: PhysicalGpu) => `[GPU ${gpu.index}]`;

/** Forwards a worker's output stream, line by line, prefixed with its GPU (Dawn's clamp notices dropped). */
function prefixed(stream: NodeJS.ReadableStream, prefix: string): void {
  let partial = "";
  const filter = dawnWarningFilter((text) => {
    partial += text;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) if (l.trim()) process.stderr.write(`${prefix} ${l.replace(/\r/g, "")}\n`);
  });
  stream.setEncoding("utf8");
  stream.on("data", (c: string) => filter.push(c));
  stream.on("end", () => {
    filter.end();
    if (partial.trim()) process.stderr.write(`${prefix} ${partial}\n`);
  });
}

/** Starts a worker: this CLI (the same node, flags and script) in its hidden worker mode. */
export function launchWorker(source: string): DevicesRunOptions["launch"] {
  return (worker, gpu, env, out) => {
    const args = [
      ...process.execArgv,
      process.argv[1],
      "suite",
      source,
      "--worker",
      String(worker),
      "--gpu",
      String(gpu.index),
      "--out",
      out,
    ];
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    if (child.stdout) prefixed(child.stdout, gpuLabel(gpu));
    if (child.stderr) prefixed(child.stderr, gpuLabel(gpu));
    return child;
  };
}

/** The workers' events as lines (`say`), each prefixed with its GPU. */
export function devicesProgress(
  say: (line: string) => void,
  header: (i: { total: number; done: number; gpus: PhysicalGpu[] }) => string,
  stopping: () => boolean,
): MultiGpuProgress {
  let doneAtStart = 0;
  let finished = 0;
  let total = 0;
  return {
    onStart: (i) => {
      doneAtStart = i.done;
      total = i.total;
      say(header(i));
      for (const g of i.gpus)
        say(
          `${gpuLabel(g)} ${g.name}${g.pci ? `, PCI ${g.pci}` : ""}${g.uuid ? `, ${g.uuid}` : ""}${g.bindEnv?.DRI_PRIME ? ` (DRI_PRIME=${g.bindEnv.DRI_PRIME})` : ""}`,
        );
    },
    onEvent: (gpu, _worker, e: WorkerEvent) => {
      const p = gpuLabel(gpu);
      if (e.type === "ready")
        say(
          `${p} on ${e.adapter}; telemetry: ${e.sources.join(", ")}${e.unavailable.length ? `; not available: ${e.unavailable.join("; ")}` : ""}`,
        );
      else if (e.type === "run-start")
        say(`${p} block ${e.run.block + 1}: ${e.config.id} #${e.run.replicate} started`);
      else if (e.type === "epoch")
        say(`${p} ${e.run.configId} #${e.run.replicate}: epoch ${e.epoch}/${e.of}`);
      else if (e.type === "run-end") {
        finished++;
        say(
          `${p} run ${doneAtStart + finished}/${total} ${e.run.configId} #${e.run.replicate}: ${e.status} (${e.detail})`,
        );
      } else if (e.type === "note") say(`${p} note: ${e.note}`);
      else if (e.type === "error") say(`${p} worker failed: ${e.message}`);
    },
    onNote: (gpu, n) => say(`${gpu ? `${gpuLabel(gpu)} ` : ""}note: ${n}`),
    onWorkerLost: (gpu, worker, why, marked) =>
      say(
        `${gpuLabel(gpu)} worker ${worker} ended early (${why})${marked ? `; its run in progress is marked ${stopping() ? "interrupted" : "failed"}` : ""}; the other workers go on`,
      ),
  };
}
