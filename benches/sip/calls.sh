#!/usr/bin/env bash
# Call load on `wfm serve`: sipp callers (tests/sipp/caller.xml: INVITE with SDP, ACK, 7 s of
# A-law RTP then an RFC 4733 digit, until the ACD's BYE) dial the queue at rising rates; AGENTS
# agents' phones, registered with digest (benches/sip/agents.py) and all answered by one sipp
# UAS (tests/sipp/agent_answer.xml: 180, 200 with SDP, 7 s of A-law RTP, BYE after TALK_MS).
# Every call is a B2BUA call through the queue engine with RTP relayed both ways through wfm.
# wfm on core 0, both sipp processes on core 1, loopback.
# Prints per rate: calls attempted, answered, refused with 503, failed, set-up rate achieved,
# peak concurrent bridged calls (agents on-call, sampled each second), wfm CPU per call.
# MEDIA=no keeps sipp's own audio off (`-set no_media 1`: signalling only, for the set-up rate;
# wfm still plays hold music and bridges). With media, both sides stream A-law RTP for the whole
# call with sipp's rtp_stream (the scenarios' pcap playback is replaced: sipp plays a pcap through
# a raw socket per call, and with hundreds of raw sockets open the kernel checks each of them for
# every packet on the host, which measures sipp's raw sockets rather than the ACD).
# FLOOD=N: while each rate runs, another address (127.0.0.2, not trusted) floods wfm with N
# INVITEs a second (benches/sip/flood.py, to number 999, never acknowledged) and prints how many
# wfm answered (the rest the per-source limit dropped) after the table.
# Usage: benches/sip/calls.sh [WFM_BINARY] [RATES] [SECONDS_PER_RATE] [TALK_MS] [AGENTS] [MAX_CALLS] [MEDIA: yes|no]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sipp_dir="$here/../../tests/sipp"
wfm="${1:-$here/../../target/release/wfm}"
rates="${2:-100 200 300}"
seconds="${3:-10}"
talk_ms="${4:-2000}"
agents="${5:-1500}"
max_calls="${6:-4000}"
media="${7:-yes}"
no_media=(); [ "$media" = no ] && no_media=(-set no_media 1)
work="$(mktemp -d)"
cleanup() { kill "$server" "$uas" ${flood:-} 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/sipp"
python3 - "$here/../../telephony/prompts/hold-music.wav" "$work/audio.alaw" <<'PY'
import audioop, sys
data = open(sys.argv[1], "rb").read()
at = data.index(b"data")
samples = data[at + 8 : at + 8 + int.from_bytes(data[at + 4 : at + 8], "little")]
open(sys.argv[2], "wb").write(audioop.lin2alaw(audioop.ulaw2lin(samples, 2), 2))
PY
for scenario in caller agent_answer; do
  sed -e "s|play_pcap_audio=\"/usr/share/sip-tester/g711a.pcap\"|rtp_stream=\"$work/audio.alaw,-1,8\"|" \
      -e "/dtmf_2833_1.pcap/d" "$sipp_dir/$scenario.xml" > "$work/sipp/$scenario.xml"
done
sipp_dir="$work/sipp"

{
  echo "[queues.support]"
  echo "ring_timeout_s = 10"
  echo "wrap_up_s = 0"
  echo "[agents]"
  for n in $(seq 2001 $((2000 + agents))); do echo "$n = { support = 1 }"; done
} > "$work/acd.toml"
cat > "$work/ivr.toml" <<'TOML'
[hours]
days = ["mon"]
from = "08:00"
to = "09:00"
[[numbers]]
number = "200"
open = "queue:support"
closed = "queue:support"
force = "open"
TOML

taskset -c 0 "$wfm" serve --data "$work/data" --demo-days 0 --http 127.0.0.1:15180 --sip 127.0.0.1:15170 \
    --demo-password bench-password --demo-agent-password bench --sip-trusted 127.0.0.1 --acd "$work/acd.toml" --ivr "$work/ivr.toml" --no-recordings --max-calls "$max_calls" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "wfm serving" "$work/serve.log" && break; sleep 0.1; done
# The demo tenant's quotas would stop the load: lift them (the watcher applies them within 1 s).
"$wfm" admin --data "$work/data" tenant quota demo --max-agents "$agents" --max-calls "$max_calls" >/dev/null
sleep 1.5
token="$("$here/../token.sh" http://127.0.0.1:15180 supervisor bench-password)"
(cd "$work" && exec taskset -c 1 sipp -sf "$sipp_dir/agent_answer.xml" -i 127.0.0.1 -p 15171 -mp 16000 -d "$talk_ms" -set ring_ms 0 "${no_media[@]}" -trace_err \
    -nostdin -bg -max_socket 60000 > "$work/uas.log" 2>&1) || true
uas=$(pgrep -f "sipp -sf $sipp_dir/agent_answer.xml -i 127.0.0.1 -p 15171" | head -1)
python3 "$here/agents.py" --sip 127.0.0.1:15170 --http 127.0.0.1:15180 --token "$token" --password bench \
    --first 2001 --count "$agents" --contact 127.0.0.1:15171 >&2

ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
on_call() { curl -s -H "Authorization: Bearer $token" http://127.0.0.1:15180/api/v1/tenants/demo/queues/live |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["queues"][0]["agents"].get("on-call", 0))'; }
echo "| rate asked (/s) | calls | answered | 503 | failed | set-up rate (/s) | peak bridged | wfm CPU per call |"
echo "|---|---|---|---|---|---|---|---|"
for rate in $rates; do
  total=$((rate * seconds))
  before=$(ticks)
  start=$(date +%s.%N)
  (cd "$work" && taskset -c 1 sipp -sf "$sipp_dir/caller.xml" -s 200 -r "$rate" -m "$total" -l 100000 -i 127.0.0.1 -p 15172 -mp 26000 \
      -set dtmf_ms 7100 "${no_media[@]}" -trace_err -nostdin -timeout $((seconds * 3 + 60)) -max_socket 60000 -trace_stat -stf "$work/stat-$rate.csv" \
      127.0.0.1:15170 > /dev/null 2>&1) &
  caller=$!
  if [ -n "${FLOOD:-}" ]; then
    taskset -c 1 python3 "$here/flood.py" --to 127.0.0.1:15170 --rate "$FLOOD" --seconds "$seconds" >&2 &
    flood=$!
  fi
  peak=0
  while kill -0 "$caller" 2>/dev/null; do
    now=$(on_call || echo 0); [ "$now" -gt "$peak" ] && peak=$now
    sleep 1
  done
  end=$(date +%s.%N)
  after=$(ticks)
  header=$(head -1 "$work/stat-$rate.csv"); last=$(tail -1 "$work/stat-$rate.csv")
  col() { echo "$header" | tr ';' '\n' | grep -n "^$1$" | cut -d: -f1 | head -1; }
  ok=$(echo "$last" | cut -d';' -f"$(col SuccessfulCall\(C\))")
  failed=$(echo "$last" | cut -d';' -f"$(col FailedCall\(C\))")
  answered=$(echo "$last" | cut -d';' -f"$(col c200\(C\))" 2>/dev/null || echo "?")
  refused=$(echo "$last" | cut -d';' -f"$(col c503\(C\))" 2>/dev/null || echo "?")
  # Set-up rate: answered calls over the time sipp spent placing them (calls asked / rate).
  awk -v r="$rate" -v t="$total" -v a="$answered" -v x="$refused" -v f="$failed" -v s="$seconds" -v p="$peak" -v c=$((after - before)) -v hz="$hz" -v ok="$ok" \
    'BEGIN { printf "| %d | %d | %s | %s | %d | %.0f | %d | %.2f ms |\n", r, t, a, x, f, a / s, p, c / hz / (ok > 0 ? ok : 1) * 1e3 }'
done
grep -c "^sip: [^ ]*: call .* ended (answered)" "$work/serve.log" | sed 's/^/answered calls in wfm log: /' >&2
[ -n "${FLOOD:-}" ] && wait "$flood"
true
grep "media:" "$work/serve.log" | tail -3 >&2 || true
