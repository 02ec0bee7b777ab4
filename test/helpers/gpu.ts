// Shared GPU set-up for kernel tests: one device per test file, the seed printed on failure.
import { afterAll, beforeAll, expect } from "vitest";
import { type GpuContext, openDevice } from "../../src/gpu/device.js";
import { makeRng, runSeed } from "./rng.js";

export interface GpuTestEnv {
  ctx: GpuContext;
  rng: () => number;
  seed: number;
}

/** Opens a device before the file's tests and closes it after. Prints the seed once. */
export function useGpu(file: string): GpuTestEnv {
  const env = {} as GpuTestEnv;
  beforeAll(async () => {
    env.seed = runSeed();
    env.rng = makeRng(env.seed);
    env.ctx = await openDevice();
    console.log(
      `${file}: adapter "${env.ctx.adapterName}", seed ${env.seed} (replay: HALFWATT_SEED=${env.seed})`,
    );
  });
  afterAll(() => env.ctx?.destroy());
  return env;
}

export interface Mismatch {
  index: number;
  got: number;
  want: number;
  bound: number;
}

/**
 * Checks |got - want| <= bound(i) for every element (NaN/inf in got fails: outputs are poisoned
 * with NaN before each run, so an unwritten element fails). Reports the worst few with the seed.
 */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  bound: (i: number) => number,
  what: string,
  seed: number,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: Mismatch[] = [];
  for (let i = 0; i < want.length; i++) {
    const b = bound(i);
    const ok = Number.isFinite(got[i]) ? Math.abs(got[i] - want[i]) <= b : Object.is(got[i], want[i]);
    if (!ok) bad.push({ index: i, got: got[i], want: want[i], bound: b });
  }
  if (bad.length) {
    const head = bad
      .slice(0, 5)
      .map((m) => `[${m.index}] got ${m.got} want ${m.want} (bound ${m.bound.toExponential(2)})`)
      .join("; ");
    expect.fail(`${what}: ${bad.length}/${want.length} elements out of bound (seed ${seed}): ${head}`);
  }
}

/**
 * A stand-in device for generating tensor-core specs without a GPU (matrixSpec reads only these):
 * 32-lane subgroups and 48 KiB of workgroup memory, as on the NVIDIA cards measured.
 */
export function stubMatrixCtx(): GpuContext {
  return {
    adapterName: "test adapter",
    caps: { subgroupMaxSize: 32 },
    device: { limits: { maxComputeWorkgroupStorageSize: 49152 } },
  } as unknown as GpuContext;
}
