#!/bin/sh
# Regenerates the artefacts of docs/RESULTS.md from the full-data runs: learning curves, validation scores
# on the patients' own voxel grids (with the energy columns), overlay figures of two validation volumes,
# and copies of the training logs. Usage: scripts/results.sh [RUN ...]  (default: runs/unet runs/spiking*)
# Needs ../shared/data/acdc/training. Writes docs/results/ only; the runs are read, never changed.
set -eu
BIN=${SU_BIN:-build/spikeunet}
DATA=${SU_DATA:-../shared/data/acdc/training}
OUT=${SU_OUT:-docs/results}
THREADS=${SU_THREADS:-2}
[ $# -gt 0 ] || set -- $(ls -d runs/unet runs/spiking* 2>/dev/null)
mkdir -p "$OUT"
"$BIN" plot "$@" --out "$OUT/curves.svg"
for run in "$@"; do
  name=$(basename "$run")
  [ -s "$run/best.safetensors" ] || { echo "$run: no best.safetensors yet, skipped" >&2; continue; }
  cp "$run/log.csv" "$OUT/$name-log.csv"
  "$BIN" checkpoint "$run/best.safetensors" | sed -n 's/^training: //p' > "$OUT/$name-state.txt"
  "$BIN" evaluate --checkpoint "$run/best.safetensors" --data "$DATA" --subset val --threads "$THREADS" \
    --csv "$OUT/$name-val.csv" > "$OUT/$name-val.txt"
  # overlays of the first two validation volumes (prediction beside the ground truth)
  rm -rf "$OUT/figures-$name.tmp" && mkdir -p "$OUT/figures-$name.tmp"
  for v in $(sed -n 's/.*"val":\["\([^"]*\)","\([^"]*\)".*/\1 \2/p' "$run/split.json"); do
    patient=${v%%:*} phase=${v##*:}
    frame=$(sed -n "s/^$phase: *//p" "$DATA/$patient/Info.cfg")
    img=$(printf '%s/%s/%s_frame%02d.nii.gz' "$DATA" "$patient" "$patient" "$frame")
    "$BIN" predict --checkpoint "$run/best.safetensors" --input "$img" --out "$OUT/figures-$name.tmp" --png \
      --force --threads "$THREADS" --quiet
  done
  mkdir -p "$OUT/figures"
  for f in "$OUT/figures-$name.tmp"/*.png; do cp "$f" "$OUT/figures/$name-$(basename "$f")"; done
  rm -rf "$OUT/figures-$name.tmp"
done
echo "wrote $OUT: curves.svg, <run>-log.csv, <run>-val.txt/.csv, <run>-state.txt, figures/"
