// Modelled RAM power. Two models:
//
// - `modules` (the default): power follows the number of memory modules, not capacity, as in
//   CodeCarbon 3 (its PR #804, codecarbon/external/ram.py): 5 W per module on x86, 1.5 W on ARM,
//   with a discount at scale (the first 4 modules at 100 %, the next 4 at 90 %, the next 8 at
//   80 %, the rest at 70 %). The count and sizes are read where the machine tells: SMBIOS
//   type-17 ("Memory Device") records in /sys/firmware/dmi/entries/17-*/raw (root only), else
//   `dmidecode -t memory` (root, if installed); else the count is estimated from MemTotal with
//   CodeCarbon 3's typical configurations, at least 2 modules and at most 128 GB a module.
// - `constant`: W per GB of MemTotal, 3/8 by default — CodeCarbon before v3 ("3 W per 8 GB",
//   citing Crucial's "How much power does memory use?"); Green Algorithms uses 0.3725 W/GB.
//   Kept for comparison with older studies.
//
// Range (both models): from 0.08 W/GB of installed memory (a wall-plug measurement reported to
// the Green Algorithms project, issue 12) to the per-module figure without the scale discount,
// widened to include the model's own value. Every figure here is labelled `estimated`.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { monotonicMs } from "./clock.js";
import { TelemetryInputError } from "./errors.js";
import { parseMemTotalBytes } from "./proc.js";
import type { ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

export const DEFAULT_RAM_WATTS_PER_GB = 3 / 8;
/** The low end of every RAM range: a wall-plug measurement reported to Green Algorithms. */
export const LOW_RAM_WATTS_PER_GB = 0.08;
/** CodeCarbon 3's RAM_SLOT_POWER_X86. */
export const WATTS_PER_MODULE_X86 = 5;
/** CodeCarbon 3's per-module figure for ARM (low-power memory). */
export const WATTS_PER_MODULE_ARM = 1.5;
/** The estimate never assumes fewer modules than this, nor more GB per module than the next. */
export const MIN_ESTIMATED_MODULES = 2;
export const MAX_GB_PER_MODULE = 128;
export const DEFAULT_DMI_ENTRIES = "/sys/firmware/dmi/entries";

export type RamModelKind = "modules" | "constant";

export interface MemoryModules {
  /** GB (2^30 bytes) of each populated module; for an estimate, equal shares of the total. */
  sizesGb: number[];
  how: "smbios" | "dmidecode" | "estimated";
  /** Where the count came from, or why the machine could not tell. */
  detail: string;
}

export interface RamPowerModel {
  kind: RamModelKind;
  /** MemTotal, GiB. */
  gigabytes: number;
  powerW: number;
  /** Bounds of the model's stated uncertainty (see the file comment). */
  lowW: number;
  highW: number;
  /** The constant model's W/GB. */
  wattsPerGb?: number;
  modules: MemoryModules;
  wattsPerModule: number;
  /** What was modelled and from what, for the channel's note. */
  note: string;
}

// ---------------------------------------------------------------------------------------------
// SMBIOS type 17 (DMTF DSP0134 §7.18): offset 0x0C Size (WORD): 0 = no module in the socket,
// 0xFFFF = size unknown, 0x7FFF = see Extended Size; bit 15 = granularity (0: MB, 1: KB),
// bits 14:0 = the size. Offset 0x1C Extended Size (DWORD, SMBIOS ≥ 2.7): bits 30:0 in MB.

export type Type17Size = { installed: false } | { installed: true; bytes: number | null };

export function parseSmbiosType17(raw: Uint8Array, where = "SMBIOS record"): Type17Size {
  if (raw.length < 4) throw new TelemetryInputError(`${where}: ${raw.length} bytes, too short for a header`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const type = view.getUint8(0);
  const length = view.getUint8(1);
  if (type !== 17)
    throw new TelemetryInputError(`${where}: structure type ${type}, expected 17 (Memory Device)`);
  if (length < 0x0e || raw.length < 0x0e)
    throw new TelemetryInputError(`${where}: formatted length ${length} has no Size field (needs ≥ 14)`);
  const size = view.getUint16(0x0c, true);
  if (size === 0) return { installed: false };
  if (size === 0xffff) return { installed: true, bytes: null };
  if (size === 0x7fff) {
    if (length < 0x20 || raw.length < 0x20)
      throw new TelemetryInputError(
        `${where}: Size 0x7FFF points to an Extended Size the ${length}-byte record lacks`,
      );
    return { installed: true, bytes: (view.getUint32(0x1c, true) & 0x7fffffff) * 2 ** 20 };
  }
  const unit = size & 0x8000 ? 2 ** 10 : 2 ** 20;
  return { installed: true, bytes: (size & 0x7fff) * unit };
}

/** Module sizes from /sys/firmware/dmi/entries/17-*, or why not. */
export function readSmbiosModules(root = DEFAULT_DMI_ENTRIES): { sizesGb: number[] } | { reason: string } {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^17-\d+$/.test(n));
  } catch (e) {
    return { reason: `${root}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (!names.length) return { reason: `${root} has no type-17 (memory device) entries` };
  const sizesGb: number[] = [];
  for (const n of names.sort()) {
    const file = join(root, n, "raw");
    let raw: Buffer;
    try {
      raw = readFileSync(file);
    } catch (e) {
      return { reason: `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    const s = parseSmbiosType17(raw, file);
    if (!s.installed) continue;
    if (s.bytes === null) return { reason: `${file}: module of unknown size` };
    sizesGb.push(s.bytes / 2 ** 30);
  }
  if (!sizesGb.length) return { reason: `${root}: no populated memory devices` };
  return { sizesGb };
}

const DMIDECODE_UNITS: Record<string, number> = { kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, tb: 2 ** 40 };

/** Populated module sizes (GB) from `dmidecode -t memory` text; [] when it lists none. */
export function parseDmidecodeMemory(text: string): number[] {
  const sizes: number[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    if (!/^Memory Device\s*$/m.test(block)) continue;
    const m = /^\s*Size:\s*(.+?)\s*$/m.exec(block);
    if (!m) continue;
    const v = /^(\d+(?:\.\d+)?)\s*(kB|KB|MB|GB|TB)$/i.exec(m[1]);
    if (!v) {
      if (/no module installed|not installed/i.test(m[1])) continue;
      throw new TelemetryInputError(`dmidecode: memory device Size "${m[1]}" is not a size`);
    }
    sizes.push((Number(v[1]) * DMIDECODE_UNITS[v[2].toLowerCase()]) / 2 ** 30);
  }
  return sizes;
}

function runDmidecode(): { text: string } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: "dmidecode needs root" };
  try {
    const text = execFileSync("dmidecode", ["-t", "memory"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    return { text };
  } catch (e) {
    return { reason: `dmidecode: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

/**
 * CodeCarbon 3's typical configurations for a total of `gb`: 2 modules up to 16 GB, 4 up to
 * 64 GB, 8 up to 128 GB; above, the largest common size (4…128 GB) that gives at least 8
 * modules. Then the issue's bounds: at least 2 modules, at most 128 GB a module (CodeCarbon
 * instead caps the count at 32, and uses 1 module up to 2 GB).
 */
export function estimateModuleCount(gb: number): number {
  if (!(gb > 0)) throw new TelemetryInputError(`memory size ${gb} GB must be > 0`);
  let n: number;
  // CodeCarbon: 2 × 4 or 2 × 8 GB up to 16 GB; also the floor of 2 modules.
  if (gb <= 16) n = MIN_ESTIMATED_MODULES;
  else if (gb <= 64) n = 4;
  else if (gb <= 128) n = 8;
  else {
    const size = [128, 64, 32, 16, 8, 4].find((s) => s <= gb / 8) as number;
    n = Math.ceil(gb / size);
  }
  return Math.max(n, Math.ceil(gb / MAX_GB_PER_MODULE));
}

/** CodeCarbon 3's discount at scale: modules 1–4 at 100 %, 5–8 at 90 %, 9–16 at 80 %, then 70 %. */
export function modulePowerW(count: number, wattsPerModule: number): number {
  let w = 0;
  for (let i = 1; i <= count; i++) w += wattsPerModule * (i <= 4 ? 1 : i <= 8 ? 0.9 : i <= 16 ? 0.8 : 0.7);
  return w;
}

export interface RamModelOptions {
  /** Default "modules"; "constant" when `wattsPerGb` is given. */
  model?: RamModelKind;
  /** The constant model's W/GB (default 3/8). */
  wattsPerGb?: number;
  /** /proc/meminfo text (tests). */
  meminfo?: string;
  /** Directory of SMBIOS entries (tests; default /sys/firmware/dmi/entries). */
  dmiEntries?: string;
  /** `dmidecode -t memory` output; null: do not run it; absent: run it when root. */
  dmidecode?: string | null;
  /** process.arch by default; "arm"/"arm64" use the ARM per-module figure. */
  arch?: string;
}

function findModules(gigabytes: number, o: RamModelOptions): MemoryModules {
  const smbios = readSmbiosModules(o.dmiEntries ?? DEFAULT_DMI_ENTRIES);
  if ("sizesGb" in smbios)
    return { sizesGb: smbios.sizesGb, how: "smbios", detail: `read from SMBIOS type-17 records` };
  const dmi =
    o.dmidecode === undefined ? runDmidecode() : o.dmidecode === null ? null : { text: o.dmidecode };
  let why = smbios.reason;
  if (dmi && "text" in dmi) {
    const sizesGb = parseDmidecodeMemory(dmi.text);
    if (sizesGb.length) return { sizesGb, how: "dmidecode", detail: "read from dmidecode -t memory" };
    why += "; dmidecode lists no populated memory device";
  } else if (dmi) why += `; ${dmi.reason}`;
  const n = estimateModuleCount(gigabytes);
  return {
    sizesGb: Array(n).fill(gigabytes / n),
    how: "estimated",
    detail: `estimated from MemTotal as CodeCarbon 3 does, the machine did not tell (${why})`,
  };
}

const fmtGb = (g: number) => (Number.isInteger(g) ? `${g}` : g.toFixed(1));

/** The default model, or the constant one when asked (`model: "constant"` or `wattsPerGb`). */
export function resolveRamPowerModel(options: RamModelOptions = {}): RamPowerModel {
  const kind = options.model ?? (options.wattsPerGb !== undefined ? "constant" : "modules");
  if (kind !== "modules" && kind !== "constant")
    throw new TelemetryInputError(`RAM model "${kind as string}" is not "modules" or "constant"`);
  const wattsPerGb = options.wattsPerGb ?? DEFAULT_RAM_WATTS_PER_GB;
  if (!(wattsPerGb >= 0)) throw new TelemetryInputError(`RAM W/GB ${wattsPerGb} must be >= 0`);
  const gigabytes = parseMemTotalBytes(options.meminfo ?? readFileSync("/proc/meminfo", "utf8")) / 2 ** 30;
  const arch = options.arch ?? process.arch;
  const arm = arch === "arm" || arch === "arm64";
  const wattsPerModule = arm ? WATTS_PER_MODULE_ARM : WATTS_PER_MODULE_X86;
  const modules = findModules(gigabytes, options);
  const count = modules.sizesGb.length;
  const installedGb = modules.how === "estimated" ? gigabytes : modules.sizesGb.reduce((a, b) => a + b, 0);
  const moduleW = modulePowerW(count, wattsPerModule);
  const powerW = kind === "modules" ? moduleW : gigabytes * wattsPerGb;
  const lowW = Math.min(LOW_RAM_WATTS_PER_GB * installedGb, powerW);
  const highW = Math.max(count * wattsPerModule, powerW);
  const sizes =
    modules.how === "estimated"
      ? `${count} × ${fmtGb(modules.sizesGb[0])} GB`
      : modules.sizesGb.map(fmtGb).join(" + ").concat(" GB");
  const range = `range ${lowW.toFixed(2)}–${highW.toFixed(2)} W (${LOW_RAM_WATTS_PER_GB} W/GB wall-plug figure … ${wattsPerModule} W per module, no scale discount)`;
  const moduleNote = `${count} modules (${sizes}) ${modules.detail}`;
  const note =
    kind === "modules"
      ? `per-module model (CodeCarbon 3, ${arm ? "ARM" : "x86"}): ${wattsPerModule} W/module with its discount at scale = ${powerW.toFixed(2)} W; ${moduleNote}; ${range}`
      : `constant model (CodeCarbon < 3): ${fmtGb(gigabytes)} GiB MemTotal × ${wattsPerGb} W/GB = ${powerW.toFixed(2)} W; ${moduleNote}; ${range}`;
  return {
    kind,
    gigabytes,
    powerW,
    lowW,
    highW,
    ...(kind === "constant" ? { wattsPerGb } : {}),
    modules,
    wattsPerModule,
    note,
  };
}

/** The constant W/GB model (CodeCarbon before v3), kept for comparison with older studies. */
export function resolveRamModel(options: Omit<RamModelOptions, "model"> = {}): RamPowerModel {
  return resolveRamPowerModel({ ...options, model: "constant" });
}

/** The parts of a model the source needs; bounds default to the value. */
export type RamSourceModel = Pick<RamPowerModel, "gigabytes" | "powerW"> & Partial<RamPowerModel>;

/** Energy = P × time since the source started: an (estimated) counter, with its bounds. */
export class RamModelSource implements TelemetrySource {
  readonly name = "ram-model";
  readonly channels: ChannelInfo[];
  private t0: number | null = null;

  constructor(private readonly model: RamSourceModel) {
    const what =
      model.kind === "modules" && model.modules
        ? `${model.modules.sizesGb.length} modules`
        : `${model.gigabytes.toFixed(1)} GiB × ${model.wattsPerGb ?? "?"} W/GB`;
    this.channels = [
      {
        id: "ram-model",
        component: "dram",
        source: `RAM model (${what} = ${model.powerW.toFixed(2)} W)`,
        counter: "estimated",
        updatePeriodMs: 0,
        note: model.note ?? "constant power per GB of MemTotal",
      },
    ];
  }

  read(): ChannelReading[] {
    const t = monotonicMs();
    this.t0 ??= t;
    const s = (t - this.t0) / 1000;
    const m = this.model;
    return [
      {
        channel: "ram-model",
        energyJ: m.powerW * s,
        energyLowJ: (m.lowW ?? m.powerW) * s,
        energyHighJ: (m.highW ?? m.powerW) * s,
        t,
      },
    ];
  }
}
