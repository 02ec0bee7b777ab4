// Starts one of this folder's worker-thread modules (synthetic-worker, decode-worker): the compiled
// .js beside this file, or, when halfwatt runs uncompiled (vitest runs src/**/*.ts), the .ts
// through the TS bootstrap.
import { Worker } from "node:worker_threads";

/** `name`: the module's file name without extension, e.g. "decode-worker". */
export function spawnDataWorker(name: string, workerData: unknown): Worker {
  if (import.meta.url.endsWith(".ts")) {
    const entry = new URL(`./${name}.ts`, import.meta.url).href;
    return new Worker(new URL("../telemetry/ts-worker-bootstrap.mjs", import.meta.url), {
      workerData: { ...(workerData as object), __entry: entry },
    });
  }
  return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
}
