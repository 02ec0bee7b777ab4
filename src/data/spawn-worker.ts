// Starts one of this folder's worker modules — a thread (synthetic-worker) or a child process
// (decode-worker): the compiled .js beside this file, or, when halfwatt runs uncompiled (vitest
// runs src/**/*.ts), the .ts through the TS bootstrap.
import { type ChildProcess, fork } from "node:child_process";
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

/**
 * `name` as a child process with an IPC channel (structured-clone serialization, so typed arrays
 * travel as bytes), `args` its JSON-encoded argv[2]; `env` added to this process's environment.
 */
export function forkDataProcess(name: string, args: unknown, env: Record<string, string> = {}): ChildProcess {
  const json = JSON.stringify(args);
  const options = {
    env: { ...process.env, ...env },
    serialization: "advanced" as const,
    stdio: ["ignore", "inherit", "inherit", "ipc"] as ("ignore" | "inherit" | "ipc")[],
    execArgv: [],
  };
  if (import.meta.url.endsWith(".ts")) {
    const entry = new URL(`./${name}.ts`, import.meta.url).href;
    const bootstrap = new URL("../telemetry/ts-process-bootstrap.mjs", import.meta.url);
    return fork(bootstrap, [entry, json], options);
  }
  return fork(new URL(`./${name}.js`, import.meta.url), [json], options);
}
