# firmsync — `make run` starts the whole stack, `make test` runs every check. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint unit e2e bench openapi clean-data help
.DEFAULT_GOAL := help

help:
	@echo "make run    install from uv.lock, start the stack (embedded PostgreSQL, sandbox vendors, demo firm)"
	@echo "make test   lint + import contracts + the whole pytest suite (unit, integration, e2e)"
	@echo "make bench  the four benchmarks of bench/README.md, one JSON line each (several minutes)"

# uv itself, pinned, in a private venv: a fresh machine needs nothing but Python 3.11.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) deploy/local/stack.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

unit: install
	$(PY) -m pytest tests/unit tests/connectors tests/sandbox

e2e: install
	$(PY) -m pytest tests/e2e

test: lint
	$(PY) -m pytest

openapi: install
	$(PY) -m core_api.openapi

bench: install
	$(PY) -m bench load --rows 200000
	$(PY) -m bench incremental --records 100000 --changed 0.01
	$(PY) -m bench ratelimit
	$(PY) -m bench tenants --tenants 1000

clean-data:
	rm -rf .data
