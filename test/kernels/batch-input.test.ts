// batch_input over a split held in several shard buffers (a split past one storage binding): the
// gathered, normalised batch must equal a float64 CPU normalisation of the images the order picks,
// for a shuffled order whose batch crosses shard boundaries, with the output poisoned first.
import { describe, expect, it } from "vitest";
import { batchInput, batchInputStore } from "../../src/kernels/batch-input.js";
import type { Rgb } from "../../src/kernels/image-normalize.js";
import {
  createTensor,
  destroyTensor,
  download,
  downloadF32,
  fill,
  reshapeView,
  tensorFrom,
} from "../../src/kernels/tensor.js";
import { constantState } from "../../src/kernels/train-state.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { imageNormalizeRef, stored, unzip } from "./reference.js";

const env = useGpu("batch_input");
const IMAGENET = { mean: [0.485, 0.456, 0.406] as Rgb, std: [0.229, 0.224, 0.225] as Rgb };

/** Fisher–Yates with the test's rng: a permutation of 0..n−1. */
function shuffled(rng: () => number, n: number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describe("batch_input with shards", () => {
  // [images, per shard, batch, cursor]: 3 shards (4 bindings, one padded), 4 full bindings, 5 (8).
  const CASES: [number, number, number, number][] = [
    [29, 10, 17, 5],
    [37, 10, 23, 7],
    [41, 9, 30, 9],
  ];
  for (const dtype of ["f32", "f16"] as const)
    for (const [count, per, batch, cursor] of CASES)
      it(`${dtype}: ${count} images of 5×3×3 in shards of ${per}, batch ${batch} at position ${cursor}`, async () => {
        const { ctx, rng, seed } = env;
        if (dtype === "f16" && !ctx.caps.f16) return;
        const imageBytes = 5 * 3 * 3; // 45: not a multiple of 4, so images straddle u32 words
        const px = Uint8Array.from({ length: count * imageBytes }, () => Math.floor(rng() * 256));
        const allLabels = Uint32Array.from({ length: count }, () => Math.floor(rng() * 1000));
        const shards = [];
        for (let start = 0; start < count; start += per) {
          const n = Math.min(per, count - start);
          const part = px.slice(start * imageBytes, (start + n) * imageBytes);
          shards.push(await tensorFrom(ctx, "u8", [n, imageBytes], part, `shard ${shards.length}`));
        }
        const order = shuffled(rng, count);
        const orderT = await tensorFrom(ctx, "u32", [count], order, "order");
        const labelsT = await tensorFrom(ctx, "u32", [count], allLabels, "all labels");
        const x = await createTensor(ctx, dtype, [batch, imageBytes], "x");
        fill(ctx, x, Number.NaN);
        const labels = await tensorFrom(
          ctx,
          "u32",
          [batch],
          new Uint32Array(batch).fill(0xdeadbeef),
          "labels",
        );
        await batchInput(ctx, {
          pixels: shards[0],
          shards,
          imagesPerShard: per,
          order: orderT,
          allLabels: labelsT,
          x,
          labels,
          state: constantState(ctx, { cursors: [cursor, 0] }),
          slot: 0,
          ...IMAGENET,
        });
        // The reference gathers from the whole split on the CPU: no shard arithmetic of its own.
        const picked = order.subarray(cursor, cursor + batch);
        const shardsCrossed = new Set(Array.from(picked, (i) => Math.floor(i / per))).size;
        expect(shardsCrossed).toBeGreaterThanOrEqual(3);
        const gathered = new Uint8Array(batch * imageBytes);
        picked.forEach((img, r) => {
          gathered.set(px.subarray(img * imageBytes, (img + 1) * imageBytes), r * imageBytes);
        });
        const { want, bound } = unzip(
          imageNormalizeRef(gathered, IMAGENET.mean, IMAGENET.std).map((e) => stored(e.want, e.bound, dtype)),
        );
        expectClose(await downloadF32(ctx, x), want, bound, `batch_input ${dtype} ${count}/${per}`, seed);
        const gotLabels = await download(ctx, labels);
        expect(Array.from(gotLabels)).toEqual(Array.from(picked, (i) => allLabels[i]));
        destroyTensor(...shards, orderT, labelsT, x, labels);
      });
});

// One split, image sizes of every residue mod 4 (4 bytes a thread, one word when images start on
// words, two funnel-shifted words otherwise), below one word, and multiples of 16 (16 bytes a
// thread: four words, four vector stores). The output has one spare row, poisoned like the rest,
// which must stay NaN: nothing is written past the batch.
describe("batch_input, 4 or 16 bytes a thread", () => {
  // [H·W, batch]: 3·hw bytes an image.
  const CASES: [number, number][] = [
    [1, 5], // 3 bytes: less than one word
    [7, 37], // 21 ≡ 1 (mod 4)
    [15, 300], // 45 ≡ 1: more rows than a workgroup's threads cover
    [2, 9], // 6 ≡ 2
    [4, 33], // 12 ≡ 0 (mod 4), not 16: one word, one vector store
    [11, 20], // 33 ≡ 1
    [13, 19], // 39 ≡ 3
    [16, 33], // 48 ≡ 0 (mod 16): four words a thread
    [112, 41], // 336 ≡ 0 (mod 16), more groups than a workgroup's threads, channels across words
  ];
  it("takes 16 bytes a thread exactly where an image is a multiple of 16 bytes", () => {
    expect([3, 21, 45, 6, 12, 33, 39, 48, 336, 150528].map(batchInputStore)).toEqual([
      "scalar",
      "scalar",
      "scalar",
      "scalar",
      "vector",
      "scalar",
      "scalar",
      "wide",
      "wide",
      "wide",
    ]);
  });
  for (const dtype of ["f32", "f16"] as const)
    for (const [hw, batch] of CASES)
      it(`${dtype}: batch ${batch} of ${hw}×3 bytes`, async () => {
        const { ctx, rng, seed } = env;
        if (dtype === "f16" && !ctx.caps.f16) return;
        const imageBytes = 3 * hw;
        const count = batch + 7;
        const cursor = 5;
        const px = Uint8Array.from({ length: count * imageBytes }, () => Math.floor(rng() * 256));
        const allLabels = Uint32Array.from({ length: count }, () => Math.floor(rng() * 1000));
        const pixels = await tensorFrom(ctx, "u8", [count, imageBytes], px, "pixels");
        // An order that wraps: the batch reads images from everywhere in the split.
        const order = shuffled(rng, count);
        const orderT = await tensorFrom(ctx, "u32", [count], order, "order");
        const labelsT = await tensorFrom(ctx, "u32", [count], allLabels, "all labels");
        const xAll = await createTensor(ctx, dtype, [batch + 1, imageBytes], "x + spare row");
        fill(ctx, xAll, Number.NaN);
        const x = reshapeView(xAll, [batch, imageBytes], "x");
        const labels = await tensorFrom(
          ctx,
          "u32",
          [batch],
          new Uint32Array(batch).fill(0xdeadbeef),
          "labels",
        );
        await batchInput(ctx, {
          pixels,
          order: orderT,
          allLabels: labelsT,
          x,
          labels,
          state: constantState(ctx, { cursors: [0, cursor] }),
          slot: 1,
          ...IMAGENET,
        });
        const picked = order.subarray(cursor, cursor + batch);
        const gathered = new Uint8Array(batch * imageBytes);
        picked.forEach((img, r) => {
          gathered.set(px.subarray(img * imageBytes, (img + 1) * imageBytes), r * imageBytes);
        });
        const { want, bound } = unzip(
          imageNormalizeRef(gathered, IMAGENET.mean, IMAGENET.std).map((e) => stored(e.want, e.bound, dtype)),
        );
        const got = await downloadF32(ctx, xAll);
        const what = `batch_input ${dtype} ${hw}×3 batch ${batch}`;
        expectClose(got.subarray(0, batch * imageBytes), want, bound, what, seed);
        expect(
          got.subarray(batch * imageBytes).every(Number.isNaN),
          `${what}: the spare row stays poisoned`,
        ).toBe(true);
        expect(Array.from(await download(ctx, labels))).toEqual(Array.from(picked, (i) => allLabels[i]));
        destroyTensor(pixels, orderT, labelsT, xAll, labels);
      });
});
