// The GPU bench's shape of the synthetic set: 525 classes at 224×224 with a few images each.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadDataset } from "../../src/data/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-synth-large-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

it("525 classes × 224², one image per class and split", async () => {
  const ds = await loadDataset("synthetic:classes=525,size=224,train=525,valid=525,test=525,seed=2", {
    cacheDir: root,
  });
  try {
    expect(ds.classes).toHaveLength(525);
    expect(ds.classes[0]).toBe("000-disc");
    expect(ds.classes[524]).toBe("524-disc");
    expect([...ds.classes].sort()).toEqual(ds.classes);
    expect(ds.imageSize).toBe(224);
    expect(ds.train.imageBytes).toBe(224 * 224 * 3);
    expect(Array.from(ds.train.labels)).toEqual(Array.from({ length: 525 }, (_, i) => i));
    expect(fs.statSync(ds.train.pixelFile).size).toBe(525 * 224 * 224 * 3);
    const out = new Uint8Array(2 * ds.train.imageBytes);
    ds.train.readIndices([524, 0], out);
    expect(out.some((v) => v !== out[0])).toBe(true);
  } finally {
    ds.close();
  }
});
