#!/usr/bin/python3
"""`make bench`: spikeunet against PyTorch on the same networks, shapes and steps, in one run.

Every configuration and mode runs in its own process (so each peak resident memory is its own), C and
PyTorch alternating pair by pair (the first of each pair alternates too) so slow drifts of the machine
hit both. Each process: --warmup untimed then --runs timed repetitions, median reported. Then spikeunet
times every convolution layer alone (--mode layers) to show per-layer throughput and, for targets not met,
where a step's time goes (convolutions, batch norm + activation, Adam, the rest).

The machine may be shared: for every process the runner measures how many cores other processes used
meanwhile (/proc/stat minus the child's own CPU time) and prints it ("others"); it waits (up to
--wait-idle seconds) for a quiet moment before each process.

Writes <out>/results.json (every process's JSON) and <out>/report.md (the tables in Markdown).
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HZ = os.sysconf("SC_CLK_TCK")

# (label, model, T, modes); the targets below refer to these labels
CONFIGS = [("unet", "unet", 1, ["infer", "train"]),
           ("spiking T=4", "spiking", 4, ["infer", "train"]),
           ("spiking T=8", "spiking", 8, ["train"])]


def busy_seconds():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / HZ


def others_load(seconds=1.0):
    b0, t0 = busy_seconds(), time.time()
    time.sleep(seconds)
    return (busy_seconds() - b0) / (time.time() - t0)


def wait_idle(limit, threshold):
    """Waits until other processes use < threshold cores (sampled over 1 s), at most `limit` seconds."""
    end = time.time() + limit
    load = others_load()
    while load >= threshold and time.time() < end:
        load = others_load()
    return load


NICE = 0  # niceness added to every benchmark process (--nice)


def renice():
    """In the child: its own session (so its own scheduler autogroup: with autogroups, a plain nice only
    weighs against the same session's processes), then that group's niceness, or the process's."""
    if not NICE:
        return
    os.setsid()
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(NICE))
    except OSError:
        try:
            os.nice(NICE)
        except OSError:
            pass


