// Reading grouped data from CSV (parsed by csv-parse). Three layouts:
//   wide:    a header of group names, one column per group; empty cells where a group has fewer values
//   long:    header exactly `group,value`, one observation per row (groups in order of first appearance)
//   summary: header exactly `group,count,mean,variance` (for ANOVA from summary statistics)
// Lines that are blank or start with `#` are ignored. Fields may be double-quoted ("" escapes a quote).
// The delimiter is detected from the header line: comma, semicolon or tab (Excel writes `;` with
// decimal commas in many locales); with `;` or tab, a decimal comma (1,5) reads as 1.5.
// `-` reads standard input. Every error names the file, the 1-based line and the column.
import { readFileSync } from "node:fs";
import { CsvError, parse } from "csv-parse/sync";
import { type InputLocation, StatsInputError } from "./errors.js";
import type { Group, GroupSummary } from "./groups.js";

interface Line {
  row: number;
  cells: string[];
}

/** What a CSV file was read as, for messages and for `--json` consumers. */
export interface CsvDialect {
  delimiter: "," | ";" | "\t";
  /** True when cells like 1,5 are read as 1.5 (only with `;` or tab delimiters). */
  decimalComma: boolean;
}

const DELIMITERS: CsvDialect["delimiter"][] = [",", ";", "\t"];
const DELIMITER_NAME = { ",": "comma", ";": "semicolon", "\t": "tab" } as const;

/** The first line that is not blank or a comment. */
function headerLine(text: string): string {
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/)) {
    const t = raw.trim();
    if (t !== "" && !t.startsWith("#")) return raw;
  }
  return "";
}

/** The delimiter the header line uses most (outside quotes); a comma when none appears. */
export function detectDelimiter(text: string): CsvDialect["delimiter"] {
  const header = headerLine(text).replace(/"([^"]|"")*"/g, "");
  let best: CsvDialect["delimiter"] = ",";
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = header.split(d).length - 1;
    if (count > bestCount) [best, bestCount] = [d, count];
  }
  return best;
}

/** The line on which the quote left open at the end of `text` was opened (csv-parse reports the end). */
function openingQuoteLine(text: string): number | undefined {
  let open: number | undefined;
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    const quotes = line.split('"').length - 1;
    if (quotes % 2 === 1) open = open === undefined ? i + 1 : undefined;
  });
  return open;
}

