#!/usr/bin/env bash
# evidentia against the anchors of ../shared/bench (DuckDB, polars, pandas, the csv
# crate floor) on the same four reference checks and the same data, in one run.
#
#   bash benches/run.sh                 # N = 100k and 1M, 5 rounds
#   SIZES="100000 1000000 5000000" ROUNDS=7 bash benches/run.sh
#
# Writes only under $WORK (default /tmp/evidentia-bench): a venv with the pinned
# anchors, the generated data, and results/*.json|txt. Every tool's output must equal
# the generator's expected_violations.csv (bench.py checks and prints the agreement).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
WORK=${WORK:-/tmp/evidentia-bench}
ROUNDS=${ROUNDS:-5}
SIZES=${SIZES:-"100000 1000000"}
[ -f "$SHARED/bench.py" ] || { echo "benches/run.sh: $SHARED/bench.py not found (../shared/bench)" >&2; exit 2; }
mkdir -p "$WORK/results" "$WORK/out" "$WORK/data"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q duckdb==2.0.0 pandas==3.1.1 polars==2.1.0 pyarrow==26.0.1
fi
cargo build --release --locked --quiet --manifest-path "$ROOT/Cargo.toml"
cargo build --release --quiet --manifest-path "$SHARED/csvfloor/Cargo.toml" --target-dir "$WORK/target"
export PERFANCHOR="$WORK" PY="$WORK/venv/bin/python" CSVFLOOR_BIN="$WORK/target/release/csvfloor"
export EVIDENTIA_BIN="$ROOT/target/release/evidentia"
export PRODUCT_CMD="bash $ROOT/benches/reference/run.sh {data} {out}"
# Correctness first: the hand-made edge cases.
bash "$ROOT/benches/reference/run.sh" "$SHARED/edge" "$WORK/out/edge_evidentia.csv" 2>/dev/null
cmp "$WORK/out/edge_evidentia.csv" "$SHARED/edge/expected_violations.csv" && echo "edge: evidentia agrees"
for n in $SIZES; do
  d="$WORK/data/n$n"
  [ -f "$d/incidents.csv" ] || python3 "$SHARED/gen_evidence.py" --n "$n" --seed 42 --out "$d" >/dev/null
  echo "== N=$n ($(du -sh "$d" | cut -f1))"
  "$PY" "$SHARED/bench.py" "$d" "$ROUNDS" "$WORK/results/bench_n$n.json" 2>&1 | tee "$WORK/results/bench_n$n.txt"
done
