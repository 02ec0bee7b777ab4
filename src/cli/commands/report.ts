// `halfwatt report DB --out DIR [--suite NAME] [--json]`: report.html, report.md and charts/*.svg
// of one suite in a results store, opened read-only (a suite still running can be reported).
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { HalfwattError } from "../../errors.js";
import { openStore } from "../../experiment/store.js";
import type { ResultStore } from "../../experiment/types.js";
import { toJson } from "../../report/format.js";
import { writeReport } from "../../report/report.js";
import { checkInputFile, checkOutputFolder } from "../paths.js";

/** The suite to report: the one named (by name or id), else the most recent one. */
export function pickSuite(
  store: Pick<ResultStore, "suites">,
  name: string | undefined,
  path: string,
): number {
  const suites = store.suites();
  if (!suites.length) throw new HalfwattError("E_INPUT", `${path}: the results store holds no suite`);
  if (name === undefined) return suites.reduce((a, b) => (b.id > a.id ? b : a)).id;
  const hit = suites.find((s) => s.name === name) ?? suites.find((s) => String(s.id) === name);
  if (!hit)
    throw new HalfwattError(
      "E_INPUT",
      `${path}: no suite named "${name}"; the store holds ${suites.map((s) => `"${s.name}" (id ${s.id})`).join(", ")}`,
    );
  return hit.id;
}

/** Writes the report of one suite of `store` into `out`; what --json prints. */
export async function reportFromStore(
  store: Pick<ResultStore, "suites" | "results">,
  path: string,
  out: string,
  suite?: string,
) {
  const id = pickSuite(store, suite, path);
  const report = await writeReport(store.results(id), out, { store: path });
  return { suite: report.data.suite, files: report.files, data: report.data };
}

export function register(program: Command): void {
  program
    .command("report")
    .description("report.html (self-contained), report.md and charts/*.svg of a suite in a results store")
    .argument("<db>", "the results store (SQLite) a suite wrote")
    .requiredOption("--out <dir>", "folder to write the report into (created if needed)")
    .option("--suite <name>", "the suite's name or id (default: the most recent suite)")
    .option("--json", "print the report's numbers (ReportData) and the files written as JSON")
    .action(async (db: string, opts: { out: string; suite?: string; json?: boolean }) => {
      if (!existsSync(db)) throw new HalfwattError("E_INPUT", `${db}: no such results store`);
      checkInputFile(null, db, "results store");
      checkOutputFolder("--out", opts.out);
      const store = openStore(db, { readonly: true });
      try {
        const result = await reportFromStore(store, db, opts.out, opts.suite);
        process.stdout.write(
          opts.json
            ? `${toJson(result)}\n`
            : `${result.files.map((f) => `wrote ${f}`).join("\n")}\n${result.data.conclusion.join("\n")}\n`,
        );
      } finally {
        store.close();
      }
    });
}
