#!/usr/bin/python3
"""The PyTorch side of `make bench`: the same networks (tests/reference/spikeunet_torch.py, imported, not
copied), shapes and steps as `spikeunet bench`, timed the same way, printed as the same JSON keys.

Inference: model.eval() under torch.no_grad(). Training step: forward, CE + Dice loss, backward, Adam
(lr 1e-4), zero_grad(set_to_none=True). Median (min, max) over --runs after --warmup. Peak memory: this
process's ru_maxrss (run one --mode per process); first_step_peak_rss_mb is the peak after the first training
step (glibc's heap grows over the next steps as tensors of changing sizes are freed and reallocated). The LIF layer keeps the Python loop over T, as snntorch
does. Convolutions go through mkldnn (oneDNN), PyTorch's default on CPU; matmuls through libblas.so.3,
which must be OpenBLAS (with the reference BLAS PyTorch is several times slower).

Run with Debian's python3 (/usr/bin/python3, which has python3-torch).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))

import torch  # noqa: E402

from spikeunet_torch import UNet3D, ce_dice_loss  # noqa: E402


def blas_alternative():
    """The selected libblas.so.3 (Debian alternatives), or None when it cannot be read."""
    try:
        out = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.startswith("Value:"):
            return line.split(":", 1)[1].strip()
    return None


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def conv_flops(base, depth, T, B, D, H, W, classes=4, cin=1):
    """2 x dense MACs of the convolutions, as spikeunet counts them (su_model_layers): returns
    (inference, training) FLOPs. The spiking net's first conv runs once, its output conv on the mean."""
    ch = [base * 2 ** k for k in range(depth + 1)]
    macs = first = 0
    for k in range(depth + 1):
        S = D * (H >> k) * (W >> k)
        c_in = cin if k == 0 else ch[k - 1]
        m1 = S * ch[k] * c_in * 27 * (1 if k == 0 else T)
        if k == 0:
            first = m1
        macs += m1 + S * ch[k] * ch[k] * 27 * T
    for k in range(depth - 1, -1, -1):
        S = D * (H >> k) * (W >> k)
        macs += S * ch[k] * 2 * ch[k] * T            # transposed conv (1,2,2)
        macs += S * ch[k] * 2 * ch[k] * 27 * T       # decoder conv1 on [skip, up]
        macs += S * ch[k] * ch[k] * 27 * T           # decoder conv2
    macs += D * H * W * classes * ch[0]              # output 1x1x1
    macs, first = macs * B, first * B
    return 2 * macs, 2 * (3 * macs - first)


def matmul_gflops(n=1024, reps=5):
    """sgemm rate through PyTorch's BLAS: a sanity check that OpenBLAS is in use (reference BLAS: ~10)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best * 1e-9


def stats(times):
    if not times:
        return None, None, None
    return statistics.median(times), min(times), max(times)


def mean_firing_rate(model, base, D, H, W):
    num = den = 0.0
    for name, lif in model.lif_layers():
        k = int(name.split(".")[0][3:])
        w = base * 2 ** k * D * (H >> k) * (W >> k)
        num += w * lif.last_rate
        den += w
    return num / den if den else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["unet", "spiking"], default="unet")
    ap.add_argument("--timesteps", type=int, default=4)
    ap.add_argument("--shape", default="1x16x128x128", help="BxDxHxW")
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--mode", choices=["infer", "train", "both"], default="both")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()
    try:
        B, D, H, W = (int(v) for v in a.shape.split("x"))
    except ValueError:
        ap.error(f"--shape expects BxDxHxW, got {a.shape!r}")
    if a.runs < 1 or a.warmup < 0:
        ap.error("need --runs >= 1 and --warmup >= 0")

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    blas = blas_alternative()
    if blas is not None and "openblas" not in blas:
        print(f"warning: libblas.so.3 is {blas}, not OpenBLAS: PyTorch will be several times slower "
              "(sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu "
              "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3)", file=sys.stderr)
    torch.manual_seed(a.seed)
    base_rss = rss_mb()
    spiking = a.model == "spiking"
    T = a.timesteps if spiking else 1
    model = UNet3D(in_channels=1, classes=4, base=a.base, depth=a.depth, spiking=spiking, timesteps=T)
    x = torch.randn(B, 1, D, H, W)
    y = torch.randint(0, 4, (B, D, H, W))
    infer_t, train_t = [], []
    first_step_rss = None

    if a.mode in ("infer", "both"):
        model.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.runs):
                t0 = time.perf_counter()
                model(x)
                if i >= a.warmup:
                    infer_t.append(time.perf_counter() - t0)
    if a.mode in ("train", "both"):
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        for i in range(a.warmup + a.runs):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = ce_dice_loss(model(x), y)[0]
            loss.backward()
            opt.step()
            if i == 0:
                first_step_rss = peak_rss_mb()
            if i >= a.warmup:
                train_t.append(time.perf_counter() - t0)
    peak_rss = peak_rss_mb()
    rate = mean_firing_rate(model, a.base, D, H, W) if spiking else None
    fi, ft = conv_flops(a.base, a.depth, T, B, D, H, W)
    r = {"model": a.model, "timesteps": T, "shape": [B, D, H, W], "base": a.base, "depth": a.depth,
         "threads": threads, "warmup": a.warmup, "runs": a.runs}
    for what, times, flops in (("infer", infer_t, fi), ("train", train_t, ft)):
        med, lo, hi = stats(times)
        r[f"{what}_s"], r[f"{what}_min_s"], r[f"{what}_max_s"] = med, lo, hi
        r[f"{what}_times"] = times or None
        r[f"{what}_flops"] = flops
        r[f"{what}_gflops"] = flops / med * 1e-9 if med else None
    r.update({"peak_gflops": None, "peak_rss_mb": peak_rss, "first_step_peak_rss_mb": first_step_rss,
              "base_rss_mb": base_rss, "firing_rate": rate,
              "weights": f"random-init torch seed {a.seed}", "input": "random normal, random labels",
              "torch": torch.__version__, "mkldnn": bool(torch.backends.mkldnn.is_available()
                                                          and torch.backends.mkldnn.enabled),
              "blas": blas, "matmul_gflops": matmul_gflops()})
    if a.json:
        print(json.dumps(r))
        return
    print(f"PyTorch {torch.__version__}: {a.model}, base {a.base}, depth {a.depth}, T {T}, input {B}x1x{D}x{H}x{W}, "
          f"{threads} threads, mkldnn {r['mkldnn']}, libblas {blas} (sgemm {r['matmul_gflops']:.0f} GFLOP/s)")
    for what in ("infer", "train"):
        if r[f"{what}_s"] is not None:
            print(f"{what:6s} median {r[what + '_s']:.3f} s  min {r[what + '_min_s']:.3f}  max "
                  f"{r[what + '_max_s']:.3f}  {r[what + '_gflops']:.1f} GFLOP/s")
    if rate is not None:
        print(f"firing rate {rate:.4f}")
    print(f"peak resident memory {peak_rss:.0f} MB ({base_rss:.0f} MB after importing torch)")


if __name__ == "__main__":
    main()
