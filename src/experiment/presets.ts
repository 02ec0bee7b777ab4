// The built-in suites, written in the suite file's own shape and validated like a file
// (spec.ts), so a preset can never hold what a file could not.

export interface Preset {
  description: string;
  /** Set when the preset has no dataset of its own: the message asking for --data. */
  needsData?: string;
  spec: Record<string, unknown>;
}

/**
 * The dissertation's Tables 1–2 (the benchmark and its three mixed-precision experiments) and,
 * not in the dissertation, the f32 twins of its batch-256 experiments, so that every mixed
 * configuration has an f32 one of the same batch and width (the accuracy equivalence test, and a
 * precision effect not confounded with the batch's). Shared by the `dissertation` and `fashion`
 * presets; a fresh copy each, since a preset's spec is validated (and may be edited) as a file.
 */
const dissertationConfigurations = () => [
  { precision: "f32", batch: 32, neurons: [1024] }, // Table 1, benchmarking
  { precision: "mixed", batch: 32, neurons: [1024] }, // Table 2, 1st experiment
  { precision: "mixed", batch: 256, neurons: [1024] }, // Table 2, 2nd experiment
  { precision: "mixed", batch: 256, neurons: [2048] }, // Table 2, 3rd experiment
  { precision: "f32", batch: 256, neurons: [1024] },
  { precision: "f32", batch: 256, neurons: [2048] },
];

/**
 * The dissertation's Tables 1–2: the benchmark (f32, batch 32, 1024 neurons) and its three mixed
 * precision experiments, 25 epochs each on 224×224 RGB images (the 525-species birds set), plus
 * the f32 twins of the batch-256 experiments.
 */
const dissertation: Preset = {
  description:
    "the dissertation's four configurations (Tables 1–2) and the f32 twins at batch 256, 25 epochs, 224×224, on your --data folder",
  needsData:
    "the dissertation preset has no dataset of its own: pass --data DIR (your image folder, e.g. the 525-species birds set; or synthetic:classes=525,size=224,…)",
  spec: {
    name: "dissertation",
    // The dissertation's images are 224×224 ("Each image has a width and height of 224 X 224").
    imageSize: 224,
    // One wattmeter reading per configuration was the dissertation's sample; 5 is the default.
    replicates: 5,
    seed: 1,
    // Tables 1–2: "Epochs 25" in every column.
    epochs: 25,
    // The text names Keras but never the optimizer's settings; Adam at Keras' default learning
    // rate (0.001, also PyTorch's) is the assumption, recorded in every run's configuration.
    optimizer: { name: "adam", lr: 0.001 },
    configurations: dissertationConfigurations(),
    // null: the runner's default, 30 s on a GPU (long enough for the idle draw to settle).
    baselineSeconds: null,
    cooldown: { withinCelsius: 3, maxSeconds: 120 },
    // Table 3, step 3: 268 gCO2e/kWh, Electricity Maps' GB zone on the day of the tests [27].
    carbon: { intensity: 268, pue: 1.0 },
    telemetry: { hz: 10 },
  },
};

/**
 * The same six configurations shrunk to finish within minutes on 2 CPU cores with lavapipe,
 * baselines included: 3 replicates × 6 configurations = 18 runs, so each run must stay ≲ 15 s
 * with its data load, 2 s baseline and evaluation.
 */
const quick: Preset = {
  description:
    "the dissertation's four configurations and the f32 twins at batch 256, shrunk: synthetic 16×16 images, 3 epochs, 3 replicates (≈ minutes on a CPU)",
  spec: {
    name: "quick",
    // 10 classes of 16×16 shapes: 768 inputs per image (vs 150528 at 224×224); 600 training images
    // give 19 steps an epoch at batch 32 and 3 at batch 256, enough for the loss to move.
    data: "synthetic:classes=10,size=16,train=600,valid=100,test=100",
    // Three replicates: the fewest with which a standard deviation and a t-test mean anything.
    replicates: 3,
    seed: 1,
    // Three epochs: training curves with a shape, at a fraction of the 25 epochs' time.
    epochs: 3,
    optimizer: { name: "adam", lr: 0.001 },
    // The dissertation's batches 32/256 kept (the effect under study); widths 1024/2048 scaled to
    // 64/128, keeping the 1:2 ratio of its 3rd experiment.
    configurations: [
      { precision: "f32", batch: 32, neurons: [64] },
      { precision: "mixed", batch: 32, neurons: [64] },
      { precision: "mixed", batch: 256, neurons: [64] },
      { precision: "mixed", batch: 256, neurons: [128] },
      // The f32 twins of the batch-256 rows (as in the dissertation preset): 3 steps an epoch, so
      // they add well under a minute to the suite on lavapipe.
      { precision: "f32", batch: 256, neurons: [64] },
      { precision: "f32", batch: 256, neurons: [128] },
    ],
    // 2 s: enough samples at 10 Hz for an idle mean on a CPU adapter, 36 s over the 18 runs.
    baselineSeconds: 2,
    // maxSeconds 0 disables the cooldown: a CPU adapter has no GPU temperature to wait for.
    cooldown: { withinCelsius: 3, maxSeconds: 0 },
    // The dissertation's figure, so the quick suite's carbon table reads like its Table 3.
    carbon: { intensity: 268, pue: 1.0 },
    telemetry: { hz: 10 },
  },
};

/**
 * Real images of a size a GPU trains in seconds per epoch: Fashion-MNIST from Debian's
 * dataset-fashion-mnist (setup.sh installs it; `--data fashion-mnist:DIR` for another copy), grey
 * replicated to 28×28×3 = 2352 inputs, 55,000 train / 5,000 valid (held out from the train file,
 * stratified) / 10,000 test. The dissertation's four configurations plus f32 twins at batch 256,
 * so every mixed configuration has an f32 one of the same batch and width to compare accuracy with.
 */
const fashion: Preset = {
  description:
    "the dissertation's four configurations and their f32 twins at batch 256 on Fashion-MNIST (28×28, Debian's dataset-fashion-mnist), 10 epochs, 5 replicates",
  spec: {
    name: "fashion",
    data: "fashion-mnist",
    imageSize: 28,
    // Five replicates, as the dissertation preset: enough for the t-tests and TOST to have power.
    replicates: 5,
    seed: 1,
    // Ten epochs: the reference 2352 → 256 → 10 MLP with Adam reaches about 0.87 test accuracy by
    // then, so accuracy differences between precisions are read on a trained model.
    epochs: 10,
    optimizer: { name: "adam", lr: 0.001 },
    configurations: dissertationConfigurations(),
    baselineSeconds: null,
    cooldown: { withinCelsius: 3, maxSeconds: 120 },
    carbon: { intensity: 268, pue: 1.0 },
    telemetry: { hz: 10 },
  },
};

export const PRESETS: Readonly<Record<string, Preset>> = { dissertation, quick, fashion };
