// Wall meters: CSV import (and its errors), manual averages, smart plugs over real HTTP.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  manualWallEnergy,
  parseWallCsv,
  pollPlug,
  readWallCsv,
  SmartPlugSource,
  WallCsvError,
  wallCsvEnergy,
} from "../../src/telemetry/wall-meter.js";

describe("wall meter CSV", () => {
  it("parses ISO and Unix-second timestamps, skipping a header", () => {
    const r = parseWallCsv("timestamp,watts\n2025-01-01T00:00:00Z,100\n1735689601.5,110.5\n");
    expect(r).toEqual([
      { wallMs: Date.UTC(2025, 0, 1), watts: 100 },
      { wallMs: Date.UTC(2025, 0, 1) + 1500, watts: 110.5 },
    ]);
  });

  it.each([
    ["timestamp,watts\n1,100\n2,abc\n", /meter\.csv, row 3: watts "abc" is not a number/],
    ["1,100\nyesterday,5\n", /row 2: timestamp "yesterday"/],
    ["1,100\n2\n", /row 2: expected "timestamp,watts"/],
    ["1,100\n1,100\n", /row 2: .*not after the previous/],
    ["1,100\n2,-4\n", /row 2: watts -4 is negative/],
    ["1,100\n", /needs at least 2 readings/],
  ])("names the file and row: %j", (text, message) => {
    expect(() => parseWallCsv(text, "meter.csv")).toThrow(message);
    expect(() => parseWallCsv(text, "meter.csv")).toThrow(WallCsvError);
  });

  it("reads a file and integrates it per phase on the wall clock", () => {
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-wall-"));
    const file = join(dir, "plug.csv");
    const t0 = 1_700_000_000; // Unix seconds
    // 100 W for the first 10 s, then 300 W (a step at t0+10 between rows).
    const rows = ["timestamp,watts"];
    for (let s = 0; s <= 30; s++) rows.push(`${t0 + s},${s <= 10 ? 100 : 300}`);
    writeFileSync(file, rows.join("\n"));
    const readings = readWallCsv(file);
    // Marks on a monotonic clock that reads 5000 ms at wall time t0+2 s.
    const marks = [
      { name: "idle-baseline", t: 5000, wallMs: (t0 + 2) * 1000 },
      { name: "epoch 1", t: 11000, wallMs: (t0 + 8) * 1000 },
    ];
    const phases = wallCsvEnergy(readings, marks, { t: 23000 }, file);
    expect(phases.map((p) => p.name)).toEqual(["idle-baseline", "epoch 1"]);
    expect(phases[0].channels[0].gross.joules).toBeCloseTo(600, 9); // 6 s × 100 W
    // t0+8..t0+20: 2 s at 100 W, the 10→11 s ramp (200 W mean), 9 s at 300 W.
    expect(phases[1].channels[0].gross.joules).toBeCloseTo(200 + 200 + 2700, 9);
    expect(phases[1].channels[0].net?.joules).toBeCloseTo(3100 - 100 * 12, 9);
    expect(phases[1].channels[0].gross.provenance).toBe("sampled");
  });

  it("turns a manual average into estimated energy", () => {
    expect(manualWallEnergy(250, [{ name: "epoch 1", durationS: 4 }])).toEqual([
      {
        phase: "epoch 1",
        joules: 1000,
        provenance: "estimated",
        source: "wall meter, manual average of 250 W",
      },
    ]);
  });
});

describe("smart plugs over HTTP", () => {
  let server: Server;
  let base: string;
  let shellyWatts = 187.4;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const send = (code: number, body: unknown) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.url === "/rpc/Switch.GetStatus?id=0")
        send(200, { id: 0, output: true, apower: shellyWatts, voltage: 231.2 });
      else if (req.url === "/cm?cmnd=Status%208")
        send(200, {
          StatusSNS: { Time: "2025-01-01T00:00:00", ENERGY: { Total: 12.3, Power: 92, Voltage: 229 } },
        });
      else if (req.url?.startsWith("/broken/rpc")) send(200, { id: 0, output: true });
      else send(500, { error: "nope" });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("reads Shelly Gen2 apower and Tasmota StatusSNS.ENERGY.Power", async () => {
    expect(await pollPlug("shelly", base)).toBe(187.4);
    expect(await pollPlug("tasmota", `${base}/`)).toBe(92);
  });

  it("names the missing field and HTTP errors", async () => {
    await expect(pollPlug("shelly", `${base}/broken`)).rejects.toThrow(/no numeric apower/);
    await expect(pollPlug("tasmota", `${base}/missing`)).rejects.toThrow(/HTTP 500/);
  });

  it("serves as a sampled system channel", async () => {
    shellyWatts = 201;
    const src = new SmartPlugSource("shelly", base, 250);
    expect(src.channels[0]).toMatchObject({ component: "system", power: "sampled", updatePeriodMs: 250 });
    const [r] = await src.read();
    expect(r).toMatchObject({ channel: "wall:shelly", powerW: 201 });
  });
});
