// Finding and describing WebGPU adapters through Dawn (npm `webgpu`).
import { create, globals } from "webgpu";
import { AdapterNotFoundError, NoAdapterError } from "./errors.js";
import { discoverGpus, GPU_BOUND_ENV, selectGpus } from "./gpus.js";

// WebGPU's classes and flag constants (GPUBufferUsage, GPUMapMode, ...) as globals, once. Every
// GPUDevice of the process comes from this module, so code that builds buffers or maps them can read
// these globals at call time; a module-level constant computed from them at import time might run
// before this line, so none is kept.
Object.assign(globalThis, globals);

/**
 * Dawn toggles halfwatt always passes:
 * - vulkan_enable_f16_on_nvidia: without it Dawn hides `shader-f16` on every NVIDIA GPU under Vulkan;
 * - allow_unsafe_apis: needed for `chromium-experimental-subgroup-matrix` (tensor cores).
 */
export const DAWN_TOGGLES = ["vulkan_enable_f16_on_nvidia", "allow_unsafe_apis"] as const;

export const SUBGROUP_MATRIX_FEATURE = "chromium-experimental-subgroup-matrix";

/**
 * One Dawn instance per option set, reused: each instance owns a Vulkan instance and threads,
 * and a process that creates many of them has been seen to crash at exit (lavapipe).
 */
const instances = new Map<string, GPU>();
function createGpu(extra: string[] = []): GPU {
  // HALFWATT_DAWN_TOGGLES adds toggles for experiments (e.g. disable_robustness); never needed.
  const more = (process.env.HALFWATT_DAWN_TOGGLES ?? "").split(",").filter(Boolean);
  const options = [`enable-dawn-features=${[...DAWN_TOGGLES, ...more].join(",")}`, ...extra];
  const key = options.join("\n");
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = create(options) as unknown as GPU;
    instances.set(key, gpu);
  }
  return gpu;
}

/**
 * Names of every adapter Dawn can see. dawn.node has no enumeration API; asking for an
 * adapter that cannot exist makes it list the available ones in its error, which we parse.
 */
export async function listAdapterNames(): Promise<{ backend: string; name: string }[]> {
  try {
    const gpu = createGpu(["adapter=__halfwatt_enumerate__"]);
    await gpu.requestAdapter();
  } catch (e) {
    const text = String((e as Error).message ?? e);
    const out: { backend: string; name: string }[] = [];
    for (const m of text.matchAll(/backend: '([^']*)', name: '([^']*)'/g))
      out.push({ backend: m[1], name: m[2] });
    return out;
  }
  return [];
}

export interface OpenedAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  name: string;
}

/** One adapter as `halfwatt devices` lists it. */
export interface AdapterEntry {
  /** Position in Dawn's list: `--adapter 0` picks the first. */
  index: number;
  backend: string;
  /** Dawn's internal name (AdapterInfo.device), what its `adapter=` flag matches. */
  dawnName: string;
  /** The name halfwatt prints (adapterLabel): what `--adapter` is matched against. */
  label: string;
}

async function requestNamed(dawnName: string | undefined): Promise<{ gpu: GPU; adapter: GPUAdapter }> {
  const gpu = dawnName ? createGpu([`adapter=${dawnName}`]) : createGpu();
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    throw new NoAdapterError(String((e as Error).message ?? e).split("\n")[0]);
  }
  if (!adapter) throw new NoAdapterError("requestAdapter returned null");
  return { gpu, adapter };
}

/**
 * Every adapter with the name `devices` prints. Dawn's list gives only its internal names, so
 * each adapter is opened once to read its label.
 */
export async function listAdapters(): Promise<AdapterEntry[]> {
  const names = await listAdapterNames();
  const out: AdapterEntry[] = [];
  for (const [index, n] of names.entries()) {
    let label = n.name;
    try {
      label = adapterLabel((await requestNamed(n.name)).adapter);
    } catch {
      // Listed but not openable: keep Dawn's name so it can still be matched and reported.
    }
    out.push({ index, backend: n.backend, dawnName: n.name, label });
  }
  return out;
}

/**
 * The adapter `wanted` names: an index into the list, else the first whose printed name (or
 * Dawn's internal name) contains `wanted`, ignoring case.
 */
