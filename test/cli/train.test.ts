// `halfwatt train` and `halfwatt eval` as a user runs them (the built CLI): one JSON document with
// the fields, a checkpoint that eval scores identically, and bad options refused up front.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const CLI = resolve("dist/src/cli/main.js");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-cli-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DATA = "synthetic:classes=5,size=8,train=200,valid=50,test=50,seed=2";
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, HALFWATT_CACHE: join(dir, "cache") },
  });

describe.skipIf(!existsSync(CLI))("halfwatt train / eval", () => {
  it("train --json: configuration, adapter, epochs, test top-1/top-5, loss scale, kernels; eval agrees", () => {
    const ckpt = join(dir, "m.safetensors");
    const r = run(
      "train",
      "--data",
      DATA,
      "--precision",
      "mixed",
      "--batch",
      "20",
      "--neurons",
      "32,16",
      "--epochs",
      "2",
      "--save",
      ckpt,
      "--json",
    );
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.config).toMatchObject({ precision: "mixed", batch: 20, neurons: [32, 16], epochs: 2 });
    expect(typeof doc.adapter).toBe("string");
    expect(doc.epochs).toHaveLength(2);
    expect(doc.epochs[0].train.samples).toBe(200);
    expect(doc.test.accuracy).toBeGreaterThanOrEqual(0);
    expect(doc.test.top5).toBeGreaterThanOrEqual(doc.test.accuracy);
    expect(doc.lossScale.enabled).toBe(true);
    expect(
      doc.kernels.find(
        (k: { op: string; role: string }) => k.op === "gemm" && k.role.startsWith("forward layer 0"),
      ).input,
    ).toBe("f16");
    expect(doc.checkpoint).toBe(ckpt);
    const e = run("eval", "--checkpoint", ckpt, "--data", DATA, "--json");
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).splits.test.accuracy).toBe(doc.test.accuracy);
    expect(JSON.parse(e.stdout).resized).toBeNull();
    expect(e.stderr).not.toContain("notice");
    // The same set drawn at 16×16: its images are resized to the checkpoint's 8×8, and eval says so.
    const bigger = DATA.replace("size=8", "size=16");
    const r16 = run("eval", "--checkpoint", ckpt, "--data", bigger, "--json");
    expect(r16.status, r16.stderr).toBe(0);
    expect(JSON.parse(r16.stdout).resized).toEqual({ from: "16×16", to: "8×8" });
    expect(r16.stderr).toContain(`notice: ${bigger} has images of 16×16; they are resized to 8×8`);
  });

  it("train --lr 1e30 diverges: stopped after the first NaN epoch, exit 1, one JSON document saying so, no checkpoint; progress still on stderr", () => {
    const ckpt = join(dir, "diverged.safetensors");
    const r = run(
      "train",
      "--data",
      DATA,
      "--batch",
      "20",
      "--neurons",
      "16",
      "--epochs",
      "4",
      "--lr",
      "1e30",
      "--save",
      ckpt,
      "--json",
    );
    expect(r.status, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.diverged).toMatch(/^epoch 1: training loss (NaN|-?Infinity) \(not finite\)$/);
    expect(doc.error).toMatchObject({ code: "E_RUNTIME", message: expect.stringMatching(/diverged/) });
    // Stopped early: one of the four epochs, no test evaluation, no checkpoint of NaN weights.
    expect(doc.epochs).toHaveLength(1);
    expect(doc.stopped).toBe(true);
    expect(doc.test).toBeNull();
    expect(doc.checkpoint).toBeNull();
    expect(existsSync(ckpt)).toBe(false);
    // --json keeps stdout for the document; the epoch lines go to stderr all the same.
    expect(r.stderr).toMatch(/^epoch 1: loss NaN/m);
  });

  it("bad options are refused before any work, as JSON errors with exit 2", () => {
    for (const args of [
      ["--batch", "0"],
      ["--precision", "bf16"],
      ["--neurons", "64,x"],
      ["--lr", "0x10"],
    ]) {
      const r = run("train", "--data", DATA, ...args, "--json");
      expect(r.status, args.join(" ")).toBe(2);
      expect(JSON.parse(r.stdout).error.message).toContain(args[0]);
    }
    const missing = run("train", "--data", join(dir, "no-such-folder"), "--json");
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout).error.message).toContain("no-such-folder");
  });
});
