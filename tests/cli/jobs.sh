#!/bin/sh
# train / resume / evaluate / predict / compare on the bundled sample with a tiny network, and the bad
# inputs of the main job: every failure must be one clear message, a non-zero exit, and no partial files.
set -u
. "$(dirname "$0")/lib.sh"
SHARED=${SU_SHARED:-../shared}
# expect CODE NEEDLE -- command...: exit code and a message on stderr containing NEEDLE
expect() {
  code=$1 needle=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"; rc=$?
  if [ "$rc" -ne "$code" ]; then bad "$* -> exit $rc, expected $code: $(cat "$T/err")"; return; fi
  if [ -n "$needle" ] && ! grep -q -- "$needle" "$T/err"; then bad "$* -> stderr lacks '$needle': $(cat "$T/err")"; return; fi
  ok
}
TINY="--base 2 --depth 2 --grid 8x32x32 --spacing 8 --max-train 2 --quiet --threads 2"

# ---- train, resume ------------------------------------------------------------------------------
expect 0 "" -- "$BIN" train --data data/acdc-sample --model unet --out "$T/run" --epochs 2 $TINY
[ "$(tail -n +2 "$T/run/log.csv" | wc -l)" -eq 2 ] && ok || bad "log.csv should have 2 epochs"
for f in last.safetensors best.safetensors split.json log.csv; do [ -s "$T/run/$f" ] && ok || bad "missing $f"; done
ls "$T/run" | grep -q tmp && bad "temporary files left in the run folder" || ok
expect 0 "" -- "$BIN" train --resume "$T/run" --epochs 3 --quiet
[ "$(tail -n +2 "$T/run/log.csv" | wc -l)" -eq 3 ] && ok || bad "resumed log.csv should have 3 epochs"
head -1 "$T/run/log.csv" | grep -q '^epoch,train_loss,val_loss' && ok || bad "log.csv header"
"$BIN" checkpoint "$T/run/last.safetensors" | grep -q "^training: epoch 3 of 3, " && ok || bad "checkpoint: training state line"
[ "$(tail -c 1 "$T/run/split.json" | od -An -c | tr -d ' ')" = '\n' ] && ok || bad "split.json ends with a newline"
"$BIN" checkpoint "$T/run/last.safetensors" --metadata | grep -q '"val_fraction":0.2,' && ok || bad "metadata floats as short decimals"
# the spiking model logs firing rates
expect 0 "" -- "$BIN" train --data data/acdc-sample --model spiking --timesteps 2 --out "$T/spk" --epochs 1 $TINY
head -1 "$T/spk/log.csv" | grep -q 'fr_enc0.lif1' && ok || bad "spiking log.csv lacks firing-rate columns"

# ---- presets: the preset's flags come first, so the user's own flags override them ------------------
expect 0 "" -- "$BIN" train --data data/acdc-sample --model spiking --preset paper --epochs 1 --out "$T/paper" $TINY
"$BIN" checkpoint "$T/paper/last.safetensors" --metadata | grep -q '"epochs":1,' && ok || bad "--epochs overrides the preset"
"$BIN" checkpoint "$T/paper/last.safetensors" --metadata | grep -q '"timesteps":4,' && ok || bad "preset paper sets T = 4"
expect 2 "unknown preset 'fast'" -- "$BIN" train --data data/acdc-sample --out "$T/x" --preset fast
expect 2 "--preset does not apply to --resume" -- "$BIN" train --resume "$T/run" --preset paper
expect 1 "would end before that" -- "$BIN" train --resume "$T/run" --epochs 1
expect 2 "--base does not apply to --resume" -- "$BIN" train --resume "$T/run" --base 8
"$BIN" train --help | grep -q '^  paper ' && ok || bad "train --help lists the presets"