export function matchAdapter(entries: readonly AdapterEntry[], wanted: string): AdapterEntry {
  const w = wanted.trim();
  if (/^\d+$/.test(w)) {
    const byIndex = entries.find((e) => e.index === Number(w));
    if (byIndex) return byIndex;
  } else if (w) {
    const lower = w.toLowerCase();
    const hit =
      entries.find((e) => e.label.toLowerCase().includes(lower)) ??
      entries.find((e) => e.dawnName.toLowerCase().includes(lower));
    if (hit) return hit;
  }
  throw new AdapterNotFoundError(
    wanted,
    entries.map((e) => e.label),
  );
}

/** Opens one adapter of listAdapters()'s list. */
export async function openListedAdapter(entry: AdapterEntry): Promise<OpenedAdapter> {
  const { gpu, adapter } = await requestNamed(entry.dawnName);
  return { gpu, adapter, name: adapterLabel(adapter) };
}

/**
 * A numeric `--adapter` on a host with several physical GPUs names a GPU as `halfwatt devices`
 * numbers it (NVML's order), not a position in Dawn's list, which cannot tell identical cards
 * apart. Binds this process to that GPU through the device-select layer's environment (read by
 * the layer when Vulkan enumerates devices, so this must happen before the first adapter request
 * of the process, as it does in every command). Returns true when it bound, false when the host has
 * one GPU (Dawn's list index then applies as before).
 */
async function bindToGpu(wanted: string): Promise<boolean> {
  if (!/^\d+$/.test(wanted.trim()) || process.env[GPU_BOUND_ENV] !== undefined) return false;
  const discovery = await discoverGpus();
  if (discovery.gpus.length < 2) return false;
  const [gpu] = selectGpus(discovery, wanted.trim());
  for (const [k, v] of Object.entries(gpu.bindEnv ?? {})) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.env[GPU_BOUND_ENV] = String(gpu.index);
  return true;
}

/**
 * Opens the adapter named by `wanted` (see matchAdapter), else HALFWATT_ADAPTER, else the
 * default high-performance one. In a process bound to one GPU (HALFWATT_GPU_BOUND), a numeric
 * `wanted` is that GPU's index and the default adapter is it.
 */
export async function openAdapter(wanted = process.env.HALFWATT_ADAPTER): Promise<OpenedAdapter> {
  let dawnName: string | undefined;
  const numeric = wanted !== undefined && /^\d+$/.test(wanted.trim());
  const boundTo = process.env[GPU_BOUND_ENV];
  if (numeric && boundTo !== undefined && Number(boundTo) !== Number(wanted))
    throw new AdapterNotFoundError(`${wanted} (this process is bound to GPU ${boundTo})`, [`GPU ${boundTo}`]);
  const bound = numeric ? boundTo !== undefined || (await bindToGpu(wanted as string)) : false;
  if (wanted && !bound) {
    const entries = await listAdapters();
    if (!entries.length) throw new NoAdapterError("Dawn lists no adapters");
    dawnName = matchAdapter(entries, wanted).dawnName;
  }
  const { gpu, adapter } = await requestNamed(dawnName);
  return { gpu, adapter, name: adapterLabel(adapter) };
}

/** A short human name for an adapter: its description, else vendor + device. */
export function adapterLabel(adapter: GPUAdapter): string {
  const info = adapter.info;
  return info.description || [info.vendor, info.device].filter(Boolean).join(" ") || "unknown adapter";
}

export interface SubgroupMatrixConfig {
  M: number;
  N: number;
  K: number;
  componentType: string;
  resultComponentType: string;
}

/** Subgroup-matrix configs of an adapter. Their fields are not enumerable, so read each by name. */
export function subgroupMatrixConfigs(adapter: GPUAdapter): SubgroupMatrixConfig[] {
  const raw = (adapter.info as unknown as { subgroupMatrixConfigs?: unknown[] }).subgroupMatrixConfigs ?? [];
  return raw.map((c) => {
    const r = c as Record<string, unknown>;
    return {
      M: Number(r.M),
      N: Number(r.N),
      K: Number(r.K),
      componentType: String(r.componentType),
      resultComponentType: String(r.resultComponentType),
    };
  });
}

export const KEY_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

export interface AdapterDescription {
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
    isFallbackAdapter?: boolean;
  };
  const limits: Record<string, number> = {};
  for (const k of KEY_LIMITS) limits[k] = Number((adapter.limits as unknown as Record<string, number>)[k]);
  return {
    name: adapterLabel(adapter),
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean(info.isFallbackAdapter),
    features: [...adapter.features].map(String).sort(),
    limits,
    subgroupMinSize: info.subgroupMinSize ?? null,
    subgroupMaxSize: info.subgroupMaxSize ?? null,
    subgroupMatrixConfigs: subgroupMatrixConfigs(adapter),
  };
}
