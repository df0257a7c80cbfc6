#!/usr/bin/env bash
# The pages' latency at 200 requests/s, their weight, and the time to first render in headless
# Chromium (BENCHMARKS.md "Web pages"). Needs wrk, chromium and chromium-driver (Debian) and a
# release build.
#   benches/web/run.sh [DAYS]    # demo history of DAYS days (default 31)
set -euo pipefail
cd "$(dirname "$0")/../.."
days="${1:-31}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
cargo build --release --quiet
wfm="${CARGO_TARGET_DIR:-target}/release/wfm"
work="$(mktemp -d)"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=18190
taskset -c 0 "$wfm" serve --data "$work/data" --demo-days "$days" --demo-password bench-password \
  --http 127.0.0.1:$port --sip 127.0.0.1:18171 >"$work/out.log" 2>"$work/err.log" &
server=$!
until grep -q "wfm serving" "$work/out.log" 2>/dev/null; do sleep 0.5; done
base="http://127.0.0.1:$port"
signin() { # LOGIN: the session cookie of a form sign-in
  curl -s -o /dev/null -c "$work/jar-$1" -d "tenant=demo&login=$1&password=bench-password" "$base/signin"
  echo "wfm_session=$(awk '$6 == "wfm_session" {print $7}' "$work/jar-$1")"
}
manager="$(signin manager)"; supervisor="$(signin supervisor)"; agent="$(signin 1001)"; planner="$(signin planner)"
# The demo's own plan (this week and the next) is published in the background after the history.
page() { curl -s -H "Cookie: $planner" "$base$1" >"$work/page.html"; cat "$work/page.html"; } # (no pipe into grep -q: pipefail)
until page /roster | grep -c 'id="gantt"' >/dev/null; do sleep 1; done
today="$(date -u +%F)"; tomorrow="$(date -u -d tomorrow +%F)"; from="$(date -u -d "$days days ago" +%F)"
month="from=$from&to=$tomorrow&interval=15m"

run() { # NAME CONNECTIONS URL [env…]: wrk on core 1, the server on core 0
  local name="$1" connections="$2" url="$3"; shift 3
  echo "== $name ($(curl -s -o /dev/null -w '%{size_download}' -H "Cookie: $WRK_COOKIE" "$url") bytes)"
  env "$@" taskset -c 1 wrk -t1 -c"$connections" -d20s --latency -s benches/auth/paced.lua "$url" | grep -E "Requests/sec|50%|90%|99%|non-200"
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores; wfm on core 0, wrk on core 1; $days days of demo history"
echo "at 200 requests/s (10 connections, one request each 50 ms):"
WRK_COOKIE="" run "sign-in page" 10 "$base/signin" WRK_INTERVAL_MS=50
WRK_COOKIE="$manager" run "dashboard, default (7 days by hour)" 10 "$base/dashboard" WRK_INTERVAL_MS=50 WRK_COOKIE="$manager"
WRK_COOKIE="$manager" run "dashboard, $days days by 15 min" 10 "$base/dashboard?$month" WRK_INTERVAL_MS=50 WRK_COOKIE="$manager"
WRK_COOKIE="$manager" run "dashboard data: stats API, $days days by 15 min" 10 "$base/api/v1/tenants/demo/stats?$month" WRK_INTERVAL_MS=50 WRK_COOKIE="$manager"
WRK_COOKIE="$manager" run "dashboard CSV, $days days by 15 min" 10 "$base/dashboard.csv?$month" WRK_INTERVAL_MS=50 WRK_COOKIE="$manager"
WRK_COOKIE="$supervisor" run "wallboard page" 10 "$base/wallboard" WRK_INTERVAL_MS=50 WRK_COOKIE="$supervisor"
WRK_COOKIE="$supervisor" run "wallboard data: kpis/live" 10 "$base/api/v1/tenants/demo/kpis/live" WRK_INTERVAL_MS=50 WRK_COOKIE="$supervisor"
WRK_COOKIE="$agent" run "my schedule" 10 "$base/my/schedule" WRK_INTERVAL_MS=50 WRK_COOKIE="$agent"
echo "every request a new query (no answer from the cache), closed loop, 10 connections:"
WRK_COOKIE="$manager" run "stats API, $days days by 15 min, uncached" 10 "$base/api/v1/tenants/demo/stats?$month" WRK_COOKIE="$manager" WRK_VARY=1
WRK_COOKIE="$manager" run "stats API, $days days by day, uncached" 10 "$base/api/v1/tenants/demo/stats?from=$from&to=$tomorrow&interval=day" WRK_COOKIE="$manager" WRK_VARY=1
echo "the planner's pages, computed every request (a week of the demo's roster judged against its requirement), closed loop:"
WRK_COOKIE="$planner" run "roster page, this week, 1 connection" 1 "$base/roster" WRK_COOKIE="$planner"
WRK_COOKIE="$planner" run "roster page, this week, 10 connections" 10 "$base/roster" WRK_COOKIE="$planner"
echo "a plan from the page (forecast, staff, schedule with a 20 s search), from the form to the draft:"
csrf="$(page /plan | grep -o 'name="csrf" value="[^"]*"' | sed -n 1p | cut -d'"' -f4)"
monday="$(date -u -d "next monday" +%F)"
for weeks in 1 2 4; do
  began=$(date +%s.%N)
  curl -s -o /dev/null -H "Cookie: $planner" -d "csrf=$csrf&from=$monday&weeks=$weeks&sl_target=80&threshold_s=20&time_limit_s=20" "$base/plan"
  until page /plan | grep -cE 'id="plan-publish"|id="failed"' >/dev/null; do sleep 0.2; done
  echo "plan of $weeks weeks: $(echo "$(date +%s.%N) - $began" | bc) s ($(page /plan | grep -oE 'Done in [0-9]+ s|The plan failed[^<]*'))"
done
echo "time to first render in headless Chromium (median of 5 loads, after one warm-up):"
python3 benches/web/first_render.py "$base" "$manager" "/dashboard" "/dashboard?$month"
python3 benches/web/first_render.py "$base" "$supervisor" "/wallboard"
python3 benches/web/first_render.py "$base" "$planner" "/roster"
