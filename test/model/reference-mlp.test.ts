import { describe, expect, it } from "vitest";
import { ModelError } from "../../src/model/errors.js";
import {
  initTrainStateRef,
  type MlpParamsRef,
  mlpForward,
  mlpLossAndGrads,
  normalizeImagesRef,
  referenceTrainStep,
  softmaxXentRef,
  topkCorrect,
} from "../../src/model/reference/mlp.js";
import { makeRng, normal, runSeed } from "../helpers/rng.js";

// The reference is checked against what owes it nothing: central finite differences of its own
// forward pass (whose forward is itself checked on hand-worked cases), numbers worked by hand,
// and PyTorch's documented rules (ReLU'(0) = 0; Adam's first step moves each weight by lr·sign(g)).

const seed = runSeed();
const rng = makeRng(seed);
console.log(`reference-mlp: HALFWATT_SEED=${seed}`);

/** Seeded random parameters, N(0, 1/fan_in) like He-ish init, biases N(0, 0.1). */
function randomParams(sizes: number[]): MlpParamsRef {
  const weights: Float64Array[] = [];
  const biases: Float64Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    weights.push(normal(rng, sizes[l] * sizes[l + 1], 0, 1 / Math.sqrt(sizes[l])));
    biases.push(normal(rng, sizes[l + 1], 0, 0.1));
  }
  return { sizes, weights, biases };
}

/** Smallest |pre-activation| of the hidden layers (ReLU's kink is at 0). */
function minAbsPreActivation(p: MlpParamsRef, X: Float64Array, B: number): number {
  let min = Number.POSITIVE_INFINITY;
  let h: Float64Array = X;
  for (let l = 0; l + 2 < p.sizes.length; l++) {
    const [k, n] = [p.sizes[l], p.sizes[l + 1]];
    const z = new Float64Array(B * n);
    for (let r = 0; r < B; r++)
      for (let j = 0; j < n; j++) {
        let s = p.biases[l][j];
        for (let q = 0; q < k; q++) s += h[r * k + q] * p.weights[l][q * n + j];
        z[r * n + j] = s;
        min = Math.min(min, Math.abs(s));
      }
    h = z.map((v) => Math.max(v, 0));
  }
  return min;
}

function randomLabels(B: number, C: number): Uint32Array {
  return Uint32Array.from({ length: B }, () => Math.floor(rng() * C));
}

// Central differences with h = 1e-5 on an O(1) loss: truncation ≈ h²·|f'''|/6 ≈ 1e-11 and
// cancellation ≈ 2^-52·|f|/h ≈ 1e-11, so the analytic gradient must agree to
// |g − fd| ≤ 1e-7 + 1e-6·|fd| — loose by four orders of magnitude, yet a wrong factor (1/B, a
// missing batch row) is off by ≥ 1e-2. No perturbation may cross ReLU's kink: the inputs are
// redrawn (from the same seeded stream) until every hidden |Z| > 1e-3, far above h·max|input|.
const H = 1e-5;
const ABS = 1e-7;
const REL = 1e-6;

function checkGradients(sizes: number[], B: number, lossScale = 1): void {
  let p: MlpParamsRef;
  let X: Float64Array;
  do {
    p = randomParams(sizes);
    X = normal(rng, B * sizes[0]);
  } while (minAbsPreActivation(p, X, B) < 1e-3);
  const labels = randomLabels(B, sizes[sizes.length - 1]);
  const { grads } = mlpLossAndGrads(p, X, labels, B, lossScale);
  const lossAt = () => mlpLossAndGrads(p, X, labels, B).loss;
  const bad: string[] = [];
  let checked = 0;
  for (const kind of ["weights", "biases"] as const)
    for (let l = 0; l < p.weights.length; l++) {
      const t = p[kind][l];
      for (let i = 0; i < t.length; i++) {
        const keep = t[i];
        t[i] = keep + H;
        const up = lossAt();
        t[i] = keep - H;
        const down = lossAt();
        t[i] = keep;
        const fd = ((up - down) / (2 * H)) * lossScale;
        const g = grads[kind][l][i];
        if (!(Math.abs(g - fd) <= ABS * lossScale + REL * Math.abs(fd)))
          bad.push(`${kind}[${l}][${i}]: analytic ${g} vs central difference ${fd}`);
        checked++;
      }
    }
  expect(checked).toBe(sizes.slice(1).reduce((s, n, l) => s + (sizes[l] + 1) * n, 0));
  if (bad.length)
    expect.fail(`${bad.length}/${checked} gradients off (seed ${seed}): ${bad.slice(0, 5).join("; ")}`);
}

