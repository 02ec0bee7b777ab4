// The GEMM tune cache: which kernel (variant × tile × split-K) was fastest for each call a model
// makes, per adapter, as \`halfwatt tune\` measured it (src/kernels/gemm-tune.ts). gemm()'s automatic
// choice reads it here; the built-in heuristics decide wherever it has no entry. An entry is
// trusted only for the adapter it was measured on (name, vendor, architecture, description — the
// driver version on NVIDIA) and for the GEMM shader sources it was measured with: a changed kernel
// or driver invalidates it. (Its own module: gemm.ts reads it, and the tuner imports gemm.ts.)
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { resourceSlot, resourcesOf } from "../gpu/resources.js";
import type { GemmShape } from "./gemm-common.js";
import { shaderBody } from "./program.js";

/** One GEMM call as a model makes it: the shape, the layouts, the dtypes and the fused epilogue. */
export interface GemmCall extends GemmShape {
  transA: boolean;
  transB: boolean;
  inType: "f32" | "f16";
  outType: "f32" | "f16";
  bias: boolean;
  relu: boolean;
  /** C is read (beta ≠ 0). */
  beta: boolean;
  /** What the call is for ("forward layer 0"), for the tuner's table. */
  label?: string;
}

/** What the automatic choice can be told: a kernel, its tile and the K split. */
export interface GemmChoice {
  variant: "tiled" | "subgroup-matrix" | "skinny" | "lanes";
  /** Tiled kernel tile name (TILES). */
  tile?: string;
  /** Subgroup-matrix tile name (MATRIX_TILES). */
  matrixTile?: string;
  /** Lanes kernel tile name ("l8r32": gemm-lanes.ts). */
  lanesTile?: string;
  /** Skinny kernel rows per workgroup (gemm-skinny.ts SKINNY_ROWS; absent: 32). */
  skinnyRows?: number;
  splitK?: number;
}

/** "f16>f32 M×N×K tA +bias relu": everything that changes which kernel is fastest. */
export function gemmCallKey(c: GemmCall): string {
  return [
    `${c.inType}>${c.outType}`,
    `${c.m}x${c.n}x${c.k}`,
    c.transA ? "tA" : "",
    c.transB ? "tB" : "",
    c.bias ? "+bias" : "",
    c.relu ? "relu" : "",
    c.beta ? "beta" : "",
  ]
    .filter(Boolean)
    .join(" ");
}

export function describeChoice(c: GemmChoice): string {
  const tile =
    c.matrixTile ?? c.lanesTile ?? c.tile ?? (c.skinnyRows !== undefined ? `r${c.skinnyRows}` : undefined);
  return `${c.variant}${tile ? ` ${tile}` : ""}${c.splitK !== undefined ? ` split-K ${c.splitK}` : ""}`;
}

export interface TuneEntry {
  choice: GemmChoice;
  /** Median seconds per call of the choice, and of the heuristic choice, when tuned. */
  seconds: number;
  heuristicSeconds: number | null;
  tunedAt: string;
}

export interface AdapterSection {
  adapter: string;
  /** Hash of the GEMM shader sources the timings belong to. */
  kernels: string;
  entries: Record<string, TuneEntry>;
}

export interface TuneCacheFile {
  format: "halfwatt-gemm-tune";
  version: 1;
  adapters: Record<string, AdapterSection>;
}

/** The cache's path: HALFWATT_TUNE_CACHE, else $XDG_CACHE_HOME/halfwatt, else ~/.cache/halfwatt. */
export function tuneCachePath(): string {
  if (process.env.HALFWATT_TUNE_CACHE) return process.env.HALFWATT_TUNE_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "halfwatt", "gemm-tune.json");
}

