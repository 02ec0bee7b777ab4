// Issue 17 §1, the input items: what the built CLI refuses before any work (exit 2, a plain message
// naming the flag or path; --json: one {"error"} document). Each case was run by hand against the
// old code first: it trained, planned or wrote before failing, or was silently accepted.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planRuns } from "../../src/experiment/plan.js";
import { parseSuiteSpec } from "../../src/experiment/spec.js";
import { openStore } from "../../src/experiment/store.js";

const CLI = resolve("dist/src/cli/main.js");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-cli-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DATA = "synthetic:classes=3,size=4,train=12,valid=6,test=6";
const run = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, HALFWATT_CACHE: join(dir, "cache"), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const aFile = (name: string, text = "x\n") => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
/** Exit 2 and the message: stderr's `halfwatt: …`, or with --json the one error document. */
function refused(args: string[], env?: Record<string, string>): string {
  const r = run(args, env);
  expect(r.status, `${args.join(" ")}\n${r.stderr}`).toBe(2);
  if (args.includes("--json")) {
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(doc.error.code).toMatch(/^E_(INPUT|USAGE|CSV)$/);
    return doc.error.message;
  }
  expect(r.stderr).toMatch(/^halfwatt: /);
  return r.stderr;
}

describe.skipIf(!existsSync(CLI))("train: flags refused, not ignored, before any work", () => {
  const train = (...a: string[]) => ["train", "--data", DATA, "--epochs", "1", ...a];

  it("--loss-scale 1e39 (Infinity in f32), 0 and -1 are refused", () => {
    for (const v of ["1e39", "0", "-1"])
      expect(refused(train("--precision", "mixed", "--loss-scale", v))).toMatch(
        new RegExp(
          `--loss-scale: expected a decimal number > 0 and <= 3\\.4028234663852886e\\+38, got "${v}"`,
        ),
      );
    // The largest float32 itself is a usable scale: the check is not off by one. (Refused later
    // for another reason, so no training: --save into a missing folder.)
    expect(
      refused(
        train(
          "--precision",
          "mixed",
          "--loss-scale",
          "3.4028234663852886e38",
          "--save",
          join(dir, "no", "m.st"),
        ),
      ),
    ).toContain("--save");
  });

  it("--momentum/--nesterov with Adam and --loss-scale with f32: the suite file's rule", () => {
    expect(refused(train("--optimizer", "adam", "--momentum", "0.9", "--json"))).toBe(
      "--momentum: applies to sgd only, not adam (--optimizer adam, --precision f32)",
    );
    expect(refused(train("--loss-scale", "1024"))).toContain(
      "--loss-scale: applies to mixed precision only, not f32",
    );
    expect(refused(train("--loss-scale-interval", "10"))).toContain(
      "--loss-scale-interval: applies to mixed",
    );
    expect(refused(train("--optimizer", "sgd", "--nesterov"))).toContain("--nesterov: needs momentum > 0");
  });

  it("--save into a missing folder or onto a folder, --cache-dir a file: refused before training", () => {
    expect(refused(train("--save", join(dir, "missing", "m.safetensors")))).toContain(
      `--save ${join(dir, "missing", "m.safetensors")}: the folder ${join(dir, "missing")} does not exist`,
    );
    expect(refused(train("--save", dir))).toContain(`--save ${dir}: is a folder`);
    const f = aFile("not-a-folder");
    expect(refused(train("--cache-dir", f))).toContain(`--cache-dir ${f}: is a file, not a folder`);
  });

  it("a corrupt tune cache: train warns once on stderr naming the file", () => {
    const cache = aFile("corrupt-tune.json", "{ not json");
    const r = run(["train", "--data", join(dir, "no-such-data")], { HALFWATT_TUNE_CACHE: cache });
    expect(r.status).toBe(2); // the missing data, after the warning
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning: the GEMM tune cache"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(cache);
    expect(warnings[0]).toContain("move or delete it, or pass another --cache");
  });
});

