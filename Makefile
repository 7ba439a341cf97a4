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

.PHONY: install run test lint unit e2e bench openapi clean-data help slapd chromium frontend frontend-check release-check release-cut release-tag bandit sbom audit audit-allow-offline promtool observability-check nginx deploy-check
.DEFAULT_GOAL := help

help:
	@echo "make run    install from uv.lock, start the stack (embedded PostgreSQL, sandbox vendors, demo firm)"
	@echo "make test   lint + import contracts + the whole pytest suite (unit, integration, e2e)"
	@echo "make bench  the five benchmarks of bench/README.md, one JSON line each (several minutes)"

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
	$(PY) -m deploy.release check

unit: install slapd
	$(PY) -m pytest tests/unit tests/connectors tests/sandbox

e2e: install slapd chromium frontend
	$(PY) -m pytest tests/e2e

# promtool and nginx are installed for tests/deploy (alert rules; nginx -t and the console gate), which the
# pytest run below includes.
test: lint slapd chromium promtool nginx frontend-check frontend bandit sbom audit-allow-offline
	$(PY) -m pytest

openapi: install
	$(PY) -m core_api.openapi

bench: install
	$(PY) -m bench load --rows 200000
	$(PY) -m bench incremental --records 100000 --changed 0.01
	$(PY) -m bench ratelimit
	$(PY) -m bench tenants --tenants 1000
	$(PY) -m bench metrics --runs 500000

# Releases (docs/runbooks/upgrade.md): VERSION is the one number; CHANGELOG, the SPA and the tag follow it.
release-check: install
	$(PY) -m deploy.release check

release-cut: install  # make release-cut V=0.2.0
	@test -n "$(V)" || { echo "usage: make release-cut V=X.Y.Z" >&2; exit 2; }
	$(PY) -m deploy.release cut $(V)

release-tag: install
	$(PY) -m deploy.release tag

clean-data:
	rm -rf .data

# --- security: supply chain (ADR 0020, docs/runbooks/security.md) -----------------------------------------
# Static analysis of the shipped packages; policy in pyproject's [tool.bandit] and security/bandit.py.
bandit: install
	$(PY) -m security.bandit

# CycloneDX SBOMs of the Python runtime (uv.lock) and the SPA (package-lock.json) in build/sbom/, validated.
sbom: install
	$(PY) -m security.sbom --out build/sbom

# pip-audit + npm audit against security/audit-exceptions.md. Fails closed: an advisory service that
# cannot be reached fails it, as does any finding not excepted and any expired exception.
audit: install
	$(PY) -m security.audit

# What `make test` runs: the same, but an unreachable advisory service (as on this project's machines) is
# printed as "UNAUDITED: <reason>" instead of failing. Findings and expired exceptions still fail.
audit-allow-offline: install
	$(PY) -m security.audit --allow-unaudited

# --- observability (issue 8, ADR 0019) ----------------------------------------------------------------------
# Alert rules and their unit tests are checked by promtool, from Debian's `prometheus` package, installed
# here when missing. The package's daemon must not start: a policy-rc.d refuses it for the install only
# (an existing policy-rc.d is kept and restored).
PROMTOOL := /usr/bin/promtool
promtool:
	@if [ ! -x $(PROMTOOL) ]; then \
		restore=""; \
		if [ -e /usr/sbin/policy-rc.d ]; then $(SUDO) cp -p /usr/sbin/policy-rc.d /tmp/policy-rc.d.firmsync && restore=1; fi; \
		printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; $(SUDO) chmod +x /usr/sbin/policy-rc.d; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; \
		status=$$?; \
		if [ -n "$$restore" ]; then $(SUDO) mv /tmp/policy-rc.d.firmsync /usr/sbin/policy-rc.d; else $(SUDO) rm -f /usr/sbin/policy-rc.d; fi; \
		exit $$status; \
	fi

# promtool check + test of deploy/observability/alerts*.yml, and the metric names they query.
observability-check: install promtool
	$(PY) -m pytest -q tests/deploy/test_alert_rules.py

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

