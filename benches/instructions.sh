#!/usr/bin/env bash
# Instructions executed by `evidentia check` on the reference checks, counted by
# valgrind's callgrind: the same count on every run, where wall and CPU times on a
# shared machine move by 5-15% from one run to the next. A change is measured by
# comparing the counts of two binaries (this counts work, not cache misses: confirm a
# change with the timed benchmark, benches/run.sh).
#
#   bash benches/instructions.sh DATA_DIR BIN [BIN...]
#
# DATA_DIR: data from ../shared/bench/gen_evidence.py (100k incidents take about 20 s
# per binary). Prints, per binary, the instructions in all and those outside SHA-256:
# valgrind hides the CPU's SHA instructions, so the hash runs in software there and
# its count says nothing about a real run, where it is about 13% of the CPU.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DATA_DIR BIN [BIN...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "$0: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
data=$(cd "$1" && pwd)
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for bin in "$@"; do
  bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
  rm -rf "$tmp/out"
  # From the temporary folder, so that no evidentia.yaml of the caller applies.
  (cd "$tmp" && valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin" check \
    --controls "$HERE/reference/controls" --sources "$HERE/reference/sources.yaml" \
    --data "$data" --as-of 2025-07-01T00:00:00Z --format ids --out "$tmp/out" \
    >/dev/null 2>"$tmp/err") || [ $? -eq 1 ] || { cat "$tmp/err" >&2; exit 2; }
  callgrind_annotate --threshold=100 --auto=no --inclusive=no "$tmp/cg" | python3 -c '
import re, sys
total = sha = 0
listing = False
for line in sys.stdin:
    if "file:function" in line:
        listing = True
        continue
    m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)", line)
    if listing and m:
        n = int(m.group(1).replace(",", ""))
        total += n
        if "sha2::" in m.group(2):
            sha += n
print(f"{sys.argv[1]}: {total:,} instructions, {total - sha:,} outside SHA-256")
' "$bin"
done