describe("reference MLP gradients vs central finite differences", () => {
  it("B=3, D=7, hidden [5, 4], C=6", () => checkGradients([7, 5, 4, 6], 3));
  it("B=1, D=2, hidden [3], C=2", () => checkGradients([2, 3, 2], 1));
  it("B=5, no hidden layer, D=9, C=4", () => checkGradients([9, 4], 5));
  it("B=4, D=6, hidden [7], C=5, lossScale 1024 scales every gradient", () =>
    checkGradients([6, 7, 5], 4, 1024));
});

describe("reference MLP by hand", () => {
  it("no hidden layer, identity weights: loss (ln 2 + ln 3)/2 and the gradient (softmax − onehot)/B", () => {
    // Logits = X: row 0 [0, ln 2, ln 3] (softmax 1/6, 2/6, 3/6), label 2; row 1 [0, 0, 0], label 0.
    const p: MlpParamsRef = {
      sizes: [3, 3],
      weights: [Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1)],
      biases: [new Float64Array(3)],
    };
    const X = Float64Array.of(0, Math.log(2), Math.log(3), 0, 0, 0);
    const { loss, rowLoss, grads, logits } = mlpLossAndGrads(p, X, [2, 0], 2);
    expect(Array.from(logits)).toEqual(Array.from(X));
    expect(rowLoss[0]).toBeCloseTo(Math.log(2), 14);
    expect(rowLoss[1]).toBeCloseTo(Math.log(3), 14);
    expect(loss).toBeCloseTo(Math.log(6) / 2, 14);
    // dZ row 0 = ([1, 2, 3]/6 − [0, 0, 1])/2 = [1/12, 1/6, −1/4]; row 1 = ([1, 1, 1]/3 − [1, 0, 0])/2.
    const db = [1 / 12 - 1 / 3, 1 / 6 + 1 / 6, -1 / 4 + 1 / 6];
    grads.biases[0].forEach((v, j) => {
      expect(v).toBeCloseTo(db[j], 14);
    });
    // dW = Xᵀ·dZ: only row 0 of X is non-zero.
    const dZ0 = [1 / 12, 1 / 6, -1 / 4];
    for (let q = 0; q < 3; q++)
      for (let j = 0; j < 3; j++) expect(grads.weights[0][q * 3 + j]).toBeCloseTo(X[q] * dZ0[j], 14);
  });

  it("one hidden layer with a unit exactly at 0: forward, and ReLU'(0) = 0 (relu_backward's Y > 0)", () => {
    // X = [1, 2]; W0 = [[1, −1], [1, −1]], b0 = [0, 3] → Z0 = [3, 0] → H0 = [3, 0];
    // W1 = [[1, 0], [0, 1]], b1 = 0 → logits [3, 0]; label 0: loss = ln(1 + e^-3).
    const p: MlpParamsRef = {
      sizes: [2, 2, 2],
      weights: [Float64Array.of(1, -1, 1, -1), Float64Array.of(1, 0, 0, 1)],
      biases: [Float64Array.of(0, 3), Float64Array.of(0, 0)],
    };
    const X = Float64Array.of(1, 2);
    const f = mlpForward(p, X, 1);
    expect(Array.from(f.hidden[0])).toEqual([3, 0]);
    expect(Array.from(f.logits)).toEqual([3, 0]);
    const { loss, grads } = mlpLossAndGrads(p, X, [0], 1);
    expect(loss).toBeCloseTo(Math.log1p(Math.exp(-3)), 14);
    const p0 = 1 / (1 + Math.exp(-3));
    const d = p0 - 1; // dlogits = [p0 − 1, 1 − p0]
    const close = (got: Float64Array, want: number[]) =>
      want.forEach((w, i) => {
        expect(got[i]).toBeCloseTo(w, 14);
      });
    close(grads.biases[1], [d, -d]);
    close(grads.weights[1], [3 * d, -3 * d, 0, 0]); // H0ᵀ·dlogits
    // dH0 = dlogits·W1ᵀ = [d, −d]; the unit at Z = 0 passes nothing back.
    close(grads.biases[0], [d, 0]);
    close(grads.weights[0], [d, 0, 2 * d, 0]);
  });

  it("stable at large logits: [1000, 1000] gives ln 2, [−1000, 0] gives 1000", () => {
    expect(softmaxXentRef([1000, 1000], [0], 1, 2).loss).toBeCloseTo(Math.log(2), 14);
    const r = softmaxXentRef([-1000, 0, 1000, 1000], [0, 1], 2, 2);
    expect(r.rowLoss[0]).toBeCloseTo(1000, 10);
    expect(r.rowLoss[1]).toBeCloseTo(Math.log(2), 14);
    expect(Array.from(r.dLogits)).toEqual([-0.5, 0.5, 0.25, -0.25]);
  });

  it("normalizeImagesRef: channel = index % 3", () => {
    const img = Uint8Array.of(0, 255, 51, 255, 0, 102);
    const out = normalizeImagesRef(img, [0.5, 0, 0.2], [0.5, 2, 0.1]);
    const want = [-1, 0.5, 0, 1, 0, 2];
    want.forEach((w, i) => {
      expect(out[i]).toBeCloseTo(w, 14);
    });
    expect(() => normalizeImagesRef(Uint8Array.of(1, 2), [0, 0, 0], [1, 1, 1])).toThrow(/multiple of 3/);
    expect(() => normalizeImagesRef(img, [0, 0, 0], [1, 0, 1])).toThrow(/channel 1/);
  });
});

