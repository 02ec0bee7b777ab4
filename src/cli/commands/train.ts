// `halfwatt train`: trains the dense classifier on an image folder or the synthetic set, in f32 or
// mixed precision, and prints a line per epoch (a progress bar on a terminal) or, with --json, one
// document at the end (progress and the epoch lines still go to stderr). Ctrl-C stops cleanly at
// the next step boundary and still reports. A run that diverges (src/experiment/divergence.ts: a
// non-finite loss, or an epoch's loss far above the first's) is stopped there and exits 1, its
// --json document saying so in `diverged` and `error`.

import type { Command } from "commander";
import { HalfwattError } from "../../errors.js";
import { divergence, runningLossDivergence } from "../../experiment/divergence.js";
import { F32_MAX, trainSettingIssues } from "../../experiment/train-settings.js";
import { readTuneCache, tuneCachePath } from "../../kernels/gemm-tune-cache.js";
import { saveCheckpoint } from "../../model/checkpoint.js";
import { type EpochResult, type TrainConfig, type TrainResult, train } from "../../model/trainer.js";
import { formatTable } from "../../report/format.js";
import {
  choiceOption,
  integerOption,
  listOption,
  nonNegativeOption,
  numberOption,
  positiveOption,
  seedOption,
} from "../options.js";
import { checkOutputFile, checkOutputFolder } from "../paths.js";
import { bar, progressLine } from "../progress.js";

interface TrainOpts {
  data: string;
  precision: "f32" | "mixed";
  batch: number;
  neurons: number[];
  epochs: number;
  lr?: number;
  optimizer: "adam" | "adamw" | "sgd";
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  seed: number;
  imageSize?: number;
  strict?: boolean;
  save?: string;
  lossScale?: number;
  lossScaleInterval?: number;
  cacheDir?: string;
  json?: boolean;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : "n/a");

export function formatEpoch(e: EpochResult): string {
  return `epoch ${e.epoch}: loss ${e.train.loss.toFixed(4)}, train acc ${pct(e.train.accuracy)}, valid loss ${e.valid.loss.toFixed(4)}, valid acc ${pct(e.valid.accuracy)}, ${e.samplesPerSecond.toFixed(0)} samples/s, ${e.seconds.toFixed(1)} s${e.skippedSteps ? `, ${e.skippedSteps} steps skipped (overflow)` : ""}`;
}

export function formatTrainResult(r: TrainResult): string {
  const lines = [
    `test: loss ${r.test ? r.test.loss.toFixed(4) : "n/a"}, top-1 ${r.test ? pct(r.test.accuracy) : "n/a"}, top-5 ${r.test ? pct(r.test.top5) : "n/a"}${r.stopped ? " (stopped early: not evaluated)" : ""}`,
    r.lossScale.enabled
      ? `loss scale: ${r.lossScale.initial} → ${r.lossScale.final} (min ${r.lossScale.min}, max ${r.lossScale.max}), ${r.lossScale.skippedSteps} of ${r.steps} steps skipped`
      : "loss scale: none (f32)",
    "kernels:",
    formatTable(
      ["op", "role", "in", "out", "variant"],
      r.kernels.map((k) => [k.op, k.role, k.input, k.output, k.variant ?? ""]),
    ),
  ];
  return lines.join("\n");
}

/** The flag of each setting the combination rule (experiment/train-settings.ts) looks at. */
const SETTING_FLAGS = {
  momentum: "--momentum",
  nesterov: "--nesterov",
  lossScale: "--loss-scale",
  lossScaleInterval: "--loss-scale-interval",
} as const;

/**
 * Everything about the flags that can be checked before loading data or training: the combination
 * rule a suite file obeys too (momentum with Adam, a loss scale with f32 are refused, not ignored),
 * and the paths (--save's folder exists and it is not a folder; --cache-dir is a folder).
 */
export function checkTrainOptions(o: TrainOpts): void {
  const issues = trainSettingIssues({
    precision: o.precision,
    optimizer: {
      name: o.optimizer,
      ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
      ...(o.nesterov ? { nesterov: true } : {}),
    },
    lossScale: o.lossScale,
    lossScaleInterval: o.lossScaleInterval,
  });
  if (issues.length)
    throw new HalfwattError(
      "E_USAGE",
      issues
        .map(
          (i) =>
            `${SETTING_FLAGS[i.field]}: ${i.message} (--optimizer ${o.optimizer}, --precision ${o.precision})`,
        )
        .join("; "),
    );
  if (o.save !== undefined) checkOutputFile("--save", o.save);
  if (o.cacheDir !== undefined) checkOutputFolder("--cache-dir", o.cacheDir);
}

/** Training falls back to the built-in GEMM heuristics on an unreadable tune cache: say so, once. */
function warnIfTuneCacheUnreadable(): void {
  const path = tuneCachePath();
  if (path === "off") return;
  try {
    readTuneCache(path);
  } catch (e) {
    process.stderr.write(
      `warning: the GEMM tune cache is not used (the built-in kernel choices serve): ${(e as Error).message}\n`,
    );
  }
}

