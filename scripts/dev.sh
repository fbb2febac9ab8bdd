#!/usr/bin/env bash
# `make dev`: the local engine on 127.0.0.1:8000 with seeded tables and the
# session secret in its Secrets Manager, the dev issuer's JWKS on loopback,
# curl commands with fresh tokens, and `cargo lambda watch` on 127.0.0.1:9000.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
ENGINE_PORT=${ENGINE_PORT:-8000}
FUNCTION_PORT=${FUNCTION_PORT:-9000}
export PATH="$PWD/$VENV/bin:$PATH"

export RUST_LOG=${RUST_LOG:-info}
export ENGINE_PORT TOKEN_TTL=43200

source scripts/local_stack.sh
local_stack_init
trap 'trap - INT TERM EXIT; local_stack_cleanup; echo stopped' INT TERM EXIT
local_stack_start
echo "local DynamoDB + Secrets Manager on $AWS_ENDPOINT_URL_DYNAMODB (secret $SESSION_TOKEN_SECRET_ID)"
echo "local issuer JWKS on $ACCESS_TOKEN_JWKS_URL"
base="http://127.0.0.1:${FUNCTION_PORT}/interventions/v2/rs"
curl_for() { # id decision comment [notificationId]
  local body="{\"decisionComment\": \"$3\", \"decision\": $2${4:+, \"notificationId\": \"$4\"}}"
  printf "curl -i -X PATCH %s/%s/verify \\\\\n  -H 'Authorization: Bearer %s' \\\\\n  -H 'x-session-token: %s' \\\\\n  -H 'content-type: application/json' \\\\\n  --data '%s'\n\n" \
    "$base" "$1" "$ACCESS_TOKEN" "$SESSION_TOKEN" "$body"
}
cat <<MSG

Seeded interventions (organisation 1 unless noted): 1 planned, 2 in progress,
3 and 4 to verify, 5 validated, 6 refused, 7 cancelled, 8 archived,
9 to verify in organisation 2. Tokens below: user 42, organisation 1, 12 h.

Accept intervention 3 (200, status 4) and mark notification-12345 read:
$(curl_for 3 1 "Filters replaced, thank you." notification-12345)
Reject intervention 4 (200, status 5):
$(curl_for 4 2 "Detector 12 was not tested.")
Intervention 1 is only planned (409 not_awaiting_verification):
$(curl_for 1 1 "")
Intervention 9 belongs to another organisation (404):
$(curl_for 9 1 "")
Starting the function on http://127.0.0.1:${FUNCTION_PORT} (cargo lambda watch; first build takes minutes)...
MSG

# --disable-cors: cargo lambda's own CORS layer would answer preflights
# itself and hide the function's CORS handling.
cargo lambda watch --disable-cors -A 127.0.0.1 -P "$FUNCTION_PORT" &
pids+=($!)
wait "${pids[-1]}"
