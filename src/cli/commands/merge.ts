// `halfwatt merge STORE… --out FILE`: joins the results stores of one suite (a Slurm array's
// task stores) into one that `halfwatt report` reads; lists the tasks that did not complete and the
// one command that resubmits only those. Exit status 1 when some are incomplete (the merged store
// is written all the same).
import type { Command } from "commander";
import { type MergeResult, mergeStores } from "../../experiment/merge.js";

interface MergeOpts {
  out: string;
  preferLatest?: boolean;
  force?: boolean;
  suite?: string;
  sbatch?: string;
  json?: boolean;
}

function describe(r: MergeResult): string[] {
  const lines = [
    `merged ${r.sources.length} store(s) of suite "${r.suite}" into ${r.out}${r.replaced ? " (replaced)" : ""}: ${Object.entries(
      r.rows,
    )
      .map(([t, n]) => `${n} ${t}`)
      .join(", ")}`,
  ];
  for (const d of r.duplicates)
    lines.push(
      `duplicate: plan index ${d.planIndex} (${d.configId} #${d.replicate}, block ${d.block}) completed in ${[d.kept, ...d.dropped].length} stores; kept ${d.kept.store} run ${d.kept.runId} (ended ${d.kept.endedAt ?? "?"}, the latest), left out ${d.dropped.map((x) => `${x.store} run ${x.runId}`).join(", ")}`,
    );
  for (const b of r.incomplete) {
    const what = b.stores.length
      ? `${b.completed}/${b.planned} runs completed${b.failed ? `, ${b.failed} failed` : ""}${b.interrupted ? `, ${b.interrupted} interrupted` : ""} (${b.stores.join(", ")})${b.errors.length ? `: ${b.errors.join("; ")}` : ""}`
      : "no store: the task did not start or its store was not given (see its log in logs/)";
    lines.push(`task ${b.block} incomplete: ${what}`);
  }
  if (r.resubmit) {
    lines.push(
      `resubmit only those: ${r.resubmit}${r.sbatchFound ? "" : " (script not found there: pass --sbatch FILE)"}`,
    );
    lines.push("then merge again with --force");
  } else lines.push(`every block completed; next: halfwatt report ${r.out} --out DIR`);
  return lines;
}

export function register(program: Command): void {
  program
    .command("merge")
    .description(
      "join the results stores of one suite (e.g. Slurm task stores) into one, for halfwatt report",
    )
    .argument("<stores...>", "the stores, e.g. DIR/tasks/*.db")
    .requiredOption("--out <file>", "the merged store to write, e.g. DIR/suite.db")
    .option("--prefer-latest", "a run completed in two stores: keep the one that ended last (else an error)")
    .option("--force", "replace --out if it exists")
    .option("--suite <name>", "the suite to merge, where a store holds several")
    .option(
      "--sbatch <file>",
      "the array job's script, for the resubmit command (default: found beside tasks/)",
    )
    .option(
      "--json",
      "print the merge (stores, rows, duplicates, incomplete tasks, resubmit command) as JSON",
    )
    .action((stores: string[], o: MergeOpts) => {
      const result = mergeStores(stores, {
        out: o.out,
        preferLatest: o.preferLatest,
        force: o.force,
        suite: o.suite,
        sbatch: o.sbatch,
      });
      if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`${describe(result).join("\n")}\n`);
      if (result.incomplete.length) process.exitCode = 1;
    });
}
