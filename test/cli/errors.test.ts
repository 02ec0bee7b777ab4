// One error base class: every library error is a HalfwattError with a stable code, and the exit
// status follows the code (2 bad input/usage, 1 runtime). Also a scan of the library sources for
// plain `throw new Error` / RangeError / TypeError.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OptionError } from "../../src/cli/options.js";
import { codeOf, exitCodeOf, HalfwattError } from "../../src/errors.js";
import {
  AdapterNotFoundError,
  DeviceLostError,
  GpuOperationError,
  HalfwattGpuError,
  KernelInputError,
  MissingFeatureError,
  NoAdapterError,
} from "../../src/gpu/errors.js";
import { StatsInputError } from "../../src/stats/errors.js";
import { TelemetryError, TelemetryInputError } from "../../src/telemetry/errors.js";
import { WallCsvError } from "../../src/telemetry/wall-meter.js";

describe("HalfwattError", () => {
  const cases: [HalfwattError, string, number][] = [
    [new StatsInputError("x"), "E_INPUT", 2],
    [new StatsInputError("x", {}, "E_CSV"), "E_CSV", 2],
    [new StatsInputError("x", {}, "E_RANGE"), "E_RANGE", 2],
    [new OptionError("--alpha", "0", "a probability"), "E_INPUT", 2],
    [new WallCsvError("m.csv", 3, "bad"), "E_CSV", 2],
    [new TelemetryInputError("bad hz"), "E_INPUT", 2],
    [new TelemetryError("sampler died"), "E_TELEMETRY", 1],
    [new NoAdapterError("none"), "E_GPU", 1],
    [new AdapterNotFoundError("h200", ["llvmpipe"]), "E_INPUT", 2],
    [new DeviceLostError("a", "destroyed", "d"), "E_GPU", 1],
    [new GpuOperationError("a", "gemm", "validation", "d"), "E_GPU", 1],
    [new MissingFeatureError("gemm", "shader-f16", "a"), "E_GPU", 1],
    [new KernelInputError("gemm", "A is 3×4, expected 3×5"), "E_INPUT", 2],
  ];
  it.each(cases)("%s: code and exit status", (e, code, exit) => {
    expect(e).toBeInstanceOf(HalfwattError);
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.exitCode, exitCodeOf(e), codeOf(e)]).toEqual([code, exit, exit, code]);
    expect(e.name).toBe(e.constructor.name);
  });

  it("GPU errors keep their classes, fields and messages", () => {
    const k = new KernelInputError("gemm", "A is 3×4");
    expect(k).toBeInstanceOf(HalfwattGpuError);
    expect([k.op, k.message]).toEqual(["gemm", "gemm: A is 3×4"]);
    const g = new GpuOperationError("lvp", "gemm", "out-of-memory", "too big");
    expect([g.adapter, g.operation, g.kind, g.detail]).toEqual(["lvp", "gemm", "out-of-memory", "too big"]);
  });

  it("anything else is a runtime failure", () => {
    expect([exitCodeOf(new Error("x")), codeOf("x")]).toEqual([1, "E_RUNTIME"]);
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("library code throws only HalfwattErrors", () => {
  it("no `throw new Error`, RangeError or TypeError anywhere in src/", () => {
    const offenders = sources("src").flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          /new (Error|RangeError|TypeError)\(/.test(line) && !line.trim().startsWith("//")
            ? [`${f}:${i + 1}`]
            : [],
        ),
    );
    expect(offenders).toEqual([]);
  });
});
