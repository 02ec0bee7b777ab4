// GPU commands run in a child process (src/cli/dawn-stderr.ts). Dawn's node binding prints every
// uncaptured GPU error from native code to the child's fd 1; that must reach stderr, never stdout,
// so that `--json` stays one JSON document even when the GPU reports an error.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const BIN = "dist/src/cli/main.js";
const dir = mkdtempSync(join(tmpdir(), "halfwatt-gpu-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a GPU command's output channel", () => {
  it("keeps native prints to fd 1 (Dawn's error messages) out of stdout", () => {
    // Stands in for Dawn: in the GPU child only, write straight to fd 1 as native code does.
    const preload = join(dir, "native-print.mjs");
    writeFileSync(
      preload,
      `import { writeSync } from "node:fs";
if (process.env.HALFWATT_STDERR_FILTERED) writeSync(1, "validation:\\nfake native message from the child\\n");\n`,
    );
    const r = spawnSync(process.execPath, ["--import", preload, BIN, "devices", "--json"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("fake native message from the child");
    expect(r.stdout).not.toContain("validation:");
    const doc = JSON.parse(r.stdout) as { adapters: unknown[] };
    expect(Array.isArray(doc.adapters)).toBe(true);
  });
});
