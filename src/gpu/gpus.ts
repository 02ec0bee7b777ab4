// The physical GPUs of this host, told apart even when they are identical cards, and how to bind
// a process to one of them.
//
// Why this is needed: Dawn names identical cards alike ("NVIDIA H200" twice), its `adapter=` flag
// matches names only, and it always takes the first; NVIDIA's Vulkan driver ignores
// CUDA_VISIBLE_DEVICES. Mesa's device-selection layer (VK_LAYER_MESA_device_select, an implicit
// Vulkan layer from Debian's mesa-vulkan-drivers) sits between the loader and every driver:
// `MESA_VK_DEVICE_SELECT=list` makes it print each Vulkan device with its PCI address (and exit
// the process), and `DRI_PRIME=pci-DDDD_BB_DD_F` puts the device at that address first, which
// Dawn then takes; MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1 hides the others altogether.
// NVML names the same cards by PCI address too (nvmlDeviceGetPciInfo), so the PCI address joins
// the Vulkan device a process runs on to the NVML device its energy is read from.
//
// The index halfwatt gives a GPU is NVML's index where NVML is present (nvidia-smi's order), else
// the layer's order of PCI devices, else 0 for the single adapter Dawn picks (lavapipe, CI).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { HalfwattError } from "../errors.js";
import { type NvmlStatus, openNvml } from "../telemetry/nvml.js";

/** A PCI address: domain, bus, device (slot), function. */
export interface PciAddress {
  domain: number;
  bus: number;
  device: number;
  function: number;
}

/**
 * Parses every spelling of a PCI address halfwatt meets, case-insensitively:
 * - NVML / nvidia-smi: `00000000:07:00.0` (32-bit domain, 8 hex digits);
 * - sysfs, lspci -D and the device-select layer's list: `0000:07:00.0`;
 * - Mesa's DRI_PRIME tag: `pci-0000_07_00_0`;
 * - lspci without a domain: `07:00.0` (domain 0).
 * Null for anything else.
 */
