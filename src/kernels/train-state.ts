// The training state (shaders/lib/train_state.wgsl): a small u32 buffer holding the values that
// change from step to step — loss scale and its reciprocal, optimizer steps applied, clean steps
// since the scale changed, skipped steps, batch cursors — so that kernels read them from the GPU
// and the step runtime never bakes them into uniforms or reads them back to decide anything.
// Keep the word indices in step with the WGSL constants.
import type { GpuContext } from "../gpu/device.js";
import { resourceSlot, resourcesOf } from "../gpu/resources.js";

export const STATE = {
  scale: 0,
  invScale: 1,
  steps: 2,
  good: 3,
  skipped: 4,
  cursor: 8,
} as const;
/** Words in the buffer (two cursor slots and room to grow); 64 bytes. */
export const STATE_WORDS = 16;

export interface TrainStateValues {
  /** Loss scale S (default 1). 1/S is stored beside it, computed in f64 then rounded. */
  scale?: number;
  /** Optimizer steps applied so far: Adam's t for the next step is steps + 1. */
  steps?: number;
  good?: number;
  skipped?: number;
  /** Batch cursors by slot (sample positions). */
  cursors?: number[];
}

export function stateWords(v: TrainStateValues): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(STATE_WORDS);
  const f = new Float32Array(words.buffer);
  const scale = v.scale ?? 1;
  f[STATE.scale] = scale;
  f[STATE.invScale] = 1 / scale;
  words[STATE.steps] = v.steps ?? 0;
  words[STATE.good] = v.good ?? 0;
  words[STATE.skipped] = v.skipped ?? 0;
  (v.cursors ?? []).forEach((c, i) => {
    words[STATE.cursor + i] = c;
  });
  return words;
}

export function readState(words: Uint32Array): Required<TrainStateValues> {
  const f = new Float32Array(words.buffer, words.byteOffset, STATE_WORDS);
  return {
    scale: f[STATE.scale],
    steps: words[STATE.steps],
    good: words[STATE.good],
    skipped: words[STATE.skipped],
    cursors: [words[STATE.cursor], words[STATE.cursor + 1]],
  };
}

/** Per device: constant state buffers by their words (base64). */
const CONSTANT_STATES = resourceSlot("constant states", () => new Map<string, GPUBuffer>());

/**
 * A read-only state buffer with fixed values, for an op called on its own (tests, bench, CLI):
 * cached by content, so repeated calls with one loss scale and step share a buffer.
 */
export function constantState(ctx: GpuContext, v: TrainStateValues): GPUBuffer {
  const words = stateWords(v);
  const key = Buffer.from(words.buffer).toString("base64");
  const m = resourcesOf(ctx.device).get(CONSTANT_STATES);
  let b = m.get(key);
  if (!b) {
    if (m.size > 256) m.clear(); // values that change every call (a step count) would grow it forever
    b = ctx.device.createBuffer({
      size: words.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      label: "halfwatt constant train state",
    });
    ctx.device.queue.writeBuffer(b, 0, words);
    m.set(key, b);
  }
  return b;
}
