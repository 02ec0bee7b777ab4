// The built-in synthetic dataset: each class is a shape (disc, square, triangle, ring) in a class
// colour on a class background, filled with stripes at a class angle and frequency; each image
// moves, scales and rotates the shape, jitters the colours and adds pixel noise. A one-hidden-layer
// MLP learns 10 classes at 32×32 to ≥ 0.9 in a few epochs, yet no single pixel decides the class.
//
// This file draws; synthetic-cache.ts writes the drawings straight into the decoded-pixel cache
// (on worker threads for large sets, synthetic-worker.ts).
import { seededRandom } from "../util/rng.js";
import { addToHistogram } from "./histogram.js";
import type { SyntheticSpec } from "./spec.js";
import type { SplitName } from "./types.js";

/** Bump when the drawing changes: a new version gets a new cache key. */
export const GENERATOR_VERSION = 1;

const SHAPES = ["disc", "square", "triangle", "ring"] as const;
export const SYNTHETIC_SPLITS: readonly SplitName[] = ["train", "valid", "test"];

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
export function imageSeed(seed: number, split: number, i: number): number {
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

/**
 * Cache order of a split of n images: by class, then index (image i has class i mod classes) — the
 * order the folder loader gave the PNG files this generator used to write, so the bytes are the same.
 */
export function splitOrder(n: number, classes: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < classes; c++) for (let i = c; i < n; i += classes) out.push(i);
  return out;
}

/** Name of image i in the manifest: the path its PNG used to have, without the extension. */
export function syntheticEntry(split: SplitName, i: number, classes: number): string {
  return `${split}/${className(i % classes, classes)}/${String(i).padStart(6, "0")}`;
}

export interface DrawnBatch {
  /** n × imageSize² × 3 bytes, in the order asked. */
  pixels: Uint8Array;
  /** 3×256 histogram of those bytes (taken here so that worker threads share the work). */
  hist: Float64Array;
}

/**
 * Draws images `indices` of `split` at the spec's size, resized to `imageSize` (sharp, fit "fill",
 * as the folder loader resizes a decoded image) when that differs.
 */
export async function drawBatch(
  spec: SyntheticSpec,
  imageSize: number,
  split: SplitName,
  indices: readonly number[],
): Promise<DrawnBatch> {
  const bytes = imageSize * imageSize * 3;
  const pixels = new Uint8Array(indices.length * bytes);
  const si = SYNTHETIC_SPLITS.indexOf(split);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    let img: Uint8Array = drawImage(
      i % spec.classes,
      spec.classes,
      spec.size,
      seededRandom(imageSeed(spec.seed, si, i)),
    );
    if (imageSize !== spec.size) {
      const sharp = (await import("sharp")).default;
      img = await sharp(img, { raw: { width: spec.size, height: spec.size, channels: 3 } })
        .resize(imageSize, imageSize, { fit: "fill" })
        .raw()
        .toBuffer();
    }
    pixels.set(img, k * bytes);
  }
  const hist = new Float64Array(768);
  if (split === "train") addToHistogram(hist, pixels);
  return { pixels, hist };
}
