// One error type for every input the statistics cannot be computed from. Callers (the CLI) print
// the message as is, so it must say what was wrong and where (file, row, column) when known.
import { type ErrorCode, HalfwattError } from "../errors.js";

export interface InputLocation {
  file?: string;
  /** 1-based line number in the file (the header is line 1). */
  row?: number;
  /** Column name or 1-based column number. */
  column?: string | number;
}

/**
 * Code E_INPUT (a sample or parameter the statistics cannot use), E_CSV (a data file that does
 * not read as CSV) or E_RANGE (a result beyond double precision for these values).
 */
export class StatsInputError extends HalfwattError {
  readonly location: InputLocation;

  constructor(message: string, location: InputLocation = {}, code: ErrorCode = "E_INPUT") {
    const where = [
      location.file,
      location.row !== undefined ? `row ${location.row}` : undefined,
      location.column !== undefined ? `column ${JSON.stringify(String(location.column))}` : undefined,
    ].filter((s) => s !== undefined);
    super(code, where.length ? `${where.join(", ")}: ${message}` : message);
    this.location = location;
  }
}

/** Throws unless every value is a finite number; `label` names the sample in the message. */
export function requireFinite(values: ArrayLike<number>, label: string): void {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== "number" || !Number.isFinite(values[i]))
      throw new StatsInputError(`${label}: value ${i + 1} is not a finite number (${values[i]})`);
  }
}

/** Throws unless the sample has at least `min` values (and all are finite). */
export function requireCount(values: ArrayLike<number>, min: number, label: string): void {
  if (values.length < min)
    throw new StatsInputError(`${label}: needs at least ${min} values, got ${values.length}`);
  requireFinite(values, label);
}

/** Significance level / confidence complement must lie strictly inside (0, 1). */
export function requireProbability(p: number, label: string): void {
  if (!(p > 0 && p < 1)) throw new StatsInputError(`${label} must be between 0 and 1 (exclusive), got ${p}`);
}
