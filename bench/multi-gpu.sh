#!/usr/bin/env bash
# Issue 11's check on a host with several GPUs (device kinds nvidia-h100-x2 / nvidia-h200-x2):
# the same suite with `--devices all` and on GPU 0 alone (wall time, per-GPU energy, where each
# run ran by NVML's process lists), the GEMM tests bound to the last GPU through Mesa's
# device-select layer, and `halfwatt measure` around a PyTorch job on the last GPU.
# Here first: npx tsc -p tsconfig.json && bash ../shared/gpu/pack.sh --device-select --module vitest
#   --module vite --module zod --module commander --module csv-parse --module csv-stringify
#   --module yaml --module jstat --module better-sqlite3 --module sharp
# Device call, carry [".gpu", "dist", "native/nvml/build/Release"]: bash bench/multi-gpu.sh
set -uo pipefail
out=${OUT:-bench/results}; w="$out/multi"; mkdir -p "$w"
source .gpu/enter.sh
export PYTHONUNBUFFERED=1
H="node dist/src/cli/main.js"
nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version --format=csv,noheader | tee "$w/card.txt"
last=$(( $(nvidia-smi -L | wc -l) - 1 ))
pci=$(nvidia-smi -i $last --query-gpu=pci.bus_id --format=csv,noheader | tr 'A-F' 'a-f')
tag="pci-${pci:4:4}_${pci:9:2}_${pci:12:2}_${pci:15:1}"
$H devices > "$w/devices.txt" 2>&1; grep -iE "^\[|gpu|pci" "$w/devices.txt" | head -8
# NVML process lists every 250 ms, keyed by the GPU each process was bound to (its environment).
cat > /tmp/watch.mjs <<'E'
const { openNvml } = await import(`${process.cwd()}/dist/src/telemetry/nvml.js`);
const fs = await import("node:fs");
const n = openNvml(), c = n.load.deviceCount, seen = {}, util = Array(c).fill(0); let k = 0;
setInterval(() => { k++; for (let i = 0; i < c; i++) { util[i] += n.binding.snapshot(i).gpuUtilPercent ?? 0;
  for (const p of n.binding.runningProcesses(i)) { let g = "?"; try { g = fs.readFileSync(`/proc/${p.pid}/environ`, "utf8").match(/HALFWATT_GPU_BOUND=(\d+)/)?.[1] ?? "-"; } catch {}
    const key = `on${i}:bound${g}`; seen[key] = (seen[key] ?? 0) + 1; } } }, 250);
process.on("SIGTERM", () => { console.log(JSON.stringify({ processes: seen, meanUtil: util.map((x) => Math.round(x / k)) })); process.exit(); });
E
suite() {  # name devices
  node /tmp/watch.mjs > "$w/watch-$1.json" & local m=$!; local s=$(date +%s.%N)
  $H suite bench/multi-gpu-suite.yaml --devices "$2" --cache-dir /tmp/hwc --out "$w/$1" > "$w/$1.log" 2>&1
  local rc=$?; local e=$(date +%s.%N); kill $m; wait $m 2>/dev/null
  echo "suite --devices $2: rc $rc, $(python3 -c "print(round($e-$s,1))") s, $(cat "$w/watch-$1.json")"
}
$H suite bench/multi-gpu-suite.yaml --devices 0 --cache-dir /tmp/hwc --out /tmp/warm --replicates 1 > /dev/null 2>&1  # dataset cache
suite all all
# GPU 0 alone, while the GEMM tests run on the last GPU (bound by DRI_PRIME)
(DRI_PRIME=$tag MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1 timeout 400 node node_modules/vitest/vitest.mjs run test/kernels/gemm.test.ts test/kernels/gemm-tune.test.ts -t "subgroup-matrix|tune|mlpGemmCalls|samplesAgree" > "$w/vitest-gemm-gpu$last.log" 2>&1; echo "gemm tests on GPU $last ($tag): rc $?" > "$w/vitest.rc") &
t=$!
suite one 0
python3 - "$w" <<'P'
import sqlite3, sys
for d in "all", "one":
    c = sqlite3.connect(f"{sys.argv[1]}/{d}/results.sqlite")
    q = """select json_extract(r.env,'$.gpu.index'), json_extract(r.env,'$.gpu.pciBusId'), count(distinct r.id),
        round(sum(e.gross_j)/1e3,3), group_concat(distinct e.channel), sum(json_extract(r.env,'$.overlapped'))
        from runs r join energy e on e.run_id=r.id where r.status='completed' and e.component='gpu'
        and e.channel like 'nvml:%' and e.phase in ('train','test') group by 1"""
    print(d, "| gpu | pci | runs | GPU kJ (train+test) | channels | overlapped")
    for row in c.execute(q): print("  ", *row)
    print("  shared rows:", c.execute("select count(*) from energy where provenance='estimated, shared'").fetchone()[0])
P
wait $t; cat "$w/vitest.rc"; grep -E "Tests |FAIL|×" "$w/vitest-gemm-gpu$last.log" | head -8
export CUDA_DEVICE_ORDER=PCI_BUS_ID
$H measure --json --baseline-seconds 3 -- python3 -c "import torch,time
a=torch.randn(8192,8192,device='cuda:$last'); t=time.time()
while time.time()-t<8: a@a
torch.cuda.synchronize($last)" > "$w/measure.json" 2> "$w/measure.err"
echo "measure rc $?"
node -e 'const r=require(process.argv[1]);const c=r.phases.find(p=>p.name=="command");console.log("rule",r.gpus.rule,"|",r.gpus.reason??"");for(const g of r.gpus.gpus)console.log(" GPU",g.index,"used",g.used,"inTotal",g.inTotal,"J",c.channels.find(x=>x.channel==g.channel).gross.joules.toFixed(0));console.log(" gpu total J",c.totals.find(t=>t.component=="gpu").gross.toFixed(0))' "$(cd "$w" && pwd)/measure.json"
tar czf "$out/multi.tar.gz" -C "$out" multi
