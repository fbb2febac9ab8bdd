# Two commands matter: `make dev` and `make test`. Everything they need is
# installed into .venv (Python tools) or by cargo; nothing system-wide.
SHELL := bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv sam-venv checkov-venv node-deps artifact-deps test-artifact lint-api browser-deps dev test browser smoke lint fmt unit integration fuzz bench bench-counts build \
	build-VerifyFunction build-PreTrafficHook lint-template deploy clean hot-functions

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
LAMBDA_DIR := $(TARGET_DIR)/lambda/bootstrap
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(CURDIR)/$(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# SAM CLI lives in its own venv: its pins clash with moto's.
sam-venv: $(SAM_VENV)/.installed
$(SAM_VENV)/.installed: requirements-sam.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

# checkov in its own venv too: it pins what moto and schemathesis also pin.
checkov-venv: $(CHECKOV_VENV)/.installed
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

## npm tools the tests run (tests/oidc/package-lock.json): oidc-provider, the
## certified OpenID provider the integration tests get real tokens from, and
## Redocly's OpenAPI linter. Node.js is the machine's own.
NODE_DIR := tests/oidc
node-deps: $(NODE_DIR)/node_modules/.installed
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The API description: valid OpenAPI, both credentials modelled.
lint-api: node-deps
	$(NODE_DIR)/node_modules/.bin/redocly lint --format=summary openapi.yaml

## Debian's Chromium for the browser test, installed when missing (as root,
## as CI runs; no browser is downloaded from anywhere else).
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

## Run it locally: engine on 127.0.0.1:8000, function on 127.0.0.1:9000.
dev: venv
	bash scripts/dev.sh

## Format check, clippy with -D warnings, every Rust test (the integration
## tests start their own engine), the template checks, schemathesis against
## the function under cargo lambda watch, and the smoke check and the
## browser test in Chromium against it.
test: venv node-deps browser-deps lint lint-api lint-template
	set -o pipefail; cargo test --all-targets 2>&1 | tee $(TARGET_DIR)/cargo-test.log
	bash scripts/schemathesis.sh
	bash scripts/live_checks.sh
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "cargo tests: %d passed, %d failed\n", p, f }' $(TARGET_DIR)/cargo-test.log

## A longer fuzzing run (see README): FUZZ_CASES=200000 make fuzz
## The smoke check and the browser test against the local function.
browser: venv browser-deps
	bash scripts/live_checks.sh

## Read-only checks against a live stage after a deploy (docs/OPERATIONS.md):
##   make smoke URL=https://{api}.execute-api.eu-west-3.amazonaws.com/main [ORIGIN=https://app.example.com]
##   make smoke STACK_NAME=intervention-verify
smoke: venv
	$(PY) scripts/smoke.py $(if $(URL),--url $(URL)) $(if $(STACK_NAME),--stack-name $(STACK_NAME)) $(if $(ORIGIN),--origin $(ORIGIN))

fuzz:
	FUZZ_CASES=$${FUZZ_CASES:-100000} cargo test --release --lib integration::fuzz -- --nocapture

## The second clippy is the deployed build (no dev-dependencies, so no test
## kit): the rooms are private there and the dead-code lint sees them all.
lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --bins -- -D warnings

fmt:
	cargo fmt

unit:
	cargo test --lib -- --skip integration::

## The integration suites (tests/api); --all-targets builds the
## `bootstrap` binary some of them run.
integration: venv node-deps
	cargo test --all-targets integration::

## The Lambda artifact: arm64 release `bootstrap`, zipped, cross-compiled by
## cargo-lambda with zig (both from .venv), so no Docker and no cross gcc.
build: venv
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --bin bootstrap --output-format zip
	@stat -c 'deploy zip: %s bytes  %n' $(LAMBDA_DIR)/bootstrap.zip

## The arm64 artifact, checked before it can deploy: the zip `make build`
## made (the file `sam build` unpacks) is an aarch64 ELF needing glibc <= 2.34,
## and under qemu-aarch64 against the local stack, over HTTPS, it passes the
## read-only checks and applies a decision (on a resumed TLS session, after
## an idle close) read back from the table; then deliberately
## broken builds must be refused. Debian's qemu-user and the aarch64 glibc
## install when missing (as root, as CI runs).
artifact-deps:
	@command -v qemu-aarch64 >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		qemu-user libc6-arm64-cross; }

test-artifact: venv artifact-deps build
	bash scripts/test_artifact.sh $(LAMBDA_DIR)/bootstrap.zip

## Called by `sam build` (BuildMethod: makefile) with ARTIFACTS_DIR set.
build-VerifyFunction: build
	cd $(ARTIFACTS_DIR) && python3 -c 'import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); z.extractall("."); os.chmod("bootstrap", 0o755)' $(abspath $(LAMBDA_DIR))/bootstrap.zip

## The PreTraffic hook's code, for `sam build` (BuildMethod: makefile).
build-PreTrafficHook:
	cp hooks/pre_traffic.py hooks/checks.py $(ARTIFACTS_DIR)/

