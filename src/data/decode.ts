// One image file -> size×size×3 uint8 sRGB, and a pool that decodes many at once but hands the
// results over in file order (the cache order must not depend on which decode finished first).
//
// Choices, each as Keras' image_dataset_from_directory / PIL would do unless said otherwise:
// - EXIF orientation is applied (.rotate() with no angle). PIL does not do this, but a photo
//   shot sideways then reaches the network as the camera's sensor saw it, not as every viewer
//   shows it; for sets without EXIF (BIRDS 525's 224×224 crops) it changes nothing.
// - Alpha is dropped, not composited (PIL's convert("RGB")): the colour under a transparent pixel
//   is kept. It is removed before resizing, in a first pass, because resizing with alpha
//   premultiplies and rounds every pixel of a half-transparent image off by one.
// - Any colour space (grey, CMYK with or without a profile, 16-bit) is converted to 8-bit sRGB.
// - Resize squashes to size×size (fit "fill"), as Keras does by default (crop_to_aspect_ratio=
//   False): the whole object stays in frame, and a 224×224 source is passed through unchanged.
import fs from "node:fs";
import type { OutputInfo } from "sharp";

export class DecodeFailure extends Error {}

/** Warnings such as "extraneous bytes" are tolerated; corrupt or truncated data is not. */
const FAIL_ON = "error" as const;

export async function decodeImage(file: string, size: number): Promise<Buffer> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    throw new DecodeFailure(`unreadable: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new DecodeFailure("unreadable: not a regular file");
  if (st.size === 0) throw new DecodeFailure("empty file (0 bytes)");
  // Loaded on first decode: libvips is large, and most commands never decode an image.
  const sharp = (await import("sharp")).default;
  const first = () =>
    sharp(file, { failOn: FAIL_ON })
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  let flat: { data: Buffer; info: OutputInfo };
  try {
    flat = await first();
  } catch (e) {
    // With several decodes in flight libvips sometimes loses the message ("Unknown error");
    // one retry gets the real one (e.g. "premature end of JPEG image") for the warning.
    let why = (e as Error).message;
    if (/unknown error/i.test(why))
      why = await first().then(
        () => why,
        (e2: Error) => e2.message,
      );
    throw new DecodeFailure(`not a decodable image: ${why}`);
  }
  const { width, height, channels } = flat.info;
  if (channels !== 3)
    throw new DecodeFailure(`decoded to ${channels} channels, expected 3 (unsupported colour space)`);
  if (width === size && height === size) return flat.data;
  try {
    return await sharp(flat.data, { raw: { width, height, channels: 3 } })
      .resize(size, size, { fit: "fill" })
      .raw()
      .toBuffer();
  } catch (e) {
    throw new DecodeFailure(`cannot resize ${width}×${height} to ${size}×${size}: ${(e as Error).message}`);
  }
}

export type DecodeResult = { ok: true; pixels: Buffer } | { ok: false; reason: string };

/**
 * Decodes `files` with `width` decodes in flight and calls `sink` once per file, in index order.
 * A result that finishes before an earlier file waits in a reorder map; the map holds at most the
 * files finished while the oldest one in flight is still decoding.
 */
export async function decodeInOrder(
  files: readonly string[],
  size: number,
  width: number,
  sink: (index: number, result: DecodeResult) => void,
): Promise<void> {
  const done = new Map<number, DecodeResult>();
  let nextStart = 0;
  let nextFlush = 0;
  let sinkError: unknown;
  const flush = () => {
    while (done.has(nextFlush)) {
      const r = done.get(nextFlush)!;
      done.delete(nextFlush);
      sink(nextFlush, r);
      nextFlush++;
    }
  };
  const worker = async () => {
    while (nextStart < files.length && sinkError === undefined) {
      const i = nextStart++;
      let r: DecodeResult;
      try {
        r = { ok: true, pixels: await decodeImage(files[i], size) };
      } catch (e) {
        if (!(e instanceof DecodeFailure)) throw e;
        r = { ok: false, reason: e.message };
      }
      done.set(i, r);
      try {
        flush();
      } catch (e) {
        sinkError = e;
      }
    }
  };
  const n = Math.max(1, Math.min(width, files.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (sinkError !== undefined) throw sinkError;
}
