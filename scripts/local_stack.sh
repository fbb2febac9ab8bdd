# Sourced (not run) by dev.sh, schemathesis.sh, live_checks.sh and test_artifact.sh
# the production paths on loopback. It
#   - starts the local engine (moto: DynamoDB and Secrets Manager) on
#     $ENGINE_PORT (0: a free port) and seeds dev/seed.json,
#   - stores the session secret of dev/local.env in the engine's Secrets
#     Manager and points the function at it with SESSION_TOKEN_SECRET_ID,
#   - serves the dev issuer's JWKS (dev/issuer/jwks.json, kid rsa-1) on
#     loopback and points the function at it with ACCESS_TOKEN_JWKS_URL,
#   - mints ACCESS_TOKEN (RS256, kid rsa-1) and SESSION_TOKEN for user 42,
#     organisation 1, valid $TOKEN_TTL seconds,
#   - leaves no secret value in the function's environment.
# The caller calls local_stack_init first: it sets `work` (a temp dir) and
# `pids` (what to stop), and stops them all when the caller exits.

local_stack_init() {
  work=$(mktemp -d)
  pids=()
  trap local_stack_cleanup EXIT
}

local_stack_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pkill -P $$ 2>/dev/null || true
  wait 2>/dev/null || true
}

local_stack_start() {
  set -a
  source dev/local.env
  set +a
  python scripts/local_dynamodb.py --port "${ENGINE_PORT:-0}" --parent-pid $$ >"$work/engine.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q READY "$work/engine.log" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/engine.log"; echo "the engine did not start (port ${ENGINE_PORT:-0} taken?)"; return 1; }
    sleep 0.1
  done
  local engine_port
  engine_port=$(awk '/READY/{print $2}' "$work/engine.log")
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${engine_port}"
  export AWS_ENDPOINT_URL_SECRETS_MANAGER="$AWS_ENDPOINT_URL_DYNAMODB"
  export SESSION_TOKEN_SECRET_ID=dev/session-token-secret
  SECRET_VALUE="$SESSION_TOKEN_SECRET" python scripts/dev_tables.py "$AWS_ENDPOINT_URL_DYNAMODB" \
    dev/seed.json "$INTERVENTIONS_TABLE" "$NOTIFICATIONS_TABLE" "$SESSION_TOKEN_SECRET_ID"

  python -u -m http.server --bind 127.0.0.1 --directory dev/issuer "${ISSUER_PORT:-0}" >"$work/issuer.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "Serving HTTP" "$work/issuer.log" && break; sleep 0.1; done
  local issuer_port
  issuer_port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$work/issuer.log" | head -1)
  export ACCESS_TOKEN_JWKS_URL="http://127.0.0.1:${issuer_port}/jwks.json"

  cargo build --quiet --features testing --bin dev-tokens
  eval "$("${CARGO_TARGET_DIR:-target}/debug/dev-tokens" --user 42 --orgs 1 --ttl "${TOKEN_TTL:-3600}" \
    --rsa-key tests/fixtures/keys/rsa.der --kid rsa-1)"
  # The function reads both secrets from where production keeps them.
  unset SESSION_TOKEN_SECRET ACCESS_TOKEN_SECRET ACCESS_TOKEN_JWKS
}
