import { describe, expect, it } from "vitest";
import { rampClocks } from "../../src/experiment/clock-ramp.js";
import { useGpu } from "../helpers/gpu.js";

const env = useGpu("clock ramp");

describe("rampClocks", () => {
  it("keeps the device busy for at least the time asked, in several waited-for submissions", async () => {
    const t0 = performance.now();
    const r = await rampClocks(env.ctx, 0.3, 4096);
    const wall = (performance.now() - t0) / 1000;
    expect(r.seconds).toBeGreaterThanOrEqual(0.3);
    expect(r.seconds).toBeLessThanOrEqual(wall);
    expect(r.dispatches).toBeGreaterThan(1);
  });

  it("asked for no ramp, does nothing (lavapipe's default: no clocks to raise)", async () => {
    expect(await rampClocks(env.ctx, 0)).toEqual({ seconds: 0, dispatches: 0 });
  });
});
