// Which GPUs a command used: while it runs, NVML's running-process lists of every GPU are polled
// (about once a second; both lists cost two short driver calls per GPU) and matched against the
// command's process tree from /proc. A GPU is "used" once any process of the tree appears in
// either list (compute: CUDA; graphics: Vulkan/OpenGL, where Dawn's work shows).
//
// NVML reports PIDs as the host sees them. Inside a container with its own PID namespace those
// do not match the PIDs /proc shows here, so a match there proves nothing; see pidNamespace().
import type { NvmlProcess } from "./nvml.js";
import { type ProcStat, pidNamespace, readProcessTable } from "./proc.js";
import { ProcessTree } from "./process-tree.js";

/** How often the process lists are polled by default. */
export const GPU_POLL_MS = 1000;

/** A process of the command's tree seen on a GPU (largest memory seen, per PID and kind). */
export interface GpuProcessSeen {
  pid: number;
  kind: NvmlProcess["kind"];
  usedGpuMemoryBytes: number | null;
}

export interface GpuUsageOnDevice {
  index: number;
  /** Processes of the command's tree seen in this GPU's lists. */
  processes: GpuProcessSeen[];
  /** Distinct PIDs of other processes seen on this GPU (someone else's work, or host PIDs). */
  otherProcesses: number;
  /** Why this GPU's lists could not be read (the last error), if they could not. */
  error?: string;
  /** Polls whose lists were read. */
  polls: number;
}

export interface GpuUsage {
  devices: GpuUsageOnDevice[];
  polls: number;
  intervalMs: number;
  pidNamespace: ReturnType<typeof pidNamespace>;
  /** Every PID seen in the command's tree. */
  treePids: number[];
}

export interface GpuUsageSources {
  /** One GPU's process lists (the NVML binding's runningProcesses). */
  listProcesses(index: number): NvmlProcess[];
  /** The current /proc process table (default: readProcessTable()). */
  processTable?: () => ReadonlyMap<number, ProcStat>;
  /** Default: pidNamespace(). */
  namespace?: ReturnType<typeof pidNamespace>;
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Accumulates what successive polls saw; poll() is synchronous and cheap. */
export class GpuUsageMonitor {
  private readonly tree: ProcessTree;
  private readonly seen = new Map<number, Map<string, GpuProcessSeen>>();
  private readonly others = new Map<number, Set<number>>();
  private readonly errors = new Map<number, string>();
  private readonly readPolls = new Map<number, number>();
  private polls = 0;

  constructor(
    private readonly sources: GpuUsageSources,
    private readonly gpus: readonly number[],
    rootPid: number,
    private readonly intervalMs = GPU_POLL_MS,
  ) {
    this.tree = new ProcessTree(rootPid);
  }

  poll(): void {
    this.polls++;
    // The lists first, then /proc: a process the driver lists is then in the table (unless it
    // has exited), so a new grandchild is matched in the poll that first sees it on a GPU.
    const lists = new Map<number, NvmlProcess[]>();
    for (const index of this.gpus) {
      try {
        lists.set(index, this.sources.listProcesses(index));
        this.readPolls.set(index, (this.readPolls.get(index) ?? 0) + 1);
      } catch (e) {
        this.errors.set(index, (e as Error).message);
      }
    }
    const table = (this.sources.processTable ?? readProcessTable)();
    this.tree.update(table);
    for (const [index, list] of lists) {
      for (const p of list) {
        if (!this.tree.isMember(p.pid, table)) {
          getOrAdd(this.others, index, () => new Set<number>()).add(p.pid);
          continue;
        }
        const s = getOrAdd(this.seen, index, () => new Map<string, GpuProcessSeen>());
        const key = `${p.pid}/${p.kind}`;
        const before = s.get(key);
        const mem = Math.max(before?.usedGpuMemoryBytes ?? -1, p.usedGpuMemoryBytes ?? -1);
        s.set(key, { pid: p.pid, kind: p.kind, usedGpuMemoryBytes: mem < 0 ? null : mem });
      }
    }
  }

  result(): GpuUsage {
    return {
      devices: this.gpus.map((index) => ({
        index,
        processes: [...(this.seen.get(index)?.values() ?? [])].sort(
          (a, b) => a.pid - b.pid || a.kind.localeCompare(b.kind),
        ),
        otherProcesses: this.others.get(index)?.size ?? 0,
        ...(this.errors.has(index) ? { error: this.errors.get(index) } : {}),
        polls: this.readPolls.get(index) ?? 0,
      })),
      polls: this.polls,
      intervalMs: this.intervalMs,
      pidNamespace: this.sources.namespace ?? pidNamespace(),
      treePids: this.tree.pids(),
    };
  }
}

/**
 * Polls every `intervalMs` from start(rootPid) until stop(), which returns what was seen (no
 * polls if it never started, e.g. a command that could not be spawned). A failing /proc read
 * ends polling, recorded as an error on every GPU, rather than the measurement.
 */
export class GpuUsageWatcher {
  private monitor: GpuUsageMonitor | null = null;
  private timer: NodeJS.Timeout | undefined;
  private failure: string | null = null;

  constructor(
    private readonly sources: GpuUsageSources,
    private readonly gpus: readonly number[],
    private readonly intervalMs = GPU_POLL_MS,
  ) {}

  start(rootPid: number): void {
    const monitor = new GpuUsageMonitor(this.sources, this.gpus, rootPid, this.intervalMs);
    this.monitor = monitor;
    this.timer = setInterval(() => {
      try {
        monitor.poll();
      } catch (e) {
        this.failure = `process table unreadable: ${(e as Error).message}`;
        clearInterval(this.timer);
      }
    }, this.intervalMs);
    // Never keep the process alive for this alone.
    this.timer.unref();
  }

  stop(): GpuUsage {
    clearInterval(this.timer);
    const usage = (
      this.monitor ?? new GpuUsageMonitor(this.sources, this.gpus, -1, this.intervalMs)
    ).result();
    if (this.failure) for (const d of usage.devices) d.error ??= this.failure;
    return usage;
  }
}
