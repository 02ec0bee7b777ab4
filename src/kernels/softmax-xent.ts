// softmax_xent: softmax + cross-entropy over [batch, classes] logits with u32 labels — the mean
// loss (and per-row losses) and the gradient of the mean loss times the loss scale,
//   dLogits = (softmax(logits) − onehot(label)) / batch · lossScale,
// computed in f32 whatever T is (logits read as T, dLogits written as T), numerically stable by
// max subtraction. A label ≥ classes gives a NaN row loss and a NaN gradient row, so the
// non-finite detector stops the step without a read-back.
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
import { type DispatchOptions, dispatch, getProgram, opEncoder, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";
import { constantState } from "./train-state.js";

const OP = "softmax_xent";
/** Invocations per row: 525 classes take 3 strides; a power of two for the tree reductions. */
const WG_ROW = 256;

export interface SoftmaxXentArgs {
  /** f32 or f16 [batch, classes]. */
  logits: Tensor;
  /** u32 [batch], each < classes. */
  labels: Tensor;
  /** Output, logits' type and size: the scaled gradient of the mean loss. Omit for evaluation. */
  dLogits?: Tensor;
  /** Output, f32 [1]: the mean cross-entropy over the batch (unscaled). */
  loss?: Tensor;
  /** Output, f32 [batch]: each row's cross-entropy. */
  rowLoss?: Tensor;
  /** Multiplies dLogits (mixed precision's loss scale). Default 1. Ignored with `state`. */
  lossScale?: number;
  /** The training state buffer (train-state.ts) to read the loss scale from, as the step runtime does. */
  state?: GPUBuffer;
}

export interface SoftmaxXentFlags {
  meanPass: boolean;
  writeLoss: boolean;
  writeGrad: boolean;
}

export function softmaxXentSpec(dtype: FloatDtype, flags: SoftmaxXentFlags): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: OP,
    shader: "softmax_xent",
    includes: ["lib/f16_bits", "lib/to_t", "lib/train_state"],
    aliases: t.aliases,
    consts: {
      ...t.consts,
      MEAN_PASS: flags.meanPass,
      WRITE_LOSS: flags.writeLoss,
      WRITE_GRAD: flags.writeGrad,
    },
    bindings: [
      { name: "logits", access: "read", type: "T" },
      { name: "labels", access: "read", type: "u32" },
      { name: "dlogits", access: "read_write", type: "T" },
      { name: "row_loss", access: "read_write", type: "f32" },
      { name: "loss", access: "read_write", type: "f32" },
      { name: "state", access: "read", type: "u32" },
    ],
    uniforms: [
      ["batch", "u32"],
      ["classes", "u32"],
      ["inv_batch", "f32"],
    ],
    workgroupSize: [WG_ROW],
  };
}

/**
 * One dispatch for the rows (a workgroup each), and a second, one-workgroup dispatch for the
 * mean when `loss` is asked for (row losses go through `rowLoss` or a per-device scratch buffer).
 * Records into options.encoder when given; timestampWrites span both dispatches.
 */
export async function softmaxXent(
  ctx: GpuContext,
  args: SoftmaxXentArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { logits, labels, dLogits, loss, rowLoss } = args;
  const lossScale = args.lossScale ?? 1;
  const dtype = floatDtype(OP, "logits", logits);
  checkTensor(ctx, OP, "logits", logits, { dtype });
  if (logits.shape.length !== 2)
    throw new KernelInputError(OP, `logits (${describe(logits)}) must be [batch, classes]`);
  const [batch, classes] = logits.shape;
  const perRow = `one per row of logits ${describe(logits)}`;
  checkTensor(ctx, OP, "labels", labels, { dtype: "u32", size: batch, why: perRow });
  if (dLogits)
    checkTensor(ctx, OP, "dLogits", dLogits, {
      dtype,
      size: logits.size,
      why: `as logits ${describe(logits)}`,
    });
  if (rowLoss) checkTensor(ctx, OP, "rowLoss", rowLoss, { dtype: "f32", size: batch, why: perRow });
  if (loss) checkTensor(ctx, OP, "loss", loss, { dtype: "f32", size: 1 });
  if (!dLogits && !loss && !rowLoss)
    throw new KernelInputError(OP, "no output: pass dLogits, loss or rowLoss");
  if (!(Number.isFinite(lossScale) && lossScale > 0))
    throw new KernelInputError(OP, `lossScale = ${lossScale} must be finite and > 0`);
  checkDistinct(OP, { logits, labels, dLogits, loss, rowLoss });

  const flags = { meanPass: false, writeLoss: !!(loss || rowLoss), writeGrad: !!dLogits };
  // Absent outputs bind per-binding spare buffers the shader never writes (consts switch it off).
  const buffers = [
    logits,
    labels,
    dLogits ?? spareBuffer(ctx, `${OP}.dlogits`, 4),
    rowLoss ?? spareBuffer(ctx, `${OP}.row_loss`, 4 * batch),
    loss ?? spareBuffer(ctx, `${OP}.loss`, 4),
    args.state ?? constantState(ctx, { scale: lossScale }),
  ];
  const uniforms = [batch, classes, 1 / batch];
  const rows = await getProgram(ctx, softmaxXentSpec(dtype, flags));
  const mean = loss ? await getProgram(ctx, softmaxXentSpec(dtype, { ...flags, meanPass: true })) : null;

  const ts = options.timestampWrites;
  const { encoder: enc, done } = opEncoder(ctx, options, OP);
  const rowTs =
    ts && mean ? { querySet: ts.querySet, beginningOfPassWriteIndex: ts.beginningOfPassWriteIndex } : ts;
  dispatch(ctx, rows, buffers, uniforms, grid(ctx, OP, batch, 1, `${batch} rows`), {
    encoder: enc,
    timestampWrites: rowTs,
    record: options.record,
  });
  if (mean) {
    const meanTs = ts && { querySet: ts.querySet, endOfPassWriteIndex: ts.endOfPassWriteIndex };
    dispatch(ctx, mean, buffers, uniforms, [1], {
      encoder: enc,
      timestampWrites: meanTs,
      record: options.record,
    });
  }
  done();
}
