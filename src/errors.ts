// One base class for every error halfwatt's library throws. Each carries a stable string `code`
// that scripts can match (the CLI prints it in `--json` error objects) and that decides the exit
// status: bad input or usage is the caller's to fix (2), everything else is a runtime failure (1).

export type ErrorCode =
  /** A value the caller passed is unusable: an option, a sample, a parameter out of range. */
  | "E_INPUT"
  /** A command line that does not parse: unknown option, missing argument. */
  | "E_USAGE"
  /** A data file that cannot be read as the CSV it should be (names file, row, column). */
  | "E_CSV"
  /** A result that double precision cannot represent for these inputs (overflow, underflow). */
  | "E_RANGE"
  /** WebGPU: no adapter, lost device, a validation or out-of-memory error. */
  | "E_GPU"
  /** Energy sources and the sampler: a counter that cannot be read, a sampler misused. */
  | "E_TELEMETRY"
  /** A measured command that could not be started. */
  | "E_SPAWN"
  /** Anything else that went wrong while running. */
  | "E_RUNTIME";

/** Codes whose errors the user fixes by changing the input: the CLI exits with 2 for these. */
const INPUT_CODES: ReadonlySet<ErrorCode> = new Set(["E_INPUT", "E_USAGE", "E_CSV", "E_RANGE"]);

export class HalfwattError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** The process exit status the CLI uses for this error. */
  get exitCode(): number {
    return exitCodeOf(this);
  }
}

/** 2 for bad input or usage, 1 for runtime failures and for anything not a HalfwattError. */
export function exitCodeOf(error: unknown): number {
  return error instanceof HalfwattError && INPUT_CODES.has(error.code) ? 2 : 1;
}

/** The code of any thrown value: its own for a HalfwattError, else E_RUNTIME. */
export function codeOf(error: unknown): ErrorCode {
  return error instanceof HalfwattError ? error.code : "E_RUNTIME";
}
