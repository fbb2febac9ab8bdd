# Two commands matter: `make dev` and `make test`. Everything they need is
# installed into .venv (Python tools) or by cargo; nothing system-wide.
SHELL := bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv dev test lint fmt check unit integration clean

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Run it locally: engine on 127.0.0.1:8000, function on 127.0.0.1:9000.
dev: venv
	bash scripts/dev.sh

## Format check, clippy with -D warnings, then every test (the engine is
## started by the integration tests themselves).
test: venv lint
	cargo test --all-targets

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

fmt:
	cargo fmt

unit:
	cargo test --lib

integration: venv
	cargo test --test '*'

clean:
	rm -rf $(VENV) target
