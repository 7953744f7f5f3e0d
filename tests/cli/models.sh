#!/bin/sh
# The trained models shipped in models/ (docs/RESULTS.md): each is a valid checkpoint that predicts a
# label map for a bundled image, on the image's own grid (what a fresh clone promises in the README).
set -u
. "$(dirname "$0")/lib.sh"
img=data/acdc-sample/patient001/patient001_frame01.nii.gz
for m in models/*.safetensors; do
  [ -e "$m" ] || continue
  size=$(wc -c < "$m")
  [ "$size" -lt 31457280 ] && ok || bad "$m: $size bytes, over 30 MB"
  "$BIN" checkpoint "$m" >/dev/null && ok || bad "$m: not a valid checkpoint"
  name=$(basename "$m" .safetensors)
  "$BIN" predict --checkpoint "$m" --input "$img" --out "$T/$name" --threads 2 --quiet && ok || bad "$m: predict failed"
  [ -s "$T/$name/patient001_frame01.nii.gz" ] && ok || bad "$m: no label map"
  "$BIN" evaluate --checkpoint "$m" --data data/acdc-sample/patient001 --threads 2 --quiet > "$T/eval.txt" 2>&1 &&
    ok || bad "$m: evaluate failed: $(cat "$T/eval.txt")"
  # a trained model segments a training patient of the sample far above chance
  iou=$(sed -n 's/^mean IoU over RV, MYO, LV (3 structures): \([0-9.]*\).*/\1/p' "$T/eval.txt")
  awk -v v="${iou:-0}" 'BEGIN { exit !(v > 0.4) }' && ok || bad "$m: mean IoU ${iou:-?} on patient001, expected > 0.4"
  # and the sample's held-out patients (090, 093: in the model's validation split), scored as such
  "$BIN" evaluate --checkpoint "$m" --data data/acdc-sample --subset val --threads 2 --quiet > "$T/val.txt" 2>"$T/val.err" &&
    ok || bad "$m: evaluate --subset val failed: $(cat "$T/val.err")"
  grep -q "scoring the 4 present" "$T/val.err" && ok || bad "$m: expected the 4 held-out sample volumes: $(cat "$T/val.err")"
  iou=$(sed -n 's/^mean IoU over RV, MYO, LV (3 structures): \([0-9.]*\).*/\1/p' "$T/val.txt")
  awk -v v="${iou:-0}" 'BEGIN { exit !(v > 0.4) }' && ok || bad "$m: mean IoU ${iou:-?} on the held-out sample, expected > 0.4"
done
finish "cli models"
