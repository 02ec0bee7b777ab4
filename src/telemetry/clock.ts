// One clock for every thread. process.hrtime is CLOCK_MONOTONIC, shared by the main thread and
// worker threads, whereas performance.now() counts from each thread's own timeOrigin, so
// timestamps taken in the sampler's worker and phase marks taken on the main thread would not
// line up without correction.

/** Milliseconds on the process-wide monotonic clock (sub-microsecond resolution). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
