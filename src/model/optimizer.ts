// Optimizer settings, PyTorch's names and defaults (torch.optim.SGD / Adam / AdamW).
import { ModelError } from "./errors.js";

export type OptimizerConfig =
  | { name: "sgd"; lr: number; momentum: number; nesterov: boolean; weightDecay: number }
  | { name: "adam" | "adamw"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

export function optimizerConfig(o: Partial<OptimizerConfig> & { name?: string }): OptimizerConfig {
  const name = o.name ?? "adam";
  const num = (field: string, v: number | undefined, dflt: number, lo: number, hi = Infinity) => {
    const x = v ?? dflt;
    if (!(Number.isFinite(x) && x >= lo && x <= hi))
      throw new ModelError("bad-value", `optimizer ${name}: ${field} = ${x} must be in [${lo}, ${hi}]`);
    return x;
  };
  const any = o as Record<string, number | boolean | undefined>;
  if (name === "sgd") {
    const momentum = num("momentum", any.momentum as number | undefined, 0, 0);
    const nesterov = Boolean(any.nesterov);
    if (nesterov && momentum === 0)
      throw new ModelError("bad-value", "optimizer sgd: Nesterov needs momentum > 0 (as PyTorch)");
    return {
      name,
      lr: num("lr", o.lr, 0.01, 0),
      momentum,
      nesterov,
      weightDecay: num("weightDecay", any.weightDecay as number | undefined, 0, 0),
    };
  }
  if (name === "adam" || name === "adamw")
    return {
      name,
      lr: num("lr", o.lr, 0.001, 0),
      beta1: num("beta1", any.beta1 as number | undefined, 0.9, 0, 1 - 2 ** -24),
      beta2: num("beta2", any.beta2 as number | undefined, 0.999, 0, 1 - 2 ** -24),
      eps: num("eps", any.eps as number | undefined, 1e-8, Number.MIN_VALUE),
      weightDecay: num("weightDecay", any.weightDecay as number | undefined, name === "adamw" ? 0.01 : 0, 0),
    };
  throw new ModelError("bad-value", `optimizer "${name}" is not one of sgd, adam, adamw`);
}
