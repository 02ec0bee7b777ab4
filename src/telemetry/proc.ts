// Parsers for the /proc files the CPU and RAM models read. Each takes the file's text so the
// tests can feed it fixtures; the readers take a path so they can be pointed elsewhere.
import { readFileSync } from "node:fs";
import { TelemetryError } from "./errors.js";

/** The aggregate `cpu` line of /proc/stat, in USER_HZ ticks. */
export interface CpuTimes {
  /** idle + iowait: time the CPUs had nothing to run. */
  idle: number;
  /** Every column (user … steal), guest time excluded since it is already inside user/nice. */
  total: number;
}

export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new TelemetryError("/proc/stat: no aggregate 'cpu' line");
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((v) => !Number.isFinite(v)))
    throw new TelemetryError(`/proc/stat: cannot parse "${line}"`);
  // user nice system idle iowait irq softirq steal guest guest_nice (see proc(5))
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { idle: idle + iowait, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** Busy fraction (0..1) between two /proc/stat readings; null when no ticks elapsed. */
export function utilisation(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total;
  if (total <= 0) return null;
  const busy = total - (after.idle - before.idle);
  return Math.min(1, Math.max(0, busy / total));
}

export function readCpuTimes(path = "/proc/stat"): CpuTimes {
  return parseProcStat(readFileSync(path, "utf8"));
}

/** MemTotal from /proc/meminfo, in bytes. */
export function parseMemTotalBytes(text: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  if (!m) throw new TelemetryError("/proc/meminfo: no MemTotal line");
  return Number(m[1]) * 1024;
}

export interface CpuInfo {
  /** The first `model name` (all packages of a machine are the same model). */
  model: string;
  /** Logical CPUs this OS sees (processor entries). */
  logicalCpus: number;
  /** Distinct `physical id`s: sockets. 1 when the field is absent (many VMs). */
  packages: number;
}

export function parseCpuInfo(text: string): CpuInfo {
  const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? "";
  const logicalCpus = (text.match(/^processor\s*:/gm) ?? []).length;
  const ids = new Set([...text.matchAll(/^physical id\s*:\s*(\d+)/gm)].map((m) => m[1]));
  return { model, logicalCpus, packages: Math.max(1, ids.size) };
}
