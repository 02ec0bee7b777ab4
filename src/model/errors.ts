// Typed errors for the model code (reference MLP, checkpoint files), on the project's base class
// (src/errors.ts). `code` is the project-wide one (E_INPUT: the caller's input or file is unusable,
// exit status 2; E_RUNTIME: an I/O failure); `reason` says more precisely what was wrong, so the
// trainer can react without parsing messages. The message names the file, tensor or shape.
import { HalfwattError } from "../errors.js";

export type ModelErrorReason =
  | "bad-shape"
  | "bad-value"
  | "bad-label"
  | "bad-dtype"
  | "bad-header"
  | "bad-offsets"
  | "bad-metadata"
  | "io";

export class ModelError extends HalfwattError {
  constructor(
    readonly reason: ModelErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(reason === "io" ? "E_RUNTIME" : "E_INPUT", message, options);
  }
}
