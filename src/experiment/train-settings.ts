// One rule for the training settings that only apply in some combinations, used by `halfwatt
// train` (its flags) and by the suite specification (its fields), so that the command line never
// silently ignores what a suite file refuses: momentum and Nesterov are SGD's, loss scaling is
// mixed precision's, and a loss scale must be a finite positive f32 (1e39 would round to Infinity
// in f32 and every step would then overflow and be skipped).

/** The largest finite float32, (2 − 2⁻²³) · 2¹²⁷ (IEEE 754 binary32). */
export const F32_MAX = 3.4028234663852886e38;

/** The settings the rule looks at; a field left undefined was not given. */
export interface TrainSettings {
  precision?: "f32" | "mixed";
  optimizer: { name: "adam" | "adamw" | "sgd"; momentum?: number; nesterov?: boolean };
  lossScale?: number;
  lossScaleInterval?: number;
}

/** A setting that cannot be used; `field` is the TrainSettings (or optimizer) key at fault. */
export interface SettingIssue {
  field: "momentum" | "nesterov" | "lossScale" | "lossScaleInterval";
  message: string;
}

/** Every combination problem of `s` (empty when usable). */
export function trainSettingIssues(s: TrainSettings): SettingIssue[] {
  const out: SettingIssue[] = [];
  const o = s.optimizer;
  if (o.name !== "sgd")
    for (const k of ["momentum", "nesterov"] as const)
      if (o[k] !== undefined) out.push({ field: k, message: `applies to sgd only, not ${o.name}` });
  if (o.name === "sgd" && o.nesterov && !o.momentum)
    out.push({ field: "nesterov", message: "needs momentum > 0 (as PyTorch)" });
  if (
    s.lossScale !== undefined &&
    !(Number.isFinite(s.lossScale) && s.lossScale > 0 && s.lossScale <= F32_MAX)
  )
    out.push({
      field: "lossScale",
      message: `must be a number > 0 and ≤ ${F32_MAX} (the largest float32), got ${s.lossScale}`,
    });
  if (s.precision === "f32")
    for (const k of ["lossScale", "lossScaleInterval"] as const)
      if (s[k] !== undefined) out.push({ field: k, message: "applies to mixed precision only, not f32" });
  return out;
}
