#!/usr/bin/env node
// halfwatt's command line: src/cli/program.ts builds it; GPU commands run with Dawn's limit
// warnings filtered out of stderr (src/cli/dawn-stderr.ts).
import { availableParallelism } from "node:os";
import { adoptOutputChannel, runFiltered } from "./dawn-stderr.js";
import { buildProgram, reportError, wantsJson } from "./program.js";

// sharp decodes on libuv's thread pool (4 threads unless told): give image decoding every core.
// Set before anything touches the pool; the GPU commands' child process inherits it.
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism());

async function main(): Promise<number> {
  adoptOutputChannel();
  const filtered = runFiltered();
  if (filtered) return filtered;
  try {
    await buildProgram().parseAsync(process.argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    return reportError(err, wantsJson(process.argv.slice(2)));
  }
}

main().then((code) => process.exit(code));
