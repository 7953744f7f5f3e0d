#!/bin/sh
# Builds the fuzzers and runs each target in turn for SECONDS (one at a time), then prints
# executions per target. Exits 1 when any target found a crash, leak, timeout, OOM or failed check
# (the input lands in build-fuzz/artifacts/<target>/). Run from the repository root.
#   fuzz/run.sh [--fresh] SECONDS [TARGET...]
# --fresh starts from the seeds alone (what CI does); otherwise build-fuzz/corpus/<target> keeps
# what earlier runs found. Targets: nifti info checkpoint split args (default: all).
set -u
fresh=0
if [ "${1:-}" = "--fresh" ]; then fresh=1; shift; fi
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-nifti info checkpoint split args}
B=build-fuzz

command -v clang >/dev/null 2>&1 || { echo "fuzz: clang not found (scripts/install-deps --fuzz)" >&2; exit 2; }
make -s -f fuzz/Makefile B=$B -j "${JOBS:-2}" || exit 2

# scratch files of the targets: on tmpfs when there is one (a file is written per input)
scratch=$(mktemp -d "${FUZZ_TMPDIR:-$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}/su_fuzz_run_XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT INT TERM

mkdir -p $B/logs
rm -rf $B/seeds
if ! TMPDIR=$scratch $B/mkseeds $B/seeds >$B/logs/mkseeds.log 2>&1; then
  cat $B/logs/mkseeds.log >&2
  echo "fuzz: seed generation failed" >&2
  exit 2
fi
summary=""
failed=0
for t in $targets; do
  corpus=$B/corpus/$t
  [ $fresh = 1 ] && corpus=$B/smoke-corpus/$t && rm -rf "$corpus"
  mkdir -p "$corpus" $B/artifacts/$t
  dirs="$corpus $B/seeds/$t"
  [ -d fuzz/regress/$t ] && dirs="$dirs fuzz/regress/$t"
  # one allocation above 256 MiB from an input of a few KB is a fault (inputs stay far smaller)
  opts="-max_total_time=$secs -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256"
  opts="$opts -artifact_prefix=$B/artifacts/$t/"
  [ -f fuzz/dict/$t.dict ] && opts="$opts -dict=fuzz/dict/$t.dict"
  # cli_parse prints its usage errors and --help; keep the fuzzer's own output readable
  [ "$t" = args ] && opts="$opts -close_fd_mask=1"
  log=$B/logs/$t.log
  echo "fuzz: $t for ${secs}s (log $log)"
  # shellcheck disable=SC2086
  TMPDIR=$scratch $B/fuzz_$t $opts $dirs >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/.*/cov \1, ft \2, corpus \3/p')
  status=ok
  if [ $rc -ne 0 ]; then
    status="FAILED (rc $rc)"
    failed=1
    echo "---- $log (tail) ----" >&2
    tail -40 "$log" >&2
    ls $B/artifacts/$t >&2
  fi
  line=$(printf '%-11s %12s execs %8s exec/s  %-36s %s' "$t" "${execs:-?}" "${speed:-?}" "${cov:-}" "$status")
  summary="$summary$line
"
done
echo "fuzz: ${secs}s per target"
printf '%s' "$summary"
exit $failed
