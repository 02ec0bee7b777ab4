// `halfwatt suite … --devices all|0,2`: the suite on several GPUs of this host, one worker process
// per GPU (the library: src/experiment/workers.ts). This file is the command line's side: choosing
// the GPUs (before anything is written), starting each worker as this same CLI in its hidden
// worker mode (`suite SOURCE --worker N --gpu I --out DIR`, bound to its GPU by its environment),
// printing every worker's events as lines prefixed with its GPU, and the report at the end.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { HalfwattError } from "../errors.js";
import { openStore } from "../experiment/store.js";
import type { PlannedRun, SuiteSpec } from "../experiment/types.js";
import { runSuiteOnGpus, runWorker, type WorkerEvent, type WorkerStart } from "../experiment/workers.js";
import { discoverGpus, type PhysicalGpu, selectGpus } from "../gpu/gpus.js";
import { writeReport } from "../report/report.js";
import type { PlanOptions } from "../telemetry/sources.js";
import { dawnWarningFilter } from "./dawn-stderr.js";

export interface DevicesRunOptions {
  source: string;
  devices: string;
  out: string;
  resume?: boolean;
  cacheDir?: string;
  telemetry: PlanOptions;
  json?: boolean;
}

const label = (gpu: PhysicalGpu) => `[GPU ${gpu.index}]`;

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

/** The parent: chooses the GPUs, runs the workers, writes the report. */
export async function runSuiteOnDevices(
  spec: SuiteSpec,
  plan: PlannedRun[],
  o: DevicesRunOptions,
): Promise<void> {
  if (process.env.HALFWATT_ADAPTER)
    throw new HalfwattError(
      "E_USAGE",
      "--devices chooses the GPUs itself: leave out --adapter (and HALFWATT_ADAPTER)",
    );
  // Before anything is written: a GPU that cannot be bound is refused here.
  const discovery = await discoverGpus();
  const gpus = selectGpus(discovery, o.devices);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const dbPath = join(out, "results.sqlite");
  const store = openStore(dbPath, { wait: false });
  const say = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  const stop = new AbortController();
  const onSigint = () => {
    say(
      "halfwatt: stopping every worker after its current step; their runs are marked interrupted (--resume finishes the suite)",
    );
    process.off("SIGINT", onSigint);
    stop.abort();
  };
  process.on("SIGINT", onSigint);
  let doneAtStart = 0;
  let finished = 0;
  let total = plan.length;
  try {
    for (const n of discovery.notes) say(`note: ${n}`);
    const summary = await runSuiteOnGpus(spec, plan, {
      store,
      gpus,
      resume: o.resume,
      signal: stop.signal,
      cacheDir: o.cacheDir,
      telemetry: o.telemetry,
      launch: (worker, gpu, env) => {
        const args = [
          ...process.execArgv,
          process.argv[1],
          "suite",
          o.source,
          "--worker",
          String(worker),
          "--gpu",
          String(gpu.index),
          "--out",
          out,
        ];
        const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
        if (child.stdout) prefixed(child.stdout, label(gpu));
        if (child.stderr) prefixed(child.stderr, label(gpu));
        return child;
      },
      progress: {
        onStart: (i) => {
          doneAtStart = i.done;
          total = i.total;
          say(
            `suite "${spec.name}" (${spec.origin}): ${spec.configurations.length} configurations × ${spec.replicates} replicates = ${i.total} runs${i.done ? `, ${i.done} already done` : ""}, on ${i.gpus.length} GPU(s), one worker each, whole blocks per GPU`,
          );
          for (const g of i.gpus)
            say(
              `${label(g)} ${g.name}${g.pci ? `, PCI ${g.pci}` : ""}${g.uuid ? `, ${g.uuid}` : ""}${g.bindEnv?.DRI_PRIME ? ` (DRI_PRIME=${g.bindEnv.DRI_PRIME})` : ""}`,
            );
          say(`store: ${dbPath}`);
        },
        onEvent: (gpu, _worker, e: WorkerEvent) => {
          const p = label(gpu);
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
        onNote: (gpu, n) => say(`${gpu ? `${label(gpu)} ` : ""}note: ${n}`),
        onWorkerLost: (gpu, worker, why, marked) =>
          say(
            `${label(gpu)} worker ${worker} ended early (${why})${marked ? `; its run in progress is marked ${stop.signal.aborted ? "interrupted" : "failed"}` : ""}; the other workers go on`,
          ),
      },
    });
    const results = store.results(summary.suiteId);
    const report = await writeReport(results, out);
    if (o.json)
      process.stdout.write(
        `${JSON.stringify({ store: dbPath, report: { html: join(out, "report.html"), markdown: join(out, "report.md") }, gpus: gpus.map((g) => ({ index: g.index, name: g.name, pci: g.pci, uuid: g.uuid })), ...summary, conclusion: report.data.conclusion }, null, 2)}\n`,
      );
    else {
      say(
        `${summary.completed} run(s) completed, ${summary.interrupted} interrupted, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} done before` : ""}${summary.stopped ? " (stopped: finish with --resume)" : ""}`,
      );
      say(`report: ${join(out, "report.html")} and report.md`);
    }
    const lost = summary.workers.some((w) => w.lost !== null);
    if (summary.stopped) process.exitCode = 130;
    else if (summary.failed || lost) process.exitCode = 1;
  } finally {
    process.off("SIGINT", onSigint);
    store.close();
  }
}

/**
 * The hidden worker mode (`suite … --worker N`): waits for the parent's `start`, runs it, reports
 * every event over the IPC channel. Ctrl-C (the terminal's SIGINT reaches the whole process group),
 * the parent's `stop`, or the parent going away all stop it after the current step.
 */
export async function serveWorker(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send)
    throw new HalfwattError(
      "E_USAGE",
      "--worker is internal: halfwatt suite --devices starts its workers itself",
    );
  const stop = new AbortController();
  const abort = () => stop.abort();
  process.on("SIGINT", abort);
  process.on("disconnect", abort);
  const start = await new Promise<WorkerStart>((resolveStart, reject) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type === "start") {
        resolveStart(m as WorkerStart);
      } else if (m?.type === "stop") reject(new HalfwattError("E_RUNTIME", "stopped before it started"));
    };
    process.on("message", onMessage);
  });
  process.on("message", (m: { type?: string }) => {
    if (m?.type === "stop") abort();
  });
  const post = (e: WorkerEvent) =>
    new Promise<void>((done) => {
      if (!process.connected) return done();
      send(e, undefined, {}, () => done());
    });
  try {
    const summary = await runWorker(start, (e) => void post(e), stop.signal);
    await post({ type: "done", summary });
    if (summary.stopped) process.exitCode = 130;
  } catch (e) {
    const err = e as HalfwattError;
    await post({ type: "error", code: err.code ?? "E_RUNTIME", message: err.message ?? String(e) });
    throw e;
  } finally {
    process.off("SIGINT", abort);
    process.off("disconnect", abort);
    process.removeAllListeners("message");
    // The IPC channel would keep the process alive.
    if (process.connected) process.disconnect();
  }
}
