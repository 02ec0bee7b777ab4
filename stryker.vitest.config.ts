// The test files a mutation run (stryker.config.json) executes: those that test the mutated
// folders, less the slow ones — the SciPy comparison (~20 s of python per run), the fast-check
// properties (~16 s, past the 120 s timeout once instrumented), the sampler's
// real-time tests (sleeps; their worker thread never sees an active mutant anyway) and the CLI
// tests (child processes, same). Everything else as in vitest.config.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/stats/**/*.test.ts",
      "test/telemetry/**/*.test.ts",
      "test/kernels/f16.test.ts",
      "test/kernels/gemm.test.ts",
    ],
    exclude: [
      "test/stats/scipy.test.ts",
      "test/stats/properties.test.ts",
      "test/stats/cli.test.ts",
      "test/telemetry/sampler.test.ts",
    ],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
