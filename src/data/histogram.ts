// The train split's channel statistics from 256-bin histograms of its bytes: exact (integer counts),
// and mergeable, so worker threads can take them beside the pixels. A module of its own because the
// workers import it: cache-writer.ts pulls in zod (~70 ms a worker to load).

/** Exact per-channel mean and population std (0..1 scale) from 256-bin histograms of the bytes. */
export function channelStats(hist: Float64Array, pixels: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let v = 0; v < 256; v++) s += hist[c * 256 + v] * v;
    const m = s / pixels;
    let q = 0;
    for (let v = 0; v < 256; v++) q += hist[c * 256 + v] * (v - m) * (v - m);
    mean.push(m / 255);
    std.push(Math.sqrt(q / pixels) / 255);
  }
  return { mean, std };
}

/** Adds the RGB bytes of `pixels` (HWC, any number of whole pixels) to a 3×256 histogram. */
export function addToHistogram(hist: Float64Array, pixels: Uint8Array): void {
  for (let b = 0; b + 2 < pixels.length; b += 3) {
    hist[pixels[b]]++;
    hist[256 + pixels[b + 1]]++;
    hist[512 + pixels[b + 2]]++;
  }
}
