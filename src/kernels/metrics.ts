// metrics: a batch's loss sum and top-1/top-5 counts added to running sums on the GPU (and the
// plan's batch cursor advanced), read back every few steps. Two dispatches: one workgroup per row
// classifies it (shaders/metrics_rows.wgsl, spread over the GPU), then one workgroup sums the
// row codes and losses in a fixed order (shaders/metrics.wgsl).
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  checkDistinct,
  checkTensor,
  describe,
  type FloatDtype,
  floatDtype,
  floatTypes,
  grid,
  spareBuffer,
} from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "metrics";
/** Words of the sums buffer: loss (f32 bits), top-1, top-5, samples, non-finite rows. */
export const METRIC_WORDS = 5;

export interface MetricsArgs {
  logits: Tensor;
  labels: Tensor;
  /** f32 [batch] from softmax_xent. */
  rowLoss: Tensor;
  /** u32 [≥ METRIC_WORDS]: the running sums, added to. */
  sums: Tensor;
  state: GPUBuffer;
  slot: number;
}

/** Threads per row in the first pass: a row of a few hundred classes is a few loads each. */
const ROW_WG = 64;

/** First pass: logits [batch, classes] (T), labels [batch] → codes [batch] (u32). */
export function metricsRowsSpec(dtype: FloatDtype): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: `${OP}_rows`,
    shader: "metrics_rows",
    aliases: t.aliases,
    consts: t.consts,
    bindings: [
      { name: "logits", access: "read", type: "T" },
      { name: "labels", access: "read", type: "u32" },
      { name: "codes", access: "read_write", type: "u32" },
    ],
    uniforms: [
      ["batch", "u32"],
      ["classes", "u32"],
    ],
    workgroupSize: [ROW_WG],
  };
}

/** Second pass: codes and row losses [batch] summed into sums, the slot's cursor advanced. */
export function metricsSumSpec(): ProgramSpec {
  return {
    op: OP,
    shader: "metrics",
    includes: ["lib/train_state"],
    bindings: [
      { name: "codes", access: "read", type: "u32" },
      { name: "row_loss", access: "read", type: "f32" },
      { name: "sums", access: "read_write", type: "u32" },
      { name: "state", access: "read_write", type: "u32" },
    ],
    uniforms: [
      ["batch", "u32"],
      ["slot", "u32"],
    ],
    workgroupSize: [256],
  };
}

export async function metrics(
  ctx: GpuContext,
  args: MetricsArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { logits, labels, rowLoss, sums } = args;
  const dtype = floatDtype(OP, "logits", logits);
  checkTensor(ctx, OP, "logits", logits, { dtype });
  if (logits.shape.length !== 2)
    throw new KernelInputError(OP, `logits (${describe(logits)}) must be [batch, classes]`);
  const [batch, classes] = logits.shape;
  checkTensor(ctx, OP, "labels", labels, { dtype: "u32", size: batch, why: "one per row of logits" });
  checkTensor(ctx, OP, "rowLoss", rowLoss, { dtype: "f32", size: batch, why: "one per row of logits" });
  checkTensor(ctx, OP, "sums", sums, { dtype: "u32" });
  if (sums.size < METRIC_WORDS)
    throw new KernelInputError(OP, `sums (${describe(sums)}) needs ${METRIC_WORDS} words`);
  checkDistinct(OP, { logits, labels, rowLoss, sums });
  const rows = await getProgram(ctx, metricsRowsSpec(dtype));
  const sum = await getProgram(ctx, metricsSumSpec());
  // Scratch shared by every metrics call on the device: each call's second pass reads its codes
  // before the next call's first pass (dispatches run in submission order) overwrites them.
  const codes = spareBuffer(ctx, `${OP}.codes`, 4 * batch);
  const rowGrid = grid(ctx, OP, batch, 1, `${batch} rows`);
  dispatch(ctx, rows, [logits, labels, codes], [batch, classes], rowGrid, options);
  dispatch(ctx, sum, [codes, rowLoss, sums, args.state], [batch, args.slot], [1], options);
}
