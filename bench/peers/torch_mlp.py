#!/usr/bin/env python3
"""Peer benchmark for the trainer: PyTorch training the same dense classifier as halfwatt
(image_size²·3 → N → classes: Linear, ReLU, Linear; Adam lr 1e-3; mean softmax cross-entropy)
on random uint8 images resident on the GPU, normalised on the GPU each step
(x.float()/255, then ImageNet mean/std per channel, NHWC flattened as halfwatt's image_normalize).

    python3 bench/peers/torch_mlp.py --configs f32:32:1024,amp:32:1024,amp:256:1024,amp:256:2048,\\
        f32:256:1024,f32:256:2048 --image-size 224 --classes 525 --seconds 10 [--out FILE]
    python3 bench/peers/torch_mlp.py --check      # tiny sizes, CPU or GPU: does the loop train?
    python3 bench/peers/torch_mlp.py --device cpu --configs f32:32:256 --image-size 28 --classes 10

A config is precision:batch:neurons; its precision class is 32-bit ("f32": fp32, TF32 off) or
16-bit ("amp"). Every config runs as each variant of its class (PyTorch at its best, issue 16):
  32-bit: adam (default Adam: foreach on CUDA), fused (Adam(fused=True)), fused+compile
          (torch.compile of the model, fused Adam);
  16-bit: the same three with fp16 autocast + GradScaler (amp-adam, amp-fused, amp-fused+compile),
          and bf16 autocast + fused Adam (bf16-fused; no scaler: bf16 has f32's range).
A variant that cannot run here (no CUDA, an old torch, a compile failure) is recorded with its
reason, never dropped. Each config's "fastest" names its fastest variant that ran: halfwatt is
compared with it (bench/compare.ts --trainer). --device cpu runs on the CPU (bench/cpu-train.sh).
Each variant: warm-up steps, a synchronized
calibration, then a whole number of steps lasting about --seconds, timed by the wall clock
around a synchronized loop, with the GPU's energy from NVML's total-energy counter (mJ, read
before and after, synchronized). Prints one JSON document (also written to --out).
NVML is reached through ctypes on libnvidia-ml.so.1: no packages beyond torch.
"""
import argparse
import ctypes
import json
import math
import sys
import time

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
PRECISIONS = ("f32", "amp")
CLASS_OF = {"f32": "32-bit", "amp": "16-bit"}

# Each variant as plain data: autocast dtype (None: fp32), GradScaler, Adam's implementation, compile.
VARIANTS = {
    "f32": [
        dict(name="adam", autocast=None, scaler=False, adam="default", compile=False),
        dict(name="fused", autocast=None, scaler=False, adam="fused", compile=False),
        dict(name="fused+compile", autocast=None, scaler=False, adam="fused", compile=True),
    ],
    "amp": [
        dict(name="amp-adam", autocast="float16", scaler=True, adam="default", compile=False),
        dict(name="amp-fused", autocast="float16", scaler=True, adam="fused", compile=False),
        dict(name="amp-fused+compile", autocast="float16", scaler=True, adam="fused", compile=True),
        dict(name="bf16-fused", autocast="bfloat16", scaler=False, adam="fused", compile=False),
    ],
}


def describe_variant(v):
    """What the variant runs, in words (the JSON's "configuration")."""
    parts = ["fp32 (TF32 off)" if v["autocast"] is None else f"autocast {v['autocast']}"]
    if v["scaler"]:
        parts.append("GradScaler")
    parts.append("Adam(fused=True)" if v["adam"] == "fused" else "Adam (default: foreach on CUDA)")
    if v["compile"]:
        parts.append("torch.compile(model)")
    return ", ".join(parts)


def fastest(variant_rows):
    """Name of the fastest variant that ran (samples/s), or None when none ran."""
    ran = [r for r in variant_rows if r.get("samples_per_s") is not None]
    return max(ran, key=lambda r: r["samples_per_s"])["variant"] if ran else None


def parse_configs(text):
    configs = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) != 3 or parts[0] not in PRECISIONS:
            raise argparse.ArgumentTypeError(f"config {item!r}: want precision:batch:neurons with precision in {PRECISIONS}")
        try:
            batch, neurons = int(parts[1]), int(parts[2])
        except ValueError:
            raise argparse.ArgumentTypeError(f"config {item!r}: batch and neurons must be integers") from None
        if batch < 1 or neurons < 1:
            raise argparse.ArgumentTypeError(f"config {item!r}: batch and neurons must be ≥ 1")
        configs.append((parts[0], batch, neurons))
    return configs


