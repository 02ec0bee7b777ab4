// Two structural rules of src/. No import cycles: a cycle makes module initialisation order matter (a value imported
// before its module ran is undefined) and tangles layers that should depend one way. Imports are
// read with TypeScript's own pre-processor (static, type-only, re-exports and dynamic import()
// alike, since a type-only cycle still ties two modules together); relative specifiers ending in
// .js resolve to the .ts beside them.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

/** Module → the modules of src/ it imports (repository-relative paths). */
function importGraph(dir: string): Map<string, string[]> {
  const files = new Set(sourceFiles(dir));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((s) => s.startsWith("."))
      .map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")))
      .filter((p) => files.has(p))
      .map((p) => relative(root, p));
    graph.set(relative(root, file), [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * Every elementary cycle found by a depth-first search, each reported once as the path from its
 * smallest module back to itself (["a", "b", "a"]); enough to name what to break.
 */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        cycles.set(rotated.join(" → "), [...rotated, rotated[0]]);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

describe("import cycles", () => {
  it("the detector finds a planted cycle, and none in a chain", () => {
    const chain = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", []],
    ]);
    expect(importCycles(chain)).toEqual([]);
    const loop = new Map([
      ["a", ["b"]],
      ["b", ["c", "d"]],
      ["c", ["a"]],
      ["d", []],
    ]);
    expect(importCycles(loop)).toEqual([["a", "b", "c", "a"]]);
    expect(importCycles(new Map([["x", ["x"]]]))).toEqual([["x", "x"]]);
  });

  it("the import graph is read: a known edge of src/ is in it", () => {
    const graph = importGraph(join(root, "src"));
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("src/report/document.ts")).toContain("src/report/device-factor.ts");
  });

  it("src/ has none", () => {
    const cycles = importCycles(importGraph(join(root, "src")));
    expect(cycles.map((c) => c.join(" → "))).toEqual([]);
  });
});

// Every INSERT in src/ names its columns: an INSERT by position breaks silently (values in the
// wrong columns, or a failure only at run time) when a migration adds or reorders a column.
const POSITIONAL_INSERT = /INSERT\s+(?:OR\s+\w+\s+)?INTO\s+[\w${}"]+\s+(?:VALUES|SELECT)\b/gi;

describe("INSERT statements", () => {
  it("the check finds an INSERT without a column list", () => {
    expect("db.prepare('INSERT INTO epochs VALUES (?, ?)')".match(POSITIONAL_INSERT)).toHaveLength(1);
    expect("INSERT OR REPLACE INTO lock SELECT * FROM x".match(POSITIONAL_INSERT)).toHaveLength(1);
    expect("INSERT INTO epochs (run_id, epoch) VALUES (?, ?)".match(POSITIONAL_INSERT)).toBeNull();
  });

  it("src/ names the columns of every INSERT", () => {
    const positional = sourceFiles(join(root, "src")).flatMap((file) =>
      (readFileSync(file, "utf8").match(POSITIONAL_INSERT) ?? []).map((m) => `${relative(root, file)}: ${m}`),
    );
    expect(positional).toEqual([]);
  });
});

// Experimental kernel variants live in dev/ (never winning, kept for the bench and tests): the
// production path must not reach them, or they would be back in it.
/** The imports of `file` that resolve into `dir` (relative specifiers only). */
function importsInto(file: string, text: string, dir: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith(".") && resolve(dirname(file), s).startsWith(`${dir}/`));
}

describe("dev/", () => {
  it("the check finds an import of dev/ from src/", () => {
    const file = join(root, "src/kernels/x.ts");
    const dev = join(root, "dev");
    expect(importsInto(file, 'import { DEV_TILES } from "../../dev/gemm-tiles.js";', dev)).toEqual([
      "../../dev/gemm-tiles.js",
    ]);
    expect(importsInto(file, 'import { TILES } from "./gemm-tiled.js";', dev)).toEqual([]);
  });

  it("nothing in src/ imports from dev/", () => {
    const dev = join(root, "dev");
    const found = sourceFiles(join(root, "src")).flatMap((file) =>
      importsInto(file, readFileSync(file, "utf8"), dev).map((s) => `${relative(root, file)}: ${s}`),
    );
    expect(found).toEqual([]);
  });
});
