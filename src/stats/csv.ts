// Reading grouped data from CSV. Three layouts:
//   wide:    a header of group names, one column per group; empty cells where a group has fewer values
//   long:    header exactly `group,value`, one observation per row (groups in order of first appearance)
//   summary: header exactly `group,count,mean,variance` (for ANOVA from summary statistics)
// Lines that are blank or start with `#` are ignored. Fields may be double-quoted ("" escapes a quote).
// Every error names the file, the 1-based line and the column.
import { readFileSync } from "node:fs";
import { StatsInputError } from "./errors.js";
import type { Group, GroupSummary } from "./groups.js";

interface Line {
  row: number;
  cells: string[];
}

/** Split one CSV line into trimmed fields. */
function splitLine(text: string, file: string, row: number): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = "";
    while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new StatsInputError("unterminated quoted field", { file, row });
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i++];
      }
      while (i < text.length && text[i] !== ",") {
        if (text[i] !== " " && text[i] !== "\t")
          throw new StatsInputError("unexpected text after a quoted field", { file, row });
        i++;
      }
    } else {
      while (i < text.length && text[i] !== ",") cell += text[i++];
      cell = cell.trim();
    }
    cells.push(cell);
    if (i >= text.length) return cells;
    i++; // the comma
  }
}

function parseLines(text: string, file: string): Line[] {
  const lines: Line[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\n|\r/)
    .forEach((raw, index) => {
      const trimmed = raw.trim();
      if (trimmed === "" || trimmed.startsWith("#")) return;
      lines.push({ row: index + 1, cells: splitLine(raw, file, index + 1) });
    });
  if (!lines.length) throw new StatsInputError("the file has no header row", { file });
  return lines;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A finite decimal number, or a StatsInputError pointing at the cell. */
function parseNumber(cell: string, file: string, row: number, column: string): number {
  const value = Number(cell);
  if (!NUMBER.test(cell) || !Number.isFinite(value))
    throw new StatsInputError(`not a number: ${JSON.stringify(cell)}`, { file, row, column });
  return value;
}

function headerKey(cells: string[]): string {
  return cells.map((c) => c.toLowerCase()).join(",");
}

export type CsvLayout = "wide" | "long" | "summary";

/** Which layout the header announces. */
export function detectLayout(text: string, file = "<input>"): CsvLayout {
  const key = headerKey(parseLines(text, file)[0].cells);
  if (key === "group,value") return "long";
  if (key === "group,count,mean,variance") return "summary";
  return "wide";
}

function parseWide(lines: Line[], file: string): Group[] {
  const header = lines[0];
  const names = header.cells;
  names.forEach((name, i) => {
    if (!name)
      throw new StatsInputError("empty group name in the header", { file, row: header.row, column: i + 1 });
    if (names.indexOf(name) !== i)
      throw new StatsInputError(`duplicate group name ${JSON.stringify(name)}`, {
        file,
        row: header.row,
        column: i + 1,
      });
  });
  const values: number[][] = names.map(() => []);
  for (const line of lines.slice(1)) {
    if (line.cells.length > names.length)
      throw new StatsInputError(`${line.cells.length} fields but the header names ${names.length} groups`, {
        file,
        row: line.row,
      });
    line.cells.forEach((cell, i) => {
      if (cell !== "") values[i].push(parseNumber(cell, file, line.row, names[i]));
    });
  }
  return names.map((name, i) => ({ name, values: values[i] }));
}

function parseLong(lines: Line[], file: string): Group[] {
  const groups = new Map<string, number[]>();
  for (const line of lines.slice(1)) {
    if (line.cells.length !== 2)
      throw new StatsInputError(`expected 2 fields (group,value), got ${line.cells.length}`, {
        file,
        row: line.row,
      });
    const [name, cell] = line.cells;
    if (!name) throw new StatsInputError("empty group name", { file, row: line.row, column: "group" });
    const value = parseNumber(cell, file, line.row, "value");
    const list = groups.get(name) ?? [];
    list.push(value);
    groups.set(name, list);
  }
  return [...groups].map(([name, values]) => ({ name, values }));
}

/** Groups from wide or long CSV text (auto-detected). */
export function parseGroupsCsv(text: string, file = "<input>"): Group[] {
  const lines = parseLines(text, file);
  const layout = detectLayout(text, file);
  if (layout === "summary")
    throw new StatsInputError(
      "this is a summary file (group,count,mean,variance); only `anova --summary` reads it",
      {
        file,
      },
    );
  const groups = layout === "long" ? parseLong(lines, file) : parseWide(lines, file);
  if (!groups.length) throw new StatsInputError("no groups found", { file });
  return groups;
}

/** Per-group summaries from `group,count,mean,variance` CSV text. */
export function parseSummaryCsv(text: string, file = "<input>"): GroupSummary[] {
  const lines = parseLines(text, file);
  if (headerKey(lines[0].cells) !== "group,count,mean,variance")
    throw new StatsInputError("a summary file needs the header group,count,mean,variance", {
      file,
      row: lines[0].row,
    });
  return lines.slice(1).map((line) => {
    if (line.cells.length !== 4)
      throw new StatsInputError(`expected 4 fields, got ${line.cells.length}`, { file, row: line.row });
    const [name, count, meanCell, varianceCell] = line.cells;
    if (!name) throw new StatsInputError("empty group name", { file, row: line.row, column: "group" });
    return {
      name,
      count: parseNumber(count, file, line.row, "count"),
      mean: parseNumber(meanCell, file, line.row, "mean"),
      variance: parseNumber(varianceCell, file, line.row, "variance"),
    };
  });
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StatsInputError(code === "ENOENT" ? "no such file" : `cannot read (${(e as Error).message})`, {
      file,
    });
  }
}

export function readGroupsCsv(file: string): Group[] {
  return parseGroupsCsv(readText(file), file);
}

export function readSummaryCsv(file: string): GroupSummary[] {
  return parseSummaryCsv(readText(file), file);
}

/** The group called `name`, or an error listing the names there are. */
export function findGroup(groups: Group[], name: string, file?: string): Group {
  const g = groups.find((x) => x.name === name);
  if (!g)
    throw new StatsInputError(
      `no group named ${JSON.stringify(name)} (groups: ${groups.map((x) => JSON.stringify(x.name)).join(", ")})`,
      { file },
    );
  return g;
}
