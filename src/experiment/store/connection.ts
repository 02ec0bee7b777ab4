// One open handle on a results store, as the modules that read and write its tables use it: the
// database, its path, whether it may write (it holds or joined the lock), and the guard that turns
// any failure into a StoreError naming the store and the operation.
import { HalfwattError } from "../../errors.js";
import type { PlannedRun, RunStatus } from "../types.js";
import type { Db } from "./database.js";
import { StoreError } from "./errors.js";
import type { Row } from "./rows.js";

export class StoreConnection {
  closed = false;
  /** Plans of the suites this handle opened, for startRun's and claimBlock's checks. */
  readonly plans = new Map<number, PlannedRun[]>();

  readonly db: Db;
  readonly path: string;
  /** This handle's lock token; null when opened read-only. */
  readonly token: string | null;
  /** False for a worker that joined another process's lock: close() leaves the lock alone. */
  readonly ownsLock: boolean;

  // Plain fields, not parameter properties: tests run this file under Node's type stripping.
  constructor(db: Db, path: string, token: string | null, ownsLock = true) {
    this.db = db;
    this.path = path;
    this.token = token;
    this.ownsLock = ownsLock;
  }

  /** Runs `fn`, turning anything but a StoreError into one that names the store and the operation. */
  guard<T>(what: string, write: boolean, fn: () => T): T {
    if (this.closed) throw new StoreError("E_RUNTIME", `${what}: the results store ${this.path} is closed`);
    if (write && this.token === null)
      throw new StoreError("E_RUNTIME", `${what}: the results store ${this.path} was opened read-only`);
    try {
      return fn();
    } catch (e) {
      if (e instanceof HalfwattError) throw e;
      throw new StoreError(
        "E_RUNTIME",
        `${what} in the results store ${this.path} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  tx<T>(fn: () => T): T {
    // IMMEDIATE: take the write lock first, so a read-then-write never fails half-way with BUSY.
    return this.db.transaction(fn).immediate();
  }

  suiteRow(suiteId: number): Row {
    const row = this.db.prepare("SELECT * FROM suites WHERE id = ?").get(suiteId) as Row | undefined;
    if (!row) throw new StoreError("E_INPUT", `the results store ${this.path} has no suite ${suiteId}`);
    return row;
  }

  runStatus(runId: number): RunStatus {
    const s = this.db.prepare("SELECT status FROM runs WHERE id = ?").pluck().get(runId) as
      | RunStatus
      | undefined;
    if (s === undefined)
      throw new StoreError("E_INPUT", `the results store ${this.path} has no run ${runId}`);
    return s;
  }

  requireRunning(runId: number, what: string): void {
    const s = this.runStatus(runId);
    if (s !== "running")
      throw new StoreError("E_INPUT", `${what}: run ${runId} in ${this.path} is ${s}, not running`);
  }
}
