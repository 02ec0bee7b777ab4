// Real images learn: the trainer on a 2,000 + 1,000 image subset of Debian's Fashion-MNIST (the
// subset cut from the .gz files here with zlib and byte offsets, not with the code under test),
// 1 epoch, width 64, in f32 and mixed precision. Chance is 0.10; a 2352 → 64 → 10 MLP with Adam
// reaches about 0.75 after one pass over 1,833 images. Also the `fashion` preset's shape.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { FASHION_MNIST_DIR } from "../../src/data/index.js";
import { PRESETS } from "../../src/experiment/presets.js";
import { parseSuiteSpec } from "../../src/experiment/spec.js";
import { train } from "../../src/model/trainer.js";
import { useGpu } from "../helpers/gpu.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-fashion-train-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The first n items of an idx file: its header with the count rewritten, then n·itemBytes bytes. */
function cut(name: string, n: number, headerBytes: number, itemBytes: number): void {
  const all = zlib.gunzipSync(fs.readFileSync(path.join(FASHION_MNIST_DIR, `${name}.gz`)));
  const head = Buffer.from(all.subarray(0, headerBytes));
  head.writeUInt32BE(n, 4);
  fs.writeFileSync(
    path.join(root, name),
    Buffer.concat([head, all.subarray(headerBytes, headerBytes + n * itemBytes)]),
  );
}

describe("the fashion preset", () => {
  it("the dissertation's four configurations and the f32 twins at batch 256, at 28×28 on fashion-mnist", () => {
    const s = parseSuiteSpec(PRESETS.fashion.spec, "fashion");
    expect(s.data).toBe("fashion-mnist");
    expect(s.imageSize).toBe(28);
    expect(s.configurations.map((c) => c.id)).toEqual([
      "f32-b32-n1024",
      "mixed-b32-n1024",
      "mixed-b256-n1024",
      "mixed-b256-n2048",
      "f32-b256-n1024",
      "f32-b256-n2048",
    ]);
    expect(s.configurations.every((c) => c.epochs === 10)).toBe(true);
    expect(s.replicates).toBe(5);
  });
});

const debian = fs.existsSync(FASHION_MNIST_DIR);
if (!debian && !process.env.CI) console.log(`fashion-train.test.ts: ${FASHION_MNIST_DIR} absent, skipped`);
describe.runIf(debian || !!process.env.CI)("training on a Fashion-MNIST subset", () => {
  const env = useGpu("fashion-train");
  for (const precision of ["f32", "mixed"] as const)
    it(`${precision}: 2,000 train images, 1 epoch, width 64 → test accuracy ≥ 0.6`, async () => {
      if (!fs.existsSync(path.join(root, "t10k-labels-idx1-ubyte"))) {
        cut("train-images-idx3-ubyte", 2000, 16, 784);
        cut("train-labels-idx1-ubyte", 2000, 8, 1);
        cut("t10k-images-idx3-ubyte", 1000, 16, 784);
        cut("t10k-labels-idx1-ubyte", 1000, 8, 1);
      }
      const r = await train(
        {
          data: `fashion-mnist:${root}`,
          precision,
          batch: 32,
          neurons: [64],
          epochs: 1,
          optimizer: { name: "adam", lr: 1e-3 },
          seed: 5,
          cacheDir: path.join(root, "cache"),
        },
        {},
        { ctx: env.ctx },
      );
      console.log(`fashion subset ${precision}: test accuracy ${r.test?.accuracy}`);
      expect(r.epochs[0].train.samples).toBe(2000 - Math.round(2000 / 12));
      expect(r.epochs[0].valid.samples).toBe(Math.round(2000 / 12));
      expect(r.test?.samples).toBe(1000);
      expect(r.test?.accuracy).toBeGreaterThanOrEqual(0.6);
    });
});
