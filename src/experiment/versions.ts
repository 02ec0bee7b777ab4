// Versions recorded with every run: halfwatt, Node, and the packages whose behaviour shapes the
// numbers (Dawn's webgpu binding, sharp for decoding, better-sqlite3 for the store).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | null {
  try {
    const entry = require.resolve(name);
    let dir = dirname(entry);
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {}
      dir = dirname(dir);
    }
  } catch {}
  return null;
}

function halfwattVersion(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    try {
      const pkg = JSON.parse(readFileSync(join(here, up, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "halfwatt" && pkg.version) return pkg.version;
    } catch {}
  }
  return null;
}

export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  const hw = halfwattVersion();
  if (hw) out.halfwatt = hw;
  for (const name of ["webgpu", "sharp", "better-sqlite3"]) {
    const v = packageVersion(name);
    if (v) out[name] = v;
  }
  return out;
}
