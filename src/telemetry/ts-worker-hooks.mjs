// Module hooks that let a worker thread import halfwatt's .ts sources: `./x.js` imported from
// a .ts file resolves to `./x.ts` when that exists (the NodeNext convention), and .ts files are
// transpiled with TypeScript's transpileModule (no type checking; the dev dependency suffices).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

let ts;

export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? "";
  if (parent.endsWith(".ts") && /^\.{1,2}\//.test(specifier) && specifier.endsWith(".js")) {
    const candidate = new URL(specifier.replace(/\.js$/, ".ts"), parent);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  ts ??= (await import("typescript")).default;
  const fileName = fileURLToPath(url);
  const out = ts.transpileModule(await readFile(fileName, "utf8"), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: "module", source: out.outputText, shortCircuit: true };
}
