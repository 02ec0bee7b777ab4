// Starts a child process from TypeScript sources, for when halfwatt runs uncompiled (vitest runs
// src/**/*.ts): argv[2] is the entry's URL, and the entry sees its own arguments from argv[2] on,
// as when the compiled .js is forked directly (src/data/spawn-worker.ts, forkDataProcess).
import { register } from "node:module";

register("./ts-worker-hooks.mjs", import.meta.url);
const entry = process.argv[2];
process.argv.splice(2, 1);
await import(entry);