def run_json(cmd, env):
    """Runs one benchmark process; returns (its JSON, cores used by others meanwhile, wall seconds)."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, t0 = busy_seconds(), time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=renice)
    wall = time.time() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    others = max(0.0, (busy_seconds() - b0 - own) / wall)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"run_bench: {' '.join(cmd)} failed (exit {p.returncode})")
    for line in p.stderr.splitlines():
        if line.startswith("warning"):
            print("  " + line)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"run_bench: no JSON from {' '.join(cmd)}:\n{p.stdout}")
    return json.loads(lines[-1]), others, wall


def lscpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor(), os.cpu_count()
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    model = info.get("Model name", "?").strip()
    cores = info.get("CPU(s)", "?").strip()
    flags = info.get("Flags", "")
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model} ({isa}, family {info.get('CPU family', '?').strip()} model {info.get('Model', '?').strip()})", cores


def fmt_s(v):
    return "-" if v is None else f"{v:.3f} s"


def layer_summary(layers, peak):
    """Throughput of the largest convolutions (forward FLOPs >= half the largest layer's)."""
    big = max(l["flops_fwd"] for l in layers)
    sel = [l for l in layers if l["flops_fwd"] >= 0.5 * big]
    f = sum(l["flops_fwd"] for l in sel) / sum(l["conv_fwd_s"] for l in sel) * 1e-9
    b = sum(l["flops_bwd"] for l in sel) / sum(l["conv_bwd_s"] for l in sel) * 1e-9
    worst_f = min(sel, key=lambda l: l["flops_fwd"] / l["conv_fwd_s"])
    worst_b = min(sel, key=lambda l: l["flops_bwd"] / l["conv_bwd_s"])
    return {"n": len(sel), "names": [l["name"] for l in sel], "fwd_gflops": f, "bwd_gflops": b,
            "fwd_pct": 100 * f / peak, "bwd_pct": 100 * b / peak,
            "worst_fwd": (worst_f["name"], 100 * worst_f["flops_fwd"] / worst_f["conv_fwd_s"] * 1e-9 / peak),
            "worst_bwd": (worst_b["name"], 100 * worst_b["flops_bwd"] / worst_b["conv_bwd_s"] * 1e-9 / peak)}


def breakdown(layers, step_s, adam_s, train):
    conv = sum(l["conv_fwd_s"] + (l["conv_bwd_s"] if train else 0) for l in layers)
    act = sum(l["act_fwd_s"] + (l["act_bwd_s"] if train else 0) for l in layers)
    adam = adam_s if train else 0
    rest = step_s - conv - act - adam
    parts = [("convolutions", conv), ("BN + ReLU/LIF", act)] + ([("Adam", adam)] if train else []) + [("rest", rest)]
    return ", ".join(f"{n} {v:.3f} s ({100 * v / step_s:.0f} %)" for n, v in parts)


PERF_CATEGORIES = [  # (category, test on (dso, symbol)), first match wins
    ("convolution kernels (oneDNN JIT)", lambda d, s: d.startswith("[JIT]") or d.startswith("jitted")),
    ("oneDNN, not JIT (reorders, drivers)", lambda d, s: "dnnl" in d),
    ("OpenMP runtime (barriers, waiting)", lambda d, s: "gomp" in d),
    ("LIF", lambda d, s: "lif" in s),
    ("spike kernels (spikeconv)", lambda d, s: s.startswith("sk_") or "spikeconv" in s),
    ("batch norm", lambda d, s: "bn_" in s or "_bn" in s),
    ("pooling, concatenation, copies", lambda d, s: "pool" in s or "copy_channels" in s or "memcpy" in s
     or "memmove" in s),
    ("loss", lambda d, s: "loss" in s or "softmax" in s),
    ("Adam", lambda d, s: "adam" in s),
    ("memset / page faults (kernel)", lambda d, s: d.startswith("[kernel") or "memset" in s),
]


def perf_profile(cmd, env, out):
    """Samples a spikeunet process with perf (user + kernel of this process); returns [(category, %)]
    of the samples outside the FMA peak probe and the random fill, or None when perf is unusable."""
    if not shutil.which("perf"):
        return None
    data = os.path.join(out, "perf.data")
    p = subprocess.run(["perf", "record", "-q", "-F", "499", "-o", data, "--"] + cmd, capture_output=True,
                       text=True, env=env, preexec_fn=renice)
    if p.returncode != 0:
        return None
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym",
                          "--percent-limit", "0", "-t", "|"], capture_output=True, text=True).stdout
    os.remove(data)
    cats, total = {}, 0.0
    for line in rep.splitlines():
        f = line.split("|")
        m = re.match(r"^\s*([\d.]+)%", f[0])
        if line.startswith("#") or len(f) < 3 or not m:
            continue
        pct, dso, sym = float(m.group(1)), f[1].strip(), re.sub(r"^\[.\]\s*", "", f[2].strip())
        if "fma_" in sym or sym.startswith("fill"):  # the peak probe and the harness's own input
            continue
        name = next((c for c, test in PERF_CATEGORIES if test(dso, sym)), "other")
        cats[name] = cats.get(name, 0.0) + pct
        total += pct
    if total <= 0:
        return None
    return sorted(((c, 100 * v / total) for c, v in cats.items()), key=lambda x: -x[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/spikeunet", help="the spikeunet binary")
    ap.add_argument("--python", default="/usr/bin/python3", help="Python with torch (Debian's python3-torch)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--shape", default="1x16x128x128", help="BxDxHxW")
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--layer-runs", type=int, default=3)
    ap.add_argument("--no-layers", action="store_true", help="skip the per-layer timing")
    ap.add_argument("--no-perf", action="store_true", help="skip the perf profile of the training steps")
    ap.add_argument("--wait-idle", type=float, default=20, help="max seconds to wait for a quiet machine per run")
    ap.add_argument("--idle-threshold", type=float, default=0.3, help="cores used by others that count as quiet")
    ap.add_argument("--nice", type=int, default=0,
                    help="niceness of the benchmark processes (their own scheduler autogroup); negative (root "
                         "only) favours them on a shared machine, e.g. -15")
    ap.add_argument("--out", default="build/bench", help="folder for results.json and report.md")
    ap.add_argument("--from-results", metavar="JSON", help="print the tables of an earlier run's results.json")
    a = ap.parse_args()
    global NICE
    NICE = a.nice
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    common = ["--shape", a.shape, "--base", str(a.base), "--depth", str(a.depth), "--threads", str(a.threads),
              "--runs", str(a.runs), "--warmup", str(a.warmup), "--json"]
    cpu, cores = lscpu_model()
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"machine: {cpu}, {cores} CPUs; {a.threads} threads; input {a.shape.split('x')[0]}x1x"
          f"{'x'.join(a.shape.split('x')[1:])}, base {a.base}, depth {a.depth}; median of {a.runs} runs "
          f"after {a.warmup} warm-up", flush=True)

    if a.from_results:  # render an earlier run again
        with open(a.from_results) as f:
            saved = json.load(f)
        results = {tuple(k.split(" | ")): v for k, v in saved["runs"].items()}
        layers, profiles = saved.get("layers", {}), saved.get("profiles", {})
        started, load_end = saved.get("started", "?"), saved.get("load_end", 0)
    else:
        results, pair = {}, 0
        for label, model, T, modes in CONFIGS:
            for mode in modes:
                c_cmd = [a.bin, "bench", "--model", model, "--timesteps", str(T), "--mode", mode] + common
                t_cmd = [a.python, os.path.join(HERE, "torch_reference.py"), "--model", model, "--timesteps", str(T),
                         "--mode", mode] + common
                order = [("C", c_cmd), ("torch", t_cmd)]
                if pair % 2:
                    order.reverse()
                pair += 1
                for who, cmd in order:
                    idle = wait_idle(a.wait_idle, a.idle_threshold) if a.wait_idle > 0 else None
                    r, others, wall = run_json(cmd, env)
                    r["others_cores"], r["idle_before"], r["wall_s"] = others, idle, wall
                    results[(label, mode, who)] = r
                    t = r[mode + "_s"]
                    print(f"  {label:12s} {mode:5s} {who:5s} median {t:7.3f} s  (min {r[mode + '_min_s']:.3f}, "
                          f"max {r[mode + '_max_s']:.3f})  peak RSS {r['peak_rss_mb']:6.0f} MB  "
                          f"others used {others:.2f} cores", flush=True)
        layers = {}
        if not a.no_layers:
            for label, model, T in (("unet", "unet", 1), ("spiking T=4", "spiking", 4)):
                cmd = [a.bin, "bench", "--model", model, "--timesteps", str(T), "--mode", "layers", "--layer-runs",
                       str(a.layer_runs)] + common
                if a.wait_idle > 0:
                    wait_idle(a.wait_idle, a.idle_threshold)
                r, others, _ = run_json(cmd, env)
                r["others_cores"] = others
                layers[label] = r
                print(f"  {label:12s} layers timed alone ({len(r['layers'])} convolutions), "
                      f"others used {others:.2f} cores", flush=True)

        profiles = {}
        if not a.no_perf:
            for label, model, T in (("unet", "unet", 1), ("spiking T=4", "spiking", 4)):
                cmd = [a.bin, "bench", "--model", model, "--timesteps", str(T), "--mode", "train", "--runs", "4",
                       "--warmup", "0", "--shape", a.shape, "--base", str(a.base), "--depth", str(a.depth),
                       "--threads", str(a.threads), "--peak-seconds", "0.01"]
                prof = perf_profile(cmd, env, a.out)
                if prof is None:
                    print("  perf is not usable here: no profile")
                    break
                profiles[label] = prof
                print(f"  {label:12s} training steps sampled with perf", flush=True)

        load_end = os.getloadavg()[0]

    # the fastest probe: other processes can only slow one down
    peak = max(r["peak_gflops"] for (l, m, w), r in results.items() if w == "C")
    blas = next((r.get("blas") for (l, m, w), r in results.items() if w == "torch"), None)
    tv = next((r.get("torch") for (l, m, w), r in results.items() if w == "torch"), "?")
    sgemm = next((r.get("matmul_gflops") for (l, m, w), r in results.items() if w == "torch"), 0)

    def get(label, mode, who, key=None):
        r = results.get((label, mode, who))
        return None if r is None else r.get(key or mode + "_s")

    # ---- the table ----
    rows = []
    for label, model, T, modes in CONFIGS:
        for mode in modes:
            c, t = results[(label, mode, "C")], results[(label, mode, "torch")]
            rows.append([label, "inference" if mode == "infer" else "training step", fmt_s(c[mode + "_s"]),
                         fmt_s(t[mode + "_s"]), f"{c[mode + '_s'] / t[mode + '_s']:.2f}",
                         f"{c[mode + '_min_s'] / t[mode + '_min_s']:.2f}",
                         f"{c[mode + '_gflops']:.0f} ({100 * c[mode + '_gflops'] / peak:.0f} %)",
                         f"{t[mode + '_gflops']:.0f}", f"{c['peak_rss_mb']:.0f}", f"{t['peak_rss_mb']:.0f}",
                         f"{c['peak_rss_mb'] / t['peak_rss_mb']:.2f}",
                         f"{c['others_cores']:.1f} / {t['others_cores']:.1f}"])
    head = ["network", "step", "spikeunet", "PyTorch", "time ratio", "ratio of the fastest runs", "ours GFLOP/s (% peak)", "PyTorch GFLOP/s",
            "ours MB", "PyTorch MB", "memory ratio", "others' cores (ours / PyTorch)"]

    # ---- the targets ----
    CAVEAT = ("(spiking rows: the layers timed alone run on the dense kernels, while the whole step runs spike-fed layers on the spike kernels, so their sum exceeds the step and the \"rest\" goes negative)")
    targets = []

    def floor_note(label, mode, limit, versus):
        """For a time target: the target time, and the dense convolutions' time at 100 % of peak."""
        c = results[(label, mode, "C")]
        want = limit * versus
        floor = c[mode + "_flops"] / (peak * 1e9)
        note = f"target {want:.2f} s; dense convolutions would take {floor:.2f} s at 100 % of peak"
        if label.startswith("spiking"):
            note += (" (spike-fed layers skip zero inputs in the forward pass and weight gradient; input gradients,"
                     " the first conv, the upsampled halves and the transposed convs stay dense)")
        elif floor > want:
            note += " (cannot be met with dense convolutions)"
        if label in layers and not label.startswith("spiking"):
            L = layers[label]["layers"]
            conv = sum(l["conv_fwd_s"] + (l["conv_bwd_s"] if mode == "train" else 0) for l in L)
            act = sum(l["act_fwd_s"] + (l["act_bwd_s"] if mode == "train" else 0) for l in L)
            note += f"; measured: convolutions {conv:.2f} s, BN + activation {act:.2f} s, rest " \
                    f"{c[mode + '_s'] - conv - act:.2f} s"
        return note

    def target(what, value, limit, note=""):
        ok = value is not None and value <= limit
        targets.append([what, "-" if value is None else f"{value:.2f}", f"<= {limit:g}", "met" if ok else "NOT met",
                        note])
        return ok

    r_ui = get("unet", "infer", "C") / get("unet", "infer", "torch")
    r_ut = get("unet", "train", "C") / get("unet", "train", "torch")
    target("3D U-Net inference time vs PyTorch", r_ui, 0.7, "" if r_ui <= 0.7 else
           floor_note("unet", "infer", 0.7, get("unet", "infer", "torch")))
    target("3D U-Net training step time vs PyTorch", r_ut, 0.7, "" if r_ut <= 0.7 else
           floor_note("unet", "train", 0.7, get("unet", "train", "torch")))
    for label in ("spiking T=4", "spiking T=8"):
        v = get(label, "train", "C") / get(label, "train", "torch")
        target(f"{label} training step time vs PyTorch", v, 0.4,
               "" if v <= 0.4 else floor_note(label, "train", 0.4, get(label, "train", "torch")))
        ours, first = get(label, "train", "C", "peak_rss_mb"), get(label, "train", "torch", "first_step_peak_rss_mb")
        target(f"{label} training peak memory vs PyTorch", ours / get(label, "train", "torch", "peak_rss_mb"), 0.5,
               f"against PyTorch's peak after its first step ({first:.0f} MB): {ours / first:.2f}" if first else "")
    v = get("spiking T=4", "infer", "C") / get("spiking T=4", "infer", "torch")
    target("spiking T=4 inference time vs PyTorch", v, 0.25,
           "" if v <= 0.25 else floor_note("spiking T=4", "infer", 0.25, get("spiking T=4", "infer", "torch")))
    fr = get("spiking T=4", "infer", "C", "firing_rate")
    v = get("spiking T=4", "infer", "C") / get("unet", "infer", "C")
    fl = get("spiking T=4", "infer", "C", "infer_flops") / get("unet", "infer", "C", "infer_flops")
    target("spiking T=4 inference vs our 3D U-Net inference", v, 1.5,
           (f"random-init weights (firing rate {fr:.3f}), not a model trained on ACDC; " if fr is not None else "")
           + f"the spiking net has {fl:.1f}x the U-Net's dense convolution FLOPs")
    conv_sum = None
    if "unet" in layers:
        conv_sum = layer_summary(layers["unet"]["layers"], peak)
        v = min(conv_sum["fwd_pct"], conv_sum["bwd_pct"]) / 100
        targets.append(["dense convolution throughput, largest layers (3D U-Net)",
                        f"fwd {conv_sum['fwd_pct']:.0f} %, bwd {conv_sum['bwd_pct']:.0f} %", ">= 60 % of peak",
                        "met" if v >= 0.6 else "NOT met",
                        f"{conv_sum['n']} layers with >= half the largest layer's FLOPs; lowest: "
                        f"{conv_sum['worst_fwd'][0]} fwd {conv_sum['worst_fwd'][1]:.0f} %, "
                        f"{conv_sum['worst_bwd'][0]} bwd {conv_sum['worst_bwd'][1]:.0f} %"])

    # ---- where the time goes ----
    notes = []
    for label in layers:
        L = layers[label]["layers"]
        for mode in ("infer", "train"):
            step = get(label, mode, "C")
            if step is None:
                continue
            notes.append(f"{label} {'inference' if mode == 'infer' else 'training step'} {step:.3f} s = "
                         + breakdown(L, step, layers[label].get("adam_s") or 0, mode == "train"))
        fw = sum(l["flops_fwd"] for l in L) / sum(l["conv_fwd_s"] for l in L) * 1e-9
        bw = sum(l["flops_bwd"] for l in L) / sum(l["conv_bwd_s"] for l in L) * 1e-9
        notes.append(f"{label}: all convolutions alone: forward {fw:.0f} GFLOP/s ({100 * fw / peak:.0f} %), "
                     f"backward {bw:.0f} GFLOP/s ({100 * bw / peak:.0f} %)")

    for label, prof in profiles.items():
        notes.append(f"{label} training step, CPU time by perf samples (both threads, waiting included): " +
                     ", ".join(f"{c} {v:.0f} %" for c, v in prof if v >= 0.5))

    def table_text(h, rs):
        w = [max(len(str(x)) for x in col) for col in zip(h, *rs)]
        line = lambda r: "  ".join(str(x).ljust(n) for x, n in zip(r, w))  # noqa: E731
        return "\n".join([line(h), line(["-" * n for n in w])] + [line(r) for r in rs])

    def table_md(h, rs):
        return "\n".join(["| " + " | ".join(h) + " |", "|" + "---|" * len(h)] +
                         ["| " + " | ".join(str(x) for x in r) + " |" for r in rs])

    cmdline = saved["command"] if a.from_results and "command" in saved else (f"make bench  (bench/run_bench.py --threads {a.threads} --runs {a.runs} --warmup {a.warmup} "
               f"--shape {a.shape} --base {a.base} --depth {a.depth} --nice {a.nice} --wait-idle {a.wait_idle:g})")
    about = [f"date: {started}", f"machine: {cpu}, {cores} CPUs, {platform.system()} {platform.release()}, "
             f"load average {load_end:.1f} at the end",
             f"command: {cmdline}",
             f"peak FP32 (FMA loop, {a.threads} threads, best of the C processes): {peak:.0f} GFLOP/s",
             f"PyTorch {tv}, libblas.so.3 = {blas} (sgemm {sgemm:.0f} GFLOP/s), convolutions through mkldnn",
             "FLOPs: convolutions only, 2 x dense MACs (same count for both); training step = forward + "
             "backward-data + backward-weights (3x, minus the first layer's backward-data)",
             "weights: random init (no checkpoint); input: random normal, random labels",
             "others' cores: how many cores other processes used while each process ran (0 = quiet machine)"]
    if blas is not None and "openblas" not in blas:
        about.append("WARNING: libblas.so.3 is not OpenBLAS: PyTorch's numbers are not meaningful")
    print()
    print("\n".join(about))
    print()
    print(table_text(head, rows))
    print()
    print(table_text(["target", "measured", "limit", "", "note"], targets))
    if notes:
        print("\nwhere spikeunet's time goes (layers timed alone, subtracted from the whole step):")
        print("\n".join("  " + n for n in notes))
        print("  " + CAVEAT)

    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"about": about, "command": cmdline, "started": started, "load_end": load_end, "profiles": profiles,
                   "runs": {" | ".join(k): v for k, v in results.items()}, "layers": layers}, f, indent=1)
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write("\n".join("- " + x for x in about) + "\n\n" + table_md(head, rows) + "\n\n" +
                table_md(["target", "measured", "limit", "", "note"], targets) + "\n")
        if notes:
            f.write("\nWhere spikeunet's time goes (layers timed alone, subtracted from the whole step):\n\n" +
                    "\n".join("- " + n for n in notes) + "\n\n" + CAVEAT + "\n")
        for label, r in layers.items():
            f.write(f"\nLayers of {label}, timed alone (ms; GFLOP/s; % of peak):\n\n")
            lh = ["layer", "N x D x H x W", "Cin", "Cout", "fwd ms", "fwd GFLOP/s (%)", "bwd ms", "bwd GFLOP/s (%)",
                  "BN+act fwd ms", "BN+act bwd ms"]
            lr = []
            for l in r["layers"]:
                n, d, h, w, ci, co, _ = l["n_d_h_w_cin_cout_din"]
                gf, gb = l["flops_fwd"] / l["conv_fwd_s"] * 1e-9, l["flops_bwd"] / l["conv_bwd_s"] * 1e-9
                lr.append([l["name"], f"{n}x{d}x{h}x{w}", ci, co, f"{1e3 * l['conv_fwd_s']:.1f}",
                           f"{gf:.0f} ({100 * gf / peak:.0f})", f"{1e3 * l['conv_bwd_s']:.1f}",
                           f"{gb:.0f} ({100 * gb / peak:.0f})", f"{1e3 * l['act_fwd_s']:.1f}",
                           f"{1e3 * l['act_bwd_s']:.1f}"])
            f.write(table_md(lh, lr) + "\n")
    print(f"\nwrote {a.out}/results.json and {a.out}/report.md")


if __name__ == "__main__":
    main()
