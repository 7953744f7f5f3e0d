# Shared by the CLI test scripts (sourced): the binary, a temporary folder removed at exit, and the
# pass/fail counters. A script ends with `finish NAME`, which prints the counts and sets the exit status.
BIN=${SU_BIN:-build/spikeunet}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
finish() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