function parseLines(text: string, file: string, delimiter = detectDelimiter(text)): Line[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info: true` each record comes as { record, info } (the typings do not model it).
    records = parse(text, {
      delimiter,
      bom: true,
      comment: "#",
      comment_no_infix: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
      relax_column_count: true,
      info: true,
    }) as unknown as typeof records;
  } catch (e) {
    if (e instanceof CsvError) {
      const what =
        e.code === "CSV_QUOTE_NOT_CLOSED"
          ? "unterminated quoted field"
          : e.code === "CSV_INVALID_CLOSING_QUOTE" || e.code === "INVALID_OPENING_QUOTE"
            ? "unexpected text next to a quoted field"
            : e.message;
      const row =
        e.code === "CSV_QUOTE_NOT_CLOSED"
          ? openingQuoteLine(text)
          : (e as CsvError & { lines?: number }).lines;
      throw csvError(what, { file, row });
    }
    throw e;
  }
  const lines = records.map((r) => ({ row: r.info.lines, cells: r.record }));
  if (!lines.length) throw csvError("the file has no header row", { file });
  return lines;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$/;

/** A CSV input error (E_CSV): the file, not the statistics, is what needs fixing. */
function csvError(message: string, location: InputLocation): StatsInputError {
  return new StatsInputError(message, location, "E_CSV");
}

/** A finite decimal number, or an error pointing at the cell. */
function parseNumber(
  cell: string,
  where: { file: string; row: number; column: string },
  dialect: CsvDialect,
): number {
  const text = dialect.decimalComma && DECIMAL_COMMA.test(cell) ? cell.replace(",", ".") : cell;
  const value = Number(text);
  if (!NUMBER.test(text) || !Number.isFinite(value)) {
    const hint =
      !dialect.decimalComma && DECIMAL_COMMA.test(cell)
        ? ` (a decimal comma? with ${DELIMITER_NAME[dialect.delimiter]}-separated fields write 1.5, or separate fields with ; or tabs)`
        : "";
    throw csvError(`not a number: ${JSON.stringify(cell)}${hint}`, where);
  }
  return value;
}

function headerKey(cells: string[]): string {
  return cells.map((c) => c.toLowerCase()).join(",");
}

export type CsvLayout = "wide" | "long" | "summary";

/** Which layout the header announces. */
export function detectLayout(text: string, file = "<input>"): CsvLayout {
  return layoutOf(parseLines(text, file)[0].cells);
}

function layoutOf(header: string[]): CsvLayout {
  const key = headerKey(header);
  if (key === "group,value") return "long";
  if (key === "group,count,mean,variance") return "summary";
  return "wide";
}

/**
 * A first row made only of numbers is data, not group names: without this check its values
 * would silently become the names and the first observation of every group would be lost.
 */
function requireHeader(header: Line, file: string, dialect: CsvDialect): void {
  const numeric = header.cells.every((c) => {
    const t = dialect.decimalComma && DECIMAL_COMMA.test(c) ? c.replace(",", ".") : c;
    return NUMBER.test(t);
  });
  if (numeric)
    throw csvError(
      `the first row is all numbers (${header.cells.slice(0, 4).join(", ")}${header.cells.length > 4 ? ", …" : ""}): the header row seems missing. Add a first line naming the groups, e.g. ${header.cells.map((_, i) => `group${i + 1}`).join(dialect.delimiter === "\t" ? "\\t" : dialect.delimiter)}`,
      { file, row: header.row },
    );
}

function parseWide(lines: Line[], file: string, dialect: CsvDialect): Group[] {
  const header = lines[0];
  const names = header.cells;
  names.forEach((name, i) => {
    if (!name) throw csvError("empty group name in the header", { file, row: header.row, column: i + 1 });
    if (names.indexOf(name) !== i)
      throw csvError(`duplicate group name ${JSON.stringify(name)}`, {
        file,
        row: header.row,
        column: i + 1,
      });
  });
  const values: number[][] = names.map(() => []);
  const rows: number[][] = names.map(() => []);
  for (const line of lines.slice(1)) {
    if (line.cells.length > names.length)
      throw csvError(
        `${line.cells.length} fields but the header names ${names.length} groups (fields are ${DELIMITER_NAME[dialect.delimiter]}-separated${dialect.delimiter === "," ? "; a decimal comma? write 1.5, or separate fields with ; or tabs" : ""})`,
        { file, row: line.row },
      );
    line.cells.forEach((cell, i) => {
      if (cell === "") return;
      values[i].push(parseNumber(cell, { file, row: line.row, column: names[i] }, dialect));
      rows[i].push(line.row);
    });
  }
  return names.map((name, i) => ({ name, values: values[i], rows: rows[i] }));
}

function parseLong(lines: Line[], file: string, dialect: CsvDialect): Group[] {
  const groups = new Map<string, number[]>();
  for (const line of lines.slice(1)) {
    if (line.cells.length !== 2)
      throw csvError(`expected 2 fields (group,value), got ${line.cells.length}`, { file, row: line.row });
    const [name, cell] = line.cells;
    if (!name) throw csvError("empty group name", { file, row: line.row, column: "group" });
    const value = parseNumber(cell, { file, row: line.row, column: "value" }, dialect);
    const list = groups.get(name) ?? [];
    list.push(value);
    groups.set(name, list);
  }
  return [...groups].map(([name, values]) => ({ name, values }));
}

/** The dialect of CSV text: its delimiter, and a decimal comma where the delimiter allows one. */
export function detectDialect(text: string): CsvDialect {
  const delimiter = detectDelimiter(text);
  return { delimiter, decimalComma: delimiter !== "," };
}

/** Groups from wide or long CSV text (auto-detected). */
export function parseGroupsCsv(text: string, file = "<input>"): Group[] {
  const dialect = detectDialect(text);
  const lines = parseLines(text, file, dialect.delimiter);
  const layout = layoutOf(lines[0].cells);
  if (layout === "summary")
    throw csvError("this is a summary file (group,count,mean,variance); only `anova --summary` reads it", {
      file,
    });
  requireHeader(lines[0], file, dialect);
  const groups = layout === "long" ? parseLong(lines, file, dialect) : parseWide(lines, file, dialect);
  if (!groups.length) throw csvError("no groups found", { file });
  return groups;
}

/** Per-group summaries from `group,count,mean,variance` CSV text. */
export function parseSummaryCsv(text: string, file = "<input>"): GroupSummary[] {
  const dialect = detectDialect(text);
  const lines = parseLines(text, file, dialect.delimiter);
  if (headerKey(lines[0].cells) !== "group,count,mean,variance")
    throw csvError("a summary file needs the header group,count,mean,variance", { file, row: lines[0].row });
  return lines.slice(1).map((line) => {
    if (line.cells.length !== 4)
      throw csvError(`expected 4 fields, got ${line.cells.length}`, { file, row: line.row });
    const [name, count, meanCell, varianceCell] = line.cells;
    if (!name) throw csvError("empty group name", { file, row: line.row, column: "group" });
    const at = (column: string) => ({ file, row: line.row, column });
    return {
      name,
      count: parseNumber(count, at("count"), dialect),
      mean: parseNumber(meanCell, at("mean"), dialect),
      variance: parseNumber(varianceCell, at("variance"), dialect),
    };
  });
}

/** The name errors use for `file`: `-` is standard input. */
export function inputName(file: string): string {
  return file === "-" ? "<stdin>" : file;
}

/** The text of `file`, or of standard input for `-` (read once: a pipe cannot be read twice). */
export function readInput(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StatsInputError(
      code === "ENOENT" ? "no such file" : `cannot read (${(e as Error).message})`,
      { file: inputName(file) },
      "E_INPUT",
    );
  }
}

export function readGroupsCsv(file: string): Group[] {
  return parseGroupsCsv(readInput(file), inputName(file));
}

export function readSummaryCsv(file: string): GroupSummary[] {
  return parseSummaryCsv(readInput(file), inputName(file));
}

/** The group called `name`, or an error listing the names there are. */
export function findGroup(groups: Group[], name: string, file?: string): Group {
  const g = groups.find((x) => x.name === name);
  if (!g)
    throw new StatsInputError(
      `no group named ${JSON.stringify(name)} (groups: ${groups.map((x) => JSON.stringify(x.name)).join(", ")})`,
      { file: file === undefined ? undefined : inputName(file) },
    );
  return g;
}
