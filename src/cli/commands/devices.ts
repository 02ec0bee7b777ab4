// `halfwatt devices [--json]`: the host's GPUs, numbered as --devices and --adapter take them
// (src/gpu/gpus.ts: NVML's order, matched to Vulkan devices by PCI address through Mesa's
// device-select layer), and every adapter Dawn sees, with what halfwatt cares about.
import type { Command } from "commander";
import {
  type AdapterDescription,
  describeAdapter,
  listAdapters,
  matchAdapter,
  openAdapter,
  openListedAdapter,
} from "../../gpu/adapter.js";
import {
  discoverGpus,
  type GpuDiscovery,
  type LayerDevice,
  type PhysicalGpu,
  selectGpus,
} from "../../gpu/gpus.js";
import { describeTelemetry, formatTelemetry, type TelemetryDescription } from "../../telemetry/describe.js";

/**
 * One GPU as `devices` reports it: the discovered GPU (src/gpu/gpus.ts) with its Vulkan ids as hex
 * strings, how a worker is bound to it, and whether it can be.
 */
export type GpuEntry = Pick<PhysicalGpu, "index" | "name" | "pci" | "pciBusId" | "uuid" | "nvmlIndex"> & {
  vulkan: (Pick<LayerDevice, "index" | "name" | "type"> & { vendorId: string; deviceId: string }) | null;
  /** DRI_PRIME value a worker on it gets (null: none needed or none possible; see bindable). */
  driPrime: string | null;
  /** Whether a process can be bound to it alone (several GPUs need the device-select layer). */
  bindable: boolean;
};

export interface DevicesReport {
  /** Physical GPUs, as --devices numbers them, and where the list came from. */
  gpus: GpuEntry[];
  gpuBasis: GpuDiscovery["basis"];
  deviceSelectLayer: { present: boolean; reason?: string };
  adapters: (AdapterDescription & { index: number; backend: string })[];
  errors: string[];
  /** Filled by src/telemetry: which energy sources are available, and why not. */
  telemetry?: TelemetryDescription;
}

const hex4 = (n: number) => n.toString(16).padStart(4, "0");

function gpuEntry(g: PhysicalGpu): GpuEntry {
  return {
    index: g.index,
    name: g.name,
    pci: g.pci,
    pciBusId: g.pciBusId,
    uuid: g.uuid,
    nvmlIndex: g.nvmlIndex,
    vulkan: g.vulkan
      ? {
          index: g.vulkan.index,
          vendorId: hex4(g.vulkan.vendorId),
          deviceId: hex4(g.vulkan.deviceId),
          name: g.vulkan.name,
          type: g.vulkan.type,
        }
      : null,
    driPrime: g.bindEnv?.DRI_PRIME ?? null,
    bindable: g.bindEnv !== null,
  };
}

/** Every adapter, or only the one `wanted` names (`--adapter`: a substring of its name, or its index). */
export async function collectDevices(wanted?: string): Promise<DevicesReport> {
  const discovery = await discoverGpus();
  const gpuPart = {
    gpus: discovery.gpus.map(gpuEntry),
    gpuBasis: discovery.basis,
    deviceSelectLayer: {
      present: discovery.layer.present,
      ...(discovery.layer.reason ? { reason: discovery.layer.reason } : {}),
    },
  };
  const adapters: DevicesReport["adapters"] = [];
  const errors: string[] = [...discovery.notes];
  // Several GPUs and a numeric --adapter: that GPU, bound to this process (Dawn's list cannot tell identical cards apart).
  if (wanted && /^\d+$/.test(wanted.trim()) && discovery.gpus.length > 1) {
    const [gpu] = selectGpus(discovery, wanted.trim());
    try {
      const { adapter } = await openAdapter(wanted.trim());
      adapters.push({ index: gpu.index, backend: "bound GPU", ...describeAdapter(adapter) });
    } catch (e) {
      errors.push(`GPU ${gpu.index}: ${(e as Error).message}`);
    }
    return { ...gpuPart, gpus: [gpuEntry(gpu)], adapters, errors, telemetry: await describeTelemetry() };
  }
  const all = await listAdapters();
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
  return { ...gpuPart, adapters, errors, telemetry: await describeTelemetry() };
}

export function formatDevices(r: DevicesReport): string {
  const out: string[] = [];
  out.push(
    `GPUs (${r.gpuBasis}; --devices and --adapter take these indices; Mesa device-select layer: ${r.deviceSelectLayer.present ? "present" : `absent${r.deviceSelectLayer.reason ? ` (${r.deviceSelectLayer.reason})` : ""}`}):`,
  );
  for (const g of r.gpus)
    out.push(
      `  GPU ${g.index}: ${g.name}${g.pci ? `, PCI ${g.pci}` : ""}${g.uuid ? `, ${g.uuid}` : ""}${g.nvmlIndex !== null ? `, NVML ${g.nvmlIndex}` : ""}${g.vulkan ? `, Vulkan ${g.vulkan.vendorId}:${g.vulkan.deviceId}` : ""}${g.driPrime ? `, bound by DRI_PRIME=${g.driPrime}` : ""}${g.bindable ? "" : ", cannot be chosen alone (no device-select layer)"}`,
    );
  out.push("", "WebGPU adapters (Dawn's list):");
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
