// `halfwatt tune` end to end on this adapter: a small product tuned into a temporary cache, the
// JSON document valid, the cache written with the fastest candidate, products too big for the
// adapter skipped with the reason, bad --shape refused before any work.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const BIN = "dist/src/cli/main.js";
const dir = mkdtempSync(join(tmpdir(), "halfwatt-tune-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tune = (args: string[]) =>
  spawnSync(process.execPath, [BIN, "tune", ...args], { encoding: "utf8", timeout: 300_000 });

describe.skipIf(!existsSync(BIN))("halfwatt tune", () => {
  it("tunes a product into the cache and skips what the adapter cannot hold", () => {
    const cache = join(dir, "cache.json");
    const r = tune([
      "--shape",
      "40x24x70:f32>f32:bias",
      "--shape",
      "70000x70000x16:f32>f32",
      "--samples",
      "1",
      "--cache",
      cache,
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      written: boolean;
      results: {
        key: string;
        best: { seconds: number; choice: unknown };
        candidates: { seconds: number | null }[];
      }[];
      skipped: { key: string; reason: string }[];
    };
    expect(doc.written).toBe(true);
    expect(doc.results.map((x) => x.key)).toEqual(["f32>f32 40x24x70 +bias"]);
    const timed = doc.results[0].candidates.filter((c) => c.seconds !== null).map((c) => c.seconds as number);
    expect(timed.length).toBeGreaterThan(3);
    expect(doc.results[0].best.seconds).toBeLessThanOrEqual(Math.min(...timed));
    expect(doc.skipped).toHaveLength(1);
    expect(doc.skipped[0].reason).toMatch(/exceeds this adapter's \d+-byte binding limit/);
    const file = JSON.parse(readFileSync(cache, "utf8")) as {
      adapters: Record<string, { entries: Record<string, { choice: unknown }> }>;
    };
    const [section] = Object.values(file.adapters);
    expect(section.entries["f32>f32 40x24x70 +bias"].choice).toEqual(doc.results[0].best.choice);
    // On a CPU adapter (lavapipe, CI) the lanes kernel is among the candidates, and timed.
    const adapter = Object.keys(file.adapters)[0];
    if (/llvmpipe|lavapipe/i.test(adapter)) {
      const lanes = (
        doc.results[0].candidates as { choice: { variant: string }; seconds: number | null }[]
      ).filter((c) => c.choice.variant === "lanes");
      expect(lanes.length).toBeGreaterThan(0);
      expect(lanes.some((c) => c.seconds !== null)).toBe(true);
    }
  });

  it("--neurons replaces the default widths (it used to append to 1024,2048)", async () => {
    const { Command } = await import("commander");
    const { register, widthsToTune } = await import("../../src/cli/commands/tune.js");
    const program = new Command();
    register(program);
    const cmd = program.commands.find((c) => c.name() === "tune");
    const neurons = cmd?.options.find((o) => o.long === "--neurons");
    expect(neurons?.defaultValue).toBeUndefined();
    expect(widthsToTune([256])).toEqual([[256]]);
    expect(widthsToTune(undefined)).toEqual([[1024], [2048]]);
  });

  it("a corrupt --cache: advice that works (move, delete, another --cache), and --replace-cache overwrites it", () => {
    const cache = join(dir, "corrupt.json");
    writeFileSync(cache, "{ not json");
    const shape = ["--shape", "8x8x8:f32>f32", "--samples", "1", "--cache", cache];
    const r = tune([...shape, "--json"]);
    expect(r.status).toBe(2);
    const message = JSON.parse(r.stdout).error.message as string;
    expect(message).toContain(`${cache} is not valid JSON`);
    expect(message).toContain("move or delete it, or pass another --cache");
    expect(message).not.toMatch(/re-run halfwatt tune/);
    expect(readFileSync(cache, "utf8")).toBe("{ not json"); // left alone without the flag
    const again = tune([...shape, "--replace-cache", "--json"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${cache} is not a readable tune cache: replacing it`);
    const file = JSON.parse(readFileSync(cache, "utf8")) as { format: string; adapters: object };
    expect(file.format).toBe("halfwatt-gemm-tune");
    expect(Object.keys(file.adapters)).toHaveLength(1);
    // A folder as --cache is refused before any timing.
    expect(tune(["--shape", "8x8x8:f32>f32", "--cache", dir]).status).toBe(2);
  });

  it("refuses a malformed --shape before opening the GPU, as JSON with --json", () => {
    const r = tune(["--shape", "40x24", "--json"]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/--shape: expected MxNxK/);
  });
});
