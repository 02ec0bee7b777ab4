// `halfwatt eval --checkpoint F --data DIR`: a saved model's loss and top-1/top-5 accuracy.
import type { Command } from "commander";
import { evaluateCheckpoint } from "../../model/evaluate.js";
import { formatTable } from "../../report/format.js";
import { choiceOption, integerOption, listOption } from "../options.js";

export function register(program: Command): void {
  program
    .command("eval")
    .description("evaluate a .safetensors checkpoint from `halfwatt train --save` on a dataset")
    .requiredOption("--checkpoint <file>", "the checkpoint")
    .requiredOption(
      "--data <dir|synthetic:…>",
      "image folder or synthetic spec (same classes as the checkpoint)",
    )
    .option(
      "--split <names>",
      "train, valid and/or test",
      listOption("--split", choiceOption("--split", ["train", "valid", "test"] as const)),
    )
    .option(
      "--batch <n>",
      "evaluation batch size (default: the training batch)",
      integerOption("--batch", { min: 1 }),
    )
    .option(
      "--precision <p>",
      "f32 or mixed (default: as trained)",
      choiceOption("--precision", ["f32", "mixed"] as const),
    )
    .option("--cache-dir <dir>", "where decoded datasets are cached")
    .option("--json", "print JSON")
    .action(
      async (o: {
        checkpoint: string;
        data: string;
        split?: ("train" | "valid" | "test")[];
        batch?: number;
        precision?: "f32" | "mixed";
        cacheDir?: string;
        json?: boolean;
      }) => {
        const r = await evaluateCheckpoint(o.checkpoint, o.data, {
          splits: o.split ?? ["test"],
          batch: o.batch,
          precision: o.precision,
          cacheDir: o.cacheDir,
          onWarning: (w) => process.stderr.write(`warning: skipped ${w.file}: ${w.reason}\n`),
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${formatTable(
            ["split", "samples", "loss", "top-1", "top-5"],
            Object.entries(r.splits).map(([k, m]) => [k, m.samples, m.loss, m.accuracy, m.top5]),
          )}\n`,
        );
      },
    );
}
