// Replaying a step: the dispatches an op library call prepared once (DispatchOptions.record) are
// encoded into one compute pass per step — no shader generation, no bind-group creation, no
// uniform writes — which is what makes a training step cheap on the CPU (after
// tfjs-backend-webgpu's deferred submits). WebGPU orders dispatches within a pass, so one pass
// holds the whole step.
import type { RecordedDispatch } from "../kernels/program.js";

/** Encodes every dispatch of `list` into one compute pass of `encoder`. */
export function encodeDispatches(
  encoder: GPUCommandEncoder,
  list: readonly RecordedDispatch[],
  label?: string,
): void {
  const pass = encoder.beginComputePass(label ? { label } : {});
  let pipeline: GPUComputePipeline | undefined;
  for (const d of list) {
    if (d.pipeline !== pipeline) {
      pass.setPipeline(d.pipeline);
      pipeline = d.pipeline;
    }
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
  pass.end();
}

/**
 * Profiling: one pass per dispatch, each with begin/end timestamps at first + 2i, first + 2i + 1
 * of `querySet` (which needs first + 2·list.length queries), so a step's time splits by kernel;
 * `first` lets several steps share one query set.
 */
export function encodeProfiled(
  encoder: GPUCommandEncoder,
  list: readonly RecordedDispatch[],
  querySet: GPUQuerySet,
  first = 0,
): void {
  list.forEach((d, i) => {
    const pass = encoder.beginComputePass({
      label: d.label,
      timestampWrites: {
        querySet,
        beginningOfPassWriteIndex: first + 2 * i,
        endOfPassWriteIndex: first + 2 * i + 1,
      },
    });
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    pass.end();
  });
}
