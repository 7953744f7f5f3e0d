#!/usr/bin/python3
"""Checks a folder of predicted label maps against the images they were made from: every image of the
ACDC folder has a label map of the same shape and affine, uint8, labels within 0..3 (needs nibabel:
scripts/install-deps --torch). Usage: scripts/check-predictions.py IMAGES_DIR PRED_DIR"""
import glob
import os
import sys

import nibabel as nib
import numpy as np

images = sorted(p for p in glob.glob(os.path.join(sys.argv[1], "**", "*.nii*"), recursive=True)
                if "_gt." not in p and "_4d." not in p)
bad = 0
for path in images:
    pred_path = os.path.join(sys.argv[2], os.path.basename(path))
    if not os.path.exists(pred_path):
        print("missing", pred_path)
        bad += 1
        continue
    img, pred = nib.load(path), nib.load(pred_path)
    data = np.asarray(pred.dataobj)
    ok = (img.shape == pred.shape and np.allclose(img.affine, pred.affine) and data.dtype == np.uint8
          and data.max() <= 3)
    if not ok:
        print("mismatch", pred_path, img.shape, pred.shape, data.dtype)
        bad += 1
print(f"{len(images) - bad} of {len(images)} label maps open in nibabel with their image's shape and affine")
sys.exit(1 if bad else 0)
