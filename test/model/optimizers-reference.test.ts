// The float64 optimizer reference (src/model/reference/optimizers.ts) checked two ways that do
// not go through its code: steps worked by hand below (dyadic inputs, so most results are exact
// in binary and compared with toBe), and PyTorch's own torch.optim on CPU in float64
// (test/fixtures/torch-optim.json, written by bench/peers/torch_optim_fixture.py on a machine
// with PyTorch).
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  adamStepRef,
  anyNonFinite,
  OptimizerReferenceError,
  sgdStepRef,
} from "../../src/model/reference/optimizers.js";

const f64 = (...xs: number[]) => Float64Array.from(xs);

describe("sgdStepRef, worked by hand", () => {
  // w = [1, −2], raw gradient [2, 1] carrying lossScale 4, lr ½, μ ½, λ ¼, buffer from 0.
  // Step 1: g = [2, 1]/4 + ¼·[1, −2] = [¾, −¼];  b = ½·0 + g = [¾, −¼].
  const opts = { lr: 0.5, momentum: 0.5, weightDecay: 0.25, lossScale: 4 };
  it("momentum: w ← w − lr·b", () => {
    const w = f64(1, -2);
    const v = f64(0, 0);
    expect(sgdStepRef(w, v, [2, 1], opts)).toBe(true);
    // w = [1 − ½·¾, −2 + ½·¼] = [0.625, −1.875]
    expect([...v]).toEqual([0.75, -0.25]);
    expect([...w]).toEqual([0.625, -1.875]);
    // Step 2: g = [½ + ¼·0.625, ¼ − ¼·1.875] = [0.65625, −0.21875];
    // b = ½·[¾, −¼] + g = [1.03125, −0.34375]; w = [0.625 − 0.515625, −1.875 + 0.171875].
    sgdStepRef(w, v, [2, 1], opts);
    expect([...v]).toEqual([1.03125, -0.34375]);
    expect([...w]).toEqual([0.109375, -1.703125]);
  });

  it("Nesterov: w ← w − lr·(g + μ·b)", () => {
    const w = f64(1, -2);
    const v = f64(0, 0);
    const o = { ...opts, nesterov: true };
    // Step 1: b = [¾, −¼]; d = g + ½·b = [1.125, −0.375]; w = [1 − 0.5625, −2 + 0.1875].
    sgdStepRef(w, v, [2, 1], o);
    expect([...v]).toEqual([0.75, -0.25]);
    expect([...w]).toEqual([0.4375, -1.8125]);
    // Step 2: g = [½ + ¼·0.4375, ¼ − ¼·1.8125] = [0.609375, −0.203125];
    // b = [0.375 + 0.609375, −0.125 − 0.203125] = [0.984375, −0.328125];
    // d = g + ½·b = [1.1015625, −0.3671875]; w = [0.4375 − 0.55078125, −1.8125 + 0.18359375].
    sgdStepRef(w, v, [2, 1], o);
    expect([...v]).toEqual([0.984375, -0.328125]);
    expect([...w]).toEqual([-0.11328125, -1.62890625]);
  });

  it("plain SGD (μ = 0, λ = 0): w ← w − lr·g/lossScale", () => {
    const w = f64(1, -2, 0);
    const v = f64(0, 0, 0);
    sgdStepRef(w, v, [2, -4, 8], { lr: 0.25, lossScale: 2 });
    expect([...w]).toEqual([0.75, -1.5, -1]);
  });

  it("skip: nothing changes and it says so", () => {
    const w = f64(1, -2);
    const v = f64(0.5, 0.5);
    expect(sgdStepRef(w, v, [Number.NaN, 1], { ...opts, skip: true })).toBe(false);
    expect([...w]).toEqual([1, -2]);
    expect([...v]).toEqual([0.5, 0.5]);
  });

  it("rejects mismatched lengths and bad hyper-parameters by name", () => {
    const w = f64(1, 2);
    expect(() => sgdStepRef(w, f64(0), [1, 1], { lr: 0.1 })).toThrow(
      /sgdStepRef: v has 1 elements but w has 2/,
    );
    expect(() => sgdStepRef(w, f64(0, 0), [1], { lr: 0.1 })).toThrow(/g has 1/);
    expect(() => sgdStepRef(w, f64(0, 0), [1, 1], { lr: -1 })).toThrow(/lr = -1/);
    expect(() => sgdStepRef(w, f64(0, 0), [1, 1], { lr: 0.1, lossScale: 0 })).toThrow(/lossScale/);
    expect(() => sgdStepRef(w, f64(0, 0), [1, 1], { lr: 0.1, nesterov: true })).toThrow(
      OptimizerReferenceError,
    );
  });
});