## cfn-lint (with the SAM transform) and SAM's own lint, both offline; then
## cfn-lint again on what CloudFormation receives (the template translated by
## the pinned SAM translator). W2001 is off there: SAM has consumed the
## DeploymentType parameter by then, so it looks unused. Then checkov on the
## translated template (optional resources such as the web ACL are in it,
## under their conditions), against tests/checkov/skips.yaml.
lint-template: venv sam-venv checkov-venv
	cfn-lint --regions eu-west-3 -- template.yaml
	$(SAM) validate --lint --template template.yaml
	mkdir -p $(TARGET_DIR)
	$(PY) scripts/translate_template.py > $(TARGET_DIR)/template.cfn.json
	cfn-lint --regions eu-west-3 --ignore-checks W2001 -- $(TARGET_DIR)/template.cfn.json
	$(PY) scripts/checkov.py $(TARGET_DIR)/template.cfn.json
	@python3 -c 'import json,sys; print("translated template:", len(json.load(open(sys.argv[1]))["Resources"]), "resources")' $(TARGET_DIR)/template.cfn.json

## First time: guided (asks for parameters, writes samconfig.toml);
## afterwards: the saved defaults for eu-west-3.
deploy: venv sam-venv
	$(SAM) build --template template.yaml
	if [ -f .aws-sam/deployed-once ]; then $(SAM) deploy; else $(SAM) deploy --guided && touch .aws-sam/deployed-once; fi

## Benchmarks that print figures (docs/PERFORMANCE.md): the per-request CPU
## path (divan), cold start / first request / warm latency / peak RSS under a
## stand-in Runtime API against a hello world, per warm invocation against
## the floor (a raw signed UpdateItem: CPU, strace's system calls,
## callgrind's instructions), an invocation after an idle gap, and the
## artifact sizes. Needs strace and valgrind (Debian packages).
bench: venv
	cargo bench --bench cpu_path
	cargo build --release --bin bootstrap --bin hello-runtime
	@# Apart: an example brings in the dev-dependencies, which would build the
	@# measured bootstrap with the test kit's feature on. The floor writes
	@# its request through the test kit.
	cargo build --release --example engine_rtt
	cargo build --release --features testing --bin dev-tokens --bin floor-ddb
	$(PY) scripts/bench_lambda.py --bootstrap $(TARGET_DIR)/release/bootstrap \
		--hello $(TARGET_DIR)/release/hello-runtime --dev-tokens $(TARGET_DIR)/release/dev-tokens \
		--engine-rtt $(TARGET_DIR)/release/examples/engine_rtt --floor $(TARGET_DIR)/release/floor-ddb \
		--json $(TARGET_DIR)/bench.json
	@echo; echo "== sizes"
	@stat -c 'release binary, x86_64, stripped: %s bytes' $(TARGET_DIR)/release/bootstrap
	@$(MAKE) --no-print-directory build 2>&1 | tail -1
	@python3 -c 'import sys, zipfile; i = zipfile.ZipFile(sys.argv[1]).getinfo("bootstrap"); print(f"release binary, arm64, stripped: {i.file_size} bytes")' $(LAMBDA_DIR)/bootstrap.zip

# The exact counts alone (instructions, system calls per warm invocation, the
# floor beside the function): ~20 s after the build, for judging one lever.
bench-counts: venv
	cargo build --release --bin bootstrap --bin hello-runtime
	cargo build --release --features testing --bin dev-tokens --bin floor-ddb
	$(PY) scripts/bench_lambda.py --bootstrap $(TARGET_DIR)/release/bootstrap \
		--hello $(TARGET_DIR)/release/hello-runtime --dev-tokens $(TARGET_DIR)/release/dev-tokens \
		--engine-rtt $(TARGET_DIR)/release/examples/engine_rtt --floor $(TARGET_DIR)/release/floor-ddb \
		--invocations 10 --gap-samples 1 --counts-only

## Regenerates link/hot-functions.ld, the functions a warm invocation runs,
## which release builds on Linux lay out together (build.rs): counted with
## callgrind on a release bootstrap built with its symbols kept. Rerun after
## changes to the request path or to dependencies; a stale list costs only
## the layout, never the build.
HOT_DIR := $(TARGET_DIR)/hot-functions
hot-functions: venv
	CARGO_PROFILE_RELEASE_STRIP=false cargo build --release --bin bootstrap --target-dir $(HOT_DIR)
	cargo build --release --bin hello-runtime
	cargo build --release --example engine_rtt
	cargo build --release --features testing --bin dev-tokens --bin floor-ddb
	set -o pipefail; $(PY) scripts/bench_lambda.py --bootstrap $(HOT_DIR)/release/bootstrap \
		--hello $(TARGET_DIR)/release/hello-runtime --dev-tokens $(TARGET_DIR)/release/dev-tokens \
		--engine-rtt $(TARGET_DIR)/release/examples/engine_rtt --floor $(TARGET_DIR)/release/floor-ddb \
		--invocations 10 --gap-samples 1 --counts-only | tee $(HOT_DIR)/counts.log
	$(PY) scripts/hot_functions.py --binary $(HOT_DIR)/release/bootstrap --out link/hot-functions.ld \
		--profiles "$$(sed -n 's/^profiles: //p' $(HOT_DIR)/counts.log)"

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) target .aws-sam
