// Numbers as the report prints them: a few significant digits (a report is read, not re-keyed;
// ReportData keeps full precision), p-values in a fixed style, "—" for a missing figure. A
// non-finite number is a bug upstream and prints as "—" rather than "NaN".

/**
 * Relative size below which the result of a subtraction is rounding residue, not a figure: a net
 * energy gross − baseline × duration of a constant model is 0 by construction but comes out near
 * 1e-16 × gross. 1e-12 is thousands of ulps (sums over many rows) yet far below any measured share.
 */
export const ROUNDING_RESIDUE = 1e-12;

/** x, or 0 when |x| ≤ ROUNDING_RESIDUE × |scale| (scale: the magnitude of what x was computed from). */
export function withoutResidue(x: number, scale: number): number {
  return Math.abs(x) <= ROUNDING_RESIDUE * Math.abs(scale) ? 0 : x;
}

/** x to `digits` significant digits, without exponent for everyday magnitudes; "—" for null. */
export function sig(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e15) {
    const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
    return x
      .toFixed(Math.min(decimals, 20))
      .replace(/(\.\d*?)0+$/, "$1")
      .replace(/\.$/, "");
  }
  return x.toExponential(digits - 1);
}

/** A p-value: 4 significant digits, "< 1e-16" below double precision's resolution near 1. */
export function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  if (p < 1e-16) return "< 1e-16";
  return sig(p, 4);
}

/** A fraction as a percentage. */
export function percent(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "—" : `${sig(x * 100, digits)} %`;
}

export function interval(ci: readonly [number, number] | null | undefined, digits = 4): string {
  return ci ? `[${sig(ci[0], digits)}, ${sig(ci[1], digits)}]` : "—";
}
