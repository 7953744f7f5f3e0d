#!/usr/bin/python3
"""Independent reference for tests/test_metrics.c: the synthetic volume of synth() there, scored with
scipy (medpy's hd95 definition: surface = mask ^ erosion(6-neighbourhood, border 0), EDT with sampling,
pooled both directions, numpy percentile 95). Run with /usr/bin/python3 (needs numpy + scipy)."""
import numpy as np
from scipy import ndimage as ndi

NX, NY, NZ = 20, 18, 6
SP = (1.25, 0.9, 3.0)

def synth(shift):
    lab = np.zeros((NX, NY, NZ), np.uint8)
    for z in range(NZ):
        for y in range(NY):
            for x in range(NX):
                cx = 9 + shift
                r2 = (x - cx) ** 2 + (y - 9) ** 2
                if 1 <= z <= 4 and r2 <= (36 if shift == 0 else 30) - z:
                    lab[x, y, z] = 2
                if 4 * r2 + 16 * (z - 2) ** 2 <= 64 + 8 * shift:
                    lab[x, y, z] = 3
                if 1 <= x <= 4 and 5 + shift <= y <= 13 + shift and (1 - shift) <= z <= 3:
                    lab[x, y, z] = 1
    return lab

def hd95(a, b):
    fp = ndi.generate_binary_structure(3, 1)
    ba = a ^ ndi.binary_erosion(a, structure=fp, iterations=1)
    bb = b ^ ndi.binary_erosion(b, structure=fp, iterations=1)
    d1 = ndi.distance_transform_edt(~bb, sampling=SP)[ba]
    d2 = ndi.distance_transform_edt(~ba, sampling=SP)[bb]
    return np.percentile(np.hstack((d1, d2)), 95)

gt, pred = synth(0), synth(2)
for c in range(4):
    g, p = gt == c, pred == c
    i = (g & p).sum()
    print(f"c={c} n_gt={g.sum()} n_pred={p.sum()} dice={2*i/(g.sum()+p.sum()):.12f} "
          f"iou={i/(g.sum()+p.sum()-i):.12f} hd95={hd95(p, g):.12f}")
