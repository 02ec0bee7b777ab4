// GPU discovery for `--devices`: PCI spellings (NVML's, sysfs/Mesa's, DRI_PRIME's), the Mesa
// device-select layer's list, NVML devices matched to Vulkan devices by PCI address, and the
// choice refused before any work when a GPU cannot be bound. NVML and the layer are stubbed here
// (a 2 × H200 host as seen on the GPU machine); the real layer is asked where it is installed.
import { describe, expect, it } from "vitest";
import {
  discoverGpus,
  driPrimeTag,
  formatNvmlPci,
  formatPci,
  type LayerProbe,
  parseDeviceSelectList,
  parsePciAddress,
  probeDeviceSelectLayer,
  selectGpus,
  withBindEnv,
} from "../../src/gpu/gpus.js";
import type { NvmlSnapshot, NvmlStatus } from "../../src/telemetry/nvml.js";

/**
 * What `MESA_VK_DEVICE_SELECT=list` prints on a host with two H200s (PCI 0000:00:07.0 and
 * 0000:00:08.0) and lavapipe, in Mesa's print_gpu format: `  GPU %d: %x:%x "%s" %s` and, with
 * VK_EXT_pci_bus_info, ` %04x:%02x:%02x.%x`. lavapipe has no PCI address. Written from Mesa's
 * src/vulkan/device-select-layer/device_select_layer.c (and the lavapipe line as seen here).
 */
const LIST_2xH200 = [
  "selectable devices:",
  '  GPU 0: 10de:2335 "NVIDIA H200" discrete GPU 0000:00:07.0',
  '  GPU 1: 10de:2335 "NVIDIA H200" discrete GPU 0000:00:08.0',
  '  GPU 2: 10005:0 "llvmpipe (LLVM 15.0.6, 256 bits)" CPU',
  "",
].join("\n");

function fakeNvml(gpus: { name: string; pciBusId: string; uuid: string }[]): NvmlStatus {
  const snapshot = (i: number): NvmlSnapshot => ({ index: i, ...gpus[i], errors: {} });
  return {
    available: true,
    load: { ok: true, library: "fake", deviceCount: gpus.length, driverVersion: "580.0" },
    binding: { snapshot } as unknown as Extract<NvmlStatus, { available: true }>["binding"],
  };
}
// NVML numbers GPUs by PCI bus order too, but nothing guarantees Vulkan's order matches: list
// them in the opposite order to the layer, so a match by position would be caught.
const NVML_2xH200 = fakeNvml([
  { name: "NVIDIA H200", pciBusId: "00000000:00:08.0", uuid: "GPU-bbbb" },
  { name: "NVIDIA H200", pciBusId: "00000000:00:07.0", uuid: "GPU-aaaa" },
]);
const layer = (text: string): (() => Promise<LayerProbe>) => {
  const devices = parseDeviceSelectList(text);
  return async () =>
    devices ? { present: true, devices } : { present: false, devices: [], reason: "absent" };
};
const noLayer = async (): Promise<LayerProbe> => ({ present: false, devices: [], reason: "no list printed" });
const noNvml: NvmlStatus = { available: false, reason: "no driver" };

