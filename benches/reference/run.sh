#!/usr/bin/env bash
# Run the reference checks R1-R4 with the normal `evidentia check` on DATA_DIR and
# write OUT_CSV: header `rule,id`, one line per exception, sorted bytewise.
# Usage: benches/reference/run.sh DATA_DIR OUT_CSV
# The benchmark times this whole script: it starts as few processes as it can (no
# command substitution, no mktemp, no mkdir), so that what is measured is evidentia.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DATA_DIR OUT_CSV" >&2; exit 2; }
HERE=${BASH_SOURCE[0]%/*}
[ "$HERE" != "${BASH_SOURCE[0]}" ] || HERE=.
cd "$HERE"
HERE=$PWD
ROOT=${HERE%/benches/reference}
cd "$OLDPWD"
BIN=${EVIDENTIA_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/evidentia}
if [ -z "${EVIDENTIA_BIN:-}" ]; then
  cargo build --release --locked --quiet --manifest-path "$ROOT/Cargo.toml" >&2
fi
cd "$1"
data=$PWD
cd "$OLDPWD"
out=$2
# The outputs of the run go to a folder beside OUT_CSV (made by evidentia, removed on
# exit): a folder of the caller's, not a name another user of /tmp could take first.
tmp=$out.evidentia.$$
trap 'rm -rf "$tmp"' EXIT
status=0
# --config: the (empty) settings of this folder, not an evidentia.yaml of the caller's.
"$BIN" check --config "$HERE/evidentia.yaml" --controls "$HERE/controls" \
  --sources "$HERE/sources.yaml" --data "$data" --as-of 2025-07-01T00:00:00Z \
  --format ids --out "$tmp" || status=$?
# 0: no exception; 1: the gate failed on exceptions (expected); anything else: an error.
if [ "$status" -gt 1 ]; then
  exit "$status"
fi
# `r3-findings-owned-not-overdue,ID` -> `R3,ID` (the rest of the line as written), in
# awk in the C locale (sed's regular expressions took 0.1 s on the 88k lines of N=1M).
# evidentia writes the ids in the catalog's order of checks and the records' order,
# which is mostly sorted already: awk tells (exit 3) when it is not, and only then does
# sort run.
sorted=0
LC_ALL=C awk 'NR == 1 { print "rule,id"; next }
  { i = index($0, ","); l = "R" substr($0, 2, 1) substr($0, i); print l
    if (NR > 2 && l < p) u = 1; p = l }
  END { exit u ? 3 : 0 }' "$tmp/exception-ids.csv" > "$out" || sorted=$?
case $sorted in
  0) ;;
  3) { echo "rule,id"; tail -n +2 "$out" | LC_ALL=C sort; } > "$tmp/sorted.csv"
     cat "$tmp/sorted.csv" > "$out" ;;
  *) exit "$sorted" ;;
esac