describe.skipIf(!existsSync(CLI))("bad paths: exit 2 with a plain message naming the path", () => {
  it("suite --out and --cache-dir naming a file", () => {
    const f = aFile("out-file");
    for (const json of [[], ["--json"]]) {
      const m = refused(["suite", "quick", "--out", f, ...json]);
      expect(m).toContain(`--out ${f}: is a file, not a folder`);
      expect(m).not.toMatch(/EEXIST|mkdir/);
    }
    expect(refused(["suite", "quick", "--out", join(dir, "o1"), "--cache-dir", f])).toContain(
      `--cache-dir ${f}: is a file, not a folder`,
    );
  });

  it("export --csv naming a file; report and export of a folder; eval --checkpoint missing", () => {
    const db = join(dir, "r.sqlite");
    openStore(db).close();
    const f = aFile("csv-file");
    expect(refused(["export", db, "--csv", f])).toContain(`--csv ${f}: is a file, not a folder`);
    expect(refused(["report", `${dir}/`, "--out", join(dir, "rep")])).toContain(
      `${dir}/: is a folder, not a results store`,
    );
    expect(refused(["report", db, "--out", f])).toContain(`--out ${f}: is a file, not a folder`);
    expect(refused(["export", `${dir}/`, "--csv", join(dir, "csv")])).toContain(
      "is a folder, not a results store",
    );
    const missing = join(dir, "missing.safetensors");
    expect(refused(["eval", "--checkpoint", missing, "--data", DATA, "--json"])).toBe(
      `--checkpoint ${missing}: no such checkpoint file`,
    );
  });
});

describe.skipIf(!existsSync(CLI))("suite: --resume and the flags", () => {
  it("--resume on a folder without a store: refused, saying what to do (no store created)", () => {
    const out = join(dir, "empty-out");
    mkdirSync(out);
    const m = refused(["suite", "quick", "--out", out, "--resume"]);
    expect(m).toContain(`there is no results store ${join(out, "results.sqlite")}`);
    expect(m).toContain("leave out --resume to start the suite");
    expect(existsSync(join(out, "results.sqlite"))).toBe(false);
  });

  it("--resume with another suite than the store's: refused, naming both", () => {
    const out = join(dir, "other-out");
    const spec = parseSuiteSpec(
      {
        name: "other",
        data: DATA,
        epochs: 1,
        configurations: [{ precision: "f32", batch: 4, neurons: [8] }],
        carbon: { intensity: 100 },
      },
      "test",
    );
    const store = openStore(join(out, "results.sqlite"));
    store.openSuite(spec, planRuns(spec));
    store.close();
    const m = refused(["suite", "quick", "--out", out, "--resume", "--json"]);
    expect(m).toContain('holds suite "other", not "quick"');
    expect(m).toContain("resume with the suite file that started it");
  });

  it("--replicates 1000000 is blamed on the flag", () => {
    const m = refused(["suite", "quick", "--replicates", "1000000"]);
    expect(m).toContain('--replicates: expected an integer >= 1 and <= 1000, got "1000000"');
  });

  it("a JSON suite file with a repeated key, and an alias bomb: exit 2 in the usual format", () => {
    const dup = aFile("dup.json", '{"name": "a", "name": "b"}\n');
    expect(refused(["suite", dup, "--json"])).toContain(
      'JSON: the key "name" appears twice in one object at line 1',
    );
    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    let prev = "a";
    for (const n of "bcdefgh") {
      bomb += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(",")}]\n`;
      prev = n;
    }
    const f = aFile("bomb.yaml", bomb);
    const m = refused(["suite", f]);
    expect(m).toMatch(
      /^halfwatt: .*bomb\.yaml: 1 problem in the suite specification:\n {2}- \(document\): YAML: /,
    );
  });

  it("a carbon series that ended before the runs: refused before planning", () => {
    const csv = aFile(
      "past.csv",
      "timestamp,gco2_per_kwh\n2024-01-01T00:00:00Z,100\n2024-01-02T00:00:00Z,120\n",
    );
    const s = aFile(
      "past-suite.json",
      JSON.stringify({
        name: "p",
        data: DATA,
        epochs: 1,
        configurations: [{ precision: "f32", batch: 4, neurons: [8] }],
        carbon: { csv: "past.csv" },
      }),
    );
    const out = join(dir, "past-out");
    const m = refused(["suite", s, "--out", out]);
    expect(m).toContain(csv);
    expect(m).toContain("after it ends");
    expect(existsSync(join(out, "results.sqlite"))).toBe(false);
  });
});