export function register(program: Command): void {
  program
    .command("train")
    .description("train the dense classifier (flattened image → hidden ReLU layers → softmax) on the GPU")
    .requiredOption(
      "--data <dir|synthetic:…>",
      "image folder (DIR/{train,valid,test}/<class>/… or DIR/<class>/…) or synthetic:classes=10,size=32,…",
    )
    .option("--precision <p>", "f32 or mixed", choiceOption("--precision", ["f32", "mixed"] as const), "f32")
    .option("--batch <n>", "batch size", integerOption("--batch", { min: 1 }), 32)
    .option(
      "--neurons <n,…>",
      "hidden layer widths",
      listOption("--neurons", integerOption("--neurons", { min: 1 })),
    )
    .option("--epochs <n>", "epochs", integerOption("--epochs", { min: 0 }), 25)
    .option("--lr <x>", "learning rate (default: Adam 0.001, SGD 0.01)", positiveOption("--lr"))
    .option(
      "--optimizer <name>",
      "adam, adamw or sgd",
      choiceOption("--optimizer", ["adam", "adamw", "sgd"] as const),
      "adam",
    )
    .option("--momentum <x>", "SGD momentum", nonNegativeOption("--momentum"))
    .option("--nesterov", "SGD with Nesterov momentum")
    .option(
      "--weight-decay <x>",
      "weight decay (Adam/SGD: L2 in the gradient; AdamW: decoupled)",
      nonNegativeOption("--weight-decay"),
    )
    .option("--seed <n>", "seed of the weights and the shuffle", seedOption("--seed"), 1)
    .option(
      "--image-size <n>",
      "resize images to n×n (default 224; synthetic: its size=)",
      integerOption("--image-size", { min: 1, max: 4096 }),
    )
    .option("--strict", "stop on unreadable images instead of skipping them")
    .option("--save <file>", "write a .safetensors checkpoint at the end")
    .option(
      "--loss-scale <x>",
      "mixed: initial loss scale (default 32768; at most the largest float32)",
      numberOption("--loss-scale", { min: 0, exclusiveMin: true, max: F32_MAX }),
    )
    .option(
      "--loss-scale-interval <n>",
      "mixed: clean steps before the scale doubles (default 2000)",
      integerOption("--loss-scale-interval", { min: 1 }),
    )
    .option("--cache-dir <dir>", "where decoded datasets are cached")
    .option("--json", "print one JSON document at the end")
    .action(async (o: TrainOpts) => {
      checkTrainOptions(o);
      warnIfTuneCacheUnreadable();
      const config: TrainConfig = {
        data: o.data,
        precision: o.precision,
        batch: o.batch,
        neurons: o.neurons ?? [1024],
        epochs: o.epochs,
        optimizer: {
          name: o.optimizer,
          ...(o.lr !== undefined ? { lr: o.lr } : {}),
          ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
          ...(o.nesterov ? { nesterov: true } : {}),
          ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
        },
        seed: o.seed,
        imageSize: o.imageSize,
        strict: o.strict,
        cacheDir: o.cacheDir,
        lossScaling: {
          ...(o.lossScale !== undefined ? { initial: o.lossScale } : {}),
          ...(o.lossScaleInterval !== undefined ? { growthInterval: o.lossScaleInterval } : {}),
        },
      };
      const say = (s: string) => process.stderr.write(`${s}\n`);
      const stop = new AbortController();
      let diverged: string | null = null;
      const epochs: EpochResult[] = [];
      const onSigint = () => {
        line.done();
        say("halfwatt: stopping after the current step (Ctrl-C again to abort)");
        process.off("SIGINT", onSigint);
        stop.abort();
      };
      process.on("SIGINT", onSigint);
      const line = progressLine();
      let warned = 0;
      let epochNow = 0;
      const result = await train(
        config,
        {
          signal: stop.signal,
          data: {
            onWarning: (w) => {
              warned++;
              line.done();
              say(`warning: skipped ${w.file}: ${w.reason}`);
            },
            onProgress: (e) => {
              if (e.phase === "decode" || e.phase === "synthesize")
                line.update(`${e.phase}${e.split ? ` ${e.split}` : ""} ${bar(e.done, e.total)}`);
            },
          },
          onRunStart: (i) => {
            line.done();
            if (warned) say(`${warned} file(s) skipped`);
            say(
              `${i.adapter}: ${i.parameters.toLocaleString("en")} parameters, ${i.dataset.train.count}/${i.dataset.valid.count}/${i.dataset.test.count} images, ${i.dataset.classes.length} classes, ${i.stepsPerEpoch} steps per epoch${i.dataset.cache.reused ? " (cached pixels)" : ""}`,
            );
          },
          onEpochStart: (epoch) => {
            epochNow = epoch;
          },
          onProgress: (p) => {
            line.update(`epoch ${epochNow} ${bar(p.step, p.steps)} loss ${p.loss.toFixed(4)}`);
            diverged ??= runningLossDivergence(p.epoch, p.loss);
            if (diverged) stop.abort("diverged");
          },
          onEpochEnd: (e) => {
            line.done();
            say(formatEpoch(e));
            epochs.push(e);
            diverged ??= divergence(epochs);
            if (diverged) stop.abort("diverged");
          },
        },
        {
          onModel: o.save
            ? async (model, r) => {
                // A diverged model's weights are NaN or wild: no checkpoint of them.
                if (diverged !== null) return;
                await saveCheckpoint(o.save as string, model, {
                  config,
                  shape: model.shape,
                  classes: r.classes,
                  imageSize: r.dataset.imageSize,
                  normalization: r.normalization,
                });
              }
            : undefined,
        },
      );
      process.off("SIGINT", onSigint);
      const failure = diverged
        ? new HalfwattError("E_RUNTIME", `training diverged, stopped early: ${diverged} (lower --lr?)`)
        : null;
      if (o.json) {
        const { test, ...rest } = result;
        process.stdout.write(
          `${JSON.stringify({ ...rest, test: test ? { ...test, top1: test.accuracy } : null, checkpoint: failure ? null : (o.save ?? null), diverged, ...(failure ? { error: { code: failure.code, message: failure.message } } : {}) }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(`${formatTrainResult(result)}\n`);
        if (o.save && !failure) say(`checkpoint: ${o.save}`);
        if (failure) say(`halfwatt: ${failure.message}`);
      }
      if (failure) process.exitCode = failure.exitCode;
    });
}
