// Typed errors for the model code (reference MLP, checkpoint files). `code` lets a caller (the
// CLI, the trainer) react to the kind of failure without parsing messages; the message itself
// names the file, tensor or shape, and is printed as is.

export type ModelErrorCode =
  | "bad-shape"
  | "bad-value"
  | "bad-label"
  | "bad-dtype"
  | "bad-header"
  | "bad-offsets"
  | "bad-metadata"
  | "io";

export class ModelError extends Error {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
