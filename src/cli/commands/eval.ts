// `halfwatt eval --checkpoint F --data DIR`: a saved model's loss and top-1/top-5 accuracy.
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { extname, join } from "node:path";
import type { Command } from "commander";
import { IMAGE_EXTENSIONS } from "../../data/scan.js";
import { parseDataSpec } from "../../data/spec.js";
import { evaluateCheckpoint } from "../../model/evaluate.js";
import { formatTable } from "../../report/format.js";
import { choiceOption, integerOption, listOption } from "../options.js";
import { checkInputFile } from "../paths.js";

/** The image size a checkpoint was trained at, from its safetensors header alone (8-byte length, JSON). */
function checkpointImageSize(path: string): number | null {
  const fd = openSync(path, "r");
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) < 8) return null;
    const n = Number(len.readBigUInt64LE(0));
    if (!(n > 0 && n < 100_000_000)) return null;
    const header = Buffer.alloc(n);
    readSync(fd, header, 0, n, 8);
    const size = Number(JSON.parse(header.toString("utf8")).__metadata__?.image_size);
    return Number.isInteger(size) && size > 0 ? size : null;
  } catch {
    return null; // loadCheckpoint reports what is wrong with the file
  } finally {
    closeSync(fd);
  }
}

/** The first image file under `dir` (a few levels: DIR/split/class/file), or null. */
function firstImage(dir: string, depth = 3): string | null {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return null;
  }
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isFile() && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase()))
      return p;
    if (e.isDirectory() && depth > 0) {
      const f = firstImage(p, depth - 1);
      if (f) return f;
    }
  }
  return null;
}

/**
 * The data's own image size where it differs from the checkpoint's (its images are then resized to
 * the checkpoint's, which the user should know): synthetic's size=, or a folder's first image.
 */
async function resizedFrom(data: string, ckptSize: number): Promise<string | null> {
  const spec = parseDataSpec(data);
  if (spec.kind === "synthetic") return spec.size === ckptSize ? null : `${spec.size}×${spec.size}`;
  const first = firstImage(spec.dir);
  if (!first) return null;
  // sharp (libvips) loads here, not with the CLI: only eval on a folder needs it.
  const sharp = (await import("sharp")).default;
  const m = await sharp(first)
    .metadata()
    .catch(() => null);
  if (!m?.width || !m.height || (m.width === ckptSize && m.height === ckptSize)) return null;
  return `${m.width}×${m.height} (${first})`;
}

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
        checkInputFile("--checkpoint", o.checkpoint, "checkpoint file");
        const size = checkpointImageSize(o.checkpoint);
        const from = size === null ? null : await resizedFrom(o.data, size);
        const resized = from === null ? null : { from, to: `${size}×${size}` };
        if (resized)
          process.stderr.write(
            `notice: ${o.data} has images of ${resized.from}; they are resized to ${resized.to}, the checkpoint's image size\n`,
          );
        const r = await evaluateCheckpoint(o.checkpoint, o.data, {
          splits: o.split ?? ["test"],
          batch: o.batch,
          precision: o.precision,
          cacheDir: o.cacheDir,
          onWarning: (w) => process.stderr.write(`warning: skipped ${w.file}: ${w.reason}\n`),
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...r, resized }, null, 2)}\n`);
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