/** The adapter as the cache knows it: name and Dawn's adapter info (the driver on NVIDIA). */
export function adapterKey(ctx: GpuContext): string {
  const info = (ctx.adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const parts = info ? [info.vendor, info.architecture, info.device, info.description] : [];
  return [ctx.adapterName, ...parts].filter(Boolean).join(" | ");
}

/**
 * A shader's code as the hash sees it: `//` comments, trailing blanks and empty lines dropped, so
 * a comment edit keeps the timings measured with the code (WGSL has no string literals for `//`
 * to hide in; the generator's block-comment markers stay, they place generated code).
 */
export function shaderCode(source: string): string {
  return source
    .split("\n")
    .map((line) => line.replace(/\/\/.*$/, "").trimEnd())
    .filter((line) => line !== "")
    .join("\n");
}

let kernelsHashMemo: string | null = null;
/** Hash of every shader the GEMM paths compile: a timing is stale once any of their code changes. */
export function gemmKernelsHash(): string {
  kernelsHashMemo ??= createHash("sha256")
    .update(
      [
        "gemm",
        "gemm_lanes",
        "gemm_subgroup_matrix",
        "gemm_skinny",
        "gemm_splitk_reduce",
        "lib/gemm_load",
        "lib/gemm_stage",
        "lib/gemm_tile_loop",
      ]
        .map((name) => shaderCode(shaderBody(name)))
        .join("\u0000"),
    )
    .digest("hex")
    .slice(0, 16);
  return kernelsHashMemo;
}

/** What to do about a cache file that cannot be read (re-running tune alone would fail the same way). */
const UNREADABLE_ADVICE =
  "move or delete it, or pass another --cache (halfwatt tune --replace-cache overwrites it)";

export function readTuneCache(path = tuneCachePath()): TuneCacheFile {
  const empty: TuneCacheFile = { format: "halfwatt-gemm-tune", version: 1, adapters: {} };
  if (!existsSync(path)) return empty;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new KernelInputError(
      "gemm tune cache",
      `${path} is not valid JSON (${(e as Error).message}); ${UNREADABLE_ADVICE}`,
    );
  }
  const f = parsed as Partial<TuneCacheFile>;
  if (f.format !== "halfwatt-gemm-tune" || f.version !== 1 || typeof f.adapters !== "object" || !f.adapters)
    throw new KernelInputError(
      "gemm tune cache",
      `${path} is not a halfwatt GEMM tune cache (format/version/adapters); ${UNREADABLE_ADVICE}`,
    );
  return f as TuneCacheFile;
}

/** Writes the cache atomically (a temporary file renamed over it). */
export function writeTuneCache(file: TuneCacheFile, path = tuneCachePath()): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, path);
}

/**
 * Per device: the entries valid for it, loaded once from the cache file (or set by the tuner).
 * Created empty-handed (null): the first entriesFor() loads the file.
 */
const TUNE_CHOICES = resourceSlot("tune choices", (): Map<string, GemmChoice> | null => null);

/** The tuned entries that apply to this device: its adapter, the current kernels, known tiles. */
export function applicableEntries(ctx: GpuContext, file: TuneCacheFile): Map<string, GemmChoice> {
  const section = file.adapters[adapterKey(ctx)];
  const out = new Map<string, GemmChoice>();
  if (!section || section.kernels !== gemmKernelsHash()) return out;
  // (A choice naming a tile this build lacks is ignored where gemm() applies it.)
  for (const [key, e] of Object.entries(section.entries)) out.set(key, e.choice);
  return out;
}

/** Points this device at a cache file (the tuner, tests); HALFWATT_TUNE_CACHE=off disables it. */
export function useTuneCache(ctx: GpuContext, path = tuneCachePath()): Map<string, GemmChoice> {
  const entries =
    path === "off" ? new Map<string, GemmChoice>() : applicableEntries(ctx, readTuneCache(path));
  resourcesOf(ctx.device).set(TUNE_CHOICES, entries);
  return entries;
}

/** The entries that apply to this device, loaded from the cache file on first use. */
function entriesFor(ctx: GpuContext): Map<string, GemmChoice> {
  // A context without a device (the stand-ins of tests that never dispatch) has no tuning.
  if (!ctx.device) return new Map();
  const resources = resourcesOf(ctx.device);
  let entries = resources.get(TUNE_CHOICES);
  if (!entries) {
    try {
      entries = useTuneCache(ctx);
    } catch {
      // An unreadable cache must not stop training: the heuristics serve, and `halfwatt tune`
      // reports the file's problem when it next reads it.
      entries = new Map();
      resources.set(TUNE_CHOICES, entries);
    }
  }
  return entries;
}

/** The tuned choice for this call on this device, or null (then the heuristics decide). */
export function tunedChoice(ctx: GpuContext, call: GemmCall): GemmChoice | null {
  return entriesFor(ctx).get(gemmCallKey(call)) ?? null;
}

/** How many tuned choices apply on this device, and from which file (for a run's notes). */
export function tuneCacheStatus(ctx: GpuContext): { entries: number; path: string } {
  return { entries: entriesFor(ctx).size, path: tuneCachePath() };
}
