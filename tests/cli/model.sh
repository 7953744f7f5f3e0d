#!/bin/sh
# spikeunet model: the layer table and totals of issue 3/4 (35.1 GMAC for base 16, depth 4, 16x128x128).
set -u
BIN=${SU_BIN:-build/spikeunet}
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }
out=$("$BIN" model --model unet)
check 'echo "$out" | grep -q "35.09 GMAC"' "3D U-Net: 35.09 GMAC per 1x16x128x128 volume"
check 'echo "$out" | grep -q "^enc4.conv2 .*256 x 16 x 8 x 8"' "bottleneck 256 x 16 x 8 x 8"
check 'echo "$out" | grep -q "memory for a training step"' "training memory line"
out=$("$BIN" model --model spiking --timesteps 4)
check 'echo "$out" | grep -q "^enc0.lif1 .*lif .* 4 "' "LIF layers with 4 steps"
check 'echo "$out" | grep -q "18 LIF layers"' "18 LIF layers"
check 'echo "$out" | grep -q "memory for a training step"' "spiking training memory line"
check 'echo "$out" | grep -q "^enc0.conv1 .* 1 "' "the first conv runs once"
"$BIN" model --model unet --shape 16x100x100 >/dev/null 2>&1; rc=$?
check '[ $rc -eq 2 ]' "H not a multiple of 16 is a usage error"
echo "cli model: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
