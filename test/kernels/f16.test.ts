// src/kernels/f16.ts is the oracle behind every f16 expectation in the kernel tests, so it gets
// an oracle of its own: IEEE 754-2008 binary16 bit patterns written from the standard (1 sign
// bit, 5 exponent bits with bias 15, 10 fraction bits; subnormals 0.f·2^-14; exponent 31 for
// ±inf (f = 0) and NaN (f ≠ 0); round to nearest, ties to even; a value whose magnitude rounds at
// or past 2^16·(1 − 2^-12) = 65520 becomes ∞), and an arithmetic rounding written without bits.
import { describe, expect, it } from "vitest";
import { f16BitsToF32, f32ToF16Bits, fromF16Array, roundToF16, toF16Array } from "../../src/kernels/f16.js";
import { makeRng, runSeed } from "../helpers/rng.js";

const hex = (h: number) => `0x${h.toString(16).padStart(4, "0")}`;

// [f32 value, its binary16 bits, why]. Every value is an f32 (fround where it is not a dyadic).
const ENCODE: [number, number, string][] = [
  [0, 0x0000, "+0"],
  [-0, 0x8000, "−0 keeps its sign"],
  [1, 0x3c00, "1 = 2^0: exponent 15"],
  [-1, 0xbc00, "−1"],
  [2, 0x4000, "2"],
  [-2, 0xc000, "−2"],
  [0.5, 0x3800, "½"],
  [1.5, 0x3e00, "1.5: fraction 0x200"],
  [65504, 0x7bff, "largest finite: (2 − 2^-10)·2^15"],
  [-65504, 0xfbff, "most negative finite"],
  [65512, 0x7bff, "below the overflow midpoint: rounds down to 65504"],
  [65519, 0x7bff, "just below 65520"],
  [65520, 0x7c00, "the midpoint 65504…65536: ties to even (2^16, i.e. ∞)"],
  [-65520, 0xfc00, "−65520 → −∞"],
  [65536, 0x7c00, "2^16 overflows"],
  [1e10, 0x7c00, "far past the range"],
  [3.4028234663852886e38, 0x7c00, "f32 max"],
  [Number.POSITIVE_INFINITY, 0x7c00, "+∞"],
  [Number.NEGATIVE_INFINITY, 0xfc00, "−∞"],
  [2 ** -14, 0x0400, "smallest normal"],
  [2 ** -24, 0x0001, "smallest subnormal"],
  [-(2 ** -24), 0x8001, "negative smallest subnormal"],
  [1023 * 2 ** -24, 0x03ff, "largest subnormal"],
  [1023.5 * 2 ** -24, 0x0400, "midpoint largest subnormal / smallest normal: to even (0x400)"],
  [2 ** -25, 0x0000, "half the smallest subnormal: tie, to even (0)"],
  [-(2 ** -25), 0x8000, "−2^-25 → −0"],
  [2 ** -26, 0x0000, "below the tie"],
  [3 * 2 ** -26, 0x0001, "¾·2^-24: above the tie, rounds up"],
  [2 ** -25 * (1 + 2 ** -15), 0x0001, "just above the tie"],
  [3 * 2 ** -25, 0x0002, "1.5·2^-24: tie between 1 and 2 → 2"],
  [5 * 2 ** -25, 0x0002, "2.5·2^-24: tie between 2 and 3 → 2"],
  [Math.fround(1e-10), 0x0000, "far below the subnormals"],
  [1 + 2 ** -11, 0x3c00, "tie between 0x3c00 and 0x3c01 → even 0x3c00"],
  [1 + 3 * 2 ** -11, 0x3c02, "tie between 0x3c01 and 0x3c02 → even 0x3c02"],
  [1 + 2 ** -11 + 2 ** -23, 0x3c01, "one f32 ulp above the tie"],
  [1 + 2 ** -10, 0x3c01, "one f16 ulp above 1"],
  [2 - 2 ** -11, 0x4000, "tie between 0x3fff and 0x4000 → even 0x4000: carries into the exponent"],
  [Math.fround(1 / 3), 0x3555, "⅓ = 1.0101…₂·2^-2, fraction 0x155 (rounded down)"],
  [Math.fround(0.1), 0x2e66, "0.1 = 1.10011001100…₂·2^-4, fraction 0x266"],
  [Math.fround(Math.PI), 0x4248, "π → 3.140625"],
];

// [bits, value]. NaNs are checked apart.
const DECODE: [number, number][] = [
  [0x0000, 0],
  [0x8000, -0],
  [0x3c00, 1],
  [0xc000, -2],
  [0x3bff, 1 - 2 ** -11],
  [0x7bff, 65504],
  [0xfbff, -65504],
  [0x0001, 2 ** -24],
  [0x8001, -(2 ** -24)],
  [0x03ff, 1023 * 2 ** -24],
  [0x0400, 2 ** -14],
  [0x3555, 0.333251953125],
  [0x7c00, Number.POSITIVE_INFINITY],
  [0xfc00, Number.NEGATIVE_INFINITY],
];