describe("PCI addresses", () => {
  it("reads NVML's, sysfs/Mesa's and DRI_PRIME's spellings of one address alike", () => {
    const want = { domain: 0, bus: 0x07, device: 0, function: 0 };
    expect(parsePciAddress("00000000:07:00.0")).toEqual(want);
    expect(parsePciAddress("0000:07:00.0")).toEqual(want);
    expect(parsePciAddress("pci-0000_07_00_0")).toEqual(want);
    expect(parsePciAddress("07:00.0")).toEqual(want);
  });

  it("writes each spelling (hex, widths and case as each consumer wants)", () => {
    // A high bus, device and function and a non-zero domain, so every field's hex and width shows.
    const a = parsePciAddress("00000001:AB:1F.7");
    expect(a).toEqual({ domain: 1, bus: 0xab, device: 0x1f, function: 7 });
    if (!a) return;
    expect(formatPci(a)).toBe("0001:ab:1f.7");
    expect(formatNvmlPci(a)).toBe("00000001:AB:1F.7");
    expect(driPrimeTag(a)).toBe("pci-0001_ab_1f_7");
    // A domain past 9 (hex, as every field): NVML's 8 digits to DRI_PRIME's 4.
    const d = parsePciAddress("0000001A:07:00.0");
    expect(d).toEqual({ domain: 26, bus: 7, device: 0, function: 0 });
    expect(d && driPrimeTag(d)).toBe("pci-001a_07_00_0");
    // NVML's form to DRI_PRIME's, the conversion the workers rely on.
    const nv = parsePciAddress("00000000:3B:00.0");
    expect(nv && driPrimeTag(nv)).toBe("pci-0000_3b_00_0");
    // And back: every spelling parses to the same address.
    for (const s of [formatPci(a), formatNvmlPci(a), driPrimeTag(a)]) expect(parsePciAddress(s)).toEqual(a);
  });

  it("refuses what is not an address", () => {
    for (const bad of [
      "",
      "GPU-aaaa",
      "0000:07:00",
      "0000:07:20.0",
      "0000:07:00.8",
      "pci-0000_07_00",
      "pci-00000000_07_00_0",
    ])
      expect(parsePciAddress(bad), bad).toBeNull();
  });
});

describe("the device-select layer's list", () => {
  it("parses Mesa's print_gpu lines: ids in hex, name, type, PCI where the driver has it", () => {
    const devices = parseDeviceSelectList(LIST_2xH200);
    expect(devices).toEqual([
      {
        index: 0,
        vendorId: 0x10de,
        deviceId: 0x2335,
        name: "NVIDIA H200",
        type: "discrete GPU",
        pci: { domain: 0, bus: 0, device: 7, function: 0 },
      },
      {
        index: 1,
        vendorId: 0x10de,
        deviceId: 0x2335,
        name: "NVIDIA H200",
        type: "discrete GPU",
        pci: { domain: 0, bus: 0, device: 8, function: 0 },
      },
      {
        index: 2,
        vendorId: 0x10005,
        deviceId: 0,
        name: "llvmpipe (LLVM 15.0.6, 256 bits)",
        type: "CPU",
        pci: null,
      },
    ]);
  });

  it("is null without the header (no layer); ignores other output around the list", () => {
    expect(parseDeviceSelectList("")).toBeNull();
    expect(parseDeviceSelectList('  GPU 0: 10de:2335 "NVIDIA H200" discrete GPU 0000:00:07.0')).toBeNull();
    const noisy = `Warning: something\n${LIST_2xH200}Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced\n`;
    expect(parseDeviceSelectList(noisy)).toHaveLength(3);
  });

  it("is what the installed layer prints, where there is one", async () => {
    const probe = await probeDeviceSelectLayer();
    if (!probe.present) {
      console.log(`gpus.test: no device-select layer here (${probe.reason}); its live check is skipped`);
      return;
    }
    expect(probe.devices.length).toBeGreaterThan(0);
    for (const d of probe.devices) expect(d.index).toBe(probe.devices.indexOf(d));
  });
});