export function parsePciAddress(text: string): PciAddress | null {
  const t = text.trim();
  const m =
    /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(t) ??
    /^pci-([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$/i.exec(t);
  if (!m) return null;
  const device = Number.parseInt(m[3], 16);
  if (device > 0x1f) return null; // 5 bits
  return {
    domain: m[1] === undefined ? 0 : Number.parseInt(m[1], 16),
    bus: Number.parseInt(m[2], 16),
    device,
    function: Number(m[4]),
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** The canonical (sysfs) spelling, lower case: `0000:07:00.0`. */
export function formatPci(a: PciAddress): string {
  return `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.device, 2)}.${a.function}`;
}

/** NVML's spelling, upper case with an 8-digit domain: `00000000:07:00.0`. */
export function formatNvmlPci(a: PciAddress): string {
  return `${hex(a.domain, 8)}:${hex(a.bus, 2)}:${hex(a.device, 2)}.${a.function}`.toUpperCase();
}

/**
 * Mesa's DRI_PRIME tag for an address: `pci-0000_07_00_0`. The layer builds its own tag with
 * `pci-%04x_%02x_%02x_%1u` and compares strings, so the lower-case hex and widths matter.
 */
export function driPrimeTag(a: PciAddress): string {
  return `pci-${hex(a.domain, 4)}_${hex(a.bus, 2)}_${hex(a.device, 2)}_${a.function}`;
}

export function samePci(a: PciAddress | null, b: PciAddress | null): boolean {
  return (
    a !== null &&
    b !== null &&
    a.domain === b.domain &&
    a.bus === b.bus &&
    a.device === b.device &&
    a.function === b.function
  );
}

/** One line of the device-select layer's list. */
export interface LayerDevice {
  /** Position in the Vulkan loader's order (the layer's "GPU n"). */
  index: number;
  vendorId: number;
  deviceId: number;
  name: string;
  /** "discrete GPU", "integrated GPU", "virtual GPU", "CPU" or "other". */
  type: string;
  /** Null where the driver lacks VK_EXT_pci_bus_info (lavapipe). */
  pci: PciAddress | null;
}

/**
 * Parses `MESA_VK_DEVICE_SELECT=list` output (on stderr). Mesa's print_gpu writes
 * `  GPU %d: %x:%x "%s" %s` (index, vendor and device id in hex, name, type) and, where the
 * driver has VK_EXT_pci_bus_info, ` %04x:%02x:%02x.%x`, after a line `selectable devices:`.
 * Returns null when there is no such header (the layer is absent or disabled).
 */
export function parseDeviceSelectList(text: string): LayerDevice[] | null {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === "selectable devices:");
  if (start < 0) return null;
  const out: LayerDevice[] = [];
  const line =
    /^\s*GPU (\d+): ([0-9a-f]+):([0-9a-f]+) "(.*)" (discrete GPU|integrated GPU|virtual GPU|CPU|other)(?: ([0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]))?\s*$/i;
  for (const l of lines.slice(start + 1)) {
    const m = line.exec(l);
    if (!m) continue;
    out.push({
      index: Number(m[1]),
      vendorId: Number.parseInt(m[2], 16),
      deviceId: Number.parseInt(m[3], 16),
      name: m[4],
      type: m[5],
      pci: m[6] ? parsePciAddress(m[6]) : null,
    });
  }
  return out;
}

export interface LayerProbe {
  present: boolean;
  devices: LayerDevice[];
  /** Why the layer is taken to be absent (what was seen instead). */
  reason?: string;
}

/**
 * Asks the device-select layer for its list. The layer exits the process after listing, so this
 * runs a child Node that creates a Dawn instance and requests an adapter with
 * MESA_VK_DEVICE_SELECT=list. Without the layer the child finds its adapter and exits quietly.
 */
export async function probeDeviceSelectLayer(timeoutMs = 60_000): Promise<LayerProbe> {
  const webgpu = pathToFileURL(createRequire(import.meta.url).resolve("webgpu")).href;
  const script = `const { create } = await import(${JSON.stringify(webgpu)}); await create([]).requestAdapter(); process.exit(0);`;
  const env: NodeJS.ProcessEnv = { ...process.env, MESA_VK_DEVICE_SELECT: "list" };
  delete env.NODEVICE_SELECT;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      err += d;
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ present: false, devices: [], reason: `cannot start the probe: ${e.message}` });
    });
    child.on("close", () => {
      clearTimeout(timer);
      const devices = parseDeviceSelectList(err);
      resolve(
        devices
          ? { present: true, devices }
          : {
              present: false,
              devices: [],
              reason:
                "MESA_VK_DEVICE_SELECT=list printed no device list (VK_LAYER_MESA_device_select not loaded)",
            },
      );
    });
  });
}

/** Set in a process bound to one GPU (a suite worker, or a numeric --adapter): the GPU's index. */
export const GPU_BOUND_ENV = "HALFWATT_GPU_BOUND";

/** Environment that binds a process to one GPU; an undefined value means "unset it". */
export type BindEnv = Record<string, string | undefined>;

/** One physical GPU as halfwatt numbers it. */
export interface PhysicalGpu {
  /** halfwatt's index: what `--devices` and `--adapter` accept. */
  index: number;
  name: string;
  /** Canonical PCI address (`0000:07:00.0`), where known. */
  pci: string | null;
  /** NVML's own spelling of it (`00000000:07:00.0`), as stored in runs' env.gpu. */
  pciBusId: string | null;
  uuid: string | null;
  /** NVML index to read its energy from; null without NVML. */
  nvmlIndex: number | null;
  /** The device-select layer's entry for it, when the layer is present and the PCI address matches. */
  vulkan: LayerDevice | null;
  /**
   * Environment for a child process to run on this GPU alone; {} when nothing is needed (the only
   * GPU); null when it cannot be bound (several GPUs, no layer).
   */
  bindEnv: BindEnv | null;
  /** A test double (HALFWATT_TEST_LOGICAL_GPUS): not a separate device. */
  logical?: boolean;
}

