// RAPL energy counters through Linux powercap: /sys/class/powercap/intel-rapl:N (a package) and
// intel-rapl:N:M (its subdomains: core, uncore, dram). AMD Zen exposes the same interface
// (the intel_rapl driver supports it since Linux 5.8). energy_uj counts µJ and wraps at
// max_energy_range_uj; the source unwraps it into a monotonically increasing joule count,
// which is correct as long as it is read at least once per wrap period (minutes at full load).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { monotonicMs } from "./clock.js";
import { TelemetryError } from "./errors.js";
import type { Availability, ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

export const DEFAULT_POWERCAP_ROOT = "/sys/class/powercap";

export interface RaplDomain {
  /** Channel id, e.g. "rapl:package-0", "rapl:package-0/dram". */
  id: string;
  component: "cpu" | "dram";
  dir: string;
  name: string;
  maxRangeUj: number;
}

function readNumber(path: string): number {
  const v = Number(readFileSync(path, "utf8").trim());
  if (!Number.isFinite(v)) throw new TelemetryError(`${path}: not a number`);
  return v;
}

/**
 * The package and DRAM domains under `root`, or why there are none / they can't be read.
 * Core/uncore subdomains are skipped: they are parts of the package's figure.
 */
export function probeRapl(root = DEFAULT_POWERCAP_ROOT): {
  domains: RaplDomain[];
  availability: Availability;
} {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      domains: [],
      availability: {
        available: false,
        reason:
          code === "ENOENT"
            ? `no ${root} (no powercap/RAPL here: a VM, a non-x86 host, or the intel_rapl driver is not loaded)`
            : `cannot list ${root}: ${(e as Error).message}`,
      },
    };
  }
  const zones = entries.filter((e) => /^intel-rapl:\d+(:\d+)?$/.test(e)).sort();
  if (!zones.length)
    return { domains: [], availability: { available: false, reason: `${root} has no intel-rapl:* zones` } };
  const domains: RaplDomain[] = [];
  for (const zone of zones) {
    const dir = join(root, zone);
    let name: string;
    try {
      name = readFileSync(join(dir, "name"), "utf8").trim();
    } catch {
      continue;
    }
    const parts = zone.split(":");
    const isPackage = parts.length === 2 && name.startsWith("package");
    const isDram = name === "dram";
    if (!isPackage && !isDram) continue;
    const parent = parts.length === 3 ? `package-${parts[1]}/` : "";
    try {
      readNumber(join(dir, "energy_uj"));
      domains.push({
        id: `rapl:${parent}${name}`,
        component: isDram ? "dram" : "cpu",
        dir,
        name,
        maxRangeUj: readNumber(join(dir, "max_energy_range_uj")),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "EACCES" || code === "EPERM"
          ? `permission denied reading ${join(dir, "energy_uj")} (root-only since the PLATYPUS fix, CVE-2020-8694; run as root or chmod o+r it)`
          : `cannot read ${join(dir, "energy_uj")}: ${(e as Error).message}`;
      return { domains: [], availability: { available: false, reason: why } };
    }
  }
  if (!domains.length)
    return {
      domains,
      availability: { available: false, reason: `${root} has no package or dram RAPL domain` },
    };
  return {
    domains,
    availability: { available: true, detail: `RAPL domains: ${domains.map((d) => d.id).join(", ")}` },
  };
}

/** Unwraps a counter that wraps at `range`: returns a cumulative count that never decreases. */
export class WrapUnwrapper {
  private last: number | null = null;
  private offset = 0;
  wraps = 0;

  constructor(private readonly range: number) {}

  next(raw: number): number {
    if (this.last !== null && raw < this.last) {
      this.offset += this.range;
      this.wraps++;
    }
    this.last = raw;
    return raw + this.offset;
  }
}

export class RaplSource implements TelemetrySource {
  readonly name = "rapl";
  readonly channels: ChannelInfo[];
  private readonly unwrappers: WrapUnwrapper[];

  constructor(private readonly domains: RaplDomain[]) {
    if (!domains.length) throw new TelemetryError("RaplSource needs at least one domain (see probeRapl)");
    this.channels = domains.map((d) => ({
      id: d.id,
      component: d.component,
      source: `RAPL ${d.id.slice("rapl:".length)}`,
      counter: "counter" as const,
      // RAPL's energy status registers update about every millisecond (Intel SDM vol. 3B, 14.9).
      updatePeriodMs: 1,
    }));
    this.unwrappers = domains.map((d) => new WrapUnwrapper(d.maxRangeUj));
  }

  read(): ChannelReading[] {
    const t = monotonicMs();
    return this.domains.map((d, i) => ({
      channel: d.id,
      energyJ: this.unwrappers[i].next(readNumber(join(d.dir, "energy_uj"))) / 1e6,
      t,
    }));
  }
}
