#!/bin/sh
# spikeunet bench: the JSON form has the keys scripts read, the table prints, and bad flags fail clearly.
set -u
BIN=${SU_BIN:?SU_BIN not set}
T=$(mktemp -d /tmp/su_bench_XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }

expect_fail() {
    name=$1 code=$2 needle=$3
    shift 3
    "$BIN" bench "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name: exit $rc, want $code ($(cat "$T/err"))"; return; fi
    if ! grep -qF -- "$needle" "$T/err"; then bad "$name: stderr lacks '$needle': $(cat "$T/err")"; return; fi
    ok
}

SMALL="--shape 1x2x16x16 --base 2 --depth 2 --runs 2 --warmup 0 --peak-seconds 0.02 --threads 2"
for model in unet spiking; do
    if "$BIN" bench --model $model --timesteps 2 $SMALL --json >"$T/json" 2>"$T/err"; then
        [ "$(wc -l <"$T/json" | tr -d ' ')" = 1 ] && ok || bad "$model: JSON is not one line"
        for key in model timesteps shape threads infer_s train_s infer_gflops train_gflops peak_gflops peak_rss_mb; do
            grep -q "\"$key\":" "$T/json" && ok || bad "$model: JSON lacks $key: $(cat "$T/json")"
        done
        grep -q "\"model\":\"$model\"" "$T/json" && ok || bad "$model: model name"
        grep -q '"shape":\[1,2,16,16\]' "$T/json" && ok || bad "$model: shape"
        grep -q '"infer_s":null' "$T/json" && bad "$model: inference not measured" || ok
    else
        bad "$model --json failed: $(cat "$T/err")"
    fi
done
grep -q '"timesteps":2' "$T/json" && ok || bad "spiking timesteps"

if "$BIN" bench $SMALL --mode all >"$T/out" 2>"$T/err"; then
    for needle in "peak FP32" "inference" "training step" "peak resident memory" "enc0.conv1" "dec0.conv2" \
        "random-init"; do
        grep -qF "$needle" "$T/out" && ok || bad "table lacks '$needle': $(cat "$T/out")"
    done
else
    bad "bench --mode all failed: $(cat "$T/err")"
fi

expect_fail "bad shape" 2 "--shape expects BxDxHxW" --shape 16x128x128
expect_fail "bad model" 2 "--model expects unet or spiking" --model resnet
expect_fail "bad mode" 2 "--mode expects" --mode fast
expect_fail "zero runs" 2 "--runs >= 1" --runs 0
expect_fail "shape vs depth" 2 "multiples of 2^depth = 4" --shape 1x2x10x10 --depth 2 --base 2
expect_fail "bad depth" 2 "depth 9" --depth 9
expect_fail "checkpoint" 1 "x.safetensors" --checkpoint x.safetensors

echo "cli bench: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
