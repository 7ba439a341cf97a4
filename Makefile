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

.PHONY: install run test lint unit e2e bench openapi clean-data help slapd
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

# Directory-sync tests run a real OpenLDAP server: Debian's slapd, installed here when it is missing (CI
# runs as root on a fresh machine). Nothing is started or configured system-wide: the tests start their own.
SLAPD := /usr/sbin/slapd
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
slapd:
	@if [ ! -x $(SLAPD) ]; then \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slapd ldap-utils; \
	fi

run: install slapd
	$(PY) deploy/local/stack.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

unit: install slapd
	$(PY) -m pytest tests/unit tests/connectors tests/sandbox

e2e: install
	$(PY) -m pytest tests/e2e

test: lint slapd
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
