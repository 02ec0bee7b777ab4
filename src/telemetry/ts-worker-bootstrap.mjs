// Starts the sampler's worker from TypeScript sources, for when halfwatt runs uncompiled
// (vitest runs src/**/*.ts; Node 20 cannot load .ts by itself). Compiled builds start
// dist/.../sampler-worker.js directly and never load this file.
import { register } from "node:module";
import { workerData } from "node:worker_threads";

register("./ts-worker-hooks.mjs", import.meta.url);
await import(workerData.__entry);
