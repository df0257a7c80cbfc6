#!/usr/bin/env bash
# Sign-in cost and the cost of the authorisation layer (BENCHMARKS.md "Sign-in and
# authorisation"). Needs wrk (Debian package wrk) and a release build.
#   benches/auth/run.sh [DAYS]    # demo history of DAYS days (default 31)
set -euo pipefail
cd "$(dirname "$0")/../.."
days="${1:-31}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
cargo build --release --quiet
wfm="${CARGO_TARGET_DIR:-target}/release/wfm"
work="$(mktemp -d)"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=18180
taskset -c 0 "$wfm" serve --data "$work/data" --demo-days "$days" --demo-password bench-password \
  --http 127.0.0.1:$port --sip 127.0.0.1:18170 >"$work/out.log" 2>"$work/err.log" &
server=$!
until grep -q "wfm serving" "$work/out.log" 2>/dev/null; do sleep 0.5; done
base="http://127.0.0.1:$port"
login='{"tenant":"demo","login":"manager","password":"bench-password"}'
answer="$(curl -s -c "$work/jar" -H 'Content-Type: application/json' -d "$login" "$base/api/v1/login")"
csrf="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$answer")"
token="$(curl -s -b "$work/jar" -X POST -H "X-CSRF-Token: $csrf" "$base/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
cookie="wfm_session=$(awk '$6 == "wfm_session" {print $7}' "$work/jar")"
today="$(date -u +%F)"; from="$(date -u -d "$days days ago" +%F)"

run() { # NAME CONNECTIONS URL [env…]: wrk on core 1, the server on core 0
  local name="$1" connections="$2" url="$3"; shift 3
  echo "== $name"
  env "$@" taskset -c 1 wrk -t1 -c"$connections" -d20s --latency -s benches/auth/paced.lua "$url" | grep -E "Requests/sec|50%|90%|99%|non-200"
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores; wfm on core 0, wrk on core 1"
yesterday="$(date -u -d "1 day ago" +%F)"
echo "sign-in (POST /api/v1/login, argon2id m=19456 KiB t=2 p=1), one after another:"
run "login, sequential" 1 "$base/api/v1/login" WRK_METHOD=POST WRK_BODY="$login"
echo "at 200 requests/s (10 connections, one request each 50 ms):"
run "healthz (no authorisation)" 10 "$base/healthz" WRK_INTERVAL_MS=50
run "me, bearer token (the guard alone)" 10 "$base/api/v1/me" WRK_INTERVAL_MS=50 WRK_TOKEN="$token"
run "me, session cookie (the guard alone)" 10 "$base/api/v1/me" WRK_INTERVAL_MS=50 WRK_COOKIE="$cookie"
run "stats, 1 day by 15 min, bearer token" 10 "$base/api/v1/tenants/demo/stats?from=$yesterday&to=$today&interval=15m" WRK_INTERVAL_MS=50 WRK_TOKEN="$token"
echo "closed loop (as fast as it goes, 10 connections):"
run "healthz" 10 "$base/healthz"
run "me, bearer token" 10 "$base/api/v1/me" WRK_TOKEN="$token"
run "stats, 1 day by 15 min, bearer token" 10 "$base/api/v1/tenants/demo/stats?from=$yesterday&to=$today&interval=15m" WRK_TOKEN="$token"
run "stats, $days days by day, bearer token" 10 "$base/api/v1/tenants/demo/stats?from=$from&to=$today&interval=day" WRK_TOKEN="$token"
run "stats, $days days by 15 min, bearer token" 10 "$base/api/v1/tenants/demo/stats?from=$from&to=$today&interval=15m" WRK_TOKEN="$token"
