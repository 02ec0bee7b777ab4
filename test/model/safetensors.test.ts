import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HalfwattError } from "../../src/errors.js";
import { ModelError } from "../../src/model/errors.js";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "../../src/model/safetensors.js";
import { makeRng, runSeed } from "../helpers/rng.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-safetensors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seed = runSeed();
const rng = makeRng(seed);
console.log(`safetensors: HALFWATT_SEED=${seed}`);

let fileNo = 0;
function file(bytes: Uint8Array): string {
  const p = join(dir, `case-${fileNo++}.safetensors`);
  writeFileSync(p, bytes);
  return p;
}

/** A file laid out by hand from the spec: u64 LE length, the JSON header as given, then the data bytes. */
function handFile(header: string, data: number[], lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const n = lengthOverride ?? json.length;
  const len = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Math.floor(n / 2 ** (8 * i)) % 256);
  return Uint8Array.from([...len, ...json, ...data]);
}

describe("safetensors: a file built byte by byte from the spec", () => {
  // a: F32 [2] = 1.0 (0x3f800000), −2.5 (0xc0200000); h: F16 [1] = 1.0 (0x3c00);
  // i: I32 [] (a scalar) = −1; d: F64 [1] = 0.5 (0x3fe0000000000000); b: U8 [3] = 1, 2, 3.
  const header =
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"h":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},' +
    '"i":{"dtype":"I32","shape":[],"data_offsets":[10,14]},' +
    '"d":{"dtype":"F64","shape":[1,1],"data_offsets":[14,22]},' +
    '"b":{"dtype":"U8","shape":[3],"data_offsets":[22,25]},' +
    '"__metadata__":{"format":"pt","ünï":"cødé"}}';
  const data = [
    ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0],
    ...[0x00, 0x3c],
    ...[0xff, 0xff, 0xff, 0xff],
    ...[0, 0, 0, 0, 0, 0, 0xe0, 0x3f],
    ...[1, 2, 3],
  ];

  it("reads every tensor and the metadata", () => {
    const { tensors, metadata } = readSafetensors(file(handFile(header, data)));
    expect(metadata).toEqual({ format: "pt", ünï: "cødé" });
    expect(Object.keys(tensors).sort()).toEqual(["a", "b", "d", "h", "i"]);
    expect(tensors.a).toEqual({ dtype: "F32", shape: [2], data: Float32Array.of(1, -2.5) });
    expect(tensors.h).toEqual({ dtype: "F16", shape: [1], data: Uint16Array.of(0x3c00) });
    expect(tensors.i).toEqual({ dtype: "I32", shape: [], data: Int32Array.of(-1) });
    expect(tensors.d).toEqual({ dtype: "F64", shape: [1, 1], data: Float64Array.of(0.5) });
    expect(tensors.b).toEqual({ dtype: "U8", shape: [3], data: Uint8Array.of(1, 2, 3) });
  });

  it("accepts a header padded with trailing spaces", () => {
    const { tensors } = readSafetensors(file(handFile(`${header}       `, data)));
    expect(Array.from(tensors.a.data as Float32Array)).toEqual([1, -2.5]);
  });

  it("the writer produces exactly these bytes (header padded with spaces to 8-byte alignment)", () => {
    const p = join(dir, "writer-vs-hand.safetensors");
    writeSafetensors(
      p,
      {
        a: { dtype: "F32", shape: [2], data: Float32Array.of(1, -2.5) },
        h: { dtype: "F16", shape: [1], data: Uint16Array.of(0x3c00) },
        i: { dtype: "I32", shape: [], data: Int32Array.of(-1) },
        d: { dtype: "F64", shape: [1, 1], data: Float64Array.of(0.5) },
        b: { dtype: "U8", shape: [3], data: Uint8Array.of(1, 2, 3) },
      },
      { format: "pt", ünï: "cødé" },
    );
    const jsonLength = new TextEncoder().encode(header).length;
    const padded = header + " ".repeat((8 - (jsonLength % 8)) % 8);
    expect(Array.from(readFileSync(p))).toEqual(Array.from(handFile(padded, data)));
    expect((8 + jsonLength + ((8 - (jsonLength % 8)) % 8)) % 8).toBe(0);
  });
});

