// Float64 reference for the metrics kernel (shaders/metrics_rows.wgsl + metrics.wgsl), written
// from its documented rule, not from the shaders: a row is top-k correct when fewer than k
// classes have a logit strictly greater than the label's (ties count for the sample), and a row
// with any NaN or ±inf logit is never correct and counts as non-finite.

export interface MetricsRef {
  /** Σ row losses, exact. */
  loss: number;
  /** Σ |row loss|: with batch·u, the bound on an f32 sum in any order. */
  lossAbs: number;
  top1: number;
  top5: number;
  nonFinite: number;
}

/** logits [batch, classes] row-major, labels [batch] (each < classes), rowLoss [batch]. */
export function metricsRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  rowLoss: ArrayLike<number>,
  batch: number,
  classes: number,
): MetricsRef {
  const out: MetricsRef = { loss: 0, lossAbs: 0, top1: 0, top5: 0, nonFinite: 0 };
  for (let r = 0; r < batch; r++) {
    out.loss += rowLoss[r];
    out.lossAbs += Math.abs(rowLoss[r]);
    const row = Array.from({ length: classes }, (_, j) => logits[r * classes + j]);
    if (!row.every(Number.isFinite)) {
      out.nonFinite++;
      continue;
    }
    const target = row[labels[r]];
    const greater = row.filter((z) => z > target).length;
    if (greater < 1) out.top1++;
    if (greater < 5) out.top5++;
  }
  return out;
}
