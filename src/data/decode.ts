// One image file -> size×size×3 uint8 sRGB (the pool that runs many: decode-pool.ts).
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
import type { OutputInfo, Sharp, SharpOptions } from "sharp";

export class DecodeFailure extends Error {}

/** Warnings such as "extraneous bytes" are tolerated; corrupt or truncated data is not. */
const FAIL_ON = "error" as const;

type SharpFactory = (input: string | Buffer, options?: SharpOptions) => Sharp;
let loaded: Promise<SharpFactory> | undefined;

/**
 * sharp, loaded on first decode (libvips is large, and most commands never decode an image) and
 * set up for many small one-shot images:
 * - cache(false): libvips' operation cache can never hit for a file decoded once, and every
 *   insert and trim takes one process-wide lock, which the decodes in flight then queue on
 *   (measured: 10–25 % more CPU per 224×224 JPEG with it on, more the more decodes in flight).
 * - concurrency(1): one libvips thread per image; the parallelism is the images in flight. sharp
 *   already picks 1 on glibc without jemalloc, but one thread per core per image elsewhere, which
 *   with a core's worth of images in flight is cores² threads.
 * Both are process-wide settings of libvips.
 */
export function loadSharp(): Promise<SharpFactory> {
  loaded ??= import("sharp").then(({ default: sharp }) => {
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp;
  });
  return loaded;
}

/** `file` → `size`×`size`×3 bytes (HWC, 8-bit sRGB); a DecodeFailure says why a file cannot be used. */
export async function decodeImage(file: string, size: number): Promise<Buffer> {
  // Read here, synchronously, and handed to sharp as bytes: given a path, libvips opens the file
  // once per format it sniffs for (16 opens and ~60 seeks for a JPEG), and an async read is four
  // trips through libuv's pool; measured ~20 % less CPU per 224×224 JPEG. It blocks only the thread
  // that decodes (a decode worker, or the calling thread for a small folder) for tens of µs.
  let input: Buffer;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new DecodeFailure("unreadable: not a regular file");
    if (st.size === 0) throw new DecodeFailure("empty file (0 bytes)");
    input = fs.readFileSync(file);
  } catch (e) {
    if (e instanceof DecodeFailure) throw e;
    throw new DecodeFailure(`unreadable: ${(e as Error).message}`);
  }
  if (input.length === 0) throw new DecodeFailure("empty file (0 bytes)");
  const sharp = await loadSharp();
  const first = () =>
    sharp(input, { failOn: FAIL_ON })
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
