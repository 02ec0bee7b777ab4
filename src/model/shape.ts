// The classifier's layer widths, as plain data: what mlp.ts builds, fits.ts checks against the
// adapter's limits and checkpoint.ts records. Its own module so that neither of those imports
// another for the type alone.

export interface MlpShape {
  /** Flattened input size (H·W·3). */
  inputs: number;
  hidden: number[];
  classes: number;
}
