// A model past the adapter's binding limit fails before allocation, in the user's terms: which
// layer, how large, what to change (image size, width, batch). Expectations computed by hand
// from the shapes (bytes = elements × 4 for f32 parameters), not from the code.
import { describe, expect, it } from "vitest";
import { modelFitReason } from "../../src/model/fits.js";
import { GpuMlp } from "../../src/model/mlp.js";
import { optimizerConfig } from "../../src/model/optimizer.js";
import { precisionPolicy } from "../../src/model/policy.js";
import { useGpu } from "../helpers/gpu.js";

const MiB128 = 128 * 1024 * 1024; // lavapipe's maxStorageBufferBindingSize

describe("modelFitReason", () => {
  it("names the dissertation's first layer on a 128 MiB adapter, with the largest side and width that fit", () => {
    const why = modelFitReason(
      MiB128,
      { inputs: 150528, hidden: [1024], classes: 525 },
      "f32",
      32,
      "llvmpipe",
    );
    // 150528 × 1024 × 4 = 616,562,688 bytes; 134217728 / (1024·4) = 32768 inputs → side ⌊√(32768/3)⌋ = 104;
    // 134217728 / (150528·4) = 222 neurons.
    expect(why).toContain("layer 1's weight (150528 × 1024 f32) is 616.6 MB");
    expect(why).toContain("134.2 MB (llvmpipe)");
    expect(why).toContain("a side of at most 104 pixels");
    expect(why).toContain("a hidden width of at most 222 (now 1024)");
  });

  it("the CPU suite's model fits; a batch too large for the input buffer is named with the largest that fits", () => {
    expect(modelFitReason(MiB128, { inputs: 2352, hidden: [256], classes: 10 }, "f32", 32, "x")).toBeNull();
    // 2352 × 4 bytes a row: ⌊134217728 / 9408⌋ = 14266 rows.
    const why = modelFitReason(MiB128, { inputs: 2352, hidden: [256], classes: 10 }, "f32", 20000, "x");
    expect(why).toContain("the input batch (batch 20000 × 2352 f32)");
    expect(why).toContain("a batch of at most 14266");
    // f16 activations take half: 28532 rows fit.
    expect(
      modelFitReason(MiB128, { inputs: 2352, hidden: [256], classes: 10 }, "f16", 20000, "x"),
    ).toBeNull();
  });

  it("a second layer too wide names the classes", () => {
    const why = modelFitReason(1_000_000, { inputs: 10, hidden: [1000], classes: 300 }, "f32", 1, "x");
    // 1000 × 300 × 4 = 1.2 MB > 1 MB; ⌊1e6 / 4000⌋ = 250 classes.
    expect(why).toContain("layer 2's weight (1000 × 300 f32) is 1.2 MB");
    expect(why).toContain("at most 250 classes");
  });
});

const env = useGpu("fits.test");
describe("GpuMlp.create on this adapter", () => {
  it("refuses a model past the binding limit with the layer and the fix, before allocating", async (t) => {
    const { ctx } = env;
    const limit = Math.min(ctx.device.limits.maxBufferSize, ctx.device.limits.maxStorageBufferBindingSize);
    const inputs = 150528;
    const hidden = Math.ceil(limit / (inputs * 4)) + 1; // just past the limit on any adapter
    if (hidden * inputs * 4 > 2 ** 40) t.skip();
    await expect(
      GpuMlp.create(
        ctx,
        { inputs, hidden: [hidden], classes: 10 },
        precisionPolicy("f32"),
        optimizerConfig({ name: "adam" }),
        2,
      ),
    ).rejects.toThrow(
      /layer 1's weight \(150528 × \d+ f32\).*past this adapter's binding limit.*smaller images/,
    );
  });
});
