// Where decoded pixels live and how a cache is recognised as current.
//
// The source hash covers, for every entry inside a class folder, its relative path, size and
// mtime — not its bytes: stat-ing 90 000 files takes a second, reading 2 GB of JPEGs does not.
// An edit that keeps size and mtime (rare; `touch -r`) goes unnoticed; any ordinary write or
// touch is seen. The hash also covers the image size, the split parameters and LOADER_VERSION.
//
// Writes are atomic: pixel files and the manifest are written under temporary names and renamed;
// the manifest is renamed last and is the commit point, so a crash mid-decode leaves no manifest
// pointing at half-written pixels.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/** Bump when decoding changes (orientation, resize, colour handling): old caches then rebuild. */
export const LOADER_VERSION = 1;

export function defaultCacheDir(): string {
  const env = process.env;
  if (env.HALFWATT_CACHE) return env.HALFWATT_CACHE;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "halfwatt");
  return path.join(os.homedir(), ".cache", "halfwatt");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const splitSchema = z.object({
  count: z.number().int().nonnegative(),
  pixelFile: z.string(),
  labels: z.array(z.number().int().nonnegative()),
  files: z.array(z.string()),
});

export const manifestSchema = z.object({
  version: z.literal(LOADER_VERSION),
  source: z.string(),
  sourceHash: z.string(),
  imageSize: z.number().int().positive(),
  classes: z.array(z.string()),
  splits: z.object({ train: splitSchema, valid: splitSchema, test: splitSchema }),
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
  channelMean: z.tuple([z.number(), z.number(), z.number()]),
  channelStd: z.tuple([z.number(), z.number(), z.number()]),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const MANIFEST = "manifest.json";

/** The manifest in `dir`, or undefined when absent or unreadable (the caller then rebuilds). */
export function readManifest(dir: string): Manifest | undefined {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A name beside `final` that no other process will pick. */
export function tempName(final: string): string {
  return `${final}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

export function writeFileAtomic(final: string, data: string): void {
  const tmp = tempName(final);
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Pixel files of earlier builds: removed once a new manifest is in place. */
export function removeStale(dir: string, keep: ReadonlySet<string>): void {
  for (const name of fs.readdirSync(dir)) {
    if (/^(train|valid|test)\.[0-9a-f]+\.u8$/.test(name) && !keep.has(name))
      fs.rmSync(path.join(dir, name), { force: true });
  }
}
