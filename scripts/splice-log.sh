#!/bin/sh
# Joins the training logs of one run that spanned several working sessions: a session's run folder is lost
# when the session ends, so the next one continues from the committed checkpoint with --init-from (fresh
# Adam state) in a new folder, whose epochs count from 1 again. Usage:
#   scripts/splice-log.sh EARLIER_LOG KEEP LATER_LOG > log.csv
# keeps the header and the first KEEP epochs of EARLIER_LOG (KEEP = the epoch of the checkpoint the later
# run started from), then appends LATER_LOG with its epochs shifted by KEEP. Same columns required.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 EARLIER_LOG KEEP LATER_LOG" >&2; exit 2; }
[ "$(head -1 "$1")" = "$(head -1 "$3")" ] || { echo "$0: $1 and $3 have different columns" >&2; exit 1; }
awk -F, -v keep="$2" 'NR == 1 || $1 <= keep' "$1"
awk -F, -v OFS=, -v off="$2" 'NR > 1 { $1 += off; print }' "$3"
