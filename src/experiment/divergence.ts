// When a training run has diverged (its weights ran away: a learning rate far too high, a loss
// scale gone wrong), so that its energy is not compared with the others' as if it had trained.
//
// The rule, checked after each epoch (and on each running loss the trainer reads back, to stop a
// run mid-epoch once it is NaN): the run diverged when
//   - its training loss is not finite (NaN or ±Infinity: a weight or logit overflowed), or
//   - an epoch's mean training loss is more than DIVERGENCE_FACTOR times the first epoch's.
// Why that factor: a softmax classifier's cross-entropy starts near ln(classes) and its training
// loss falls from there; the first epoch's mean already lies at or below that start, so a later
// epoch an order of magnitude above it is no noisy epoch but a run moving away from any fit. A
// sane run's epoch means do not rise tenfold (that would be a 2.3-nat rise at ln 10). What it
// cannot see: a run whose first epoch is already wild but finite (there is no earlier reference).
import type { EpochResult } from "../model/trainer.js";

/** An epoch's mean training loss above this multiple of the first epoch's marks a diverged run. */
export const DIVERGENCE_FACTOR = 10;

/** The stated rule, for the report's caveat and the docs. */
export const DIVERGENCE_RULE = `a non-finite training loss, or an epoch's mean training loss more than ${DIVERGENCE_FACTOR}× the first epoch's`;

/** Why a running (partial-epoch) training loss means divergence, or null. */
export function runningLossDivergence(epoch: number, loss: number): string | null {
  return Number.isFinite(loss) ? null : `epoch ${epoch}: training loss ${loss} (not finite)`;
}

/**
 * Why the run with these epochs (in order, 1-based) diverged at its last one, or null when it has
 * not. Checked after every epoch, so the first epoch that breaks the rule is the one named.
 */
export function divergence(epochs: readonly Pick<EpochResult, "epoch" | "train">[]): string | null {
  const last = epochs.at(-1);
  if (!last) return null;
  const loss = last.train.loss;
  // An epoch with no training sample has NaN loss by definition (no step ran): not a divergence.
  if (last.train.samples === 0) return null;
  if (!Number.isFinite(loss)) return `epoch ${last.epoch}: training loss ${loss} (not finite)`;
  const first = epochs[0].train.loss;
  if (epochs.length > 1 && Number.isFinite(first) && loss > DIVERGENCE_FACTOR * first)
    return `epoch ${last.epoch}: training loss ${loss.toPrecision(4)} is more than ${DIVERGENCE_FACTOR}× epoch ${epochs[0].epoch}'s (${first.toPrecision(4)})`;
  return null;
}