describe("topkCorrect", () => {
  it("ties count for the label; k is a strict-greater count", () => {
    // C = 4. Row 0: label logit tied with one other at the top → top-1 correct.
    // Row 1: two logits strictly above the label → correct only from k = 3.
    // Row 2: label is the unique max.
    const logits = [5, 5, 1, 0, 3, 2, 1, 1, 0, 9, -1, -2];
    const labels = [1, 2, 1];
    expect(topkCorrect(logits, labels, 3, 4, 1)).toBe(2);
    expect(topkCorrect(logits, labels, 3, 4, 2)).toBe(2);
    expect(topkCorrect(logits, labels, 3, 4, 3)).toBe(3);
    expect(topkCorrect(logits, labels, 3, 4, 5)).toBe(3);
  });

  it("a row with any NaN is incorrect, even at k = C; ±inf are ordinary values", () => {
    const logits = [
      Number.NaN,
      0,
      0,
      1,
      Number.NaN,
      0,
      Number.POSITIVE_INFINITY,
      0,
      0,
      2,
      1,
      Number.NEGATIVE_INFINITY,
    ];
    const labels = [1, 1, 0, 0];
    expect(topkCorrect(logits, labels, 4, 3, 3)).toBe(2);
    expect(topkCorrect(logits, labels, 4, 3, 1)).toBe(2);
    expect(topkCorrect([0, 0, 0], [0], 1, 3, 1)).toBe(1); // all tied
  });

  it("rejects bad shapes, k and labels", () => {
    expect(() => topkCorrect([1, 2, 3], [0], 1, 2, 1)).toThrow(/want \[1, 2\]/);
    expect(() => topkCorrect([1, 2], [2], 1, 2, 1)).toThrow(/row 0 is 2/);
    expect(() => topkCorrect([1, 2], [0], 1, 2, 0)).toThrow(ModelError);
  });
});

