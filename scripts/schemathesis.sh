#!/usr/bin/env bash
# schemathesis against the function under `cargo lambda watch`, with valid
# tokens, bounded (MAX_EXAMPLES per phase, default 150): no server error, no
# response outside openapi.yaml's statuses, schemas and headers. Starts and
# stops its own engine and function on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
MAX_EXAMPLES=${MAX_EXAMPLES:-150}

export RUST_LOG=warn

source scripts/local_stack.sh
local_stack_init

local_stack_start
cargo build --quiet --bin bootstrap
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Nothing may write into the repository while the watcher runs: a file
# change restarts the function and drops the request in flight.
export PYTHONDONTWRITEBYTECODE=1
cargo lambda watch --disable-cors -A 127.0.0.1 -P "$port" >"$work/watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:${port}/" && break
  sleep 0.5
done
# The function builds and starts on the first invocation: warm it once.
curl -s -o /dev/null --max-time 600 -X PATCH "http://127.0.0.1:${port}/interventions/v2/rs/1/verify" || true

set +e
(cd "$work" && PYTHONPATH="$OLDPWD" SCHEMATHESIS_HOOKS=scripts.schemathesis_hooks st run "$OLDPWD/openapi.yaml" \
  --url "http://127.0.0.1:${port}" \
  -H "Authorization: Bearer ${ACCESS_TOKEN}" \
  -H "x-session-token: ${SESSION_TOKEN}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --seed 20261128 \
  --request-timeout 10 \
  --generation-database none \
  --no-color) 2>&1 | tee "$work/st.log" | tail -80
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  echo "--- function log (tail)"
  tail -30 "$work/watch.log" | cut -c1-400
fi
exit "$status"