export interface GpuDiscovery {
  gpus: PhysicalGpu[];
  /** Where the list came from. */
  basis: "nvml" | "device-select layer" | "single adapter" | "test hook";
  layer: LayerProbe;
  nvml: { available: boolean; reason?: string };
  notes: string[];
}

/** The environment that makes the device-select layer give a process the GPU at `pci` alone. */
export function driPrimeEnv(pci: PciAddress): BindEnv {
  return {
    DRI_PRIME: driPrimeTag(pci),
    MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: "1",
    // An explicit vendor:device selection would override DRI_PRIME; list mode would exit.
    MESA_VK_DEVICE_SELECT: undefined,
    NODEVICE_SELECT: undefined,
  };
}

export interface DiscoverOptions {
  nvml?: NvmlStatus;
  probeLayer?: () => Promise<LayerProbe>;
  env?: NodeJS.ProcessEnv;
}

/**
 * HALFWATT_TEST_LOGICAL_GPUS=N (tests only): N logical GPUs that are all Dawn's one adapter, so
 * the worker machinery (one process per GPU, block claims, shared energy) runs on a machine with
 * one GPU or none. Never set it for a measurement: the "GPUs" share one device.
 */
export const TEST_LOGICAL_GPUS_ENV = "HALFWATT_TEST_LOGICAL_GPUS";

export async function discoverGpus(options: DiscoverOptions = {}): Promise<GpuDiscovery> {
  const env = options.env ?? process.env;
  const logical = Number(env[TEST_LOGICAL_GPUS_ENV] ?? "");
  const nvml = options.nvml ?? openNvml();
  const nvmlInfo = nvml.available ? { available: true } : { available: false, reason: nvml.reason };
  if (Number.isInteger(logical) && logical > 0) {
    return {
      gpus: Array.from({ length: logical }, (_, i) => ({
        index: i,
        name: `logical GPU ${i} (test hook: Dawn's one adapter)`,
        pci: null,
        pciBusId: null,
        uuid: null,
        nvmlIndex: null,
        vulkan: null,
        bindEnv: {},
        logical: true,
      })),
      basis: "test hook",
      layer: { present: false, devices: [], reason: "not probed (test hook)" },
      nvml: nvmlInfo,
      notes: [`${TEST_LOGICAL_GPUS_ENV}=${logical}: logical GPUs for tests, all on one adapter`],
    };
  }
  const layer = await (options.probeLayer ?? probeDeviceSelectLayer)();
  const notes: string[] = [];
  const withPci = layer.devices.filter((d) => d.pci !== null);
  if (nvml.available) {
    const count = nvml.load.deviceCount ?? 0;
    const gpus: PhysicalGpu[] = [];
    for (let i = 0; i < count; i++) {
      const snap = nvml.binding.snapshot(i);
      const address = snap.pciBusId ? parsePciAddress(snap.pciBusId) : null;
      const vulkan = layer.present ? (withPci.find((d) => samePci(d.pci, address)) ?? null) : null;
      if (layer.present && !vulkan)
        notes.push(
          `GPU ${i} (NVML PCI ${snap.pciBusId ?? "unknown"}) has no Vulkan device at that address in the device-select layer's list`,
        );
      gpus.push({
        index: i,
        name: snap.name ?? vulkan?.name ?? `NVML GPU ${i}`,
        pci: address ? formatPci(address) : null,
        pciBusId: snap.pciBusId ?? null,
        uuid: snap.uuid ?? null,
        nvmlIndex: i,
        vulkan,
        bindEnv: vulkan?.pci ? driPrimeEnv(vulkan.pci) : count === 1 ? {} : null,
      });
    }
    return { gpus, basis: "nvml", layer, nvml: nvmlInfo, notes };
  }
  if (layer.present && withPci.length) {
    // No NVML (AMD, Intel): the layer's PCI devices, in its order. Energy is not read per GPU.
    const gpus = withPci.map((d, i) => ({
      index: i,
      name: d.name,
      pci: d.pci ? formatPci(d.pci) : null,
      pciBusId: null,
      uuid: null,
      nvmlIndex: null,
      vulkan: d,
      bindEnv: d.pci ? driPrimeEnv(d.pci) : null,
    }));
    return { gpus, basis: "device-select layer", layer, nvml: nvmlInfo, notes };
  }
  return {
    gpus: [
      {
        index: 0,
        name: layer.devices[0]?.name ?? "Dawn's adapter",
        pci: null,
        pciBusId: null,
        uuid: null,
        nvmlIndex: null,
        vulkan: layer.devices[0] ?? null,
        bindEnv: {},
      },
    ],
    basis: "single adapter",
    layer,
    nvml: nvmlInfo,
    notes,
  };
}

