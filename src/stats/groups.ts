// Shared shape of grouped data and the checks every multi-group test needs.
import { commonExponent, scaled } from "./descriptive.js";
import { requireCount, StatsInputError } from "./errors.js";

export interface Group {
  name: string;
  values: ArrayLike<number>;
  /**
   * The 1-based file line of each value, when the values came from a wide CSV; paired tests
   * match values by these rows (a wide file with holes has values[i] of two groups on different
   * rows). Absent: values are matched by position.
   */
  rows?: ArrayLike<number>;
}

/** Summary statistics of one group, as in Excel's ANOVA "SUMMARY" table. */
export interface GroupSummary {
  name: string;
  count: number;
  mean: number;
  /** Sample variance (divisor n − 1). */
  variance: number;
}

/** At least `minGroups` groups, each with at least `minValues` finite values. */
export function requireGroups(groups: Group[], minGroups: number, minValues = 2): void {
  if (groups.length < minGroups)
    throw new StatsInputError(`needs at least ${minGroups} groups, got ${groups.length}`);
  for (const g of groups) requireCount(g.values, minValues, `group "${g.name}"`);
}

export function requireSummaries(groups: GroupSummary[], minGroups: number): void {
  if (groups.length < minGroups)
    throw new StatsInputError(`needs at least ${minGroups} groups, got ${groups.length}`);
  for (const g of groups) {
    if (!Number.isInteger(g.count) || g.count < 2)
      throw new StatsInputError(`group "${g.name}": count must be an integer >= 2, got ${g.count}`);
    if (!Number.isFinite(g.mean)) throw new StatsInputError(`group "${g.name}": mean is not a finite number`);
    if (!(Number.isFinite(g.variance) && g.variance >= 0))
      throw new StatsInputError(
        `group "${g.name}": variance must be a finite number >= 0, got ${g.variance}`,
      );
  }
}

/** Two groups' values matched for a paired test, and the rows left out for lack of a partner. */
export interface PairedValues {
  a: number[];
  b: number[];
  /** File lines where only one of the two groups has a value (empty when matched by position). */
  droppedRows: number[];
}

/**
 * Pairs two groups' values. With file rows (a wide CSV) values pair by row, and rows where either
 * value is missing are dropped and named, so a hole in one column does not shift every later
 * pair. Without rows they pair by position (the paired test then needs equal lengths).
 */
export function pairByRow(a: Group, b: Group): PairedValues {
  if (!a.rows || !b.rows) return { a: Array.from(a.values), b: Array.from(b.values), droppedRows: [] };
  const bByRow = new Map<number, number>();
  for (let i = 0; i < b.values.length; i++) bByRow.set(b.rows[i], b.values[i]);
  const out: PairedValues = { a: [], b: [], droppedRows: [] };
  const matched = new Set<number>();
  for (let i = 0; i < a.values.length; i++) {
    const partner = bByRow.get(a.rows[i]);
    if (partner === undefined) out.droppedRows.push(a.rows[i]);
    else {
      out.a.push(a.values[i]);
      out.b.push(partner);
      matched.add(a.rows[i]);
    }
  }
  for (const row of bByRow.keys()) if (!matched.has(row)) out.droppedRows.push(row);
  out.droppedRows.sort((x, y) => x - y);
  return out;
}

/**
 * The groups divided by one power of two near their largest |x| (exact), and that exponent e:
 * scale-free results (F, p, t) computed on them are the same, and sums of squares cannot overflow
 * or underflow; quantities in data units are multiplied back by 2^e (squares by 2^(2e)).
 */
export function scaleGroups(groups: Group[]): { groups: Group[]; e: number } {
  const e = commonExponent(...groups.map((g) => g.values));
  return { groups: groups.map((g) => ({ ...g, values: scaled(g.values, e) })), e };
}
