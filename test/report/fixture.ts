// A SuiteResults built in code, with energies chosen so that every figure in the report can be
// computed by hand in the tests. Per run: phases idle-baseline (−20..0 s), train (0..100 s), test
// (100..110 s); GPU by NVML counter (measured), CPU by a model (estimated), DRAM by a model
// (estimated). The GPU's idle baseline is 20 W (or the run's idleGpuW), the CPU's 5 W, DRAM's 3 W.
import { openStore } from "../../src/experiment/store.js";
import type {
  EnergyRecord,
  PlannedRun,
  RunConfiguration,
  RunRecord,
  SampleRecord,
  SuiteResults,
  SuiteSpec,
} from "../../src/experiment/types.js";
import type { EpochResult } from "../../src/model/trainer.js";

export const TRAIN_S = 100;
export const TEST_S = 10;
export const BASELINE_W = { gpu: 20, cpu: 5, dram: 3 } as const;
export const INTENSITY = 268;
export const PUE = 1.2;

export function configuration(
  id: string,
  precision: "f32" | "mixed",
  batch: number,
  neurons: number,
): RunConfiguration {
  return { id, precision, batch, neurons: [neurons], epochs: 3, optimizer: { name: "adam", lr: 0.001 } };
}

export const CONFIGS = [
  configuration("f32-b32-n1024", "f32", 32, 1024),
  configuration("mixed-b32-n1024", "mixed", 32, 1024),
  configuration("mixed-b256-n1024", "mixed", 256, 1024),
];

export interface RunSpec {
  config: RunConfiguration;
  /** GPU net joules in train and test. */
  gpuTrainJ: number;
  gpuTestJ: number;
  /** CPU net joules in train (estimated); DRAM net in train (estimated). */
  cpuTrainJ?: number;
  dramTrainJ?: number;
  /** Validation accuracy per epoch; each epoch lasts 30 s unless epochSeconds says otherwise. */
  validAccuracy?: number[];
  epochSeconds?: number[];
  /** Test accuracy of the final model (default 0.85). */
  testAccuracy?: number;
  status?: RunRecord["status"];
  /** The plan slot (default: the run's position), and the replicate (default: counted per config):
   * set both to model an attempt that a resumed suite redid in the same slot. */
  planIndex?: number;
  replicate?: number;
  noBaseline?: boolean;
  trainSeconds?: number;
  /** Phase durations, s (default TRAIN_S, TEST_S). */
  trainS?: number;
  testS?: number;
  /** The device: host (default "test-host") and NVML GPU index (absent: no env.gpu, as one GPU). */
  device?: { hostname?: string; gpu: number };
  /** Other runs were in flight on the host (env.overlapped); CPU/DRAM rows then marked shared. */
  overlapped?: boolean;
  /** The GPU's idle power, W (default BASELINE_W.gpu). */
  idleGpuW?: number;
}

/** The runner's name for the idle-baseline phase (RUN_PHASES.baseline). */
export const BASELINE_PHASE = "idle-baseline";

function record(
  phase: string,
  component: "gpu" | "cpu" | "dram",
  netJ: number,
  seconds: number,
  noBaseline: boolean,
  baselineW: number = BASELINE_W[component],
): EnergyRecord {
  const provenance = component === "gpu" ? "counter" : "estimated";
  const source = component === "gpu" ? "NVML GPU 0" : component === "cpu" ? "CPU model (TDP)" : "RAM model";
  const grossJ = netJ + baselineW * seconds;
  return {
    phase,
    component,
    channel: null,
    source,
    provenance,
    grossJ,
    netJ: noBaseline ? null : netJ,
    seconds,
    meanPowerW: grossJ / seconds,
  };
}

function epochs(acc: number[], seconds: number[] = []): EpochResult[] {
  const split = (loss: number, accuracy: number) => ({
    loss,
    accuracy,
    top5: 1,
    samples: 100,
    nonFiniteRows: 0,
  });
  return acc.map((a, i) => ({
    epoch: i + 1,
    train: split(2 / (i + 1), a),
    valid: split(2.1 / (i + 1), a),
    seconds: seconds[i] ?? 30,
    samplesPerSecond: 100,
    steps: 10,
    skippedSteps: 0,
  }));
}

