// CacheWriter's misuse errors: a wrong byte count, an append or end with no split open, a second
// split begun before the first ends, a commit with a split missing. Each is a DatasetError of kind
// "cache" (E_RUNTIME, exit 1) naming the cache folder or the split's file, and the byte count
// expected is worked out here from the image size, not read from the writer.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CacheWriter } from "../../src/data/cache-writer.js";
import { DatasetError } from "../../src/data/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-cache-writer-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function caught(f: () => unknown): DatasetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error("expected a DatasetError, nothing was thrown");
}

describe("CacheWriter misuse", () => {
  it("refuses a batch whose bytes are not labels × side² × 3, naming the split's file and both sizes", () => {
    const dir = fs.mkdtempSync(path.join(root, "c-"));
    const w = new CacheWriter(dir, "ab".repeat(32), 5);
    try {
      w.beginSplit("train");
      // 3 images of 5×5 RGB are 75 bytes each: 225. Give 224.
      const e = caught(() => w.append(new Uint8Array(224), [0, 1, 2], ["a", "b", "c"]));
      expect(e.kind).toBe("cache");
      expect(e.code).toBe("E_RUNTIME");
      expect(e.path.startsWith(dir)).toBe(true);
      expect(e.message).toContain("224 bytes");
      expect(e.message).toContain("225 bytes");
      expect(e.message).toContain("split train");
      // A name short of the labels is refused the same way.
      expect(caught(() => w.append(new Uint8Array(225), [0, 1, 2], ["a", "b"])).message).toContain("2 names");
    } finally {
      w.dispose();
    }
  });

  it("refuses an append or end outside a split, a split begun inside one, and a commit with a split missing", () => {
    const dir = fs.mkdtempSync(path.join(root, "c-"));
    const w = new CacheWriter(dir, "cd".repeat(32), 2);
    try {
      for (const e of [caught(() => w.append(new Uint8Array(12), [0], ["a"])), caught(() => w.endSplit())]) {
        expect(e).toMatchObject({ kind: "cache", path: dir });
        expect(e.message).toContain(dir);
        expect(e.message).toContain("no split is open");
      }
      w.beginSplit("train");
      const again = caught(() => w.beginSplit("valid"));
      expect(again.kind).toBe("cache");
      expect(again.message).toMatch(/split train .* is still open/);
      w.append(new Uint8Array(12), [0], ["a"]);
      w.endSplit();
      const commit = caught(() => w.commit({ source: "test", classes: ["c0"], skipped: [] }));
      expect(commit).toMatchObject({ kind: "cache", path: dir });
      expect(commit.message).toContain("split valid was not written");
    } finally {
      w.dispose();
    }
  });
});
