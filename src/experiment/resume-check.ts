// What --resume may resume: a store that exists and holds this suite. Without these checks
// `--resume` on an empty folder silently started a fresh suite, and with another suite file it
// silently added a second suite to the store (which `report` then showed by default).
import { existsSync } from "node:fs";
import { SuiteError } from "./errors.js";
import { openStore } from "./store.js";

/**
 * Throws a SuiteError (bad input, exit 2) saying what to do when `resume` is asked for but the
 * store at `dbPath` is missing or holds no suite named `suiteName`; does nothing without `resume`.
 */
export function checkResumable(dbPath: string, suiteName: string, resume: boolean | undefined): void {
  if (!resume) return;
  if (!existsSync(dbPath))
    throw new SuiteError(
      `--resume: there is no results store ${dbPath}, so nothing to resume; leave out --resume to start the suite, or give the --out of the suite to finish`,
    );
  const store = openStore(dbPath, { readonly: true });
  let names: string[];
  try {
    names = store.suites().map((s) => s.name);
  } finally {
    store.close();
  }
  if (!names.includes(suiteName))
    throw new SuiteError(
      `--resume: ${dbPath} holds ${names.length ? names.map((n) => `suite "${n}"`).join(", ") : "no suite"}, not "${suiteName}": resume with the suite file that started it, or leave out --resume and choose another --out to start "${suiteName}"`,
    );
}