/** `--devices` or a numeric `--adapter` that cannot be honoured (E_INPUT: the user fixes it). */
export class GpuSelectionError extends HalfwattError {
  constructor(message: string) {
    super("E_INPUT", message);
  }
}

export const DEVICE_SELECT_HELP =
  "Binding a process to one of several GPUs needs Mesa's device-selection Vulkan layer " +
  "(VK_LAYER_MESA_device_select): Dawn names identical cards alike and always takes the first, and " +
  "NVIDIA's Vulkan driver ignores CUDA_VISIBLE_DEVICES. Install it with Debian's or Ubuntu's " +
  "mesa-vulkan-drivers (sudo apt-get install mesa-vulkan-drivers: it adds libVkLayer_MESA_device_select.so " +
  "and /usr/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json), or without root copy that " +
  "library and manifest (its library_path made absolute) into $XDG_DATA_HOME/vulkan/implicit_layer.d; " +
  "make sure NODEVICE_SELECT is not set. Check with: MESA_VK_DEVICE_SELECT=list halfwatt devices " +
  "(it lists each GPU with its PCI address).";

/**
 * The GPUs `--devices` names: `all`, or a comma-separated list of halfwatt indices (as
 * `halfwatt devices` prints them). Refuses unknown or repeated indices, and any GPU that cannot be
 * bound (several GPUs and no device-select layer), before any work starts.
 */
export function selectGpus(discovery: GpuDiscovery, wanted: string): PhysicalGpu[] {
  const all = discovery.gpus;
  const w = wanted.trim();
  let chosen: PhysicalGpu[];
  if (w.toLowerCase() === "all") chosen = all.slice();
  else {
    const parts = w.split(",").map((s) => s.trim());
    const bad = parts.filter((p) => !/^\d+$/.test(p));
    if (!parts.length || bad.length)
      throw new GpuSelectionError(
        `--devices: expected "all" or GPU indices such as 0,2 (from halfwatt devices), got ${JSON.stringify(wanted)}`,
      );
    const indices = parts.map(Number);
    const repeated = indices.filter((x, i) => indices.indexOf(x) !== i);
    if (repeated.length) throw new GpuSelectionError(`--devices: GPU ${repeated[0]} is named twice`);
    const missing = indices.filter((x) => !all.some((g) => g.index === x));
    if (missing.length)
      throw new GpuSelectionError(
        `--devices: no GPU ${missing.join(", ")} on this host; it has ${all.length} (${all.map((g) => `${g.index}: ${g.name}`).join("; ")})`,
      );
    chosen = indices.map((x) => all.find((g) => g.index === x) as PhysicalGpu);
  }
  const unbound = chosen.filter((g) => g.bindEnv === null);
  if (unbound.length)
    throw new GpuSelectionError(
      `this host has ${all.length} GPUs, and GPU ${unbound.map((g) => g.index).join(", ")} cannot be chosen: ${
        discovery.layer.present
          ? "the device-select layer lists no Vulkan device at its PCI address (is its Vulkan driver installed?)"
          : `Mesa's device-select layer is not available (${discovery.layer.reason ?? "absent"}). ${DEVICE_SELECT_HELP}`
      }`,
    );
  return chosen;
}

/** Applies a BindEnv to an environment (a copy). */
export function withBindEnv(base: NodeJS.ProcessEnv, bind: BindEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(bind)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}
