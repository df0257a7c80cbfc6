#!/usr/bin/env bash
# Registration load on `wfm serve`'s SIP endpoint: sipp registers the demo agents with digest
# authentication (REGISTER, 401, REGISTER, 200) at rising rates, on loopback, sipp and wfm
# pinned to different cores. Prints, per rate: registrations attempted, succeeded, failed, the
# rate achieved, and wfm's CPU time per registration.
# Usage: benches/sip/register.sh [WFM_BINARY] [RATES] [SECONDS_PER_RATE] [TRANSPORT: u1 (UDP) | t1 (TCP, one connection)]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wfm="${1:-$here/../../target/release/wfm}"
rates="${2:-500 1000 2000 4000}"
seconds="${3:-10}"
transport="${4:-u1}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

taskset -c 0 "$wfm" serve --data "$work/data" --demo-days 0 --http 127.0.0.1:0 --sip 127.0.0.1:15070 \
    --demo-agent-password bench > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "wfm serving" "$work/serve.log" && break; sleep 0.1; done
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
echo "| rate asked (/s) | registrations | succeeded | failed | achieved (/s) | wfm CPU per registration |"
echo "|---|---|---|---|---|---|"
for rate in $rates; do
  total=$((rate * seconds))
  before=$(ticks)
  start=$(date +%s.%N)
  # Every registration is agent 1001's phone again, each a new transaction and nonce.
  taskset -c 1 sipp -sf "$here/register.xml" -s 1001 -au 1001 -ap bench -t "$transport" -r "$rate" -m "$total" -l 100000 \
      -i 127.0.0.1 -p 15071 -nostdin -timeout $((seconds * 3)) -trace_stat -stf "$work/stat-$rate.csv" \
      127.0.0.1:15070 > /dev/null 2>&1 || true
  end=$(date +%s.%N)
  after=$(ticks)
  # The last line of sipp's statistics file holds the cumulative counters.
  header=$(head -1 "$work/stat-$rate.csv"); last=$(tail -1 "$work/stat-$rate.csv")
  col() { echo "$header" | tr ';' '\n' | grep -n "^$1$" | cut -d: -f1; }
  ok=$(echo "$last" | cut -d';' -f"$(col SuccessfulCall\(C\))")
  failed=$(echo "$last" | cut -d';' -f"$(col FailedCall\(C\))")
  awk -v r="$rate" -v t="$total" -v ok="$ok" -v f="$failed" -v s="$start" -v e="$end" -v c=$((after - before)) -v hz="$hz" \
    'BEGIN { printf "| %d | %d | %d | %d | %.0f | %.1f µs |\n", r, t, ok, f, ok / (e - s), c / hz / (ok > 0 ? ok : 1) * 1e6 }'
done
