#!/usr/bin/python3
"""Regenerates tests/reference/reference.bin: PyTorch's answers for spikeunet's engine test (test_reference.c).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_reference.py
(`scripts/install-deps --torch` installs it). CI needs no PyTorch: the output file is committed.

For each network variant it writes the initial parameters and buffers, an input and labels, the training-
mode logits, the loss (CE + soft Dice), every parameter gradient, the batch-norm running statistics after
that forward, the firing rate of every LIF layer, the spikes and membranes of a few LIF layers, the losses of
5 Adam steps, the parameters after them, and evaluation-mode logits. Plus standalone LIF layers (every reset
mode and surrogate, beta clamped and not) fed known inputs.

Spiking networks are chaotic at the threshold: an input that lands within float rounding of theta may spike
in one implementation and not the other, and that changes everything downstream. So for the spiking variants
the script searches seeds until no membrane, in any forward pass of the run, lies within MARGIN of its
threshold; the C test then demands exact spikes.

File format (little-endian): magic b"SUREF\\0\\0\\0", u32 version, u32 count, then count entries:
u16 name length, name (utf-8), u8 dtype (0 f32, 1 u8, 2 i64), u8 ndim, i32 dims[ndim], raw data.
Activations are channels-last (N, D, H, W, C), spiking samples t-major (n = t*B + b), like the C engine.
"""
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spikeunet_torch import LIF, RESET, SURROGATE, UNet3D, ce_dice_loss  # noqa: E402

MAGIC, VERSION = b"SUREF\0\0\0", 1
MARGIN = 2e-5
LEARN = {"none": 0, "layer": 1, "channel": 2}
torch.set_num_threads(1)
torch.backends.mkldnn.enabled = False  # the plain kernels: the reference is the definition, not a race


class Writer:
    def __init__(self):
        self.entries = []

    def add(self, name, arr):
        arr = np.ascontiguousarray(arr)
        code = {np.dtype("float32"): 0, np.dtype("uint8"): 1, np.dtype("int64"): 2}[arr.dtype]
        self.entries.append((name, code, arr))

    def f32(self, name, t):
        # a copy: the tensor may change in place later (an optimiser step)
        self.add(name, np.array(t.detach().cpu() if torch.is_tensor(t) else t, dtype=np.float32, copy=True))

    def save(self, path):
        with open(path + ".tmp", "wb") as f:
            f.write(MAGIC + struct.pack("<II", VERSION, len(self.entries)))
            for name, code, arr in self.entries:
                nb = name.encode()
                f.write(struct.pack("<H", len(nb)) + nb + struct.pack("<BB", code, arr.ndim))
                f.write(struct.pack("<%di" % arr.ndim, *arr.shape))
                f.write(arr.tobytes())
        os.replace(path + ".tmp", path)


def ndhwc(t):
    """(N, C, D, H, W) -> (N, D, H, W, C)."""
    return t.permute(0, 2, 3, 4, 1).contiguous()


def spiking_margin(model):
    """Smallest |U - theta| over the last forward's kept membranes."""
    m = float("inf")
    for _, lif in model.lif_layers():
        theta = lif.threshold.detach().view(1, 1, -1, 1, 1, 1)
        m = min(m, float((lif.last_mem - theta).abs().min()))
    return m


