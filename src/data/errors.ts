// Typed errors of the dataset loader. Every one names the folder or file at fault (`path`) and a
// `kind` a caller can match without parsing the message. They are HalfwattErrors: a dataset the
// user must fix is E_INPUT (exit status 2); a cache or disk failure while running is E_RUNTIME.
import { HalfwattError } from "../errors.js";

export type DatasetErrorKind =
  /** The --data string does not parse (unknown key, bad number, out of range). */
  | "bad-spec"
  /** Bad option values (image size, fractions). */
  | "bad-option"
  /** The dataset folder (or a split/class folder) does not exist or is not a folder. */
  | "missing-folder"
  /** DIR/train exists but DIR/valid or DIR/test does not. */
  | "missing-split"
  /** A class folder with no usable image (empty, or every file in it was bad). */
  | "empty-class"
  /** A class present in one split and not in another. */
  | "class-mismatch"
  /** No class folders / no images at all. */
  | "no-images"
  /** --strict and at least one file could not be decoded. */
  | "bad-files"
  /** A DIR/<class> layout whose class is too small to give every split an image. */
  | "too-few-images"
  /** readRange/readIndices past the end, or an output buffer too small. */
  | "out-of-range"
  /** A file the dataset needs (e.g. Fashion-MNIST's train-images-idx3-ubyte) is not there. */
  | "missing-file"
  /** An idx file (Fashion-MNIST) that is not what it must be: magic, dimensions, counts, labels, size. */
  | "bad-idx"
  /** The cache could not be written or read back. */
  | "cache";

export class DatasetError extends HalfwattError {
  constructor(
    readonly kind: DatasetErrorKind,
    /** The folder or file the error is about ("" when none applies, e.g. a bad spec string). */
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(kind === "cache" ? "E_RUNTIME" : "E_INPUT", message, options);
  }
}
