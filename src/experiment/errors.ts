// Errors of the experiment suite that are the user's to fix (exit status 2).
import { HalfwattError } from "../errors.js";

export class SuiteError extends HalfwattError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_INPUT", message, options);
  }
}
