// The results store's one error type.
import { type ErrorCode, HalfwattError } from "../../errors.js";

/**
 * Store failures. E_INPUT where the user fixes it (a spec that does not match the stored suite,
 * a file that is not a store); E_RUNTIME otherwise (the store is in use, SQLite failed).
 */
export class StoreError extends HalfwattError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
