// Checkpoints in Hugging Face's safetensors format, so that PyTorch (safetensors.torch.load_file)
// and any other reader can open them:
//   8 bytes   N, little-endian u64;
//   N bytes   UTF-8 JSON: {"<name>": {"dtype", "shape", "data_offsets": [begin, end]}, …,
//             "__metadata__": {string: string}}, padded with spaces (we pad to 8-byte alignment);
//   the rest  the tensors' raw little-endian bytes, offsets relative to the byte after the header.
// The reader trusts nothing: every offset, shape and size is checked, the data must be covered
// exactly once with no hole (the format's own rule, which rules out polyglot files), and every
// error names the file and the tensor. Tensors are read straight into their own typed arrays
// (one copy, aligned), so a 1 GB checkpoint needs 1 GB, not 2.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";
import { ModelError } from "./errors.js";

/** Bytes per element of each safetensors dtype. */
export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_SIZES;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /**
   * The elements, little-endian. On read: Float32Array (F32), Float64Array (F64), Uint16Array (F16
   * and BF16 as raw bits, U16), Int16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
   * Int8Array (I8), Uint8Array (U8, BOOL, F8_*). On write any view with the right byte length.
   */
  data: ArrayBufferView;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Hugging Face's reader refuses headers above 100 MB; so do we (a corrupt length would otherwise allocate it). */
const MAX_HEADER_BYTES = 100_000_000;
/** readSync/writeSync move at most ~2 GB per call: larger tensors go in chunks. */
const CHUNK = 1 << 30;
const METADATA_KEY = "__metadata__";

function isDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === "string" && Object.hasOwn(DTYPE_SIZES, d);
}

function requireLittleEndian(): void {
  // Typed arrays use the host's byte order; every platform Node supports today is little-endian.
  if (endianness() !== "LE")
    throw new ModelError("io", "safetensors: this host is big-endian; the format stores little-endian data");
}

/** Element count of a shape, or a message saying why it is not one. */
function numel(shape: unknown): number | string {
  if (!Array.isArray(shape)) return `shape ${JSON.stringify(shape)} is not an array`;
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      return `shape ${JSON.stringify(shape)} has a dimension that is not an integer ≥ 0`;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : `shape ${JSON.stringify(shape)} has too many elements`;
}

function typedArray(dtype: SafetensorsDtype, n: number): ArrayBufferView {
  switch (dtype) {
    case "F32":
      return new Float32Array(n);
    case "F64":
      return new Float64Array(n);
    case "F16":
    case "BF16":
    case "U16":
      return new Uint16Array(n);
    case "I16":
      return new Int16Array(n);
    case "I32":
      return new Int32Array(n);
    case "U32":
      return new Uint32Array(n);
    case "I64":
      return new BigInt64Array(n);
    case "U64":
      return new BigUint64Array(n);
    case "I8":
      return new Int8Array(n);
    default:
      return new Uint8Array(n);
  }
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Writes tensors (in the order given, packed without gaps) and string metadata to `path`,
 * atomically: a temporary file beside it, synced, then renamed over it, so a reader never sees a
 * half-written checkpoint and a failed write leaves the old file as it was.
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): void {
  requireLittleEndian();
  const where = `safetensors ${path}`;
  const header: Record<string, unknown> = {};
  const views: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY)
      throw new ModelError("bad-header", `${where}: "${METADATA_KEY}" cannot name a tensor`);
    if (!isDtype(t.dtype))
      throw new ModelError(
        "bad-dtype",
        `${where}: tensor "${name}" has unknown dtype ${JSON.stringify(t.dtype)}`,
      );
    const n = numel(t.shape);
    if (typeof n === "string") throw new ModelError("bad-shape", `${where}: tensor "${name}": ${n}`);
    const want = n * DTYPE_SIZES[t.dtype];
    if (!ArrayBuffer.isView(t.data) || t.data.byteLength !== want)
      throw new ModelError(
        "bad-shape",
        `${where}: tensor "${name}" ${t.dtype}[${t.shape.join("×")}] needs ${want} bytes, its data has ${ArrayBuffer.isView(t.data) ? t.data.byteLength : "none"}`,
      );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + want] };
    views.push(bytesOf(t.data));
    offset += want;
  }
  for (const [k, v] of Object.entries(metadata))
    if (typeof v !== "string")
      throw new ModelError("bad-metadata", `${where}: metadata "${k}" must be a string, got ${typeof v}`);
  header[METADATA_KEY] = metadata;
  let json = Buffer.from(JSON.stringify(header), "utf8");
  // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned in the file.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));

  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx");
    writeAll(fd, len);
    writeAll(fd, json);
    for (const v of views) writeAll(fd, v);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw new ModelError("io", `${where}: cannot write: ${(e as Error).message}`, { cause: e });
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; )
    done += writeSync(fd, bytes, done, Math.min(CHUNK, bytes.length - done));
}

