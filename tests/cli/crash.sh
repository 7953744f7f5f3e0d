#!/bin/sh
# Crash-safe training: SIGKILL at random moments, resume each time; the checkpoint on disk must always be
# complete and valid (its checksums match), at most the current epoch may be lost, and the resumed run must
# reach exactly the weights of an uninterrupted run with the same seed and threads. Then a NaN loss and a
# full disk: a clear message, and the previous checkpoint intact.
set -u
. "$(dirname "$0")/lib.sh"
EPOCHS=6
ARGS="--data data/acdc-sample --model unet --base 2 --depth 2 --grid 8x32x32 --spacing 8 --max-train 4 --threads 2 --quiet --seed 7"

# the uninterrupted run (timed: the kills land at random points of a run that long)
start=$(date +%s%N)
"$BIN" train $ARGS --out "$T/ref" --epochs $EPOCHS || bad "reference run failed"
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
ref=$("$BIN" checkpoint "$T/ref/last.safetensors" --digest)

# killed runs: kill -9 at pseudo-random moments, check what is on disk, resume
seed=$(( $(date +%s) % 1000 ))
kills=0 checked=0
"$BIN" train $ARGS --out "$T/run" --epochs $EPOCHS >/dev/null 2>&1 &
pid=$!
while :; do
  seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
  if [ $kills -eq 0 ]; then
    # the first kill lands after the first checkpoint (so a resume is always exercised), at a random
    # point of the next epoch
    n=0
    while [ ! -e "$T/run/last.safetensors" ] && [ $n -lt 3000 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.01; n=$((n + 1)); done
    wait_ms=$(( seed % (run_ms / EPOCHS + 1) ))
  else
    wait_ms=$(( run_ms * 15 / 100 + seed % (run_ms * 45 / 100 + 1) ))   # 15-60 % of a whole run
  fi
  sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; break; fi
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  kills=$((kills + 1))
  if [ -e "$T/run/last.safetensors" ]; then
    checked=$((checked + 1))
    "$BIN" checkpoint "$T/run/last.safetensors" --metadata >"$T/info" 2>&1 && ok || bad "checkpoint invalid after kill $kills: $(cat "$T/info")"
    done_ep=$(sed -n 's/.*"epochs_done":\([0-9]*\).*/\1/p' "$T/info")
    logged=$(( $(wc -l <"$T/run/log.csv") - 1 ))
    # at most the epoch in progress was lost (its log row may already be written; resuming rewrites it)
    [ $(( ${done_ep:-0} + 1 )) -ge "$logged" ] && ok || bad "kill $kills: checkpoint at epoch ${done_ep:-?} but $logged epochs logged"
    "$BIN" train --resume "$T/run" --threads 2 --quiet >/dev/null 2>&1 &
  else
    rm -rf "$T/run"
    "$BIN" train $ARGS --out "$T/run" --epochs $EPOCHS >/dev/null 2>&1 &
  fi
  pid=$!
  [ $kills -ge 4 ] && { wait "$pid"; break; }
done
ls "$T/run" | grep -q tmp && bad "temporary files left after kills" || ok
got=$("$BIN" checkpoint "$T/run/last.safetensors" --digest)
[ "$got" = "$ref" ] && ok || bad "after $kills kills the resumed run's state $got differs from the uninterrupted $ref"
[ "$(( $(wc -l <"$T/run/log.csv") - 1 ))" -eq $EPOCHS ] && ok || bad "log.csv should hold $EPOCHS epochs"
echo "crash: $kills kills, $checked of them after a checkpoint existed (a whole run ~${run_ms} ms)"
[ "$checked" -ge 1 ] && ok || bad "no kill landed after the first checkpoint"

# NaN: a loss that turns NaN (injected at global step 6, epoch 2) stops training with epoch and step and
# keeps the last good checkpoint
"$BIN" train $ARGS --out "$T/nan" --epochs 1 || bad "nan setup"
before=$(md5sum <"$T/nan/last.safetensors")
SU_FAULT_NAN_AT_STEP=6 "$BIN" train --resume "$T/nan" --epochs 3 --quiet >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "epoch 2, step [0-9]*: the loss is" "$T/err" && ok || bad "NaN loss: exit $rc, $(cat "$T/err")"
[ "$(md5sum <"$T/nan/last.safetensors")" = "$before" ] && ok || bad "NaN run changed the last good checkpoint"

# full disk: files may not grow past 8 kB; saving fails cleanly and the previous checkpoint stays
"$BIN" train $ARGS --out "$T/full" --epochs 1 || bad "disk-full setup"
before=$(md5sum <"$T/full/last.safetensors")
( trap '' XFSZ; ulimit -f 16; exec "$BIN" train --resume "$T/full" --epochs 2 --quiet ) >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "File too large\|No space" "$T/err" && ok || bad "disk full: exit $rc, $(cat "$T/err")"
[ "$(md5sum <"$T/full/last.safetensors")" = "$before" ] && ok || bad "disk full changed the previous checkpoint"
ls "$T/full" | grep -q tmp && bad "disk full left a temporary file" || ok
"$BIN" checkpoint "$T/full/last.safetensors" >/dev/null && ok || bad "previous checkpoint unreadable"

finish "cli crash"
