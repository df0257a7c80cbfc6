#!/usr/bin/env bash
# Runs the staffing and forecasting benchmarks: release build, Python peers in benches/.venv, then
# bench_erlang.py (wfm staff vs pyworkforce) and bench_forecast.py (wfm forecast vs seasonal naive,
# statsforecast AutoETS and MSTL) on a store generated once under benches/data/.
# Usage: benches/run_forecasting.sh [all|erlang|forecast]
# Environment: WEEKS=1,4 REPEAT=3 QUEUES=4 DAILY_CALLS=3000 CUTOFF=2026-01-05 HORIZON_DAYS=28
#              TRAIN_DAYS=364 MSTL_WEEKS=8
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
cargo build --release --bin wfm
WFM="${CARGO_TARGET_DIR:-target}/release/wfm"
PY=benches/.venv/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv benches/.venv
fi
if ! "$PY" -c 'import duckdb, polars, pyworkforce, statsforecast' 2>/dev/null; then
  "$PY" -m pip install -q -r benches/requirements.txt
fi

if [ "$what" = all ] || [ "$what" = erlang ]; then
  "$PY" benches/bench_erlang.py --wfm "$WFM" --weeks "${WEEKS:-1,4}" --repeat "${REPEAT:-3}" \
    --workdir benches/data/erlang
fi

if [ "$what" = all ] || [ "$what" = forecast ]; then
  QUEUES="${QUEUES:-4}"
  DAILY_CALLS="${DAILY_CALLS:-3000}"
  CUTOFF="${CUTOFF:-2026-01-05}"
  HORIZON_DAYS="${HORIZON_DAYS:-28}"
  TRAIN_DAYS="${TRAIN_DAYS:-364}"
  # History from CUTOFF - TRAIN_DAYS through the horizon, plus a margin.
  START=$(date -d "$CUTOFF - $TRAIN_DAYS days" +%F)
  DAYS=$((TRAIN_DAYS + HORIZON_DAYS + 7))
  DATA="benches/data/forecast-${QUEUES}q-${START}-${DAYS}d"
  if [ ! -f "$DATA/store/wfm-store.toml" ]; then
    "$WFM" generate --out "$DATA" --days "$DAYS" --seed 1 --tenants 1 --queues "$QUEUES" \
      --daily-calls "$DAILY_CALLS" --start "$START"
  fi
  "$PY" benches/bench_forecast.py --wfm "$WFM" --store "$DATA/store" --tenant demo --cutoff "$CUTOFF" \
    --horizon-days "$HORIZON_DAYS" --train-days "$TRAIN_DAYS" --mstl-weeks "${MSTL_WEEKS:-8}" \
    --calendar "$DATA/calendar.csv" --workdir benches/data/forecast-work
fi
