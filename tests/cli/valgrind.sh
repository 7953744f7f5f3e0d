#!/bin/sh
# A short training run (spiking, 1 epoch, tiny) under valgrind's memcheck: no invalid access, no use of
# uninitialised values, no definite leak. Skipped in the sanitizer build (ASan and valgrind do not mix)
# and where valgrind is not installed.
BIN=${SU_BIN:-build/spikeunet}
if [ -n "${SU_SANITIZED:-}" ] || ! command -v valgrind >/dev/null 2>&1; then
  echo "cli valgrind: 0 passed, 0 failed (skipped: sanitizer build or no valgrind)"
  exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite -q "$BIN" train \
  --data data/acdc-sample --model spiking --timesteps 2 --base 2 --depth 2 --grid 8x32x32 --spacing 8 \
  --max-train 2 --epochs 1 --threads 2 --quiet --out "$T/run" 2>"$T/log"
rc=$?
if [ $rc -eq 0 ]; then echo "cli valgrind: 1 passed, 0 failed"; exit 0; fi
cat "$T/log" >&2
echo "cli valgrind: 0 passed, 1 failed (exit $rc)"
exit 1