describe("safetensors round trip", () => {
  it("every dtype, odd and empty shapes, f16/bf16 bit patterns kept exactly", () => {
    const f32 = Float32Array.from({ length: 3 * 5 * 7 }, () => rng() * 2 - 1);
    // f16 bits: 1.0, −0, +inf, −inf, a quiet NaN with payload, a signalling-pattern NaN, the
    // smallest subnormal, the largest finite, and random words.
    const f16 = Uint16Array.of(
      0x3c00,
      0x8000,
      0x7c00,
      0xfc00,
      0x7e01,
      0x7c01,
      0x0001,
      0x7bff,
      ...Array.from({ length: 9 }, () => Math.floor(rng() * 65536)),
    );
    const tensors: Record<string, SafetensorsTensor> = {
      "layer0.weight": { dtype: "F32", shape: [3, 5, 7], data: f32 },
      "layer0.weight.f16": { dtype: "F16", shape: [17], data: f16 },
      bf16: { dtype: "BF16", shape: [1, 3], data: Uint16Array.of(0x3f80, 0xffc1, 0x0001) },
      f64: { dtype: "F64", shape: [2], data: Float64Array.of(Math.PI, -Number.MIN_VALUE) },
      empty: { dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
      step: { dtype: "U32", shape: [], data: Uint32Array.of(4294967295) },
      i32: { dtype: "I32", shape: [1], data: Int32Array.of(-2147483648) },
      u8: { dtype: "U8", shape: [5], data: Uint8Array.of(0, 1, 127, 128, 255) },
      i8: { dtype: "I8", shape: [2], data: Int8Array.of(-128, 127) },
      i16: { dtype: "I16", shape: [1], data: Int16Array.of(-32768) },
      u16: { dtype: "U16", shape: [1], data: Uint16Array.of(65535) },
      i64: { dtype: "I64", shape: [1], data: BigInt64Array.of(-(2n ** 63n)) },
      u64: { dtype: "U64", shape: [1], data: BigUint64Array.of(2n ** 64n - 1n) },
      bool: { dtype: "BOOL", shape: [2], data: Uint8Array.of(0, 1) },
    };
    const p = join(dir, "roundtrip.safetensors");
    const metadata = { seed: String(seed), note: 'quotes " and \\ and\nnewline' };
    writeSafetensors(p, tensors, metadata);
    const back = readSafetensors(p);
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name];
      expect(b.dtype, name).toBe(t.dtype);
      expect(b.shape, name).toEqual(t.shape);
      // Compare bytes, so NaN payloads and −0 count.
      const bytes = (v: ArrayBufferView) => Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      expect(bytes(b.data), name).toEqual(bytes(t.data));
    }
    expect(back.tensors["layer0.weight"].data).toBeInstanceOf(Float32Array);
    expect(back.tensors["layer0.weight.f16"].data).toBeInstanceOf(Uint16Array);
  });

  it("a view into a larger buffer writes only its own bytes; overwriting replaces the file", () => {
    const big = Float32Array.from({ length: 11 }, (_, i) => i);
    const p = join(dir, "view.safetensors");
    writeSafetensors(p, { x: { dtype: "F32", shape: [3], data: big.subarray(4, 7) } });
    writeSafetensors(p, { y: { dtype: "F32", shape: [3], data: big.subarray(5, 8) } });
    const back = readSafetensors(p);
    expect(Object.keys(back.tensors)).toEqual(["y"]);
    expect(Array.from(back.tensors.y.data as Float32Array)).toEqual([5, 6, 7]);
    expect(back.metadata).toEqual({});
  });

  it("leaves no temporary files behind, after success or failure", () => {
    const sub = mkdtempSync(join(dir, "atomic-"));
    const p = join(sub, "ck.safetensors");
    writeSafetensors(p, { x: { dtype: "U8", shape: [1], data: Uint8Array.of(7) } });
    expect(() => writeSafetensors(join(sub, "missing-dir", "ck.safetensors"), {})).toThrow(/cannot write/);
    // A rejected write leaves the old file untouched.
    expect(() => writeSafetensors(p, { x: { dtype: "F32", shape: [2], data: new Float32Array(3) } })).toThrow(
      ModelError,
    );
    // The rename itself fails (the target is a directory): the temporary file must go too.
    mkdirSync(join(sub, "a-dir"));
    expect(() =>
      writeSafetensors(join(sub, "a-dir"), { x: { dtype: "U8", shape: [1], data: Uint8Array.of(1) } }),
    ).toThrow(/cannot write/);
    expect(readdirSync(sub).sort()).toEqual(["a-dir", "ck.safetensors"]);
    expect(Array.from(readSafetensors(p).tensors.x.data as Uint8Array)).toEqual([7]);
  });
});

describe("safetensors: the writer refuses what it cannot write", () => {
  const p = join(dir, "refused.safetensors");
  it("names the tensor and the problem", () => {
    expect(() =>
      writeSafetensors(p, { w: { dtype: "F32", shape: [2, 3], data: new Float32Array(5) } }),
    ).toThrow(/tensor "w" F32\[2×3\] needs 24 bytes, its data has 20/);
    expect(() =>
      writeSafetensors(p, { w: { dtype: "F17" as "F32", shape: [1], data: new Float32Array(1) } }),
    ).toThrow(/tensor "w" has unknown dtype "F17"/);
    expect(() =>
      writeSafetensors(p, { w: { dtype: "F32", shape: [-1], data: new Float32Array(1) } }),
    ).toThrow(/tensor "w": shape \[-1\]/);
    expect(() =>
      writeSafetensors(p, { __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) } }),
    ).toThrow(/cannot name a tensor/);
    expect(() => writeSafetensors(p, {}, { n: 3 as unknown as string })).toThrow(
      /metadata "n" must be a string/,
    );
  });
});