describe("adamStepRef, worked by hand", () => {
  // β1 = ½, β2 = ¾, lr = ⅛, ε = 0 unless stated; gradients carry lossScale 2.
  const base = { lr: 0.125, beta1: 0.5, beta2: 0.75, eps: 0, lossScale: 2 };

  it("two Adam steps", () => {
    const w = f64(1, -2);
    const m = f64(0, 0);
    const v = f64(0, 0);
    // Step 1, g = [1, −½]/2 = [½, −¼]: m = ½g = [¼, −⅛]; v = ¼g² = [1/16, 1/64];
    // m̂ = m/(1 − ½) = [½, −¼]; v̂ = v/(1 − ¾) = [¼, 1/16]; √v̂ = [½, ¼];
    // w −= ⅛·m̂/√v̂ = ⅛·[1, −1]  →  [0.875, −1.875]. (Step 1 always moves lr·sign(g) when ε = 0.)
    expect(adamStepRef(w, m, v, [1, -0.5], { ...base, step: 1 })).toBe(true);
    expect([...m]).toEqual([0.25, -0.125]);
    expect([...v]).toEqual([0.0625, 0.015625]);
    expect([...w]).toEqual([0.875, -1.875]);
    // Step 2, g = [½, 1]/2 = [¼, ½]: m = ½m + ½g = [¼, 3/16]; v = ¾v + ¼g² = [1/16, 19/256];
    // m̂ = m/(1 − ¼) = [⅓, ¼]; v̂ = v/(1 − 9/16) = [1/7, 19/112];
    // w₀ = 0.875 − ⅛·(⅓)/√(1/7) = 0.875 − √7/24;  w₁ = −1.875 − ⅛·¼/√(19/112) = −1.875 − √(112/19)/32.
    adamStepRef(w, m, v, [0.5, 1], { ...base, step: 2 });
    expect([...m]).toEqual([0.25, 0.1875]);
    expect([...v]).toEqual([0.0625, 19 / 256]);
    expect(w[0]).toBeCloseTo(0.875 - Math.sqrt(7) / 24, 14);
    expect(w[1]).toBeCloseTo(-1.875 - Math.sqrt(112 / 19) / 32, 14);
  });

  it("ε is added to √v̂ after the bias correction", () => {
    // Step 1 with ε = ½. Element 0, g = ½: m̂ = ½, √v̂ = ½, w −= ⅛·½/(½ + ½) = 1/16.
    // Element 1, g = 2: m̂ = 2, √v̂ = 2, w −= ⅛·2/(2 + ½) = 0.1. (ε inside the sqrt, or on the
    // uncorrected √v = √v̂/2, would give other values for both.)
    const w = f64(1, 1);
    adamStepRef(w, f64(0, 0), f64(0, 0), [1, 4], { ...base, eps: 0.5, step: 1 });
    expect(w[0]).toBe(1 - 1 / 16);
    expect(w[1]).toBeCloseTo(1 - 0.1, 15);
  });

  it("Adam's L2 decay goes into the gradient; AdamW's multiplies w by 1 − lr·λ first", () => {
    // w = 2, g = −½ (raw −1), λ = ½, one step.
    // Adam + L2: g' = −½ + ½·2 = ½ > 0, so w = 2 − ⅛ = 1.875.
    const wL2 = f64(2);
    adamStepRef(wL2, f64(0), f64(0), [-1], { ...base, weightDecay: 0.5, step: 1 });
    expect(wL2[0]).toBe(1.875);
    // AdamW: w = 2·(1 − ⅛·½) = 1.875, then the step on g = −½ adds ⅛: 2.0.
    // (1 − λ instead of 1 − lr·λ would give 2·½ + ⅛ = 1.125.)
    const wW = f64(2);
    const m = f64(0);
    adamStepRef(wW, m, f64(0), [-1], { ...base, weightDecay: 0.5, decoupled: true, step: 1 });
    expect(wW[0]).toBe(2);
    expect(m[0]).toBe(-0.25); // the moment saw the raw gradient only
  });

  it("skip: nothing changes and it says so", () => {
    const [w, m, v] = [f64(1), f64(0.5), f64(0.25)];
    expect(adamStepRef(w, m, v, [Number.POSITIVE_INFINITY], { ...base, step: 3, skip: true })).toBe(false);
    expect([w[0], m[0], v[0]]).toEqual([1, 0.5, 0.25]);
  });

  it("rejects bad inputs by name", () => {
    const a = () => f64(0, 0);
    expect(() => adamStepRef(a(), f64(0), a(), [1, 1], { step: 1, lr: 1 })).toThrow(
      /m has 1 elements but w has 2/,
    );
    expect(() => adamStepRef(a(), a(), a(), [1, 1], { step: 0, lr: 1 })).toThrow(/step = 0/);
    expect(() => adamStepRef(a(), a(), a(), [1, 1], { step: 1.5, lr: 1 })).toThrow(/step = 1.5/);
    expect(() => adamStepRef(a(), a(), a(), [1, 1], { step: 1, lr: 1, beta2: 1 })).toThrow(/beta2 = 1/);
    expect(() => adamStepRef(a(), a(), a(), [1, 1], { step: 1, lr: 1, eps: -1 })).toThrow(
      OptimizerReferenceError,
    );
  });
});

