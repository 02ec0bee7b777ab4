// IEEE 754 binary16 <-> binary32 conversion on the CPU (exact bit patterns, independent of any
// runtime's Float16Array).
// Used to upload f16 tensors, read them back, and quantize inputs of the float64 references.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Rounds a binary32 value to the nearest binary16 (ties to even) and returns its 16 bits. A
 * float64 argument is first rounded to f32, so it can round twice (1 + 2^-11 + 2^-40 gives
 * 0x3C00, not 0x3C01): that is what a GPU kernel does when it computes in f32 and stores f16,
 * which is how the references use it.
 */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf / NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    // subnormal half (or zero)
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into exponent: correct
  return sign | half;
}

/** The value of 16 binary16 bits. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Rounds to binary16 (through f32, as f32ToF16Bits) and back: what an f16 store would keep. */
export function roundToF16(value: number): number {
  return f16BitsToF32(f32ToF16Bits(value));
}

export function toF16Array(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}

export function fromF16Array(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToF32(bits[i]);
  return out;
}

/** Largest finite binary16 value. */
export const F16_MAX = 65504;
/** Unit roundoff of binary16 (2^-11) and binary32 (2^-24). */
export const F16_EPS = 2 ** -11;
export const F32_EPS = 2 ** -24;
