// What each configuration's training step ran, from its runs' kernel tables (the trainer records
// one per run: op, role, input → output type, the kernel chosen), and where a mixed configuration
// and its f32 twin did not run the same step. Why: a precision comparison is only about precision
// when both sides run the same operations. In the 2026-12-04 H200 study the f32 step at batch 32
// had its first layer's weight gradient fused with Adam and the mixed one did not, and f32 came out
// 4.4 % cheaper; the kernels differ by design between precisions (tensor cores, the overflow check)
// but not the step's structure. Plain data for document.ts and conclusion.ts.
import type { RunConfiguration } from "../experiment/types.js";
import type { KernelRecord } from "../model/mlp.js";
import { f32Twin } from "./twins.js";

/** Ops only mixed precision runs, by design: the overflow check of its f16 tensors. */
const MIXED_ONLY_BY_DESIGN = new Set(["nonfinite"]);

export interface StepKernelRow {
  /** The step's part and its op, as the first configuration that ran it names it. */
  role: string;
  /** Per configuration id: "kernel, in → out" (the kernel where the trainer names one), or absent where it did not run this part. */
  cells: Record<string, string>;
}

export interface StepDifference {
  mixed: string;
  f32: string;
  /** Parts only the f32 twin ran, and only the mixed configuration ran (by-design ones left out). */
  onlyF32: KernelRecord[];
  onlyMixed: KernelRecord[];
}

export interface StepKernels {
  rows: StepKernelRow[];
  /** Configurations whose runs did not all record the same step (listed, first run shown). */
  varied: string[];
  differences: StepDifference[];
}

/**
 * A step part's key: the op where the step runs it once (the same part in both precisions, whose
 * roles may differ: "adam over all parameters" with or without ", writes the f16 copy"), else the
 * op and its role (the GEMMs of a step apart).
 */
function keys(step: readonly KernelRecord[]): string[] {
  const count = new Map<string, number>();
  for (const k of step) count.set(k.op, (count.get(k.op) ?? 0) + 1);
  return step.map((k) => ((count.get(k.op) ?? 0) > 1 ? `${k.op}: ${k.role}` : k.op));
}

const cell = (k: KernelRecord) => `${k.variant ? `${k.variant}, ` : ""}${k.input} → ${k.output}`;
const sameStep = (a: readonly KernelRecord[], b: readonly KernelRecord[]) =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * configurations: in report order, each with its completed runs' kernel tables (runs without one,
 * from older stores, are skipped). The first run with a table stands for the configuration.
 */
export function stepKernels(
  configurations: readonly { id: string; config: RunConfiguration }[],
  kernelsByConfig: ReadonlyMap<string, readonly (readonly KernelRecord[])[]>,
): StepKernels {
  const steps = new Map<string, readonly KernelRecord[]>();
  const varied: string[] = [];
  for (const c of configurations) {
    const tables = (kernelsByConfig.get(c.id) ?? []).filter((t) => t.length);
    if (!tables.length) continue;
    steps.set(c.id, tables[0]);
    if (tables.some((t) => !sameStep(t, tables[0]))) varied.push(c.id);
  }
  // Rows in step order: a part one configuration alone ran goes right after the part before it.
  const rows: StepKernelRow[] = [];
  const rowOf = new Map<string, StepKernelRow>();
  for (const [id, step] of steps) {
    const ks = keys(step);
    step.forEach((k, i) => {
      let row = rowOf.get(ks[i]);
      if (!row) {
        row = { role: `${k.role} (${k.op})`, cells: {} };
        rowOf.set(ks[i], row);
        const before = i > 0 ? rowOf.get(ks[i - 1]) : undefined;
        rows.splice(before ? rows.indexOf(before) + 1 : 0, 0, row);
      }
      row.cells[id] = cell(k);
    });
  }
  const differences: StepDifference[] = [];
  for (const m of configurations) {
    if (m.config.precision !== "mixed") continue;
    const twin = f32Twin(m, configurations);
    const ms = steps.get(m.id);
    const fs = twin ? steps.get(twin.id) : undefined;
    if (!twin || !ms || !fs) continue;
    const mKeys = keys(ms);
    const fKeys = keys(fs);
    const mk = new Set(mKeys);
    const fk = new Set(fKeys);
    const onlyF32 = fs.filter((_, i) => !mk.has(fKeys[i]));
    const onlyMixed = ms.filter((k, i) => !fk.has(mKeys[i]) && !MIXED_ONLY_BY_DESIGN.has(k.op));
    if (onlyF32.length || onlyMixed.length)
      differences.push({ mixed: m.id, f32: twin.id, onlyF32, onlyMixed });
  }
  return { rows, varied, differences };
}

/** The caveat for one difference: which parts each side alone ran. */
export function stepDifferenceCaveat(d: StepDifference): string {
  const list = (ks: KernelRecord[]) => ks.map((k) => `${k.op} (${k.role})`).join(", ");
  const parts = [
    d.onlyF32.length ? `only ${d.f32} ran ${list(d.onlyF32)}` : "",
    d.onlyMixed.length ? `only ${d.mixed} ran ${list(d.onlyMixed)}` : "",
  ].filter(Boolean);
  return `${d.mixed} and its f32 twin ${d.f32} did not run the same training step: ${parts.join("; ")}. Their energy difference is partly the implementation's, not the precision's alone (step kernels under Configurations).`;
}