describe("anyNonFinite", () => {
  it("flags NaN and ±inf in any array, nothing else", () => {
    expect(anyNonFinite([1, 2], [3])).toBe(false);
    expect(anyNonFinite([1, 2], [Number.NaN])).toBe(true);
    expect(anyNonFinite([Number.NEGATIVE_INFINITY])).toBe(true);
    expect(anyNonFinite([1.7976931348623157e308, -0])).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Against torch.optim (float64, CPU). The fixture is generated by a committed script on a machine
// with PyTorch; until it is committed these cases skip with the command that makes it.

interface TorchStep {
  w: number[];
  momentumBuffer?: number[];
  expAvg?: number[];
  expAvgSq?: number[];
}
interface TorchCase {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW";
  options: {
    lr: number;
    momentum?: number;
    nesterov?: boolean;
    weight_decay?: number;
    betas?: [number, number];
    eps?: number;
  };
  steps: TorchStep[];
}
interface TorchFixture {
  torch: string;
  w0: number[];
  grads: number[][];
  cases: TorchCase[];
}

const FIXTURE = new URL("../fixtures/torch-optim.json", import.meta.url);
const fixture: TorchFixture | undefined = existsSync(FIXTURE)
  ? JSON.parse(readFileSync(FIXTURE, "utf8"))
  : undefined;

/** Float64 agreement up to a few ulps of reordering (PyTorch divides by √bc2 separately, etc.). */
function expectNear(got: ArrayLike<number>, want: number[], what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-14 * Math.max(1, Math.abs(want[i]));
    if (!(Math.abs(got[i] - want[i]) <= tol))
      expect.fail(`${what}[${i}]: reference ${got[i]}, torch ${want[i]} (tolerance ${tol})`);
  }
}

describe.skipIf(!fixture)(
  fixture
    ? `against torch.optim ${fixture.torch} (test/fixtures/torch-optim.json)`
    : "against torch.optim: SKIPPED, test/fixtures/torch-optim.json absent — make it with " +
        "`python3 bench/peers/torch_optim_fixture.py > test/fixtures/torch-optim.json` where PyTorch is installed",
  () => {
    const cases = fixture?.cases ?? [];
    it("covers SGD (momentum, Nesterov), Adam with L2 and AdamW", () => {
      const names = cases.map((c) => c.optimizer);
      for (const o of ["SGD", "Adam", "AdamW"]) expect(names).toContain(o);
      expect(cases.some((c) => c.options.nesterov)).toBe(true);
    });
    for (const c of cases)
      it(`${c.name}: every step's weights and state`, () => {
        const { w0, grads } = fixture!;
        const o = c.options;
        const w = Float64Array.from(w0);
        const a = new Float64Array(w0.length);
        const b = new Float64Array(w0.length);
        // Every other case runs with a loss scale of 2^10 on the gradient: exact in binary, so
        // the unscaled values must come out the same as PyTorch's.
        const lossScale = cases.indexOf(c) % 2 ? 1024 : 1;
        for (const [k, g0] of grads.entries()) {
          const g = g0.map((x) => x * lossScale);
          const step = c.steps[k];
          const what = `${c.name} step ${k + 1}`;
          if (c.optimizer === "SGD") {
            sgdStepRef(w, a, g, {
              lr: o.lr,
              momentum: o.momentum ?? 0,
              nesterov: o.nesterov ?? false,
              weightDecay: o.weight_decay ?? 0,
              lossScale,
            });
            if (step.momentumBuffer) expectNear(a, step.momentumBuffer, `${what} momentum buffer`);
          } else {
            const [beta1, beta2] = o.betas ?? [0.9, 0.999];
            adamStepRef(w, a, b, g, {
              step: k + 1,
              lr: o.lr,
              beta1,
              beta2,
              eps: o.eps ?? 1e-8,
              // AdamW's default λ is 0.01; the fixture always names it.
              weightDecay: o.weight_decay ?? 0,
              decoupled: c.optimizer === "AdamW",
              lossScale,
            });
            expectNear(a, step.expAvg!, `${what} exp_avg`);
            expectNear(b, step.expAvgSq!, `${what} exp_avg_sq`);
          }
          expectNear(w, step.w, `${what} w`);
        }
      });
  },
);

describe("the torch fixture", () => {
  it.runIf(!!process.env.CI && !fixture)("is committed (CI)", () => {
    expect.fail("test/fixtures/torch-optim.json is missing; see bench/peers/torch_optim_fixture.py");
  });
});