class Nvml:
    """The few NVML calls the benchmark needs, through ctypes. `error` says why it is unusable."""

    def __init__(self, uuid=None):
        self.lib, self.handle, self.error = None, None, None
        try:
            lib = ctypes.CDLL("libnvidia-ml.so.1")
        except OSError as e:
            self.error = f"libnvidia-ml.so.1 not loadable: {e}"
            return
        if lib.nvmlInit_v2() != 0:
            self.error = "nvmlInit_v2 failed"
            return
        self.lib = lib
        handle = ctypes.c_void_p()
        # Match the CUDA device by UUID (CUDA_VISIBLE_DEVICES may renumber), else NVML index 0.
        if uuid and lib.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}".encode(), ctypes.byref(handle)) == 0:
            self.match = "uuid"
        elif lib.nvmlDeviceGetHandleByIndex_v2(0, ctypes.byref(handle)) == 0:
            self.match = "index 0"
        else:
            self.error = "no NVML device handle"
            return
        self.handle = handle
        energy = ctypes.c_ulonglong()
        if lib.nvmlDeviceGetTotalEnergyConsumption(handle, ctypes.byref(energy)) != 0:
            self.error = "nvmlDeviceGetTotalEnergyConsumption not supported on this card"

    def energy_mj(self):
        energy = ctypes.c_ulonglong()
        rc = self.lib.nvmlDeviceGetTotalEnergyConsumption(self.handle, ctypes.byref(energy))
        if rc != 0:
            raise RuntimeError(f"nvmlDeviceGetTotalEnergyConsumption returned {rc}")
        return energy.value

    def driver(self):
        buf = ctypes.create_string_buffer(96)
        return buf.value.decode() if self.lib.nvmlSystemGetDriverVersion(buf, 96) == 0 else None

    def close(self):
        if self.lib:
            self.lib.nvmlShutdown()


class Trainer:
    """One config's model, optimizer and data, all on `device`."""

    def __init__(self, torch, device, variant, batch, neurons, image_size, classes, seed=0):
        nn = torch.nn
        self.torch, self.device, self.batch = torch, device, batch
        gen = torch.Generator(device=device).manual_seed(seed)
        torch.manual_seed(seed)
        features = image_size * image_size * 3
        self.model = nn.Sequential(nn.Linear(features, neurons), nn.ReLU(), nn.Linear(neurons, classes)).to(device)
        # Adam(fused=True) raises here where this torch or device has no fused Adam: recorded.
        adam_kw = dict(fused=True) if variant["adam"] == "fused" else {}
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, **adam_kw)
        if variant["compile"]:
            if not hasattr(torch, "compile"):
                raise RuntimeError(f"torch.compile needs torch >= 2.0 (this is {torch.__version__})")
            self.forward = torch.compile(self.model)
        else:
            self.forward = self.model
        self.autocast = getattr(torch, variant["autocast"]) if variant["autocast"] else None
        self.amp = variant["scaler"]
        self.scaler = (torch.amp.GradScaler(device.type) if hasattr(torch.amp, "GradScaler")
                       else torch.cuda.amp.GradScaler()) if self.amp else None
        # A pool of a few batches, so steps do not all see the same one (random data: the cost is what counts).
        self.pool = 4
        n = self.pool * batch
        self.images = torch.randint(0, 256, (n, image_size, image_size, 3), dtype=torch.uint8, device=device, generator=gen)
        self.labels = torch.randint(0, classes, (n,), dtype=torch.int64, device=device, generator=gen)
        self.mean = torch.tensor(MEAN, device=device)
        self.std = torch.tensor(STD, device=device)
        self.i = 0
        self.last_loss = None

    def step(self, fixed_batch=False):
        torch = self.torch
        j = 0 if fixed_batch else self.i % self.pool
        self.i += 1
        sl = slice(j * self.batch, (j + 1) * self.batch)
        x = ((self.images[sl].float() / 255 - self.mean) / self.std).reshape(self.batch, -1)
        y = self.labels[sl]
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=self.autocast or torch.bfloat16, enabled=self.autocast is not None):
            loss = torch.nn.functional.cross_entropy(self.forward(x), y)
        if self.amp:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            self.opt.step()
        self.last_loss = loss.detach()

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)


def run_variant(torch, device, nvml, variant, batch, neurons, args):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    t = Trainer(torch, device, variant, batch, neurons, args.image_size, args.classes)
    # Warm-up (torch.compile compiles on the first steps) stays outside the timed loop.
    for _ in range(args.warmup):
        t.step()
    t.sync()
    # Calibrate: time a few synchronized steps, then pick the step count that fills --seconds.
    start = time.perf_counter()
    for _ in range(args.calibrate):
        t.step()
    t.sync()
    per_step = (time.perf_counter() - start) / args.calibrate
    steps = max(args.calibrate, math.ceil(args.seconds / max(per_step, 1e-9)))
    t.sync()
    e0 = nvml.energy_mj() if nvml else None
    start = time.perf_counter()
    for _ in range(steps):
        t.step()
    t.sync()
    wall = time.perf_counter() - start
    e1 = nvml.energy_mj() if nvml else None
    samples = steps * batch
    joules = (e1 - e0) / 1000 if nvml else None
    row = dict(
        variant=variant["name"],
        configuration=describe_variant(variant),
        steps=steps,
        seconds=wall,
        samples_per_s=samples / wall,
        joules_per_1000_samples=joules / samples * 1000 if nvml else None,
        avg_watts=joules / wall if nvml else None,
        peak_mem_bytes=torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
        final_loss=float(t.last_loss),
        loss_scale=float(t.scaler.get_scale()) if t.amp else None,
        error=None,
    )
    del t
    return row


