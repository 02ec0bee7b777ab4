// The built-in synthetic dataset: each class is a shape (disc, square, triangle, ring) in a class
// colour on a class background, filled with stripes at a class angle and frequency; each image
// moves, scales and rotates the shape, jitters the colours and adds pixel noise. A one-hidden-layer
// MLP learns 10 classes at 32×32 to ≥ 0.9 in a few epochs, yet no single pixel decides the class.
//
// The images are written as real PNG files (lossless, so the loader reads back exactly what was
// drawn) into the cache, and then loaded by the folder loader like any other dataset.
import fs from "node:fs";
import path from "node:path";
import { seededRandom } from "../util/rng.js";
import { sha256, tempName } from "./cache.js";
import { DatasetError } from "./errors.js";
import { formatSyntheticSpec, type SyntheticSpec } from "./spec.js";
import type { ProgressEvent, SplitName } from "./types.js";

/** Bump when the drawing changes: a new version gets a new folder. */
export const GENERATOR_VERSION = 1;

const SHAPES = ["disc", "square", "triangle", "ring"] as const;
const SPLITS: readonly SplitName[] = ["train", "valid", "test"];

export interface ClassStyle {
  shape: (typeof SHAPES)[number];
  fg: [number, number, number];
  bg: [number, number, number];
  stripeAngle: number;
  stripeFreq: number;
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/**
 * What makes class c itself. Hues are spread evenly over the circle (36° apart for 10 classes);
 * neighbouring classes, close in hue when there are hundreds, differ in shape and stripes.
 */
export function classStyle(c: number, classes: number): ClassStyle {
  const hue = c / classes;
  return {
    shape: SHAPES[c % SHAPES.length],
    fg: hsv(hue, 0.75, 0.95),
    bg: hsv((hue + 0.5 + 0.1 * (c % 3)) % 1, 0.5, 0.35),
    stripeAngle: ((c * 37) % 180) * (Math.PI / 180),
    stripeFreq: 1.5 + (c % 5),
  };
}

export function className(c: number, classes: number): string {
  return `${String(c).padStart(String(classes - 1).length, "0")}-${classStyle(c, classes).shape}`;
}

/** Independent, deterministic stream per (seed, split, image): images can be drawn in any order. */
function imageSeed(seed: number, split: number, i: number): number {
  let h = (seed ^ Math.imul(split + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) ^ Math.imul(i + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
}

/** Draws one size×size RGB image of class c (uint8, HWC). */
export function drawImage(c: number, classes: number, size: number, rng: () => number): Uint8Array {
  const st = classStyle(c, classes);
  const out = new Uint8Array(size * size * 3);
  const cx = (0.3 + 0.4 * rng()) * size;
  const cy = (0.3 + 0.4 * rng()) * size;
  const r = (0.2 + 0.15 * rng()) * size;
  const rot = rng() * 2 * Math.PI;
  const cos = Math.cos(rot);
  const sin = Math.sin(rot);
  const phase = rng() * 2 * Math.PI;
  // Lighting: one brightness factor per image, and a little per channel (a hue shift well below
  // the gap between neighbouring class hues).
  const light = 0.8 + 0.4 * rng();
  const jitter = (x: number) => x * light * (0.95 + 0.1 * rng());
  const fg = st.fg.map(jitter);
  const bg = st.bg.map(jitter);
  const sa = Math.cos(st.stripeAngle);
  const sb = Math.sin(st.stripeAngle);
  const k = (2 * Math.PI * st.stripeFreq) / r;
  const noise = 0.06;
  const amp = noise * Math.sqrt(3); // uniform noise in ±amp has sd = noise
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      // Shape coordinates: rotated, in units of the radius.
      const u = (cos * dx + sin * dy) / r;
      const v = (-sin * dx + cos * dy) / r;
      const d2 = u * u + v * v;
      let inside: boolean;
      switch (st.shape) {
        case "disc":
          inside = d2 <= 1;
          break;
        case "square":
          inside = Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
          break;
        case "triangle":
          inside = v >= -0.5 && v <= 1 - Math.sqrt(3) * Math.abs(u);
          break;
        default:
          inside = d2 <= 1 && d2 >= 0.3;
      }
      const o = (y * size + x) * 3;
      if (inside) {
        const stripe = 0.75 + 0.25 * Math.sin(k * (sa * dx + sb * dy) + phase);
        for (let ch = 0; ch < 3; ch++) out[o + ch] = toByte(fg[ch] * stripe + amp * (2 * rng() - 1));
      } else {
        for (let ch = 0; ch < 3; ch++) out[o + ch] = toByte(bg[ch] + amp * (2 * rng() - 1));
      }
    }
  }
  return out;
}

export function syntheticFolderName(spec: SyntheticSpec): string {
  return sha256(`${GENERATOR_VERSION}\n${formatSyntheticSpec(spec)}`).slice(0, 16);
}

/**
 * Makes sure the PNG files of `spec` exist under cacheDir/synthetic/<hash>/{train,valid,test}/<class>/
 * and returns that folder. They are drawn into a temporary folder renamed into place when complete.
 */
export async function ensureSynthetic(
  spec: SyntheticSpec,
  cacheDir: string,
  concurrency: number,
  onProgress?: (e: ProgressEvent) => void,
): Promise<string> {
  const base = path.join(cacheDir, "synthetic");
  const final = path.join(base, syntheticFolderName(spec));
  if (fs.existsSync(final)) return final;
  const tmp = tempName(final);
  try {
    fs.mkdirSync(base, { recursive: true });
    const names = Array.from({ length: spec.classes }, (_, c) => className(c, spec.classes));
    for (const split of SPLITS)
      for (const n of names) fs.mkdirSync(path.join(tmp, split, n), { recursive: true });
    const jobs: Array<{ split: number; i: number }> = [];
    SPLITS.forEach((split, si) => {
      for (let i = 0; i < spec[split]; i++) jobs.push({ split: si, i });
    });
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const { split, i } = jobs[next++];
        const c = i % spec.classes; // round robin: every class gets ⌊n/classes⌋ or one more
        const pixels = drawImage(c, spec.classes, spec.size, seededRandom(imageSeed(spec.seed, split, i)));
        const file = path.join(tmp, SPLITS[split], names[c], `${String(i).padStart(6, "0")}.png`);
        const sharp = (await import("sharp")).default;
        await sharp(pixels, { raw: { width: spec.size, height: spec.size, channels: 3 } })
          .png({ compressionLevel: 1 })
          .toFile(file);
        onProgress?.({ phase: "synthesize", done: ++done, total: jobs.length });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    try {
      fs.renameSync(tmp, final);
    } catch (e) {
      // Another process finished the same set first: theirs is identical.
      if (!fs.existsSync(final)) throw e;
    }
    return final;
  } catch (cause) {
    if (cause instanceof DatasetError) throw cause;
    throw new DatasetError(
      "cache",
      final,
      `Cannot write the synthetic dataset into ${final}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
