"""The spikeunet networks in PyTorch: the independent definition our C engine is checked against.

Same graph, same parameter names (state_dict keys equal the names in spikeunet's safetensors checkpoints),
same semantics:
  - DoubleConv blocks (conv3 -> BN -> act -> conv3 -> BN -> act), max-pool (1,2,2), transposed conv (1,2,2),
    concatenation [skip, up], 1x1x1 output conv.
  - Spiking: every ReLU becomes a LIF layer with snntorch 0.9.4 `snn.Leaky` equations (written out below,
    since snntorch is not packaged for Debian); direct encoding; stateless layers run on T*B samples
    (t-major); the first conv + BN run once (their input is identical at every step); the logits are the
    mean over T of the output conv.
Only the Heaviside step has a hand-written backward (the surrogate); backpropagation through time is
PyTorch's autograd.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

RESET = {"subtract": 0, "zero": 1, "none": 2}
SURROGATE = {"atan": 0, "fast_sigmoid": 1}


class Heaviside(torch.autograd.Function):
    """S = [x > 0] forward; the surrogate derivative backward (snntorch's atan / fast_sigmoid)."""

    @staticmethod
    def forward(ctx, x, surrogate, slope):
        ctx.save_for_backward(x)
        ctx.surrogate, ctx.slope = surrogate, slope
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.surrogate == "atan":
            alpha = ctx.slope
            d = alpha / 2 / (1 + (math.pi / 2 * alpha * x) ** 2)
        else:
            d = 1.0 / (ctx.slope * x.abs() + 1.0) ** 2
        return grad * d, None, None


class LIF(nn.Module):
    """snn.Leaky over T steps. beta/threshold: Parameters when learnable (shape [1] or [C]), else buffers."""

    def __init__(self, channels, beta=0.95, threshold=1.0, reset="subtract", surrogate="atan", slope=2.0,
                 learn_beta="none", learn_threshold="none"):
        super().__init__()
        nb = channels if learn_beta == "channel" else 1
        nt = channels if learn_threshold == "channel" else 1
        b = torch.full((nb,), float(beta))
        t = torch.full((nt,), float(threshold))
        if learn_beta != "none":
            self.beta = nn.Parameter(b)
        else:
            self.register_buffer("beta", b)
        if learn_threshold != "none":
            self.threshold = nn.Parameter(t)
        else:
            self.register_buffer("threshold", t)
        self.reset, self.surrogate, self.slope = reset, surrogate, slope
        self.last_rate = None
        self.last_mem = None  # (T, B, C, D, H, W), kept for the spike-exactness margin

    def forward(self, x, T, keep_mem=False):
        """x: (T, B, C, D, H, W) -> spikes (T, B, C, D, H, W)."""
        shape = (1, -1, 1, 1, 1)
        beta = self.beta.clamp(0, 1).view(shape)
        theta = self.threshold.view(shape)
        mem = torch.zeros_like(x[0])
        spikes, mems = [], []
        for t in range(T):
            reset = (mem - theta > 0).to(x.dtype).detach()  # the previous step's spike, detached
            if self.reset == "subtract":
                mem = beta * mem + x[t] - reset * theta
            elif self.reset == "zero":
                mem = (1 - reset) * mem
                mem = beta * mem + x[t]
            else:
                mem = beta * mem + x[t]
            spikes.append(Heaviside.apply(mem - theta, self.surrogate, self.slope))
            if keep_mem:
                mems.append(mem.detach())
        s = torch.stack(spikes)
        self.last_rate = float(s.detach().mean())
        self.last_mem = torch.stack(mems) if keep_mem else None
        return s


class Block(nn.Module):
    def __init__(self, cin, c, spiking, lif_args):
        super().__init__()
        # no conv bias before batch norm: BN cancels it (and Adam would drift it on rounding noise)
        self.conv1 = nn.Conv3d(cin, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(c, eps=1e-5, momentum=0.1)
        self.conv2 = nn.Conv3d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(c, eps=1e-5, momentum=0.1)
        self.spiking = spiking
        if spiking:
            self.lif1 = LIF(c, **lif_args)
            self.lif2 = LIF(c, **lif_args)

    def forward(self, x, T, first=False, keep_mem=False):
        """x: (T*B, C, D, H, W), or (B, ...) for the first block of a spiking net (same input every step)."""
        a = self.bn1(self.conv1(x))
        if not self.spiking:
            return F.relu(self.bn2(self.conv2(F.relu(a))))
        if first:
            a = a.unsqueeze(0).expand(T, *a.shape)
        else:
            a = a.view(T, -1, *a.shape[1:])
        s = self.lif1(a, T, keep_mem).flatten(0, 1)
        a = self.bn2(self.conv2(s)).view(T, -1, *a.shape[2:])
        return self.lif2(a, T, keep_mem).flatten(0, 1)


class UNet3D(nn.Module):
    """3D U-Net (spiking=False) or Spiking 3D U-Net (spiking=True, T steps)."""

    def __init__(self, in_channels=1, classes=4, base=16, depth=4, spiking=False, timesteps=4, **lif_args):
        super().__init__()
        self.depth, self.spiking, self.T = depth, spiking, timesteps if spiking else 1
        ch = [base * 2 ** k for k in range(depth + 1)]
        for k in range(depth + 1):
            setattr(self, f"enc{k}", Block(in_channels if k == 0 else ch[k - 1], ch[k], spiking, lif_args))
        for k in range(depth - 1, -1, -1):
            setattr(self, f"up{k}", nn.ConvTranspose3d(ch[k + 1], ch[k], (1, 2, 2), stride=(1, 2, 2)))
            setattr(self, f"dec{k}", Block(2 * ch[k], ch[k], spiking, lif_args))
        self.out = nn.Conv3d(ch[0], classes, 1)
        self.pool = nn.MaxPool3d((1, 2, 2))

    def lif_layers(self):
        """In spikeunet's order: enc0.lif1, enc0.lif2, ..., then dec(depth-1) .. dec0."""
        names = [f"enc{k}" for k in range(self.depth + 1)] + [f"dec{k}" for k in range(self.depth - 1, -1, -1)]
        out = []
        for n in names:
            blk = getattr(self, n)
            out += [(f"{n}.lif1", blk.lif1), (f"{n}.lif2", blk.lif2)]
        return out

    def forward(self, x, keep_mem=False):
        T, skips = self.T, []
        for k in range(self.depth + 1):
            x = getattr(self, f"enc{k}")(x, T, first=(k == 0), keep_mem=keep_mem)
            if k < self.depth:
                skips.append(x)
                x = self.pool(x)
        for k in range(self.depth - 1, -1, -1):
            x = torch.cat([skips[k], getattr(self, f"up{k}")(x)], dim=1)
            x = getattr(self, f"dec{k}")(x, T, keep_mem=keep_mem)
        y = self.out(x)
        if self.spiking:
            y = y.view(T, -1, *y.shape[1:]).mean(0)
        return y


def ce_dice_loss(logits, labels, kind="ce+dice", class_weight=None):
    """CE (PyTorch's weighted mean) + soft Dice over the foreground classes, smooth 1, batch-wide sums."""
    ce = F.cross_entropy(logits, labels.long(), weight=class_weight)
    p = logits.softmax(1)
    g = F.one_hot(labels.long(), logits.shape[1]).permute(0, 4, 1, 2, 3).to(p.dtype)
    dims = (0, 2, 3, 4)
    inter, psum, gsum = (p * g).sum(dims), p.sum(dims), g.sum(dims)
    dice = ((2 * inter + 1) / (psum + gsum + 1))[1:].mean()
    dl = 1 - dice
    total = (ce if "ce" in kind else 0) + (dl if "dice" in kind else 0)
    return total, ce, dl
