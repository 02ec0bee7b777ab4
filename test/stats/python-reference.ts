// Finding the python that computes reference values, for comparison tests that are not part of
// scipy.test.ts (same rule as there): HALFWATT_PYTHON when set (and then only it), else `python3` on
// PATH, else /usr/bin/python3 — the first that imports the modules asked for. A missing reference
// skips the comparison on a developer's machine and fails it under CI (env CI set).
import { spawnSync } from "node:child_process";

export type FoundPython = { python: string; versions: string } | { why: string };

/** The first candidate python that imports every module in `modules`, with their versions. */
export function findPython(modules: readonly string[]): FoundPython {
  const env = process.env.HALFWATT_PYTHON;
  const candidates = env ? [env] : ["python3", "/usr/bin/python3"];
  const why: string[] = [];
  const probe = `import ${modules.join(", ")}; print(", ".join(f"{m.__name__} {m.__version__}" for m in [${modules.join(", ")}]))`;
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", probe], { encoding: "utf8" });
    if (r.status === 0) return { python, versions: r.stdout.trim() };
    const err = r.error?.message ?? r.stderr.trim().split("\n").at(-1) ?? `exit ${r.status}`;
    why.push(`${python}${python === env ? " (HALFWATT_PYTHON)" : ""}: ${err}`);
  }
  return { why: why.join("; ") };
}

/** Runs `script` with the JSON `requests` on stdin and parses its JSON answer. */
export function runReference<T>(python: string, script: string, requests: unknown): T {
  const r = spawnSync(python, [script], {
    input: JSON.stringify(requests),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The reference's JSON number, with "inf" / "-inf" / "nan" strings mapped back. */
export function toNumber(x: unknown): number {
  if (x === "inf") return Number.POSITIVE_INFINITY;
  if (x === "-inf") return Number.NEGATIVE_INFINITY;
  if (x === "nan") return Number.NaN;
  return x as number;
}
