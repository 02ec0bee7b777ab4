// evaluateCheckpoint: a saved model's loss and top-1/top-5 accuracy on a dataset's split(s), with
// the normalisation it was trained with. Classes are matched by name, so a folder whose classes
// differ from the checkpoint's is refused rather than scored against the wrong labels.
import { type LoadOptions, loadDataset } from "../data/index.js";
import { type GpuContext, openDevice } from "../gpu/device.js";

import { ReadbackRing } from "../runtime/readback.js";
import { loadCheckpoint } from "./checkpoint.js";
import { ModelError } from "./errors.js";
import { freeGpuSplit, GpuMlp, type GpuSplit } from "./mlp.js";
import { optimizerConfig } from "./optimizer.js";
import { precisionPolicy } from "./policy.js";
import { evaluateSplit, READBACK_BYTES, type SplitMetrics, uploadSplit } from "./trainer.js";

export interface EvaluationResult {
  checkpoint: string;
  data: string;
  adapter: string;
  precision: string;
  splits: Partial<Record<"train" | "valid" | "test", SplitMetrics>>;
}

export async function evaluateCheckpoint(
  path: string,
  data: string,
  options: {
    splits?: ("train" | "valid" | "test")[];
    ctx?: GpuContext;
    batch?: number;
    precision?: "f32" | "mixed";
  } & Pick<LoadOptions, "cacheDir" | "strict" | "onProgress" | "onWarning"> = {},
): Promise<EvaluationResult> {
  const ckpt = loadCheckpoint(path);
  const dataset = await loadDataset(data, {
    imageSize: ckpt.imageSize,
    cacheDir: options.cacheDir,
    strict: options.strict,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
  });
  const splits: GpuSplit[] = [];
  let model: GpuMlp | undefined;
  let ring: ReadbackRing | undefined;
  try {
    if (dataset.classes.join("\n") !== ckpt.classes.join("\n"))
      throw new ModelError(
        "bad-value",
        `${data} has classes [${dataset.classes.slice(0, 5).join(", ")}${dataset.classes.length > 5 ? ", …" : ""}] (${dataset.classes.length}), the checkpoint ${path} [${ckpt.classes.slice(0, 5).join(", ")}${ckpt.classes.length > 5 ? ", …" : ""}] (${ckpt.classes.length})`,
      );
    if (dataset.train.imageBytes !== ckpt.shape.inputs)
      throw new ModelError(
        "bad-shape",
        `${data}: images of ${dataset.train.imageBytes} bytes, the checkpoint expects ${ckpt.shape.inputs}`,
      );
    const ctx = options.ctx ?? (await openDevice());
    const B = options.batch ?? ckpt.config.batch;
    const precision = options.precision ?? ckpt.config.precision;
    model = await GpuMlp.create(
      ctx,
      ckpt.shape,
      precisionPolicy(precision),
      optimizerConfig(ckpt.config.optimizer),
      B,
    );
    await model.uploadParams(ckpt.params);
    ring = new ReadbackRing(ctx, READBACK_BYTES, 2, "eval metrics");
    const out: EvaluationResult["splits"] = {};
    for (const name of options.splits ?? ["test"]) {
      const s = dataset[name];
      if (s.count === 0) throw new ModelError("bad-value", `${data}: the ${name} split is empty`);
      const g = await uploadSplit(ctx, s);
      splits.push(g);
      out[name] = await evaluateSplit(
        model,
        g,
        Math.min(B, s.count),
        ckpt.normalization.mean,
        ckpt.normalization.std,
        ring,
      );
    }
    return { checkpoint: path, data, adapter: ctx.adapterName, precision, splits: out };
  } finally {
    ring?.destroy();
    model?.destroy();
    for (const s of splits) freeGpuSplit(s);
    dataset.close();
  }
}