describe("referenceTrainStep", () => {
  function setup(sizes: number[], B: number) {
    const p = randomParams(sizes);
    const X = normal(rng, B * sizes[0]);
    const labels = randomLabels(B, sizes[sizes.length - 1]);
    const before = [...p.weights, ...p.biases].map((t) => Float64Array.from(t));
    return { p, X, labels, before };
  }

  it("SGD without momentum: w ← w − lr·∇loss; lossScale changes nothing", () => {
    for (const lossScale of [1, 4096]) {
      const { p, X, labels, before } = setup([5, 4, 3], 3);
      const { grads, loss } = mlpLossAndGrads(p, X, labels, 3);
      const state = initTrainStateRef(p);
      const r = referenceTrainStep(p, state, X, labels, 3, { kind: "sgd", options: { lr: 0.1 } }, lossScale);
      expect(r.stepped).toBe(true);
      expect(r.loss).toBe(loss);
      const after = [...p.weights, ...p.biases];
      const g = [...grads.weights, ...grads.biases];
      after.forEach((t, k) => {
        t.forEach((v, i) => {
          expect(v).toBeCloseTo(before[k][i] - 0.1 * g[k][i], 13);
        });
      });
    }
  });

  it("Adam's first step moves every weight by lr·sign(g) (m̂ = g, v̂ = g²), and counts the step", () => {
    const { p, X, labels, before } = setup([6, 5, 4], 4);
    const { grads } = mlpLossAndGrads(p, X, labels, 4);
    const state = initTrainStateRef(p);
    referenceTrainStep(p, state, X, labels, 4, { kind: "adam", options: { lr: 1e-3 } }, 256);
    expect(state.step).toBe(1);
    const after = [...p.weights, ...p.biases];
    const g = [...grads.weights, ...grads.biases];
    after.forEach((t, k) => {
      t.forEach((v, i) => {
        // |Δw| = lr·|g|/(|g| + 1e-8): within lr·1e-8/|g| of lr (plus f64 rounding of w).
        const want = before[k][i] - 1e-3 * Math.sign(g[k][i]);
        expect(Math.abs(v - want)).toBeLessThanOrEqual((1e-3 * 1e-8) / Math.abs(g[k][i]) + 1e-15);
      });
    });
    // Second step uses t = 2 and the moments of the first.
    referenceTrainStep(p, state, X, labels, 4, { kind: "adam", options: { lr: 1e-3 } });
    expect(state.step).toBe(2);
  });

  it("a non-finite gradient skips the whole step: no weight, moment or step count changes", () => {
    const { p, X, labels, before } = setup([4, 3, 2], 2);
    const state = initTrainStateRef(p);
    referenceTrainStep(p, state, X, labels, 2, { kind: "adam", options: { lr: 1e-3 } });
    const snap = [...p.weights, ...p.biases, ...state.m, ...state.v].map((t) => Float64Array.from(t));
    expect(before.some((t, k) => t.some((v, i) => v !== [...p.weights, ...p.biases][k][i]))).toBe(true);
    X[0] = Number.POSITIVE_INFINITY;
    const r = referenceTrainStep(p, state, X, labels, 2, { kind: "adam", options: { lr: 1e-3 } });
    expect(r.stepped).toBe(false);
    expect(state.step).toBe(1);
    [...p.weights, ...p.biases, ...state.m, ...state.v].forEach((t, k) => {
      expect(Array.from(t)).toEqual(Array.from(snap[k]));
    });
  });
});

describe("reference MLP input checks", () => {
  const p = randomParams([3, 2, 2]);
  it("names the shape that is wrong", () => {
    expect(() => mlpForward(p, new Float64Array(5), 2)).toThrow(/X has 5 values, want \[2, 3\]/);
    expect(() =>
      mlpForward({ ...p, biases: [p.biases[0], new Float64Array(3)] }, new Float64Array(3), 1),
    ).toThrow(/biases\[1\] has 3 values, want \[2\]/);
    expect(() => mlpForward({ ...p, sizes: [3] }, new Float64Array(3), 1)).toThrow(ModelError);
    expect(() => mlpForward(p, new Float64Array(5), 2)).toThrow(
      expect.objectContaining({ code: "E_INPUT", reason: "bad-shape" }),
    );
    expect(() => mlpLossAndGrads(p, new Float64Array(6), [0, 2], 2)).toThrow(/label of row 1 is 2/);
    expect(() => mlpLossAndGrads(p, new Float64Array(6), [0], 2)).toThrow(/1 labels for a batch of 2/);
  });
});
