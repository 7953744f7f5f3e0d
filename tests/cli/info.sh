#!/bin/sh
# spikeunet info: rows checked against index.csv (shape, spacing, dtype, group, ED/ES frame), the
# summary line, and exit codes for bad input.
set -u
BIN=${SU_BIN:-build/spikeunet}
SHARED=${SU_SHARED:-../shared}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/su_info_XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

# compare DIR INDEX.CSV N_PATIENTS
compare() {
  "$BIN" info "$1" >"$TMP/out" 2>"$TMP/err" || { bad "info $1 exited $?: $(cat "$TMP/err")"; return; }
  last=$(tail -n 1 "$TMP/out")
  [ "$last" = "$3 patients, $(($3 * 2)) volumes" ] || bad "$1: summary line '$last'"
  awk -v want="$3" '
    NR == FNR { if (FNR > 1) { split($0, f, ","); row[f[2]] = $0 } next }
    FNR == 1 { if ($1 != "patient") { print "no header line"; bad = 1 } next }
    /patients, .* volumes/ { next }
    {
      n++
      if (!($1 in row)) { print $1 ": not in index.csv"; bad = 1; next }
      split(row[$1], f, ",")
      seen[$1]++
      frame = ($3 == "ED") ? f[4] : f[5]
      if ($3 != "ED" && $3 != "ES") { print $1 ": phase " $3; bad = 1 }
      if ($2 != f[3]) { print $1 ": group " $2 " want " f[3]; bad = 1 }
      if ($4 != frame) { print $1 " " $3 ": frame " $4 " want " frame; bad = 1 }
      if ($5 != f[9] "x" f[10] "x" f[11]) { print $1 ": shape " $5; bad = 1 }
      split($6, s, "x")
      for (i = 1; i <= 3; i++) {
        d = s[i] - f[11 + i]; if (d < 0) d = -d
        if (d > 1e-3) { print $1 ": spacing " $6 " want " f[12] "x" f[13] "x" f[14]; bad = 1; break }
      }
      if ($7 != f[15]) { print $1 ": dtype " $7 " want " f[15]; bad = 1 }
      for (i = 8; i <= 11; i++) if ($i !~ /^[0-9]+$/) { print $1 ": label count " $i; bad = 1 }
    }
    END {
      if (n != 2 * want) { print n " rows, want " 2 * want; bad = 1 }
      for (p in seen) if (seen[p] != 2) { print p ": " seen[p] " rows"; bad = 1 }
      exit bad
    }' "$2" "$TMP/out" || bad "$1 differs from $2"
}

compare data/acdc-sample data/acdc-sample/index.csv 6
# per-label counts of one row, from nibabel (np.bincount of patient090_frame11_gt)
grep -q '^patient090  *RV  *ES  *11 .* 234055  *4085  *1991  *1341$' "$TMP/out" || bad "patient090 ES label counts"

if [ -d "$SHARED/data/acdc/training" ]; then
  grep '^split\|^training' "$SHARED/data/acdc/index.csv" >"$TMP/index.csv"
  compare "$SHARED/data/acdc/training" "$TMP/index.csv" 100
else
  echo "skipping the full ACDC comparison ($SHARED/data/acdc/training not found)"
fi

# bad input: one clear message, exit 1; usage errors exit 2
"$BIN" info "$TMP/nope" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] || bad "missing folder: exit $rc"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^spikeunet info: $TMP/nope: cannot open folder" "$TMP/err" || bad "missing folder message: $(cat "$TMP/err")"
if [ -d "$SHARED/cases/acdc_missing_es_file" ]; then
  "$BIN" info "$SHARED/cases/acdc_missing_es_file" >/dev/null 2>"$TMP/err"; rc=$?
  [ $rc -eq 1 ] && grep -q "patient906: ES frame file .*patient906_frame03.nii.gz does not exist" "$TMP/err" || bad "missing ES file: exit $rc, $(cat "$TMP/err")"
  "$BIN" info "$SHARED/cases/acdc_gt_shape_mismatch" >/dev/null 2>"$TMP/err"; rc=$?
  [ $rc -eq 1 ] && grep -q "16x16x4.*16x16x3" "$TMP/err" || bad "shape mismatch: exit $rc, $(cat "$TMP/err")"
fi
"$BIN" info >/dev/null 2>&1; rc=$?; [ $rc -eq 2 ] || bad "no folder: exit $rc"
"$BIN" info a b >/dev/null 2>&1; rc=$?; [ $rc -eq 2 ] || bad "two folders: exit $rc"
"$BIN" info --frobnicate data/acdc-sample >/dev/null 2>&1; rc=$?; [ $rc -eq 2 ] || bad "unknown option: exit $rc"
"$BIN" info --help >"$TMP/out" 2>&1; rc=$?; [ $rc -eq 0 ] && grep -q "usage: spikeunet info DIR" "$TMP/out" || bad "--help: exit $rc"

[ $fail -eq 0 ] && echo "cli info: ok"
exit $fail