describe("discovery", () => {
  it("numbers GPUs as NVML does and matches each to its Vulkan device by PCI address, not position", async () => {
    const d = await discoverGpus({ nvml: NVML_2xH200, probeLayer: layer(LIST_2xH200), env: {} });
    expect(d.basis).toBe("nvml");
    expect(d.gpus.map((g) => [g.index, g.uuid, g.pci, g.pciBusId, g.vulkan?.index])).toEqual([
      [0, "GPU-bbbb", "0000:00:08.0", "00000000:00:08.0", 1],
      [1, "GPU-aaaa", "0000:00:07.0", "00000000:00:07.0", 0],
    ]);
    expect(d.gpus[0].bindEnv).toEqual({
      DRI_PRIME: "pci-0000_00_08_0",
      MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: "1",
      MESA_VK_DEVICE_SELECT: undefined,
      NODEVICE_SELECT: undefined,
    });
    expect(selectGpus(d, "all").map((g) => g.index)).toEqual([0, 1]);
    expect(selectGpus(d, " 1 ").map((g) => g.uuid)).toEqual(["GPU-aaaa"]);
  });

  it("binds a child by environment: DRI_PRIME set, a user's MESA_VK_DEVICE_SELECT removed", async () => {
    const d = await discoverGpus({ nvml: NVML_2xH200, probeLayer: layer(LIST_2xH200), env: {} });
    const env = withBindEnv({ PATH: "/bin", MESA_VK_DEVICE_SELECT: "list" }, d.gpus[1].bindEnv ?? {});
    expect(env).toEqual({
      PATH: "/bin",
      DRI_PRIME: "pci-0000_00_07_0",
      MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: "1",
    });
  });

  it("refuses --devices on a multi-GPU host without the layer, before any work, saying how to install it", async () => {
    const d = await discoverGpus({ nvml: NVML_2xH200, probeLayer: noLayer, env: {} });
    expect(d.gpus.map((g) => g.bindEnv)).toEqual([null, null]);
    for (const wanted of ["all", "0,1", "1"])
      expect(() => selectGpus(d, wanted)).toThrow(
        /2 GPUs.*device-select layer is not available.*apt-get install mesa-vulkan-drivers.*MESA_VK_DEVICE_SELECT=list/s,
      );
  });

  it("refuses unknown, repeated and malformed indices, naming what exists", async () => {
    const d = await discoverGpus({ nvml: NVML_2xH200, probeLayer: layer(LIST_2xH200), env: {} });
    expect(() => selectGpus(d, "0,2")).toThrow(
      /no GPU 2 on this host; it has 2 \(0: NVIDIA H200; 1: NVIDIA H200\)/,
    );
    expect(() => selectGpus(d, "1,1")).toThrow(/GPU 1 is named twice/);
    expect(() => selectGpus(d, "first")).toThrow(/expected "all" or GPU indices/);
    expect(() => selectGpus(d, "")).toThrow(/expected "all"/);
  });

  it("is one GPU, index 0, needing no binding, without NVML and PCI devices (lavapipe, CI)", async () => {
    const lavapipe = `selectable devices:\n  GPU 0: 10005:0 "llvmpipe (LLVM 15.0.6, 256 bits)" CPU\n`;
    for (const probe of [noLayer, layer(lavapipe)]) {
      const d = await discoverGpus({ nvml: noNvml, probeLayer: probe, env: {} });
      expect(d.basis).toBe("single adapter");
      expect(d.gpus).toHaveLength(1);
      expect(d.gpus[0]).toMatchObject({ index: 0, nvmlIndex: null, bindEnv: {} });
      expect(selectGpus(d, "all")).toHaveLength(1);
    }
  });

  it("one NVML GPU needs no layer", async () => {
    const one = fakeNvml([{ name: "NVIDIA H100", pciBusId: "00000000:3B:00.0", uuid: "GPU-1" }]);
    const d = await discoverGpus({ nvml: one, probeLayer: noLayer, env: {} });
    expect(selectGpus(d, "0")[0]).toMatchObject({ index: 0, nvmlIndex: 0, bindEnv: {}, pci: "0000:3b:00.0" });
  });

  it("without NVML, several PCI GPUs come from the layer, in its order (AMD, Intel)", async () => {
    const amd = `selectable devices:\n  GPU 0: 1002:73bf "AMD Radeon RX 6800" discrete GPU 0000:0c:00.0\n  GPU 1: 1002:73bf "AMD Radeon RX 6800" discrete GPU 0000:0d:00.0\n`;
    const d = await discoverGpus({ nvml: noNvml, probeLayer: layer(amd), env: {} });
    expect(d.basis).toBe("device-select layer");
    expect(d.gpus.map((g) => g.bindEnv?.DRI_PRIME)).toEqual(["pci-0000_0c_00_0", "pci-0000_0d_00_0"]);
  });

  it("the test hook gives N logical GPUs on the one adapter, and says so", async () => {
    const d = await discoverGpus({
      nvml: noNvml,
      probeLayer: noLayer,
      env: { HALFWATT_TEST_LOGICAL_GPUS: "3" },
    });
    expect(d.basis).toBe("test hook");
    expect(d.gpus.map((g) => [g.index, g.logical, g.bindEnv])).toEqual([
      [0, true, {}],
      [1, true, {}],
      [2, true, {}],
    ]);
    expect(d.notes.join()).toMatch(/logical GPUs for tests/);
  });
});
