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

.PHONY: install run test lint unit e2e bench openapi clean-data help slapd chromium frontend frontend-check nginx deploy-check
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

# The SPA (frontend/): Node from the machine, packages from package-lock.json. core_api serves the build.
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts frontend/tsconfig.json
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

frontend: frontend/dist/index.html

# The generated API client must match core_api/openapi.json; types check; Vitest component tests pass.
frontend-check: frontend/node_modules/.installed
	cd frontend && npm run --silent api:check && npm run --silent typecheck && npm test --silent

# Browser tests drive Debian's Chromium (Playwright cannot download its own here).
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation; \
	fi

run: install slapd frontend
	$(PY) deploy/local/stack.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

unit: install slapd
	$(PY) -m pytest tests/unit tests/connectors tests/sandbox

e2e: install slapd chromium frontend
	$(PY) -m pytest tests/e2e

test: lint slapd chromium frontend-check frontend nginx
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

# --- deploy (issue 8): deploy/ is checked offline by tests/deploy (collected by `make test`'s pytest) ---------
# Real nginx for `nginx -t` and the auth_request test: Debian's nginx-light, installed when missing. RUNLEVEL=1
# keeps the package from starting a system-wide nginx on port 80; the tests start their own on free ports.
NGINX := /usr/sbin/nginx
nginx:
	@if [ ! -x $(NGINX) ]; then \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends nginx-light; \
	fi

# Dockerfiles (hadolint + rules), compose (Compose Specification + rules), nginx, Helm values, Kubernetes
# manifests (kubernetes-validate, strict). Needs the test database like the rest of the suite.
deploy-check: install nginx
	$(PY) -m pytest tests/deploy