# ---- bad input to train ---------------------------------------------------------------------------
expect 1 "holds a run already" -- "$BIN" train --data data/acdc-sample --model unet --out "$T/run" --epochs 1 $TINY
expect 2 "unknown option '--epoch'" -- "$BIN" train --data data/acdc-sample --out "$T/x" --epoch 3
expect 2 "expects an integer" -- "$BIN" train --data data/acdc-sample --out "$T/x" --epochs three
expect 2 "missing required option --data" -- "$BIN" train --out "$T/x"
expect 2 "expected unet or spiking" -- "$BIN" train --data data/acdc-sample --out "$T/x" --model cnn
expect 1 "$T/nowhere" -- "$BIN" train --data "$T/nowhere" --model unet --out "$T/x1" $TINY
[ -e "$T/x1" ] && bad "a refused train left its run folder" || ok
mkdir -p "$T/nogt" && cp -r "$SHARED/data/acdc/testing/patient101" "$T/nogt/" 2>/dev/null &&
  expect 1 "no ground truth" -- "$BIN" train --data "$T/nogt" --model unet --out "$T/x2" $TINY --val-fraction 0
expect 1 "expected F32 \[4,1,3,3,3\]" -- "$BIN" train --data data/acdc-sample --model unet --base 4 --out "$T/x3" --init-from "$T/run/best.safetensors" $TINY --base 4
[ -e "$T/x3" ] && bad "a refused --init-from left its run folder" || ok
# starting from a model that trained on this run's validation patients is refused (a leak)
expect 1 "which this run validates on" -- "$BIN" train --data data/acdc-sample --model spiking --timesteps 2 --out "$T/x4" --init-from "$T/run/best.safetensors" --val-fraction 0.5 $TINY
[ -e "$T/x4" ] && bad "a refused leaking --init-from left its run folder" || ok
# a resumed run keeps saying what its weights started from
expect 0 "" -- "$BIN" train --data data/acdc-sample --model spiking --timesteps 2 --out "$T/x5" --init-from "$T/run/best.safetensors" --epochs 1 $TINY
expect 0 "" -- "$BIN" train --resume "$T/x5" --epochs 2 --quiet --threads 2
"$BIN" checkpoint "$T/x5/last.safetensors" | grep -q "^started from: $T/run/best.safetensors" && ok ||
  bad "a resumed run lost what it started from: $("$BIN" checkpoint "$T/x5/last.safetensors" | grep started)"
expect 1 "last.safetensors" -- "$BIN" train --resume "$T/empty-run"
# augmentation: no mirror flips unless asked; the probability is stored in the state and kept through a
# resume; out of range refused
expect 0 "" -- "$BIN" train --data data/acdc-sample --model unet --out "$T/aug" --augment --epochs 1 $TINY
"$BIN" checkpoint "$T/aug/last.safetensors" --metadata | grep -q '"augment":true,"augment_flip":0,' && ok || bad "augment_flip 0 by default"
expect 0 "" -- "$BIN" train --data data/acdc-sample --model unet --out "$T/augf" --augment --augment-flip 0.25 --epochs 1 $TINY
expect 0 "" -- "$BIN" train --resume "$T/augf" --epochs 2 --quiet --threads 2
"$BIN" checkpoint "$T/augf/last.safetensors" --metadata | grep -q '"augment_flip":0.25,' && ok || bad "augment_flip kept by --resume"
expect 1 "must lie in \[0, 1\]" -- "$BIN" train --data data/acdc-sample --model unet --out "$T/x6" --augment --augment-flip 1.5 $TINY
[ -e "$T/x6" ] && bad "a refused --augment-flip left its run folder" || ok

# ---- evaluate, predict ----------------------------------------------------------------------------
expect 0 "" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --subset val --csv "$T/scores.csv"
grep -q "mean IoU over RV, MYO, LV" "$T/out" && ok || bad "evaluate prints the 3-structure mean IoU"
grep -q "mean IoU over all 4 classes" "$T/out" && ok || bad "evaluate prints the 4-class mean IoU"
[ -s "$T/scores.csv" ] && [ -s "$T/scores.csv.summary.csv" ] && [ -s "$T/scores.csv.ef.csv" ] && ok || bad "evaluate CSVs"
grep -q "^pooled IoU over all volumes' voxels" "$T/out" && ok || bad "evaluate prints the pooled IoU"
grep -q "^all,iou_pooled,mean3," "$T/scores.csv.summary.csv" && ok || bad "summary CSV has the pooled IoU"
# post-processing: largest connected component of the heart, or of each structure
for mode in heart structures; do
  expect 0 "" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --subset val --keep-largest $mode