def run_config(torch, device, nvml, precision, batch, neurons, args, say=None):
    """Every variant of the config's class; one that cannot run is kept with its reason."""
    rows = []
    for v in VARIANTS[precision]:
        if args.variants and v["name"] not in args.variants:
            continue
        try:
            row = run_variant(torch, device, nvml, v, batch, neurons, args)
        except Exception as e:  # noqa: BLE001 — any failure is the variant's result
            row = dict(variant=v["name"], configuration=describe_variant(v), samples_per_s=None,
                       error=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        if say:
            say(precision, batch, neurons, row)
        rows.append(row)
    return dict(precision=precision, precision_class=CLASS_OF[precision], batch=batch, neurons=neurons,
                variants=rows, fastest=fastest(rows))


def check(torch):
    """Tiny sizes: the loop runs in both precisions (amp only on CUDA) and the loss on a fixed batch falls."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results = []
    for precision in PRECISIONS if device.type == "cuda" else ("f32",):
        t = Trainer(torch, device, VARIANTS[precision][0], batch=8, neurons=16, image_size=4, classes=5)
        t.step(fixed_batch=True)
        first = float(t.last_loss)
        for _ in range(60):
            t.step(fixed_batch=True)
        last = float(t.last_loss)
        ok = math.isfinite(last) and last < first
        results.append(dict(precision=precision, device=str(device), first_loss=first, last_loss=last, ok=ok))
    print(json.dumps(dict(check=results), indent=2))
    return 0 if all(r["ok"] for r in results) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", type=parse_configs, default=parse_configs("f32:32:1024,amp:32:1024,f32:256:1024,amp:256:1024,f32:256:2048,amp:256:2048"), help="precision:batch:neurons,… (precision f32 or amp)")
    p.add_argument("--image-size", type=int, default=224, help="square RGB images of this side (input features = side²·3)")
    p.add_argument("--classes", type=int, default=525)
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per config (a whole number of steps)")
    p.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    p.add_argument("--calibrate", type=int, default=10, help="synchronized steps that size the timed loop")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: the CPU peer (no energy figures)")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (CPU)")
    p.add_argument("--variants", type=lambda t: t.split(","), help="run only these variants (names as in VARIANTS)")
    p.add_argument("--check", action="store_true", help="tiny run on CPU or GPU: the loss must fall; no timing")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args()

    import torch  # here, so that --help works without torch

    if args.check:
        return check(torch)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch_mlp.py: no CUDA device (use --device cpu or --check for a CPU run)", file=sys.stderr)
        return 2
    cuda = args.device == "cuda"
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    nvml, energy = None, None
    if cuda:
        props = torch.cuda.get_device_properties(device)
        nvml = Nvml(str(getattr(props, "uuid", "")) or None)
        if nvml.error:
            print(f"torch_mlp.py: no energy figures: {nvml.error}", file=sys.stderr)
        energy = nvml if not nvml.error else None

    def say(precision, batch, neurons, row):
        head = f"{precision:4} B{batch:<5} N{neurons:<6} {row['variant']:18}"
        if row.get("error"):
            print(f"{head} could not run: {row['error']}", file=sys.stderr)
        else:
            print(f"{head} {row['samples_per_s']:10.1f} samples/s"
                  + (f" {row['joules_per_1000_samples']:8.2f} J/1000 {row['avg_watts']:6.1f} W" if energy else ""), file=sys.stderr)

    rows = [run_config(torch, device, energy, precision, batch, neurons, args, say)
            for precision, batch, neurons in args.configs]
    doc = dict(
        card=torch.cuda.get_device_name(device) if cuda else "cpu",
        device=args.device,
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(),
        driver=nvml.driver() if nvml and nvml.lib else None,
        nvml_device=getattr(nvml, "match", None) if energy else None,
        energy_source="nvmlDeviceGetTotalEnergyConsumption" if energy else None,
        image_size=args.image_size,
        classes=args.classes,
        features=args.image_size * args.image_size * 3,
        optimizer="Adam lr 1e-3",
        seconds=args.seconds,
        warmup=args.warmup,
        configs=rows,
    )
    if nvml:
        nvml.close()
    text = json.dumps(doc, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
