#!/usr/bin/env bash
# Checks against the running function, as a deployed stage is checked: the
# local stack and the function under `cargo lambda watch --disable-cors`,
# with ALLOWED_ORIGINS set to two loopback origins. Then
#   1. the smoke check (scripts/smoke.py), as `make smoke` runs it after a deploy;
#   2. the PreTraffic hook (scripts/hook_check.py) invoking the function as
#      CodeDeploy has it do a new version: Succeeded, then Failed for an
#      origin the function refuses;
#   3. the browser test (tests/browser/check.py): Chromium loads app.html from
#      the two allowed origins and from a third that is not allowed.
# Needs Debian's chromium (make browser-deps). SKIP_BROWSER=1 runs the smoke
# check alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export RUST_LOG=info

source scripts/local_stack.sh
local_stack_init

free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
page_a=$(free_port); page_b=$(free_port); page_denied=$(free_port); port=$(free_port)

local_stack_start
export ALLOWED_ORIGINS="http://127.0.0.1:${page_a},http://localhost:${page_b}"
cargo build --quiet --bin bootstrap
export PYTHONDONTWRITEBYTECODE=1
cargo lambda watch --disable-cors -A 127.0.0.1 -P "$port" >"$work/watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:${port}/" && break; sleep 0.5; done
# The function builds and starts on its first invocation: warm it once.
curl -s -o /dev/null --max-time 600 -X OPTIONS "http://127.0.0.1:${port}/interventions/v2/rs/1/verify" || true

set +e
python scripts/smoke.py --url "http://127.0.0.1:${port}" --origin "http://localhost:${page_b}"
smoke=$?
python scripts/hook_check.py --function-url "http://127.0.0.1:${port}" \
  --origin "http://localhost:${page_b}" --denied-origin "http://127.0.0.1:${page_denied}"
hook=$?
[ "$smoke" = 0 ] && smoke=$hook
[ "${SKIP_BROWSER:-0}" = 1 ] && exit "$smoke"
python tests/browser/check.py --api "http://127.0.0.1:${port}" \
  --access "$ACCESS_TOKEN" --session "$SESSION_TOKEN" \
  --allowed-ports "$page_a" "$page_b" --denied-port "$page_denied" \
  --function-log "$work/watch.log"
status=$?
[ "$smoke" != 0 ] && status=$smoke
set -e
if [ "$status" != 0 ]; then
  echo "--- function log (tail)"
  tail -30 "$work/watch.log" | cut -c1-400
fi
exit "$status"
