// Shared by the telemetry tests: builds the fake NVML library (fixtures/fake-nvml.c) when a C
// compiler is present.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/**
 * Path of the fake libnvidia-ml, built once per process (the addon loads NVML once per process
 * and refuses a second, different path), or null when no C compiler is available.
 */
export function buildFakeNvml(variant: "v3" | "v1" = "v3"): string | null {
  const out = join(tmpdir(), `halfwatt-fake-nvml-${variant}-${process.pid}.so`);
  if (existsSync(out)) return out;
  // v1: only the unversioned process queries, with the 16-byte entries of NVML < 11.
  const defines = variant === "v1" ? ["-DFAKE_NVML_V1_ONLY"] : [];
  const r = spawnSync("cc", ["-shared", "-fPIC", ...defines, "-o", out, fixture("fake-nvml.c")], {
    encoding: "utf8",
  });
  if (r.error || r.status !== 0) return null;
  return out;
}

export const hasCompiler = spawnSync("cc", ["--version"]).status === 0;
