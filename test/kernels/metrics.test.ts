import { describe, expect, it } from "vitest";
import { metrics } from "../../src/kernels/metrics.js";
import { spareBuffer } from "../../src/kernels/opcheck.js";
import { metricsRef } from "../../src/kernels/reference/metrics.js";
import { destroyTensor, readBytes, tensorFrom } from "../../src/kernels/tensor.js";
import { STATE, STATE_WORDS } from "../../src/kernels/train-state.js";
import { useGpu } from "../helpers/gpu.js";
import { normal, uniform } from "../helpers/rng.js";
import { quantize, U } from "./reference.js";

// Expectations: src/kernels/reference/metrics.ts (float64, from the documented rule) on the
// kernel's actual inputs (logits quantized to their dtype). Counts exactly; the loss sum within
// batch·u·Σ|loss| (an f32 sum in any order) of the exact sum, added to the running sum's old
// value. The running sums and the state start at arbitrary non-zero words (not zeros), and the
// kernel's row-code scratch is poisoned with all bits set (which would count every row as
// correct and non-finite) before each call. Batches not a multiple of either workgroup size
// (64 threads a row, 256 in the sum); rows with NaN / ±inf logits; ties with the label's logit.
const env = useGpu("metrics");

const CURSOR_SLOT = 1;

describe("metrics", () => {
  const CASES: [number, number][] = [
    [1, 3],
    [257, 10],
    [1000, 525],
    [300, 7],
  ];
  for (const dtype of ["f32", "f16"] as const)
    for (const [batch, classes] of CASES)
      it(`${dtype} logits [${batch}×${classes}]`, async () => {
        const { ctx, rng, seed } = env;
        // Few distinct values, so ties with the label's logit are common.
        const raw = Array.from(normal(rng, batch * classes), (z) => Math.round(z * 4) / 4);
        const labels = Array.from(uniform(rng, batch, 0, classes), (u) =>
          Math.min(classes - 1, Math.floor(u)),
        );
        // The label's logit raised in some rows, so that top-1 and top-5 both count.
        for (let r = 0; r < batch; r += 3) raw[r * classes + labels[r]] += 1.5;
        for (let r = 5; r < batch; r += 97) raw[r * classes + ((r * 7) % classes)] = Number.NaN;
        for (let r = 11; r < batch; r += 131) raw[r * classes + ((r * 3) % classes)] = -Infinity;
        for (let r = 13; r < batch; r += 151) raw[r * classes + labels[r]] = Infinity;
        const logits = quantize(raw, dtype);
        const rowLoss = quantize(uniform(rng, batch, 0, 7), "f32");
        const sums0 = Uint32Array.of(new Uint32Array(Float32Array.of(12.5).buffer)[0], 17, 40, 1000, 3);
        const t = {
          logits: await tensorFrom(ctx, dtype, [batch, classes], logits, "logits"),
          labels: await tensorFrom(ctx, "u32", [batch], labels, "labels"),
          rowLoss: await tensorFrom(ctx, "f32", [batch], rowLoss, "rowLoss"),
          sums: await tensorFrom(ctx, "u32", [5], sums0, "sums"),
        };
        const state0 = Uint32Array.from({ length: STATE_WORDS }, (_, i) => 0x1000 + 37 * i);
        const state = ctx.device.createBuffer({
          size: STATE_WORDS * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        ctx.device.queue.writeBuffer(state, 0, state0);
        const codes = spareBuffer(ctx, "metrics.codes", 4 * batch);
        ctx.device.queue.writeBuffer(codes, 0, new Uint32Array(codes.size / 4).fill(0xffffffff));

        await metrics(ctx, { ...t, state, slot: CURSOR_SLOT });

        const ref = metricsRef(logits, labels, rowLoss, batch, classes);
        const got = new Uint32Array(await readBytes(ctx, t.sums.buffer, 20));
        const what = `metrics ${dtype} [${batch}×${classes}] (seed ${seed})`;
        expect(
          [got[1] - 17, got[2] - 40, got[3] - 1000, got[4] - 3],
          `${what}: top-1, top-5, samples, bad`,
        ).toEqual([ref.top1, ref.top5, batch, ref.nonFinite]);
        if (batch > 13) expect(ref.nonFinite, "the case has non-finite rows").toBeGreaterThan(0);
        if (batch > 3) expect(ref.top5, "the case has top-5-only rows").toBeGreaterThan(ref.top1);
        const loss = new Float32Array(got.buffer, 0, 1)[0];
        const bound = (batch + 1) * U * (ref.lossAbs + 12.5);
        expect(Math.abs(loss - (12.5 + ref.loss)), `${what}: loss sum`).toBeLessThanOrEqual(bound);
        const st = new Uint32Array(await readBytes(ctx, state, STATE_WORDS * 4));
        const want = Uint32Array.from(state0);
        want[STATE.cursor + CURSOR_SLOT] += batch;
        expect(Array.from(st), `${what}: state (only the slot's cursor advances)`).toEqual(Array.from(want));
        destroyTensor(t.logits, t.labels, t.rowLoss, t.sums);
        state.destroy();
      });
});