done
expect 2 "expected heart or structures" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --keep-largest all
# --subset on a folder holding only some of the run's patients: the present ones are scored, and said so
train_patient=$(grep -o '"train":\["patient[0-9]*' "$T/run/split.json" | grep -o 'patient[0-9]*')
mkdir -p "$T/part" && cp -r "data/acdc-sample/$train_patient" "$T/part/"
expect 0 "scoring the 2 present" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data "$T/part" --subset train
grep -q "(.*, 2 volumes)" "$T/out" && ok || bad "evaluate --subset train on a partial folder: 2 volumes"
expect 1 "holds none of the run's" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data "$T/part" --subset val
expect 0 "" -- "$BIN" predict --checkpoint "$T/spk/best.safetensors" --input data/acdc-sample/patient090/patient090_frame04.nii.gz --out "$T/pred" --png
[ -s "$T/pred/patient090_frame04.nii.gz" ] && [ -s "$T/pred/patient090_frame04.png" ] && ok || bad "predict outputs"
expect 0 "" -- "$BIN" predict --checkpoint "$T/spk/best.safetensors" --input data/acdc-sample/patient090/patient090_frame04.nii.gz --out "$T/pred-lcc" --keep-largest heart
[ -s "$T/pred-lcc/patient090_frame04.nii.gz" ] && ok || bad "predict --keep-largest output"
expect 2 "not empty" -- "$BIN" predict --checkpoint "$T/spk/best.safetensors" --input data/acdc-sample/patient090/patient090_frame04.nii.gz --out "$T/pred"
expect 0 "" -- "$BIN" predict --checkpoint "$T/spk/best.safetensors" --input data/acdc-sample/patient090/patient090_frame04.nii.gz --out "$T/pred" --force
# damaged checkpoints: truncated, altered, not a checkpoint
size=$(wc -c <"$T/run/best.safetensors")
head -c $((size / 2)) "$T/run/best.safetensors" >"$T/trunc.safetensors"
expect 1 "trunc.safetensors" -- "$BIN" evaluate --checkpoint "$T/trunc.safetensors" --data data/acdc-sample
cp "$T/run/best.safetensors" "$T/alt.safetensors"
printf '\377' | dd of="$T/alt.safetensors" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
expect 1 "checksum" -- "$BIN" evaluate --checkpoint "$T/alt.safetensors" --data data/acdc-sample
expect 1 "info.csv\|safetensors\|header" -- "$BIN" predict --checkpoint data/acdc-sample/index.csv --input data/acdc-sample --out "$T/p2"
[ -e "$T/p2" ] && [ -n "$(ls "$T/p2")" ] && bad "predict left files after a bad checkpoint" || ok
[ -d "$T/nogt" ] && expect 1 "no volumes with ground truth" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data "$T/nogt"
expect 2 "expected all, val or train" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --subset some

# predict never writes over its input images
mkdir -p "$T/own" && cp data/acdc-sample/patient090/patient090_frame04.nii.gz "$T/own/"
sum_before=$(cksum < "$T/own/patient090_frame04.nii.gz")
expect 2 "would overwrite" -- "$BIN" predict --checkpoint "$T/spk/best.safetensors" --input "$T/own" --out "$T/own" --force
[ "$(cksum < "$T/own/patient090_frame04.nii.gz")" = "$sum_before" ] && ok || bad "predict overwrote its input image"

# ---- thread counts and value ranges ----------------------------------------------------------------
for n in -1 99999; do
  expect 2 "expected 0 (all cores) to 1024" -- "$BIN" train --data data/acdc-sample --out "$T/thr" --threads $n
  expect 2 "expected 0 (all cores) to 1024" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --threads $n