export function makeRun(id: number, replicate: number, r: RunSpec): RunRecord {
  const noBaseline = r.noBaseline ?? false;
  const trainS = r.trainS ?? TRAIN_S;
  const testS = r.testS ?? TEST_S;
  const idleW = r.idleGpuW ?? BASELINE_W.gpu;
  const shared = r.overlapped ? { shared: true } : {};
  const energy: EnergyRecord[] = [
    // The baseline itself and a per-channel row: neither may enter the report's sums.
    record(BASELINE_PHASE, "gpu", 0, 20, noBaseline, idleW),
    { ...record("train", "gpu", 999999, trainS, noBaseline, idleW), channel: "nvml:0" },
    record("train", "gpu", r.gpuTrainJ, trainS, noBaseline, idleW),
    record("test", "gpu", r.gpuTestJ, testS, noBaseline, idleW),
  ];
  if (r.cpuTrainJ !== undefined)
    energy.push({ ...record("train", "cpu", r.cpuTrainJ, trainS, noBaseline), ...shared });
  if (r.dramTrainJ !== undefined)
    energy.push({ ...record("train", "dram", r.dramTrainJ, trainS, noBaseline), ...shared });
  const status = r.status ?? "completed";
  return {
    id,
    index: r.planIndex ?? id - 1,
    block: replicate - 1,
    configId: r.config.id,
    replicate,
    seed: 1000 + id,
    config: r.config,
    status,
    env: {
      adapter: "llvmpipe (LLVM 19)",
      driver: "Mesa 25.0",
      hostname: r.device?.hostname ?? "test-host",
      versions: { node: "24.0.0", halfwatt: "0.1.0" },
      ...(r.device
        ? {
            gpu: {
              index: r.device.gpu,
              pciBusId: `00000000:0${r.device.gpu + 7}:00.0`,
              uuid: `GPU-${r.device.gpu}`,
              name: "NVIDIA H200",
            },
          }
        : {}),
      ...(r.overlapped !== undefined ? { overlapped: r.overlapped, worker: r.device?.gpu ?? 0 } : {}),
    },
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: status === "completed" ? "2026-01-01T00:02:00.000Z" : null,
    seconds: status === "completed" ? (r.trainSeconds ?? trainS) : null,
    error: status === "completed" ? null : "device lost",
    epochs: epochs(r.validAccuracy ?? [0.5, 0.8, 0.9], r.epochSeconds),
    test:
      status === "completed"
        ? { loss: 0.5, accuracy: r.testAccuracy ?? 0.85, top5: 1, samples: 100, nonFiniteRows: 0 }
        : null,
    lossScale: null,
    kernels: [],
    phases: [
      { name: BASELINE_PHASE, startMs: -20000, endMs: 0 },
      { name: "train", startMs: 0, endMs: trainS * 1000 },
      { name: "test", startMs: trainS * 1000, endMs: (trainS + testS) * 1000 },
    ],
    energy: status === "completed" ? energy : [],
    carbon: status === "completed" ? { intensity: INTENSITY, pue: PUE, source: "constant" } : null,
    gpuTempC: null,
  };
}

/** GPU power and counter readings at 1 Hz across the run, CPU model power. */
export function makeSamples(run: RunRecord): SampleRecord[] {
  const out: SampleRecord[] = [];
  const end = run.phases.at(-1)?.endMs ?? 0;
  let energy = 0;
  for (let t = -20000; t <= end; t += 1000) {
    const watts = t < 0 ? 20 : 120 + 10 * Math.sin(t / 7000);
    energy += watts;
    out.push({ t, channel: "nvml:0", powerW: watts });
    out.push({ t, channel: "nvml:0", energyJ: energy });
    out.push({ t, channel: "cpu-model", powerW: t < 0 ? 5 : 30 });
  }
  return out;
}

export function makeResults(
  specs: RunSpec[],
  options: { planned?: number; notes?: string[]; spec?: Partial<SuiteSpec> } = {},
): SuiteResults {
  const counts = new Map<string, number>();
  const runs = specs.map((s, i) => {
    const replicate = s.replicate ?? (counts.get(s.config.id) ?? 0) + 1;
    if (s.replicate === undefined) counts.set(s.config.id, replicate);
    return makeRun(i + 1, replicate, s);
  });
  const configs = [...new Map(specs.map((s) => [s.config.id, s.config])).values()];
  const spec: SuiteSpec = {
    name: "fixture-suite",
    data: "synthetic:classes=10,size=8",
    replicates: 3,
    seed: 1,
    configurations: configs,
    baselineSeconds: 20,
    cooldown: { withinCelsius: 3, maxSeconds: 0 },
    carbon: { source: { kind: "constant", intensity: INTENSITY }, pue: PUE },
    telemetry: { hz: 1 },
    origin: "test",
    ...options.spec,
  };
  const samples = new Map(runs.map((r) => [r.id, r.status === "completed" ? makeSamples(r) : []]));
  return {
    suite: {
      id: 7,
      name: "fixture-suite",
      spec,
      createdAt: "2026-01-01T00:00:00.000Z",
      plan: Array.from({ length: options.planned ?? runs.length }, (_, i) => ({
        index: i,
        block: 0,
        configId: runs[i % runs.length].configId,
        replicate: 1,
        seed: i,
      })),
      notes: options.notes ?? ["RAPL unavailable: CPU estimated from TDP"],
      idleTempC: null,
    },
    runs,
    samples: (id) => samples.get(id) ?? [],
  };
}

