// Energy and carbon footprint of a run (the dissertation's equations 1–3):
// kWh = W·h/1000, gCO2e = kWh × carbon intensity (gCO2e/kWh).
// The dissertation labels the result "gCO2e/kWh"; the unit of a footprint is gCO2e.
import { StatsInputError } from "./errors.js";

export interface CarbonRow {
  watts: number;
  hours: number;
  kwh: number;
  /** Grams of CO2 equivalent (not gCO2e/kWh). */
  gco2e: number;
}

export interface CarbonResult {
  intensity: number;
  rows: CarbonRow[];
}

function requireNonNegative(x: number, label: string): void {
  if (!(Number.isFinite(x) && x >= 0))
    throw new StatsInputError(`${label} must be a finite number >= 0, got ${x}`);
}

/** One row per average power draw `watts`, each run for `hours` at `intensity` gCO2e/kWh. */
export function carbonFootprint(watts: number[], hours: number, intensity: number): CarbonResult {
  if (!watts.length) throw new StatsInputError("needs at least one --watts value");
  for (const w of watts) requireNonNegative(w, "watts");
  requireNonNegative(hours, "hours");
  requireNonNegative(intensity, "carbon intensity");
  return {
    intensity,
    rows: watts.map((w) => {
      const kwh = (w * hours) / 1000;
      return { watts: w, hours, kwh, gco2e: kwh * intensity };
    }),
  };
}
