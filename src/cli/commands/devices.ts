// `halfwatt devices [--json]`: every adapter Dawn sees, with what halfwatt cares about.
import type { Command } from "commander";
import {
  type AdapterDescription,
  describeAdapter,
  listAdapters,
  matchAdapter,
  openAdapter,
  openListedAdapter,
} from "../../gpu/adapter.js";
import { describeTelemetry, formatTelemetry, type TelemetryDescription } from "../../telemetry/describe.js";

export interface DevicesReport {
  adapters: (AdapterDescription & { index: number; backend: string })[];
  errors: string[];
  /** Filled by src/telemetry: which energy sources are available, and why not. */
  telemetry?: TelemetryDescription;
}

/** Every adapter, or only the one `wanted` names (`--adapter`: a substring of its name, or its index). */
export async function collectDevices(wanted?: string): Promise<DevicesReport> {
  const all = await listAdapters();
  const adapters: DevicesReport["adapters"] = [];
  const errors: string[] = [];
  const targets = wanted ? [matchAdapter(all, wanted)] : all;
  if (!all.length) {
    // Dawn lists nothing: try its default adapter anyway, for the error it gives.
    try {
      const { adapter } = await openAdapter("");
      adapters.push({ index: 0, backend: "default", ...describeAdapter(adapter) });
    } catch (e) {
      errors.push(`default adapter: ${(e as Error).message}`);
    }
  }
  for (const t of targets) {
    try {
      const { adapter } = await openListedAdapter(t);
      adapters.push({ index: t.index, backend: t.backend, ...describeAdapter(adapter) });
    } catch (e) {
      errors.push(`${t.label}: ${(e as Error).message}`);
    }
  }
  return { adapters, errors, telemetry: await describeTelemetry() };
}

export function formatDevices(r: DevicesReport): string {
  const out: string[] = [];
  r.adapters.forEach((a) => {
    out.push(
      `[${a.index}] ${a.name}  (backend ${a.backend}${a.isFallbackAdapter ? ", fallback/software" : ""})`,
    );
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
      // --adapter (a global option, copied into HALFWATT_ADAPTER by main.ts) narrows the list.
      const report = await collectDevices(process.env.HALFWATT_ADAPTER || undefined);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDevices(report)}\n`);
      if (!report.adapters.length) process.exitCode = 1;
    });
}