done
expect 2 "max-train must be >= 0" -- "$BIN" train --data data/acdc-sample --out "$T/x" --max-train -1
expect 2 "val-fraction must be in" -- "$BIN" train --data data/acdc-sample --out "$T/x" --val-fraction 1.5
expect 2 "weights must be >= 0" -- "$BIN" train --data data/acdc-sample --out "$T/x" --class-weights 1,2,3,-4
expect 1 "cannot write into" -- "$BIN" evaluate --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --csv "$T/missing/x.csv"
expect 2 "volumes must be >= 0" -- "$BIN" energy --checkpoint "$T/run/best.safetensors" --data data/acdc-sample --volumes -1
expect 2 "expected unet, spiking or unet,spiking" -- "$BIN" compare --data data/acdc-sample --out "$T/x" --models unet,foo
expect 2 "unknown option '--model'" -- "$BIN" compare --data data/acdc-sample --out "$T/x" --model spiking
[ -e "$T/x" ] && bad "a refused command left $T/x" || ok

# ---- Ctrl-C: the step finishes, the run is saved, the exit status says it was interrupted ----------
"$BIN" train --data data/acdc-sample --model unet --out "$T/int" --epochs 100000 $TINY & pid=$!
i=0; while [ ! -s "$T/int/last.safetensors" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid; wait $pid; rc=$?
[ "$rc" -eq 130 ] && ok || bad "SIGINT: exit $rc, expected 130"
"$BIN" checkpoint "$T/int/last.safetensors" >/dev/null && ok || bad "SIGINT: last.safetensors invalid"
done_epochs=$(tail -n +2 "$T/int/log.csv" | wc -l)
expect 0 "" -- "$BIN" train --resume "$T/int" --epochs $((done_epochs + 1)) --quiet
[ "$(tail -n +2 "$T/int/log.csv" | wc -l)" -eq $((done_epochs + 1)) ] && ok || bad "SIGINT: resume continues the log"

# ---- compare (both models, tiny) -----------------------------------------------------------------
expect 0 "" -- "$BIN" compare --data data/acdc-sample --out "$T/cmp" --epochs 1 --timesteps 2 $TINY
[ -s "$T/cmp/results.md" ] && grep -q "Spiking 3D U-Net" "$T/cmp/results.md" && ok || bad "compare results.md"
grep -q "Starting weights: random (seeded)" "$T/cmp/results.md" && ok || bad "compare results.md: starting weights"
grep -q "3D U-Net" "$T/out" && grep -q "Spiking 3D U-Net" "$T/out" && ok || bad "compare prints both rows"
expect 2 "holds results" -- "$BIN" compare --data data/acdc-sample --out "$T/cmp" --epochs 1 $TINY
# the spiking network started from the comparison's own trained 3D U-Net (what --preset best does)
expect 0 "" -- "$BIN" compare --data data/acdc-sample --out "$T/cmp2" --epochs 1 --timesteps 2 --spiking-init unet $TINY
"$BIN" checkpoint "$T/cmp2/spiking/best.safetensors" --metadata | grep -q "\"init_from\":\"$T/cmp2/unet/best.safetensors\"" && ok || bad "--spiking-init unet: init_from not recorded"
grep -q "Starting weights: the trained \`$T/cmp2/unet/best.safetensors\` (--spiking-init unet)" "$T/cmp2/results.md" && ok || bad "compare results.md states --spiking-init unet"
"$BIN" checkpoint "$T/cmp2/spiking/best.safetensors" | grep -q "^started from: $T/cmp2/unet/best.safetensors" && ok || bad "checkpoint prints the starting weights"
expect 1 "train the 3D U-Net first" -- "$BIN" compare --data data/acdc-sample --out "$T/cmp3" --models spiking --spiking-init unet $TINY
[ -e "$T/cmp3" ] && bad "a refused compare left its folder" || ok
expect 2 "expected none or unet" -- "$BIN" compare --data data/acdc-sample --out "$T/cmp4" --spiking-init relu
expect 2 "give its checkpoint with --init-from" -- "$BIN" train --data data/acdc-sample --model spiking --preset best --out "$T/best"

finish "cli jobs"
