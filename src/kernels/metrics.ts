// metrics: a batch's loss sum and top-1/top-5 counts added to running sums on the GPU (and the
// plan's batch cursor advanced), read back every few steps; see shaders/metrics.wgsl.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { checkDistinct, checkTensor, describe, type FloatDtype, floatDtype, floatTypes } from "./opcheck.js";
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

export function metricsSpec(dtype: FloatDtype): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: OP,
    shader: "metrics",
    includes: ["lib/train_state"],
    aliases: t.aliases,
    consts: t.consts,
    bindings: [
      { name: "logits", access: "read", type: "T" },
      { name: "labels", access: "read", type: "u32" },
      { name: "row_loss", access: "read", type: "f32" },
      { name: "sums", access: "read_write", type: "u32" },
      { name: "state", access: "read_write", type: "u32" },
    ],
    uniforms: [
      ["batch", "u32"],
      ["classes", "u32"],
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
  const program = await getProgram(ctx, metricsSpec(dtype));
  dispatch(
    ctx,
    program,
    [logits, labels, rowLoss, sums, args.state],
    [batch, classes, args.slot],
    [1],
    options,
  );
}