def run_variant(w, tag, arch, shape, lr, seed, lif_args):
    B, D, H, W = shape
    torch.manual_seed(seed)
    model = UNet3D(**arch, **lif_args)
    # non-trivial batch-norm affines and LIF parameters, so every gradient term shows
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bn1.weight") or name.endswith("bn2.weight"):
                p.uniform_(0.6, 1.4)
            elif ".bn" in name and name.endswith(".bias"):
                p.uniform_(-0.3, 0.3)
            elif name.endswith(".beta"):
                p.uniform_(0.75, 0.95)
            elif name.endswith(".threshold"):
                p.uniform_(0.8, 1.2)
    x = torch.randn(B, arch.get("in_channels", 1), D, H, W)
    y = torch.randint(0, arch.get("classes", 4), (B, D, H, W))
    y[:, :, : H // 4] = 0  # plenty of background, like a heart image
    spk = arch.get("spiking", False)
    keep = spk
    state0 = {k: v.clone() for k, v in model.state_dict().items() if "num_batches_tracked" not in k}

    model.train()
    logits = model(x, keep_mem=keep)
    margins = [spiking_margin(model)] if spk else []
    loss, ce, dl = ce_dice_loss(logits, y)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    after1 = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    rates = [lif.last_rate for _, lif in model.lif_layers()] if spk else []
    picked = {}
    if spk:
        for name, lif in model.lif_layers():
            if name in ("enc0.lif1", "enc1.lif2", "dec0.lif2"):
                theta = lif.threshold.detach().view(1, 1, -1, 1, 1, 1)
                mem = lif.last_mem  # (T, B, C, D, H, W)
                spikes = (mem > theta).to(torch.uint8)
                picked[name] = (spikes.flatten(0, 1), mem.flatten(0, 1))

    model.eval()  # evaluation mode with the running statistics of that one forward
    with torch.no_grad():
        eval_logits = model(x, keep_mem=keep)
        if spk:
            margins.append(spiking_margin(model))
    model.train()

    # 5 Adam steps from the same start (the first repeats the forward above)
    model.load_state_dict({**model.state_dict(), **state0})
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        out = model(x, keep_mem=keep)
        if spk:
            margins.append(spiking_margin(model))
        l, _, _ = ce_dice_loss(out, y)
        losses.append(float(l))
        l.backward()
        opt.step()
    margin = min(margins) if margins else float("inf")
    if spk and margin < MARGIN:
        return margin

    p = tag + "/"
    kind = 1 if spk else 0
    w.add(p + "arch", np.array([kind, arch["base"], arch["depth"], arch.get("timesteps", 1),
                                RESET[lif_args.get("reset", "subtract")],
                                SURROGATE[lif_args.get("surrogate", "atan")],
                                LEARN[lif_args.get("learn_beta", "none")],
                                LEARN[lif_args.get("learn_threshold", "none")], arch.get("classes", 4)], np.int64))
    w.add(p + "lif", np.array([lif_args.get("beta", 0.95), lif_args.get("threshold", 1.0),
                               lif_args.get("slope", 2.0), lr], np.float32))
    w.add(p + "shape", np.array(shape, np.int64))
    for k, v in state0.items():
        w.f32(p + "param/" + k, v)
    w.f32(p + "input", ndhwc(x))
    w.add(p + "labels", y.numpy().astype(np.uint8))
    w.f32(p + "logits", ndhwc(logits))
    w.f32(p + "loss", torch.tensor([float(loss), float(ce), float(dl)]))
    for k, v in grads.items():
        w.f32(p + "grad/" + k, v)
    for k, v in after1.items():
        w.f32(p + "after1/" + k, v)
    if spk:
        w.f32(p + "rates", torch.tensor(rates))
        for name, (s, mem) in picked.items():
            w.add(p + "spikes/" + name, ndhwc(s).numpy())
            w.f32(p + "membrane/" + name, ndhwc(mem))
    w.f32(p + "adam_losses", torch.tensor(losses))
    for k, v in model.state_dict().items():
        if "num_batches_tracked" not in k:
            w.f32(p + "final/" + k, v)
    w.f32(p + "eval_logits", ndhwc(eval_logits))
    print(f"{tag}: seed {seed}, loss {float(loss):.6f}, adam {['%.5f' % v for v in losses]}"
          + (f", margin {margin:.2e}, rates {['%.3f' % r for r in rates]}" if spk else ""))
    return margin


def spiking_variant(w, tag, arch, shape, lr, lif_args):
    for seed in range(1, 5000):
        margin = run_variant(w, tag, arch, shape, lr, seed, lif_args)
        if margin >= MARGIN:
            return
    raise SystemExit(f"{tag}: no seed with margin {MARGIN}")


def lif_standalone(w):
    """LIF layers alone: X (T, n, C) with per-layer beta/theta, upstream gradient G."""
    T, n, C = 6, 50, 3
    for reset in ("subtract", "zero", "none"):
        for sur, slope in (("atan", 2.0), ("fast_sigmoid", 25.0)):
            for beta in (0.8, 1.3):
                g = torch.Generator().manual_seed(7)
                lif = LIF(C, beta=beta, threshold=1.0, reset=reset, surrogate=sur, slope=slope,
                          learn_beta="layer", learn_threshold="layer")
                X = (torch.rand(T, 1, C, 1, 1, n, generator=g) * 1.6 - 0.2).requires_grad_()
                G = torch.randn(T, 1, C, 1, 1, n, generator=g)
                S = lif(X, T, keep_mem=True)
                (S * G).sum().backward()
                tag = f"lif/{reset}/{sur}/{beta}"
                to_tnc = lambda t: t.reshape(T, C, n).permute(0, 2, 1).contiguous()  # noqa: E731
                w.f32(tag + "/x", to_tnc(X.detach()))
                w.f32(tag + "/g", to_tnc(G))
                w.f32(tag + "/spikes", to_tnc(S.detach()))
                w.f32(tag + "/dx", to_tnc(X.grad))
                w.f32(tag + "/dbeta", lif.beta.grad)
                w.f32(tag + "/dtheta", lif.threshold.grad)
                w.add(tag + "/params", np.array([RESET[reset], SURROGATE[sur]], np.int64))
                w.f32(tag + "/values", torch.tensor([beta, 1.0, slope]))


def adam_standalone(w):
    """torch.optim.Adam on known gradients (weight decay on), 3 steps: checks the optimiser exactly."""
    g = torch.Generator().manual_seed(3)
    p = torch.nn.Parameter(torch.randn(1000, generator=g))
    grads = [torch.randn(1000, generator=g) * s for s in (1.0, 1e-3, 10.0)]
    w.f32("adam/p0", p)
    opt = torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    for i, gr in enumerate(grads):
        p.grad = gr.clone()
        opt.step()
        w.f32(f"adam/g{i}", gr)
        w.f32(f"adam/p{i + 1}", p)


def main():
    w = Writer()
    lif_standalone(w)
    adam_standalone(w)
    run_variant(w, "unet", dict(base=4, depth=3), (2, 8, 32, 32), 1e-3, 0, {})
    small = (1, 4, 16, 16)
    spiking_variant(w, "spk_fixed", dict(base=4, depth=2, spiking=True, timesteps=4), small, 1e-3,
                    dict(beta=0.9, threshold=1.0))
    spiking_variant(w, "spk_learn", dict(base=4, depth=2, spiking=True, timesteps=4), small, 1e-3,
                    dict(beta=0.9, threshold=1.0, learn_beta="channel", learn_threshold="layer"))
    spiking_variant(w, "spk_zero_fs", dict(base=4, depth=2, spiking=True, timesteps=3), small, 1e-3,
                    dict(beta=0.8, threshold=1.0, reset="zero", surrogate="fast_sigmoid", slope=25.0,
                         learn_beta="layer", learn_threshold="channel"))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.bin")
    w.save(out)
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.2f} MB, {len(w.entries)} tensors)")


if __name__ == "__main__":
    main()
