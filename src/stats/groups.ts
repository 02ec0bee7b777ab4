// Shared shape of grouped data and the checks every multi-group test needs.
import { requireCount, StatsInputError } from "./errors.js";

export interface Group {
  name: string;
  values: ArrayLike<number>;
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
