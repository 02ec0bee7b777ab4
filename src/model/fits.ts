// Whether a classifier fits the adapter's binding limit, said in the user's terms: which layer or
// buffer, how large, and what to change (image size, width, batch). Checked before anything is
// allocated, so a model too large for a CPU adapter (lavapipe binds at most 128 MiB: the
// 224×224×3 → 1024 first layer alone is 616 MB of f32) fails at once with the fix, not deep in
// buffer creation with a tensor size.
import type { MlpShape } from "./shape.js";

const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/**
 * Null when every buffer the model binds fits `limit` bytes, else the reason and the remedy.
 * Parameters are held in f32 slabs (master weights, gradients, moments) whatever the precision;
 * activations in `compute` (f32: 4 bytes, f16: 2), `maxBatch` rows each.
 */
export function modelFitReason(
  limit: number,
  shape: MlpShape,
  compute: "f32" | "f16",
  maxBatch: number,
  adapterName: string,
): string | null {
  const where = `this adapter's binding limit of ${MB(limit)} (${adapterName})`;
  const widths = [shape.inputs, ...shape.hidden, shape.classes];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fanIn, fanOut] = [widths[l], widths[l + 1]];
    const bytes = fanIn * fanOut * 4;
    if (bytes <= limit) continue;
    const maxOut = Math.floor(limit / (fanIn * 4));
    const fixes = [
      l + 1 < widths.length - 1
        ? `a hidden width of at most ${maxOut} (now ${fanOut})`
        : `at most ${maxOut} classes`,
    ];
    if (l === 0) {
      const maxInputs = Math.floor(limit / (fanOut * 4));
      fixes.unshift(
        `smaller images (at most ${maxInputs} inputs: a side of at most ${Math.floor(Math.sqrt(maxInputs / 3))} pixels at 3 channels; now ${fanIn})`,
      );
    }
    return `layer ${l + 1}'s weight (${fanIn} × ${fanOut} f32) is ${MB(bytes)}, past ${where}: use ${fixes.join(", or ")}, or a GPU`;
  }
  const params = widths.slice(1).reduce((s, w, l) => s + (widths[l] + 1) * w, 0);
  if (params * 4 > limit)
    return `the model's parameters together (${params} f32, ${MB(params * 4)}, held in one buffer) exceed ${where}: use smaller images or narrower layers, or a GPU`;
  const bytesPer = compute === "f16" ? 2 : 4;
  const widest = Math.max(...widths);
  if (maxBatch * widest * bytesPer > limit) {
    const layer = widest === shape.inputs ? "the input batch" : "the widest layer's activations";
    return `${layer} (batch ${maxBatch} × ${widest} ${compute}) is ${MB(maxBatch * widest * bytesPer)}, past ${where}: use a batch of at most ${Math.floor(limit / (widest * bytesPer))}, or smaller images`;
  }
  return null;
}
