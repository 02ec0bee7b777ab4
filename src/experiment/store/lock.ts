// The writer's lock: one `lock` row (pid, host, /proc start time, token, since), taken inside
// BEGIN IMMEDIATE. A second process waits for it or fails at once naming the holder. The lock
// dies with its process: a row whose pid no longer runs on this host (gone, a zombie, or reused
// by a process with another start time) is taken over. A suite's worker processes join their
// parent's lock by its token instead of taking one.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Db } from "./database.js";
import { StoreError } from "./errors.js";
import { now, type Row, strOrNull } from "./rows.js";

const POLL_MS = 100;

/** Sleeps the thread: openStore is synchronous (the runner opens the store before anything async). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));
}

/**
 * A process's state letter and start time (clock ticks since boot) from Linux's /proc/PID/stat;
 * null where there is no /proc. The start time tells a reused pid from the lock's writer.
 */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], start: fields[19] };
  } catch {
    return null;
  }
}

/** Whether the process that wrote a lock row still runs (unknowable on another host: assumed so). */
function holderAlive(pid: number, host: string, procStart: string | null): boolean {
  if (host !== hostname()) return true;
  if (pid === process.pid) return true; // another handle of this process (its token differs)
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
  const stat = procStat(pid);
  if (!stat) return true;
  // A zombie has exited (its parent has not reaped it yet); another start time is another process.
  return stat.state !== "Z" && (procStart === null || stat.start === procStart);
}

/** Takes the writer's lock, waiting for its holder (up to timeoutMs) if asked. Returns this handle's token. */
export function acquireLock(db: Db, path: string, wait: boolean, timeoutMs: number): string {
  const token = randomUUID();
  const host = hostname();
  const take = db.transaction((): Row | null => {
    const holder = db.prepare("SELECT pid, host, proc_start, started_at FROM lock WHERE id = 1").get() as
      | Row
      | undefined;
    if (holder && holderAlive(holder.pid as number, holder.host as string, strOrNull(holder.proc_start)))
      return holder;
    db.prepare(
      "INSERT OR REPLACE INTO lock (id, pid, host, proc_start, token, started_at) VALUES (1, ?, ?, ?, ?, ?)",
    ).run(process.pid, host, procStat(process.pid)?.start ?? null, token, now());
    return null;
  });
  const start = Date.now();
  for (;;) {
    const holder = take.immediate();
    if (!holder) return token;
    const waited = Date.now() - start;
    if (!wait || waited >= timeoutMs) {
      const elsewhere =
        holder.host !== host
          ? ` (another host: if that process no longer runs, remove its lock with: sqlite3 ${path} "DELETE FROM lock")`
          : "";
      throw new StoreError(
        "E_RUNTIME",
        `the results store ${path} is in use by halfwatt pid ${holder.pid} on host ${holder.host} since ${holder.started_at}${wait ? ` (waited ${(waited / 1000).toFixed(1)} s)` : ""}: wait for it to finish, or use another --out${elsewhere}`,
      );
    }
    sleepSync(Math.min(POLL_MS, timeoutMs - waited));
  }
}

/** Joins a lock another process holds (a suite's parent), checking it is held and alive. */
export function joinLock(db: Db, path: string, token: string): void {
  const holder = db.prepare("SELECT pid, host, proc_start, token FROM lock WHERE id = 1").get() as
    | Row
    | undefined;
  if (!holder || holder.token !== token)
    throw new StoreError(
      "E_RUNTIME",
      `the results store ${path} is not held by the suite this worker belongs to (its lock is ${holder ? `held by pid ${holder.pid}` : "free"})`,
    );
  if (!holderAlive(holder.pid as number, holder.host as string, strOrNull(holder.proc_start)))
    throw new StoreError("E_RUNTIME", `the suite process (pid ${holder.pid}) holding ${path} is gone`);
}

/** Gives the lock back, if `token` still holds it. */
export function releaseLock(db: Db, token: string): void {
  db.prepare("DELETE FROM lock WHERE token = ?").run(token);
}
