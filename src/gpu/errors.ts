// Typed errors for everything that can go wrong between halfwatt and the GPU.
// Each names what it can: the adapter, the operation, the shapes. All are HalfwattErrors with
// code E_GPU, except KernelInputError (E_INPUT: the caller passed shapes or buffers that don't fit).
import { type ErrorCode, HalfwattError } from "../errors.js";

export class HalfwattGpuError extends HalfwattError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? "E_GPU", message, options);
  }
}

/** No WebGPU adapter at all: almost always a missing Vulkan driver. */
export class NoAdapterError extends HalfwattGpuError {
  constructor(detail: string) {
    super(
      `No WebGPU adapter found (${detail}).\n` +
        "halfwatt runs its kernels through Dawn on Vulkan. Install a Vulkan driver:\n" +
        "  - NVIDIA: the proprietary driver (it ships the Vulkan ICD, nvidia_icd.json);\n" +
        "  - no GPU / CI: Mesa's lavapipe >= 24. On Debian 12:\n" +
        "      echo 'deb http://deb.debian.org/debian bookworm-backports main' | sudo tee /etc/apt/sources.list.d/backports.list\n" +
        "      sudo apt-get update && sudo apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers\n" +
        "    (Mesa 22, Debian 12's default, is refused by Dawn.) ./setup.sh does this for you.",
    );
  }
}

/** The adapter named by --adapter / HALFWATT_ADAPTER does not exist (the user's input: E_INPUT). */
export class AdapterNotFoundError extends HalfwattGpuError {
  constructor(wanted: string, available: string[]) {
    super(
      `No adapter matches "${wanted}" (a substring of a name \`halfwatt devices\` prints, or its index). Available: ${available.length ? available.map((a, i) => `[${i}] "${a}"`).join(", ") : "none"}.`,
      { code: "E_INPUT" },
    );
  }
}

/** The device was lost (driver reset, out of memory, destroyed). */
export class DeviceLostError extends HalfwattGpuError {
  constructor(
    readonly adapter: string,
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`GPU device on adapter "${adapter}" was lost (${reason}): ${detail}`);
  }
}

/** A validation / out-of-memory / internal error raised by WebGPU during an operation. */
export class GpuOperationError extends HalfwattGpuError {
  constructor(
    readonly adapter: string,
    readonly operation: string,
    readonly kind: "validation" | "out-of-memory" | "internal" | "uncaptured",
    readonly detail: string,
  ) {
    super(`GPU ${kind} error in ${operation} on adapter "${adapter}": ${detail}`);
  }
}

/** A kernel was called with inputs that don't fit: wrong shapes, buffers too small, past device limits. */
export class KernelInputError extends HalfwattGpuError {
  constructor(
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${detail}`, { code: "E_INPUT" });
  }
}

/** A feature the operation needs is missing on this adapter. */
export class MissingFeatureError extends HalfwattGpuError {
  constructor(
    readonly op: string,
    readonly feature: string,
    readonly adapter: string,
  ) {
    super(`${op} needs the WebGPU feature "${feature}", which adapter "${adapter}" does not offer.`);
  }
}
