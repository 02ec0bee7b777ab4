// The blocking factor of a suite's statistics: the device a run ran on. Runs on one GPU share its
// silicon, clocks and cooling; runs on another GPU or node may differ by a constant offset, which a
// randomised complete block design (configuration × device, no interaction) removes from the error.
import type { RunEnvironment } from "./types.js";

/** A run's device block: "host · GPU i" (GPU 0 where a store predates per-GPU records). */
export function deviceBlock(env: Pick<RunEnvironment, "hostname" | "gpu"> | null | undefined): string {
  if (!env) return "unknown";
  return `${env.hostname} · GPU ${env.gpu?.index ?? 0}`;
}