/** The main fixture: 3 configurations × 3 replicates, and one failed run. GPU net kJ per run:
 * f32: 11.0, 11.2, 10.8 (train 10, 10.2, 9.8 + test 1); mixed-b32: 9.5, 9.9, 9.7;
 * mixed-b256: 8.0, 8.6, 8.3. CPU (estimated) 2 kJ in train for every run, DRAM 0.5 kJ. */
export const GPU_KJ: Record<string, number[]> = {
  "f32-b32-n1024": [11.0, 11.2, 10.8],
  "mixed-b32-n1024": [9.5, 9.9, 9.7],
  "mixed-b256-n1024": [8.0, 8.6, 8.3],
};

/** Test accuracy per run: mixed-b32 within 0.1 point of its f32 twin (SD 0.2 points each). */
export const TEST_ACCURACY: Record<string, number[]> = {
  "f32-b32-n1024": [0.85, 0.852, 0.848],
  "mixed-b32-n1024": [0.851, 0.853, 0.849],
  "mixed-b256-n1024": [0.84, 0.83, 0.845],
};

export function mainFixture(): SuiteResults {
  const specs: RunSpec[] = [];
  for (let rep = 0; rep < 3; rep++)
    for (const c of CONFIGS)
      specs.push({
        config: c,
        gpuTrainJ: GPU_KJ[c.id][rep] * 1000 - 1000,
        gpuTestJ: 1000,
        cpuTrainJ: 2000,
        dramTrainJ: 500,
        validAccuracy: c.precision === "f32" ? [0.5, 0.8, 0.9] : [0.6, 0.85, 0.88],
        testAccuracy: TEST_ACCURACY[c.id][rep],
      });
  specs.push({ config: CONFIGS[2], gpuTrainJ: 1, gpuTestJ: 1, status: "failed" });
  return makeResults(specs, { planned: 10 });
}

/**
 * Two devices (one host, GPUs 0 and 1), each running whole blocks — one replicate of every
 * configuration — as `halfwatt suite --devices all` does: replicates 1 and 3 on GPU 0, 2 and 4 on
 * GPU 1. GPU 1 is slower by `offsetKJ` per run (a constant device offset) and idles at 35 W
 * against GPU 0's 20 W; every run overlapped with another. GPU net kJ per run: TWO_BLOCK_KJ[config]
 * [replicate − 1], plus offsetKJ on GPU 1. `drop` leaves out runs by (config id, replicate).
 */
export const TWO_BLOCK_KJ: Record<string, number[]> = {
  "f32-b32-n1024": [11.0, 11.2, 10.9, 11.1],
  "mixed-b32-n1024": [9.6, 9.7, 9.8, 9.5],
  "mixed-b256-n1024": [8.2, 8.4, 8.3, 8.1],
};
export const TWO_BLOCK_IDLE_W = [20, 35];

export function twoBlockFixture(
  offsetKJ = 2,
  options: { drop?: [string, number][]; overlapped?: boolean } = {},
): SuiteResults {
  const specs: RunSpec[] = [];
  for (let rep = 0; rep < 4; rep++)
    for (const c of CONFIGS) {
      if (options.drop?.some(([id, r]) => id === c.id && r === rep + 1)) continue;
      const gpu = rep % 2;
      specs.push({
        config: c,
        gpuTrainJ: (TWO_BLOCK_KJ[c.id][rep] + gpu * offsetKJ) * 1000 - 1000,
        gpuTestJ: 1000,
        cpuTrainJ: 2000,
        dramTrainJ: 500,
        device: { hostname: "node-a", gpu },
        overlapped: options.overlapped ?? true,
        idleGpuW: TWO_BLOCK_IDLE_W[gpu],
      });
    }
  return makeResults(specs);
}

/** Writes a fixture into a new store at `path` through the runner's calls. */
export function writeStore(fixture: SuiteResults, path: string): void {
  const plan: PlannedRun[] = fixture.runs.map((r) => ({
    index: r.index,
    block: r.block,
    configId: r.configId,
    replicate: r.replicate,
    seed: r.seed,
  }));
  const store = openStore(path);
  try {
    const suite = store.openSuite(fixture.suite.spec, plan);
    for (const [i, r] of fixture.runs.entries()) {
      const id = store.startRun(
        suite.id,
        plan[i],
        r.config,
        r.env ?? { adapter: "", driver: null, hostname: "", versions: {} },
        null,
      );
      if (r.status !== "completed") {
        store.failRun(id, "failed", r.error ?? "failed");
        continue;
      }
      for (const e of r.epochs) store.addEpoch(id, e);
      store.addSamples(id, fixture.samples(r.id));
      store.finishRun(id, {
        seconds: r.seconds ?? 0,
        test: r.test,
        lossScale: r.lossScale,
        kernels: r.kernels,
        phases: r.phases,
        energy: r.energy,
        carbon: r.carbon ?? { intensity: 0, pue: 1, source: "" },
        ...(r.diverged !== undefined ? { diverged: r.diverged } : {}),
      });
    }
  } finally {
    store.close();
  }
}