describe("f32ToF16Bits against the binary16 table", () => {
  for (const [x, bits, why] of ENCODE)
    it(`${x} → ${hex(bits)} (${why})`, () => {
      expect(Math.fround(x), "table value must be an f32").toBe(x);
      expect(hex(f32ToF16Bits(x))).toBe(hex(bits));
    });

  it("NaN → exponent all ones, fraction ≠ 0 (quiet), either sign", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    // The canonical quiet NaN, a signalling NaN whose payload sits only in bits f16 drops, and
    // a negative NaN.
    for (const bits of [0x7fc00000, 0x7f800001, 0xffc00001]) {
      u[0] = bits;
      const h = f32ToF16Bits(f[0]);
      expect(h & 0x7c00, `f32 ${bits.toString(16)}: exponent`).toBe(0x7c00);
      expect(h & 0x03ff, `f32 ${bits.toString(16)}: fraction`).not.toBe(0);
    }
    const h = f32ToF16Bits(Number.NaN);
    expect([h & 0x7c00, (h & 0x3ff) !== 0]).toEqual([0x7c00, true]);
  });
});

describe("f16BitsToF32 against the binary16 table", () => {
  for (const [bits, x] of DECODE)
    it(`${hex(bits)} → ${Object.is(x, -0) ? "-0" : x}`, () => {
      expect(Object.is(f16BitsToF32(bits), x), `${hex(bits)} gave ${f16BitsToF32(bits)}`).toBe(true);
    });

  it("exponent 31 with any non-zero fraction is NaN", () => {
    for (const bits of [0x7c01, 0x7e00, 0x7fff, 0xfc01, 0xfe00]) expect(f16BitsToF32(bits)).toBeNaN();
  });

  it("all 63 490 non-NaN patterns: decode then encode is the identity, and order is kept", () => {
    let prev = Number.NEGATIVE_INFINITY;
    // Walk from −∞ up through −0, +0, to +∞: negative patterns descending, then positive ascending.
    const order = [
      ...Array.from({ length: 0x7c01 }, (_, i) => 0xfc00 - i),
      ...Array.from({ length: 0x7c01 }, (_, i) => i),
    ];
    for (const h of order) {
      const x = f16BitsToF32(h);
      if (f32ToF16Bits(x) !== h) expect.fail(`${hex(h)} → ${x} → ${hex(f32ToF16Bits(x))}`);
      if (h !== 0xfc00 && (x < prev || (x === prev && h !== 0x0000)))
        expect.fail(`${hex(h)} = ${x} is not above the previous pattern's ${prev}`);
      prev = x;
    }
  });
});

/**
 * Nearest-even rounding to binary16 by arithmetic alone: the spacing q of the binade (2^-24 in
 * the subnormals), n = |x|/q rounded half to even, overflow at 65520. No bit manipulation, so it
 * shares nothing with the code under test.
 */
function roundF16Arith(x: number): number {
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Number.POSITIVE_INFINITY;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const q = 2 ** (e - 10);
  const n = a / q; // exact: a is an f32 and q a power of two within double range
  const lo = Math.floor(n);
  const r = n - lo > 0.5 || (n - lo === 0.5 && lo % 2 === 1) ? lo + 1 : lo;
  const v = r * q;
  return x < 0 || Object.is(x, -0) ? -v : v;
}

describe("f32ToF16Bits against arithmetic rounding", () => {
  it("random f32 values across every binade of the f16 range and around it", () => {
    const seed = runSeed();
    const rng = makeRng(seed);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let k = 0; k < 200_000; k++) {
      // f32 exponents 101…143 span 2^-26 … 2^16; random fraction and sign.
      const exp = 101 + Math.floor(rng() * 43);
      u[0] = ((rng() < 0.5 ? 1 : 0) << 31) | (exp << 23) | Math.floor(rng() * 2 ** 23);
      const x = f[0];
      const want = roundF16Arith(x);
      const got = f16BitsToF32(f32ToF16Bits(x));
      if (!Object.is(got, want))
        expect.fail(`${x} (f32 0x${(u[0] >>> 0).toString(16)}): got ${got}, want ${want} (seed ${seed})`);
    }
  });

  it("roundToF16, toF16Array and fromF16Array agree with the scalar functions", () => {
    const xs = [0, -0, 1, 65520, 2 ** -25, 3 * 2 ** -26, 1 + 3 * 2 ** -11, -65504];
    const bits = toF16Array(xs);
    expect(Array.from(bits, hex)).toEqual(xs.map((x) => hex(f32ToF16Bits(x))));
    expect(Array.from(fromF16Array(bits))).toEqual(Array.from(bits, (h) => f16BitsToF32(h)));
    expect(xs.map(roundToF16)).toEqual(xs.map((x) => roundF16Arith(x)));
  });
});
