// Strict option parsers shared by every command. JavaScript's Number() reads "0x10" as 16,
// "0o7" as 7, " 1 " as 1 and "" as 0, and parseFloat reads "1.5abc" as 1.5; none of that is what a
// user means, so only plain decimal notation is accepted. Every error names the option and the
// value, and is a HalfwattError (E_INPUT, exit status 2).
import { HalfwattError } from "../errors.js";

export class OptionError extends HalfwattError {
  constructor(
    readonly option: string,
    readonly value: string,
    expected: string,
  ) {
    super("E_INPUT", `${option}: expected ${expected}, got ${JSON.stringify(value)}`);
  }
}

/** Decimal notation with an optional exponent: 12, -0.5, .5, 1e-3. No hex, octal, binary, Infinity. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Plain decimal integers only: "1e3" and "1.0" are refused too, since they are rarely meant. */
const INTEGER = /^[+-]?\d+$/;

/** A finite decimal number, or an OptionError describing `expected`. */
function decimal(option: string, value: string, expected: string): number {
  const x = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(x)) throw new OptionError(option, value, expected);
  return x;
}

export interface NumberRange {
  /** Smallest allowed value (inclusive unless `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
  exclusiveMax?: boolean;
}

function describeRange(kind: string, r: NumberRange): string {
  const lo = r.min === undefined ? "" : `${r.exclusiveMin ? ">" : ">="} ${r.min}`;
  const hi = r.max === undefined ? "" : `${r.exclusiveMax ? "<" : "<="} ${r.max}`;
  return [kind, [lo, hi].filter(Boolean).join(" and ")].filter(Boolean).join(" ");
}

function inRange(x: number, r: NumberRange): boolean {
  if (r.min !== undefined && (r.exclusiveMin ? !(x > r.min) : !(x >= r.min))) return false;
  if (r.max !== undefined && (r.exclusiveMax ? !(x < r.max) : !(x <= r.max))) return false;
  return true;
}

/** A decimal number within `range`. */
export function numberOption(option: string, range: NumberRange = {}): (value: string) => number {
  const expected = describeRange("a decimal number", range);
  return (value) => {
    const x = decimal(option, value, expected);
    if (!inRange(x, range)) throw new OptionError(option, value, expected);
    return x;
  };
}

/** A decimal integer within `range`. */
export function integerOption(option: string, range: NumberRange = {}): (value: string) => number {
  const expected = describeRange("an integer", range);
  return (value) => {
    const x = Number(value);
    if (!INTEGER.test(value) || !Number.isSafeInteger(x) || !inRange(x, range))
      throw new OptionError(option, value, expected);
    return x;
  };
}

export const positiveOption = (option: string) => numberOption(option, { min: 0, exclusiveMin: true });
export const nonNegativeOption = (option: string) => numberOption(option, { min: 0 });

/** A probability strictly inside (0, 1): significance levels, confidence levels, target power. */
export function probabilityOption(option: string): (value: string) => number {
  return numberOption(option, { min: 0, exclusiveMin: true, max: 1, exclusiveMax: true });
}

/** An RNG seed: an integer in [0, 2³² − 1] (the generator's whole state, src/util/rng.ts). */
export function seedOption(option: string): (value: string) => number {
  return integerOption(option, { min: 0, max: 2 ** 32 - 1 });
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(option: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new OptionError(option, value, `one of ${choices.join(", ")}`);
  };
}

/**
 * A list, given as one comma-separated value or repeated (`--watts 160,157` or `--watts 160 157`
 * with a variadic option): each item parsed by `item`. Use as a commander option parser with
 * `previous` as the accumulated list.
 */
export function listOption<T>(
  option: string,
  item: (value: string) => T,
): (value: string, previous?: T[]) => T[] {
  return (value, previous) => {
    const parts = value.split(",").map((s) => s.trim());
    if (parts.some((p) => p === "")) throw new OptionError(option, value, "a comma-separated list");
    return [...(previous ?? []), ...parts.map(item)];
  };
}