describe("safetensors: corrupt files are refused with the file and tensor named", () => {
  const ok = (offsets = "[0,4]", shape = "[1]", dtype = "F32") =>
    `{"w":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}}`;
  const four = [0, 0, 128, 63];
  const cases: [string, Uint8Array, RegExp, string][] = [
    ["file shorter than 8 bytes", Uint8Array.of(1, 0, 0), /3 bytes is too short/, "bad-header"],
    [
      "header length past the file",
      handFile(ok(), four, 1000),
      /header length 1000 runs past the end of the file/,
      "bad-header",
    ],
    ["header length 2^63", handFile(ok(), four, 2 ** 63), /runs past the end/, "bad-header"],
    ["bad JSON", handFile('{"w":{"dtype":"F32",', four), /not valid JSON/, "bad-header"],
    [
      "invalid UTF-8",
      Uint8Array.from([...handFile('{"w":1}', [])].map((b, i) => (i === 10 ? 0xff : b))),
      /not valid UTF-8/,
      "bad-header",
    ],
    ["header not an object", handFile("[1,2]", []), /header is not a JSON object/, "bad-header"],
    ["entry not an object", handFile('{"w":3}', []), /tensor "w" is not an object/, "bad-header"],
    [
      "unknown dtype",
      handFile(ok("[0,4]", "[1]", "F17"), four),
      /tensor "w" has unknown dtype "F17"/,
      "bad-dtype",
    ],
    ["fractional dimension", handFile(ok("[0,4]", "[1.5]"), four), /tensor "w": shape \[1.5\]/, "bad-shape"],
    [
      "offsets not two integers",
      handFile(ok("[0]"), four),
      /tensor "w": data_offsets \[0\] are not two/,
      "bad-offsets",
    ],
    ["negative offset", handFile(ok("[-4,0]"), four), /tensor "w": data_offsets \[-4,0\]/, "bad-offsets"],
    [
      "offsets out of order",
      handFile(ok("[4,0]"), four),
      /tensor "w": data_offsets \[4, 0\] are out of order/,
      "bad-offsets",
    ],
    [
      "offsets past the end",
      handFile(ok("[0,8]", "[2]"), four),
      /tensor "w": data_offsets \[0, 8\] run past the end of the data \(4 bytes\)/,
      "bad-offsets",
    ],
    [
      "shape × dtype ≠ bytes",
      handFile(ok("[0,4]", "[2]"), four),
      /tensor "w": F32\[2\] needs 8 bytes, data_offsets \[0, 4\] hold 4/,
      "bad-shape",
    ],
    [
      "shape × dtype ≠ bytes (F16 where F32 was written)",
      handFile(ok("[0,4]", "[1]", "F16"), four),
      /tensor "w": F16\[1\] needs 2 bytes/,
      "bad-shape",
    ],
    [
      "overlapping tensors",
      handFile(
        '{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}',
        four,
      ),
      /tensor "b" \[2, 4\] overlaps tensor "a" \(ends at 3\)/,
      "bad-offsets",
    ],
    [
      "a hole between tensors",
      handFile(
        '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}',
        four,
      ),
      /bytes \[1, 2\) after tensor "a" belong to no tensor \(before "b"\)/,
      "bad-offsets",
    ],
    [
      "data not starting at 0",
      handFile(ok("[1,2]", "[1]", "U8"), [0, 1]),
      /bytes \[0, 1\) after the start of the data/,
      "bad-offsets",
    ],
    [
      "trailing bytes after the last tensor",
      handFile(ok(), [...four, 9]),
      /bytes \[4, 5\) after tensor "w" belong to no tensor/,
      "bad-offsets",
    ],
    [
      "metadata value not a string",
      handFile('{"__metadata__":{"epoch":3}}', []),
      /metadata "epoch" is 3, not a string/,
      "bad-metadata",
    ],
    [
      "metadata not an object",
      handFile('{"__metadata__":"x"}', []),
      /__metadata__ is not an object/,
      "bad-metadata",
    ],
  ];
  for (const [what, bytes, message, reason] of cases)
    it(what, () => {
      const p = file(bytes);
      let err: unknown;
      try {
        readSafetensors(p);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(ModelError);
      expect(err).toBeInstanceOf(HalfwattError);
      const e = err as ModelError;
      expect(e.message).toContain(p);
      expect(e.message).toMatch(message);
      expect(e.reason).toBe(reason);
      expect(e.code).toBe("E_INPUT");
    });

  it("a missing file is an I/O error naming it", () => {
    const p = join(dir, "nope.safetensors");
    expect(() => readSafetensors(p)).toThrow(new RegExp(`safetensors ${p}: cannot open`));
  });
});
