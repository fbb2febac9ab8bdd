#!/usr/bin/env bash
# `make test-artifact`: the arm64 zip that deploys, checked and run under
# qemu-aarch64 against the local stack on production's key paths
# (scripts/local_stack.sh), then the self-test: broken arm64 builds must be
# refused, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1
zip=${1:?usage: test_artifact.sh ZIP}

source scripts/local_stack.sh
local_stack_init
local_stack_start
export ACCESS_TOKEN SESSION_TOKEN
python scripts/test_artifact.py --zip "$zip"
python scripts/test_artifact.py --self-test
