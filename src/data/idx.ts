// The idx format of (Fashion-)MNIST, read straight into memory: a 4-byte magic (0, 0, type code,
// rank), `rank` big-endian uint32 dimensions, then the values in row-major order. Only unsigned
// bytes (type 0x08) are read, the type of every MNIST-style image and label file. A file may be
// gzip'd (Debian ships Fashion-MNIST as .gz): recognised by gzip's own magic, not by the name.
// Every check names the file and what it found, so a truncated download says so before training.
import fs from "node:fs";
import zlib from "node:zlib";
import { DatasetError } from "./errors.js";

export interface IdxArray {
  /** e.g. [60000, 28, 28] for images, [60000] for labels. */
  dims: number[];
  /** prod(dims) bytes, row-major. */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  8: "unsigned byte",
  9: "signed byte",
  11: "short",
  12: "int",
  13: "float",
  14: "double",
};

const hex = (v: number) => `0x${v.toString(16).padStart(2, "0").toUpperCase()}`;

/**
 * Parses idx bytes (already un-gzip'd) of `rank` dimensions. `file` only names the source in errors.
 * Checks: the magic's two zero bytes, type 0x08, the rank, every dimension ≥ 1, and a length of
 * exactly 4 + 4·rank + prod(dims) bytes (short: truncated; long: trailing bytes).
 */
export function parseIdx(bytes: Uint8Array, file: string, rank: number): IdxArray {
  const bad = (msg: string): never => {
    throw new DatasetError("bad-idx", file, `${file}: ${msg}`);
  };
  if (bytes.length < 4) bad(`truncated: ${bytes.length} bytes, shorter than the 4-byte idx magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    bad(
      `bad magic number ${[...bytes.subarray(0, 4)].map(hex).join(" ")}: an idx file starts with 0x00 0x00 (not an idx file?)`,
    );
  const type = bytes[2];
  if (type !== 0x08)
    bad(
      `magic number type code ${hex(type)} (${TYPE_NAMES[type] ?? "not an idx type"}): only unsigned byte (0x08) is supported`,
    );
  if (bytes[3] !== rank)
    bad(`magic number says ${bytes[3]} dimension(s), expected ${rank} (${rank === 1 ? "labels" : "images"})`);
  const header = 4 + 4 * rank;
  if (bytes.length < header)
    bad(`truncated: ${bytes.length} bytes, shorter than the ${header}-byte header of ${rank} dimension(s)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    if (n === 0) bad(`dimension ${d} is 0`);
    dims.push(n);
  }
  const want = dims.reduce((a, b) => a * b, 1);
  const got = bytes.length - header;
  const shape = dims.join("×");
  if (got < want) bad(`truncated: the header says ${shape} = ${want} bytes of data, the file holds ${got}`);
  if (got > want) bad(`${got - want} bytes after the ${shape} = ${want} bytes the header announces`);
  return { dims, data: bytes.subarray(header) };
}

/** Reads and parses an idx file, gunzipping it first when it starts with gzip's magic (1F 8B). */
export function readIdxFile(file: string, rank: number): IdxArray {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new DatasetError("missing-file", file, `Cannot read ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = zlib.gunzipSync(raw);
    } catch (e) {
      throw new DatasetError("bad-idx", file, `${file}: not a valid gzip file (${(e as Error).message})`, {
        cause: e,
      });
    }
  }
  return parseIdx(raw, file, rank);
}
