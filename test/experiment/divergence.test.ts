// The divergence rule (src/experiment/divergence.ts) on hand-made epoch losses: a non-finite loss
// (NaN, +Infinity, −Infinity), the 10× bound on either side of its edge, an epoch with no sample.
import { describe, expect, it } from "vitest";
import { divergence, runningLossDivergence } from "../../src/experiment/divergence.js";

const epochs = (...losses: number[]) =>
  losses.map((loss, i) => ({
    epoch: i + 1,
    train: { loss, accuracy: 0, top5: 0, samples: 96, nonFiniteRows: 0 },
  }));

describe("divergence rule", () => {
  it("a non-finite training loss, in any epoch, the first included", () => {
    expect(divergence(epochs(Number.NaN))).toMatch(/^epoch 1: training loss NaN \(not finite\)$/);
    expect(divergence(epochs(1.4, Number.POSITIVE_INFINITY))).toMatch(/^epoch 2: .*Infinity/);
    expect(divergence(epochs(1.4, 1.2, Number.NEGATIVE_INFINITY))).toMatch(/^epoch 3: .*-Infinity/);
    expect(runningLossDivergence(2, Number.NaN)).toMatch(/^epoch 2: training loss NaN/);
    expect(runningLossDivergence(2, 1e30)).toBeNull();
  });

  it("more than 10× the first epoch's loss diverged; exactly 10× or a noisy rise did not", () => {
    // First epoch 1.5: the bound is 15.
    expect(divergence(epochs(1.5, 15))).toBeNull();
    expect(divergence(epochs(1.5, 15.001))).toMatch(
      /^epoch 2: training loss 15\.00 is more than 10× epoch 1's \(1\.500\)$/,
    );
    expect(divergence(epochs(1.5, 0.9, 2.9))).toBeNull();
    expect(divergence(epochs(1.5, 0.9, 40))).toMatch(/^epoch 3: /);
    // A first epoch that is itself huge but finite has no earlier reference: not flagged (stated limit).
    expect(divergence(epochs(1e6))).toBeNull();
  });

  it("no epoch, or an epoch without a training sample (NaN by definition), is not a divergence", () => {
    expect(divergence([])).toBeNull();
    expect(
      divergence([
        {
          epoch: 1,
          train: { loss: Number.NaN, accuracy: Number.NaN, top5: Number.NaN, samples: 0, nonFiniteRows: 0 },
        },
      ]),
    ).toBeNull();
  });
});