function readAll(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.length - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Checks a parsed header against a data section of `dataLength` bytes; returns its entries and metadata. */
function parseHeader(
  where: string,
  header: unknown,
  dataLength: number,
): { entries: Entry[]; metadata: Record<string, string> } {
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new ModelError("bad-header", `${where}: the header is not a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        throw new ModelError("bad-metadata", `${where}: ${METADATA_KEY} is not an object`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string")
          throw new ModelError(
            "bad-metadata",
            `${where}: metadata "${k}" is ${JSON.stringify(v)}, not a string`,
          );
        metadata[k] = v;
      }
      continue;
    }
    const at = `${where}: tensor "${name}"`;
    if (typeof raw !== "object" || raw === null) throw new ModelError("bad-header", `${at} is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDtype(dtype))
      throw new ModelError("bad-dtype", `${at} has unknown dtype ${JSON.stringify(dtype)}`);
    const n = numel(shape);
    if (typeof n === "string") throw new ModelError("bad-shape", `${at}: ${n}`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    )
      throw new ModelError(
        "bad-offsets",
        `${at}: data_offsets ${JSON.stringify(offsets)} are not two integers ≥ 0`,
      );
    const [begin, end] = offsets as number[];
    if (begin > end)
      throw new ModelError("bad-offsets", `${at}: data_offsets [${begin}, ${end}] are out of order`);
    if (end > dataLength)
      throw new ModelError(
        "bad-offsets",
        `${at}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`,
      );
    const want = n * DTYPE_SIZES[dtype];
    if (end - begin !== want)
      throw new ModelError(
        "bad-shape",
        `${at}: ${dtype}[${(shape as number[]).join("×")}] needs ${want} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // The data must be covered exactly once: sorted by offset, each tensor starts where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = "the start of the data";
  for (const e of sorted) {
    if (e.begin < pos)
      throw new ModelError(
        "bad-offsets",
        `${where}: tensor "${e.name}" [${e.begin}, ${e.end}] overlaps ${prev} (ends at ${pos})`,
      );
    if (e.begin > pos)
      throw new ModelError(
        "bad-offsets",
        `${where}: bytes [${pos}, ${e.begin}) after ${prev} belong to no tensor (before "${e.name}")`,
      );
    pos = e.end;
    prev = `tensor "${e.name}"`;
  }
  if (pos !== dataLength)
    throw new ModelError(
      "bad-offsets",
      `${where}: bytes [${pos}, ${dataLength}) after ${prev} belong to no tensor`,
    );
  return { entries, metadata };
}

/** Reads and validates a safetensors file. Throws ModelError naming the file and tensor on anything amiss. */
export function readSafetensors(path: string): SafetensorsFile {
  requireLittleEndian();
  const where = `safetensors ${path}`;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new ModelError("io", `${where}: cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    const lenBytes = new Uint8Array(8);
    if (size < 8 || readAll(fd, lenBytes, 0) < 8)
      throw new ModelError("bad-header", `${where}: ${size} bytes is too short for the 8-byte header length`);
    const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (n > BigInt(size - 8))
      throw new ModelError(
        "bad-header",
        `${where}: header length ${n} runs past the end of the file (${size} bytes)`,
      );
    if (n > BigInt(MAX_HEADER_BYTES))
      throw new ModelError(
        "bad-header",
        `${where}: header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`,
      );
    const headerBytes = new Uint8Array(Number(n));
    readAll(fd, headerBytes, 8);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
    } catch {
      throw new ModelError("bad-header", `${where}: the header is not valid UTF-8`);
    }
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (e) {
      throw new ModelError("bad-header", `${where}: the header is not valid JSON (${(e as Error).message})`);
    }
    const dataStart = 8 + Number(n);
    const { entries, metadata } = parseHeader(where, header, size - dataStart);
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const e of entries) {
      const data = typedArray(e.dtype, (e.end - e.begin) / DTYPE_SIZES[e.dtype]);
      const got = readAll(fd, bytesOf(data), dataStart + e.begin);
      if (got !== e.end - e.begin)
        throw new ModelError(
          "io",
          `${where}: tensor "${e.name}": read ${got} of ${e.end - e.begin} bytes (file changed?)`,
        );
      tensors[e.name] = { dtype: e.dtype, shape: e.shape, data };
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}
