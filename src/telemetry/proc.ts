// Parsers for the /proc files the CPU and RAM models read. Each takes the file's text so the
// tests can feed it fixtures; the readers take a path so they can be pointed elsewhere.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
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

/** The fields of /proc/PID/stat that place a process in a tree. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** Clock ticks after boot when it started: tells a process from a later one with its PID. */
  startTime: number;
}

/**
 * /proc/PID/stat (proc(5)): `pid (comm) state ppid … starttime(22nd field) …`. comm may hold
 * spaces and parentheses, so the fields are counted from the last ")".
 */
export function parseProcPidStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  const pid = Number(text.slice(0, text.indexOf(" (")));
  // After ") ": state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice num_threads itrealvalue starttime(22).
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const ppid = Number(f[1]);
  const startTime = Number(f[19]);
  if (close < 0 || !Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(startTime))
    throw new TelemetryError(`/proc/PID/stat: cannot parse "${text.slice(0, 80)}"`);
  return { pid, ppid, startTime };
}

/** Every process /proc shows now, by PID; ones that vanish while being read are left out. */
export function readProcessTable(root = "/proc"): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parseProcPidStat(readFileSync(join(root, name, "stat"), "utf8"));
      table.set(s.pid, s);
    } catch {
      // exited between readdir and read, or unreadable: not in this snapshot
    }
  }
  return table;
}

/** The inode of the initial (host) PID namespace, fixed by the kernel (PROC_PID_INIT_INO). */
export const INIT_PID_NAMESPACE_INODE = 0xeffffffc;

/**
 * Whether this process sees the host's PIDs: "host" in the initial PID namespace, "other" in a
 * container's own one (NVML's process lists hold host PIDs, which then do not match /proc's),
 * "unknown" where /proc/self/ns/pid cannot be read.
 */
export function pidNamespace(root = "/proc"): "host" | "other" | "unknown" {
  try {
    return statSync(join(root, "self/ns/pid")).ino === INIT_PID_NAMESPACE_INODE ? "host" : "other";
  } catch {
    return "unknown";
  }
}
