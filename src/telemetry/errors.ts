// Typed errors of the telemetry layer, all HalfwattErrors: a bad setting or input (E_INPUT), a
// wall-meter file that does not parse (E_CSV), and sources or the sampler failing (E_TELEMETRY).
import { type ErrorCode, HalfwattError } from "../errors.js";

/** An energy source, counter file or the sampler failed while running. */
export class TelemetryError extends HalfwattError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? "E_TELEMETRY", message, options);
  }
}

/** A telemetry setting out of range (sampling rate, TDP, W/GB, idle fraction, wall watts). */
export class TelemetryInputError extends HalfwattError {
  constructor(message: string) {
    super("E_INPUT", message);
  }
}
