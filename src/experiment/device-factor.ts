// The device factor of a suite's statistics: the device a run ran on. Runs on one GPU share its
// silicon, clocks and cooling; runs on another GPU or node may differ by a constant offset, which a
// randomised complete block design (configuration × device, no interaction) removes from the error.
// (src/stats calls this factor the RCBD's "block", the textbook word; in src/experiment a "block"
// is a plan's replicate block, see blocks.ts and the glossary in docs/experiment.md.)
import type { RunEnvironment } from "./types.js";

/** A run's level of the device factor: "host · GPU i" (GPU 0 where a store predates per-GPU records). */
export function deviceFactor(env: Pick<RunEnvironment, "hostname" | "gpu"> | null | undefined): string {
  if (!env) return "unknown";
  return `${env.hostname} · GPU ${env.gpu?.index ?? 0}`;
}
