// Comparing what a command gives with what a store holds (a resumed suite's spec and plan): the
// first place where two JSON values differ, for a message that names it.
import type { SuiteSpec } from "../types.js";

/** A value as the mismatch message shows it. */
export function show(v: unknown): string {
  return v === undefined ? "(not set)" : JSON.stringify(v);
}

/**
 * The first place where two JSON values differ, as a path ("replicates", "configurations[1].batch")
 * and both values; null when equal. Object keys compare as sets (order does not matter).
 */
export function firstDifference(
  stored: unknown,
  given: unknown,
  path = "",
): { path: string; stored: unknown; given: unknown } | null {
  if (Object.is(stored, given)) return null;
  if (Array.isArray(stored) && Array.isArray(given)) {
    for (let i = 0; i < Math.max(stored.length, given.length); i++) {
      const d = firstDifference(stored[i], given[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(stored) && isObj(given)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(given)])];
    for (const k of keys) {
      const d = firstDifference(stored[k], given[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return { path: path || "(the whole value)", stored, given };
}

/** The spec as compared and stored: its JSON form (undefined fields dropped). */
export const specJson = (spec: SuiteSpec): Record<string, unknown> => JSON.parse(JSON.stringify(spec));

/** A stored or given spec without `origin` (where it came from is left out of comparisons). */
export const withoutOrigin = (s: Record<string, unknown>) => {
  const { origin: _origin, ...rest } = s;
  return rest;
};
