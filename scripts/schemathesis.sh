#!/usr/bin/env bash
# Fuzzes the running API from openapi.yaml with schemathesis, every check and phase (no 5xx;
# statuses, headers, content types and bodies as documented; 405 with Allow; auth; stateful links). Starts the demo on a free data dir, uses its admin token, stops it.
# SSE routes are left out (endless responses). Usage: scripts/schemathesis.sh [examples per op]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.services/schemathesis-venv
[ -x "$venv/bin/st" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis; }

data=$(mktemp -d)
port=${SCHEMATHESIS_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
# Rate limits on but out of reach: schemathesis sends thousands of requests (and bad tokens) from one address.
high=1000000000
env -u REDIS_URL -u MONGODB_URL -u EVENTSTORE_URL -u AUTH_JWT_SECRET DATA_DIR="$data" PORT="$port" HOST=127.0.0.1 \
  RATE_LIMIT_ANONYMOUS_PER_MINUTE=$high RATE_LIMIT_TOKEN_PER_MINUTE=$high RATE_LIMIT_CONVERSATION_STARTS_PER_MINUTE=$high \
  CONVERSATIONS_PER_ADDRESS_PER_HOUR=$high RATE_LIMIT_GUEST_MESSAGES_PER_MINUTE=$high RATE_LIMIT_AUTH_FAILURES_PER_MINUTE=$high \
  node dist/main.js >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do grep -q 'export GRACE=' "$data/server.log" 2>/dev/null && break; sleep 0.2; done
token=$(grep -o 'export GRACE=[^ ]*' "$data/server.log" | cut -d= -f2 || true)
[ -n "$token" ] || { echo "demo did not start:"; cat "$data/server.log"; exit 1; }

# Every check and every phase (examples, coverage, fuzzing, stateful: the links in openapi.yaml);
# the few documented exceptions live in scripts/schemathesis.toml, with their reasons.
# CI fuzzes with a fixed seed (a run it has passed: the same run again, so a red CI means a
# change broke it); SCHEMATHESIS_SEED=random explores new inputs, any other value picks a seed.
seed=${SCHEMATHESIS_SEED:-219821543529153782165716482200816604921}
seed_args=()
[ "$seed" = random ] || seed_args=(--seed "$seed")
timeout 900 "$venv/bin/st" --config-file scripts/schemathesis.toml run openapi.yaml --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" --checks all --phases examples,coverage,fuzzing,stateful \
  "${seed_args[@]}" -n "${1:-20}" --exclude-path-regex '/stream$'
