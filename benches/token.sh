#!/usr/bin/env bash
# Prints a new personal API token of a demo user: benches/token.sh BASE_URL LOGIN PASSWORD
# (signs in as LOGIN of tenant demo, then POST /api/v1/tokens with the session's CSRF token).
set -euo pipefail
base="$1" login="$2" password="$3"
jar="$(mktemp)"; trap 'rm -f "$jar"' EXIT
answer="$(curl -s -c "$jar" -H 'Content-Type: application/json' -d "{\"tenant\":\"demo\",\"login\":\"$login\",\"password\":\"$password\"}" "$base/api/v1/login")"
csrf="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$answer")"
curl -s -b "$jar" -X POST -H "X-CSRF-Token: $csrf" "$base/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
