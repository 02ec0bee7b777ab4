// Path checks for command-line options, made before any work: a folder option naming a file, an
// output file in a missing folder or naming a folder, an input file that is missing. Each error
// names the option and the path in plain words and is bad input (E_INPUT, exit status 2), rather
// than the operating system's "EEXIST … mkdir" (exit 1) after the work is done.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { HalfwattError } from "../errors.js";

const statOf = (path: string) => statSync(path, { throwIfNoEntry: false });

/** A folder the command writes into (created if missing): refused when it names something else. */
export function checkOutputFolder(option: string, path: string): void {
  const st = statOf(path);
  if (st && !st.isDirectory())
    throw new HalfwattError(
      "E_INPUT",
      `${option} ${path}: is a file, not a folder; give a folder (created if missing)`,
    );
  // The nearest existing ancestor must be a folder too (a/file.txt/b cannot be created).
  for (let p = dirname(resolve(path)); ; p = dirname(p)) {
    const up = statOf(p);
    if (up) {
      if (!up.isDirectory())
        throw new HalfwattError(
          "E_INPUT",
          `${option} ${path}: ${p} is a file, so the folder cannot be created`,
        );
      return;
    }
    if (dirname(p) === p) return;
  }
}

/** A file the command writes at the end: its folder must exist and the path must not be a folder. */
export function checkOutputFile(option: string, path: string): void {
  const st = statOf(path);
  if (st?.isDirectory())
    throw new HalfwattError(
      "E_INPUT",
      `${option} ${path}: is a folder; give a file name (e.g. ${path}/model.safetensors)`,
    );
  const dir = dirname(resolve(path));
  const d = statOf(dir);
  if (!d)
    throw new HalfwattError(
      "E_INPUT",
      `${option} ${path}: the folder ${dir} does not exist; create it first`,
    );
  if (!d.isDirectory()) throw new HalfwattError("E_INPUT", `${option} ${path}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new HalfwattError("E_INPUT", `${option} ${path}: the folder ${dir} is not writable`);
  }
}

/** A file the command reads (`option` null for an argument): it must exist and be a file. */
export function checkInputFile(option: string | null, path: string, what = "file"): void {
  const st = statOf(path);
  const name = option === null ? path : `${option} ${path}`;
  if (!st) throw new HalfwattError("E_INPUT", `${name}: no such ${what}`);
  if (st.isDirectory()) throw new HalfwattError("E_INPUT", `${name}: is a folder, not a ${what}`);
}
