// Writing the report's files (issue 17): each through a temporary file and a rename, so a full
// disk never leaves a truncated report; a failure names the file and says `halfwatt report`
// rebuilds it. The full disk is /dev/full (every write fails with ENOSPC) behind report.html as a
// symlink: written in place, the report would fail there; renamed over it, it cannot.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/report.js";
import { mainFixture } from "./fixture.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-report-write-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync("/dev/full"))("writing the report", () => {
  it("goes through a temporary file and a rename: a report.html on a full disk is replaced, never written into", async () => {
    const out = join(dir, "full");
    mkdirSync(out);
    symlinkSync("/dev/full", join(out, "report.html"));
    const report = await writeReport(mainFixture(), out);
    expect(lstatSync(join(out, "report.html")).isFile()).toBe(true);
    expect(readFileSync(join(out, "report.html"), "utf8")).toBe(report.html);
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a file that cannot be written: the error names it and how to rebuild the report; no temporary file left; the earlier report.md kept", async () => {
    const out = join(dir, "blocked");
    // report.html is a folder with a file in it: no rename can replace it.
    mkdirSync(join(out, "report.html"), { recursive: true });
    writeFileSync(join(out, "report.html", "keep"), "x");
    writeFileSync(join(out, "report.md"), "EARLIER");
    const store = join(dir, "results.sqlite");
    const failed = writeReport(mainFixture(), out, { store });
    await expect(failed).rejects.toMatchObject({ code: "E_RUNTIME" });
    await expect(writeReport(mainFixture(), out, { store })).rejects.toThrow(
      new RegExp(
        `^cannot write ${join(out, "report.html").replace(/[.\\/]/g, "\\$&")}: .*; \`halfwatt report ${store.replace(/[.\\/]/g, "\\$&")} --out ${out.replace(/[.\\/]/g, "\\$&")}\` rebuilds the report from the store$`,
      ),
    );
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readFileSync(join(out, "report.md"), "utf8")).toBe("EARLIER");
  });
});
