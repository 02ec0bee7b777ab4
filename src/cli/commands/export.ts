// `halfwatt export DB --csv DIR`: every table of a results store as CSV (one file per table), for
// spreadsheets — the dissertation's author worked in Excel.
import type { Command } from "commander";
import { exportCsv } from "../../experiment/export.js";
import { checkInputFile, checkOutputFolder } from "../paths.js";

export function register(program: Command): void {
  program
    .command("export")
    .description("write every table of a results store (results.sqlite) as CSV files")
    .argument("<db>", "the results store, e.g. results/results.sqlite")
    .requiredOption("--csv <dir>", "folder for the CSV files (created if needed)")
    .option("--force", "replace CSV files of the same names already in --csv")
    .option("--json", "print what was written as JSON")
    .action((db: string, o: { csv: string; force?: boolean; json?: boolean }) => {
      checkInputFile(null, db, "results store");
      checkOutputFolder("--csv", o.csv);
      const tables = exportCsv(db, o.csv, { force: o.force });
      if (o.json) process.stdout.write(`${JSON.stringify({ tables }, null, 2)}\n`);
      else for (const t of tables) process.stdout.write(`${t.table}: ${t.rows} rows → ${t.file}\n`);
    });
}
