#!/usr/bin/env bash
# Runs the analytics benchmark: release build, Python peers in a venv, then bench_stats.py.
# Usage: benches/run.sh [--sizes 1,10,30] [--repeat 5]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin wfm
if [ ! -x benches/.venv/bin/python ]; then
  python3 -m venv benches/.venv
  benches/.venv/bin/pip install -q -r benches/requirements.txt
fi
exec benches/.venv/bin/python benches/bench_stats.py --wfm "${CARGO_TARGET_DIR:-target}/release/wfm" "$@"
