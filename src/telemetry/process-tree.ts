// A command's process tree, followed from /proc snapshots: the command itself and every process
// descended from it, including grandchildren that outlive their parent (a shell that forks a
// trainer, a launcher that spawns workers). Members are remembered with their start time, so a
// member reparented to init stays in the tree and a later, unrelated process given a member's
// old PID does not join it.
import type { ProcStat } from "./proc.js";

export class ProcessTree {
  /** PID → start time (clock ticks after boot) of every process ever seen in the tree. */
  private readonly members = new Map<number, number>();

  constructor(readonly rootPid: number) {}

  /** Adds the root (once seen) and every process of `table` descended from a live member. */
  update(table: ReadonlyMap<number, ProcStat>): void {
    const root = table.get(this.rootPid);
    if (root && !this.members.has(this.rootPid)) this.members.set(this.rootPid, root.startTime);
    const children = new Map<number, ProcStat[]>();
    for (const p of table.values()) {
      const list = children.get(p.ppid);
      if (list) list.push(p);
      else children.set(p.ppid, [p]);
    }
    const queue = [...this.members.keys()].filter((pid) => this.isMember(pid, table));
    while (queue.length) {
      const parent = queue.pop() as number;
      const parentStart = this.members.get(parent) as number;
      for (const child of children.get(parent) ?? []) {
        // A child cannot predate its parent; one that does holds a reused PID's parent link.
        if (child.startTime < parentStart || this.members.has(child.pid)) continue;
        this.members.set(child.pid, child.startTime);
        queue.push(child.pid);
      }
    }
  }

  /**
   * Whether `pid` is in the tree: seen as a member, and either gone from `table` (exited since)
   * or still the same process (same start time).
   */
  isMember(pid: number, table?: ReadonlyMap<number, ProcStat>): boolean {
    const start = this.members.get(pid);
    if (start === undefined) return false;
    const now = table?.get(pid);
    return !now || now.startTime === start;
  }

  /** Every PID seen in the tree so far, ascending. */
  pids(): number[] {
    return [...this.members.keys()].sort((a, b) => a - b);
  }
}
