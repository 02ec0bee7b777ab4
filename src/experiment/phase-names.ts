// A run's phases, as the sampler marks them. `setup` (the dataset's upload when this run pays it,
// the warm-up: compilation and uncounted steps) is measured but kept out of `train`, so the
// compared energy is the training's alone.
export const RUN_PHASE_NAMES = {
  baseline: "idle-baseline",
  setup: "setup",
  train: "train",
  test: "test",
} as const;
