// `halfwatt devices [--json]`: every adapter Dawn sees, with what halfwatt cares about.
import type { Command } from "commander";
import {
  type AdapterDescription,
  describeAdapter,
  listAdapterNames,
  openAdapter,
} from "../../gpu/adapter.js";
import { describeTelemetry, formatTelemetry, type TelemetryDescription } from "../../telemetry/describe.js";

export interface DevicesReport {
  adapters: (AdapterDescription & { backend: string })[];
  errors: string[];
  /** Filled by src/telemetry: which energy sources are available, and why not. */
  telemetry?: TelemetryDescription;
}

export async function collectDevices(): Promise<DevicesReport> {
  const names = await listAdapterNames();
  const adapters: DevicesReport["adapters"] = [];
  const errors: string[] = [];
  const targets = names.length ? names : [{ backend: "default", name: "" }];
  for (const n of targets) {
    try {
      const { adapter } = await openAdapter(n.name || undefined);
      adapters.push({ backend: n.backend, ...describeAdapter(adapter) });
    } catch (e) {
      errors.push(`${n.name || "default adapter"}: ${(e as Error).message}`);
    }
  }
  return { adapters, errors, telemetry: await describeTelemetry() };
}

export function formatDevices(r: DevicesReport): string {
  const out: string[] = [];
  r.adapters.forEach((a, i) => {
    out.push(`[${i}] ${a.name}  (backend ${a.backend}${a.isFallbackAdapter ? ", fallback/software" : ""})`);
    out.push(
      `    vendor ${a.vendor || "?"}, architecture ${a.architecture || "?"}, device ${a.device || "?"}`,
    );
    out.push(`    description: ${a.description}`);
    out.push(`    subgroup sizes: ${a.subgroupMinSize ?? "?"}..${a.subgroupMaxSize ?? "?"}`);
    out.push(
      `    shader-f16 ${a.features.includes("shader-f16") ? "yes" : "NO"}, subgroups ${a.features.includes("subgroups") ? "yes" : "no"}, timestamp-query ${a.features.includes("timestamp-query") ? "yes" : "no"}`,
    );
    if (a.subgroupMatrixConfigs.length) {
      out.push("    subgroup-matrix configs (M×N×K component→result):");
      for (const c of a.subgroupMatrixConfigs)
        out.push(`      ${c.M}×${c.N}×${c.K} ${c.componentType}→${c.resultComponentType}`);
    } else out.push("    subgroup-matrix configs: none (no tensor-core GEMM on this adapter)");
    out.push("    limits:");
    for (const [k, v] of Object.entries(a.limits)) out.push(`      ${k}: ${v}`);
    out.push(`    features: ${a.features.join(", ")}`);
  });
  for (const e of r.errors) out.push(`error: ${e}`);
  if (!r.adapters.length)
    out.push("No WebGPU adapters. Run ./setup.sh to install a Vulkan driver (Mesa lavapipe >= 24).");
  if (r.telemetry) out.push("", formatTelemetry(r.telemetry));
  return out.join("\n");
}

export function register(program: Command): void {
  program
    .command("devices")
    .description("list WebGPU adapters: features, limits, subgroup sizes, subgroup-matrix configs")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const report = await collectDevices();
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDevices(report)}\n`);
      if (!report.adapters.length) process.exitCode = 1;
    });
}
