// The --data string: a folder path, "synthetic[:key=value,...]" for the built-in generated set, or
// "fashion-mnist[:DIR]" for Fashion-MNIST's idx files (default: Debian's package folder).
import { DatasetError } from "./errors.js";
import { FASHION_MNIST_DIR } from "./fashion-mnist.js";

export interface SyntheticSpec {
  kind: "synthetic";
  classes: number;
  size: number;
  train: number;
  valid: number;
  test: number;
  seed: number;
}
export interface FolderSpec {
  kind: "folder";
  dir: string;
}
export interface FashionMnistSpec {
  kind: "fashion-mnist";
  dir: string;
}
export type DataSpec = FolderSpec | SyntheticSpec | FashionMnistSpec;

/** The synthetic set's defaults: small enough for CI, big enough that the classifier must learn. */
export const SYNTHETIC_DEFAULTS: Omit<SyntheticSpec, "kind"> = {
  classes: 10,
  size: 32,
  train: 2000,
  valid: 400,
  test: 400,
  seed: 1,
};

// Shapes need room: below 8 pixels a triangle and a disc are the same blob.
const MIN_SIZE = 8;
const MAX_SIZE = 4096;

export function parseDataSpec(spec: string): DataSpec {
  if (typeof spec !== "string" || spec.trim() === "")
    throw new DatasetError(
      "bad-spec",
      "",
      "--data is empty: give a folder, synthetic[:key=value,...] or fashion-mnist[:DIR]",
    );
  // A folder named fashion-mnist is given as ./fashion-mnist, as one named synthetic.
  const fm = /^fashion-mnist(?::(.*))?$/.exec(spec.trim());
  if (fm) {
    if (fm[1] !== undefined && fm[1].trim() === "")
      throw new DatasetError("bad-spec", "", `--data ${spec}: no folder after "fashion-mnist:"`);
    return { kind: "fashion-mnist", dir: fm[1]?.trim() ?? FASHION_MNIST_DIR };
  }
  const m = /^synthetic(?::(.*))?$/.exec(spec.trim());
  if (!m) return { kind: "folder", dir: spec };
  const out: SyntheticSpec = { kind: "synthetic", ...SYNTHETIC_DEFAULTS };
  const body = m[1] ?? "";
  const seen = new Set<string>();
  for (const part of body.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const raw = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (!(key in SYNTHETIC_DEFAULTS))
      throw new DatasetError(
        "bad-spec",
        "",
        `--data ${spec}: unknown key "${key}" (known: ${Object.keys(SYNTHETIC_DEFAULTS).join(", ")})`,
      );
    if (seen.has(key)) throw new DatasetError("bad-spec", "", `--data ${spec}: "${key}" given twice`);
    seen.add(key);
    if (!/^\d+$/.test(raw))
      throw new DatasetError(
        "bad-spec",
        "",
        `--data ${spec}: ${key} must be a whole number ≥ 0, got "${raw}"`,
      );
    (out as unknown as Record<string, number>)[key] = Number(raw);
  }
  const fail = (msg: string) => {
    throw new DatasetError("bad-spec", "", `--data ${spec}: ${msg}`);
  };
  if (out.classes < 2) fail(`classes must be at least 2, got ${out.classes}`);
  if (out.size < MIN_SIZE || out.size > MAX_SIZE)
    fail(`size must be between ${MIN_SIZE} and ${MAX_SIZE}, got ${out.size}`);
  // Every class must appear in every split (the loader's rule for folders too).
  for (const split of ["train", "valid", "test"] as const)
    if (out[split] < out.classes)
      fail(
        `${split}=${out[split]} is fewer than classes=${out.classes}: every class needs an image in every split`,
      );
  if (out.seed > 0xffffffff) fail(`seed must fit in 32 bits, got ${out.seed}`);
  return out;
}

/** The canonical form of a synthetic spec (every key, fixed order): the cache key of its files. */
export function formatSyntheticSpec(s: SyntheticSpec): string {
  return `synthetic:classes=${s.classes},size=${s.size},train=${s.train},valid=${s.valid},test=${s.test},seed=${s.seed}`;
}
