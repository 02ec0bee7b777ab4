// Comparison with a relative tolerance and an absolute floor (for values near 0, e.g. tiny
// p-values where the reference itself only has absolute accuracy).
import { expect } from "vitest";

export const REL = 1e-6;
export const ABS = 1e-12;

export function isClose(actual: number, expected: number, rel = REL, abs = ABS): boolean {
  if (actual === expected) return true; // includes ±Infinity
  return Math.abs(actual - expected) <= Math.max(abs, rel * Math.max(Math.abs(actual), Math.abs(expected)));
}

export function relativeError(actual: number, expected: number, abs = ABS): number {
  if (actual === expected) return 0;
  const diff = Math.abs(actual - expected);
  if (diff <= abs) return 0;
  return diff / Math.max(Math.abs(actual), Math.abs(expected));
}

export function expectClose(actual: number, expected: number, what: string, rel = REL, abs = ABS): void {
  expect(isClose(actual, expected, rel, abs), `${what}: ${actual} vs ${expected}`).toBe(true);
}

/** The value as printed to `digits` decimal places matches the printed table value. */
export function expectDigits(actual: number, printed: number, digits: number, what: string): void {
  expect(Math.abs(actual - printed), `${what}: ${actual} vs printed ${printed}`).toBeLessThanOrEqual(
    0.5 * 10 ** -digits + 1e-12 * Math.abs(printed),
  );
}
