// Checkpoints as .safetensors (Hugging Face's format, src/model/safetensors.ts): the f32 master
// weights under their parameter names, the optimizer state under "optimizer.m.<name>" /
// "optimizer.v.<name>", and in the string metadata the run's configuration, class names,
// normalisation, the training state (loss scale, steps) and the layout convention.
// Weights are [in, out] row-major (Z = H·W + b), the transpose of torch.nn.Linear's [out, in].
import type { Rgb } from "../kernels/image-normalize.js";
import { ModelError } from "./errors.js";
import type { GpuMlp } from "./mlp.js";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "./safetensors.js";
import type { MlpShape } from "./shape.js";
import type { TrainConfig } from "./trainer.js";

export const CHECKPOINT_FORMAT = "halfwatt-mlp/1";

export interface CheckpointMeta {
  config: TrainConfig;
  shape: MlpShape;
  classes: string[];
  imageSize: number;
  normalization: { mean: Rgb; std: Rgb };
}

export interface Checkpoint extends CheckpointMeta {
  params: Record<string, Float32Array>;
  m?: Record<string, Float32Array>;
  v?: Record<string, Float32Array>;
  state: { scale: number; steps: number; good: number; skipped: number };
}

export async function saveCheckpoint(path: string, model: GpuMlp, meta: CheckpointMeta): Promise<void> {
  const tensors: Record<string, SafetensorsTensor> = {};
  const add = (prefix: string, values: Record<string, Float32Array>) => {
    for (const e of model.params.layout.entries)
      tensors[`${prefix}${e.name}`] = { dtype: "F32", shape: [...e.shape], data: values[e.name] };
  };
  add("", await model.readSlab(model.params));
  add("optimizer.m.", await model.readSlab(model.m));
  if (model.v) add("optimizer.v.", await model.readSlab(model.v));
  const st = await model.readState();
  writeSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    layout: "layers.<l>.weight is [in, out] row-major: Z = H·W + b (torch.nn.Linear stores Wᵀ)",
    config: JSON.stringify(meta.config),
    shape: JSON.stringify(meta.shape),
    classes: JSON.stringify(meta.classes),
    image_size: String(meta.imageSize),
    normalization: JSON.stringify(meta.normalization),
    optimizer: model.optimizer.name,
    precision: model.policy.name,
    state: JSON.stringify({ scale: st.scale, steps: st.steps, good: st.good, skipped: st.skipped }),
  });
}

function parseJson<T>(path: string, field: string, text: string | undefined): T {
  if (text === undefined)
    throw new ModelError("bad-metadata", `checkpoint ${path}: metadata has no "${field}"`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ModelError("bad-metadata", `checkpoint ${path}: metadata "${field}" is not valid JSON`);
  }
}

export function loadCheckpoint(path: string): Checkpoint {
  const file = readSafetensors(path);
  const md = file.metadata;
  if (md.format !== CHECKPOINT_FORMAT)
    throw new ModelError(
      "bad-metadata",
      `checkpoint ${path}: format "${md.format ?? "(none)"}" is not ${CHECKPOINT_FORMAT}`,
    );
  const shape = parseJson<MlpShape>(path, "shape", md.shape);
  const config = parseJson<TrainConfig>(path, "config", md.config);
  const classes = parseJson<string[]>(path, "classes", md.classes);
  const normalization = parseJson<{ mean: Rgb; std: Rgb }>(path, "normalization", md.normalization);
  const state = parseJson<Checkpoint["state"]>(path, "state", md.state);
  const imageSize = Number(md.image_size);
  const sizes = [shape.inputs, ...shape.hidden, shape.classes];
  const pick = (prefix: string, required: boolean): Record<string, Float32Array> | undefined => {
    const out: Record<string, Float32Array> = {};
    for (let l = 0; l + 1 < sizes.length; l++)
      for (const [kind, want] of [
        ["weight", [sizes[l], sizes[l + 1]]],
        ["bias", [sizes[l + 1]]],
      ] as const) {
        const name = `layers.${l}.${kind}`;
        const t = file.tensors[`${prefix}${name}`];
        if (!t) {
          if (required)
            throw new ModelError("bad-shape", `checkpoint ${path}: tensor ${prefix}${name} is missing`);
          return undefined;
        }
        if (t.dtype !== "F32" || t.shape.join("×") !== want.join("×"))
          throw new ModelError(
            "bad-shape",
            `checkpoint ${path}: ${prefix}${name} is ${t.dtype}[${t.shape.join("×")}], expected F32[${want.join("×")}]`,
          );
        out[name] = t.data as Float32Array;
      }
    return out;
  };
  if (classes.length !== shape.classes)
    throw new ModelError(
      "bad-metadata",
      `checkpoint ${path}: ${classes.length} class names for ${shape.classes} outputs`,
    );
  return {
    config,
    shape,
    classes,
    imageSize,
    normalization,
    state,
    params: pick("", true) as Record<string, Float32Array>,
    m: pick("optimizer.m.", false),
    v: pick("optimizer.v.", false),
  };
}
