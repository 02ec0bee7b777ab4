// Number and table formatting shared by the CLI, the experiment suite and the report: numbers to
// 10 significant digits like the dissertation's Excel output, left-aligned text tables, and JSON
// in which the infinite bounds of one-sided intervals are null (JSON has no Infinity).
import { HalfwattError } from "../errors.js";

/** A number for a table: 10 significant digits like the dissertation's Excel output. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined) return "—";
  if (x === Number.POSITIVE_INFINITY) return "∞";
  if (x === Number.NEGATIVE_INFINITY) return "-∞";
  // Integers print whole up to 1e15 (counts, df); beyond, 10 significant digits like the rest.
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  return String(Number(x.toPrecision(10)));
}

/** An interval as [lo, hi]. */
export function formatInterval(ci: readonly [number, number]): string {
  return `[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`;
}

/** Left-aligned text table; numbers go through formatNumber. */
export function formatTable(headers: string[], rows: (string | number | null)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === "string" ? c : formatNumber(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? "").padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * The path of the first NaN inside `value` (e.g. "comparisons[2].p"), or null. A NaN in a result
 * means the computation broke down; printing it with exit status 0 would pass it off as a value.
 */
export function findNaN(value: unknown, path = ""): string | null {
  if (typeof value === "number") return Number.isNaN(value) ? path || "(value)" : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = findNaN(v, `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = findNaN(v, path ? `${path}.${k}` : k);
      if (p) return p;
    }
  }
  return null;
}

/** Throws E_RANGE naming the first NaN in a result (see findNaN). */
export function requireNoNaN(value: unknown, what: string): void {
  const at = findNaN(value);
  if (at)
    throw new HalfwattError(
      "E_RANGE",
      `${what}: ${at} is not a number (NaN): the computation broke down for these values (magnitudes near the limits of double precision?); rescale the data and run again`,
    );
}

/** JSON with ±Infinity written as null (JSON has no Infinity). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2);
}
