#!/bin/sh
# spikeunet plot: SVG from RUN/log.csv (one run, several runs, missing columns) and clear errors naming
# the file and line for empty, short and malformed CSV files.
set -u
BIN=${SU_BIN:?SU_BIN not set}
T=$(mktemp -d /tmp/su_plot_XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }
count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }

# expect_fail NAME EXIT_CODE NEEDLE ARGS...: fails with that code and a message containing NEEDLE
expect_fail() {
    name=$1 code=$2 needle=$3
    shift 3
    "$BIN" plot "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name: exit $rc, want $code ($(cat "$T/err"))"; return; fi
    if ! grep -qF -- "$needle" "$T/err"; then bad "$name: stderr lacks '$needle': $(cat "$T/err")"; return; fi
    ok
}

mkdir -p "$T/unet" "$T/spiking" "$T/part"
printf 'epoch,train_loss,val_loss,val_dice_mean,val_iou_mean,lr\n1,1.2,1.3,0.2,0.1,0.001\n2,0.9,1.0,0.5,0.4,0.001\n3,0.7,0.8,0.7,0.6,0.001\n' >"$T/unet/log.csv"
# CRLF line endings, an empty cell, extra columns in another order
printf 'lr,epoch,val_iou_mean,val_dice_mean,val_loss,train_loss\r\n0.001,1,0.1,0.3,1.4,1.1\r\n0.001,2,,0.6,1.1,0.8\r\n' >"$T/spiking/log.csv"
printf 'epoch,train_loss\n1,2.0\n2,1.5\n\n' >"$T/part/log.csv"

if "$BIN" plot "$T/unet" >"$T/out" 2>"$T/err"; then
    f="$T/unet/curves.svg"
    if [ -s "$f" ]; then ok; else bad "default output $f missing"; fi
    [ "$(count '<polyline' "$f")" = 4 ] && ok || bad "one run: $(count '<polyline' "$f") polylines, want 4"
    [ "$(count 'class="legend-entry"' "$f")" = 4 ] && ok || bad "one run: legend entries"
    grep -q '>val_dice_mean<' "$f" && ok || bad "one run: legend names the column"
else
    bad "plot one run failed: $(cat "$T/err")"
fi

if "$BIN" plot "$T/unet" "$T/spiking/" "$T/part" --out "$T/all.svg" >"$T/out" 2>"$T/err"; then
    f="$T/all.svg"
    [ "$(count '<polyline' "$f")" = 9 ] && ok || bad "three runs: $(count '<polyline' "$f") polylines, want 9"
    [ "$(count 'class="legend-entry"' "$f")" = 9 ] && ok || bad "three runs: legend entries"
    grep -q '>spiking: val_iou_mean<' "$f" && ok || bad "legend names the run (trailing slash dropped)"
    grep -q '>part: train_loss<' "$f" && ok || bad "a run with one column"
    [ -e "$T/unet/curves.svg" ] && ok || bad "first run's default output kept"
    ls "$T" | grep -q tmp && bad "temporary file left" || ok
else
    bad "plot three runs failed: $(cat "$T/err")"
fi

mkdir -p "$T/empty" "$T/blankhead" "$T/noepoch" "$T/short" "$T/nan" "$T/header" "$T/nocols" "$T/badepoch"
: >"$T/empty/log.csv"
printf '\n1,2\n' >"$T/blankhead/log.csv"
printf 'step,train_loss\n1,0.5\n' >"$T/noepoch/log.csv"
printf 'epoch,train_loss,val_loss\n1,0.5,0.6\n2,0.4\n' >"$T/short/log.csv"
printf 'epoch,train_loss,val_loss\n1,0.5,0.6\n2,0.4,abc\n' >"$T/nan/log.csv"
printf 'epoch,train_loss,val_loss\n' >"$T/header/log.csv"
printf 'epoch,lr\n1,0.1\n' >"$T/nocols/log.csv"
printf 'epoch,train_loss\n1,0.5\nx,0.4\n' >"$T/badepoch/log.csv"

expect_fail missing 1 "$T/none/log.csv: No such file" "$T/none"
expect_fail empty 1 "$T/empty/log.csv: empty file" "$T/empty"
expect_fail blank-header 1 "$T/blankhead/log.csv:1: empty header line" "$T/blankhead"
expect_fail no-epoch 1 "$T/noepoch/log.csv:1: no 'epoch' column" "$T/noepoch"
expect_fail short-row 1 "$T/short/log.csv:3: 2 fields, the header has 3" "$T/short"
expect_fail not-a-number 1 "$T/nan/log.csv:3: column 'val_loss': not a number 'abc'" "$T/nan"
expect_fail header-only 1 "$T/header/log.csv: no data rows" "$T/header"
expect_fail no-columns 1 "$T/nocols/log.csv: none of the columns" "$T/nocols"
expect_fail bad-epoch 1 "$T/badepoch/log.csv:3: column 'epoch'" "$T/badepoch"
expect_fail second-run-bad 1 "$T/short/log.csv:3:" "$T/unet" "$T/short" --out "$T/x.svg"
[ -e "$T/x.svg" ] && bad "output written despite an error" || ok
expect_fail no-run 2 "no RUN folder" --out "$T/y.svg"
expect_fail bad-flag 2 "unknown option '--bogus'" "$T/unet" --bogus
expect_fail unwritable 1 "/nonexistent-dir/c.svg" "$T/unet" --out /nonexistent-dir/c.svg
"$BIN" plot --help >"$T/out" 2>&1 && grep -q 'usage: spikeunet plot RUN' "$T/out" && ok || bad "--help"

echo "cli plot: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
