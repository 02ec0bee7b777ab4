// What halfwatt keeps per GPUDevice between calls (compiled pipelines, uniform buffers, scratch
// and spare buffers, constant state buffers, the tuned GEMM choices), in one object per device,
// so that "what does this device hold" has one answer. Each kind lives in a named slot declared by
// the module that owns it (that module knows its value type; src/gpu cannot import src/kernels);
// the slot is filled on first use. The object lives as long as its device: nothing here frees a
// buffer early, since work already recorded into an encoder may still use it, and
// GpuContext.destroy() (device.destroy()) releases every buffer of the device at once.

/** The slots there are: one per per-device cache, each owned by one module. */
export type ResourceName =
  | "pipelines" // src/kernels/program.ts: compiled programs by full WGSL source
  | "uniforms" // src/kernels/program.ts: uniform buffers by packed contents
  | "gemm scratch" // src/kernels/gemm-scratch.ts: the split-K workspace and the two dummy bindings
  | "spare buffers" // src/kernels/opcheck.ts: buffers for omitted optional bindings, by key
  | "constant states" // src/kernels/train-state.ts: read-only train-state buffers, by contents
  | "tune choices"; // src/kernels/gemm-tune-cache.ts: tuned GEMM choices that apply to the device

/** A named slot of DeviceResources and how to fill it for a device on first use. */
export interface ResourceSlot<T> {
  readonly name: ResourceName;
  readonly create: (device: GPUDevice) => T;
}

/** Declares a slot (once, at the owning module's top level). */
export function resourceSlot<T>(name: ResourceName, create: (device: GPUDevice) => T): ResourceSlot<T> {
  return { name, create };
}

/** One device's resources, slot by slot. */
export class DeviceResources {
  private readonly slots = new Map<ResourceSlot<unknown>, unknown>();

  constructor(readonly device: GPUDevice) {}

  /** The slot's value for this device, created on first use. */
  get<T>(slot: ResourceSlot<T>): T {
    if (!this.slots.has(slot)) this.slots.set(slot, slot.create(this.device));
    return this.slots.get(slot) as T;
  }

  /** The slot's value if it was ever used on this device, else undefined (creates nothing). */
  peek<T>(slot: ResourceSlot<T>): T | undefined {
    return this.slots.get(slot) as T | undefined;
  }

  /** Replaces the slot's value (the tuner pointing a device at another tune cache). */
  set<T>(slot: ResourceSlot<T>, value: T): void {
    this.slots.set(slot, value);
  }

  /** The value of the slot named `name`, if used on this device (tests, diagnostics: untyped). */
  find(name: ResourceName): unknown {
    for (const [slot, value] of this.slots) if (slot.name === name) return value;
    return undefined;
  }

  /** Names of the slots in use, sorted (tests, diagnostics). */
  names(): ResourceName[] {
    return [...this.slots.keys()].map((s) => s.name).sort();
  }
}

// The only per-device map: weak, so a device no one refers to any more takes its resources along.
const byDevice = new WeakMap<GPUDevice, DeviceResources>();

/** The resources of `device`, created empty on first use. */
export function resourcesOf(device: GPUDevice): DeviceResources {
  let r = byDevice.get(device);
  if (!r) {
    r = new DeviceResources(device);
    byDevice.set(device, r);
  }
  return r;
}
