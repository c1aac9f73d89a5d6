# The two commands of the README: `make up` runs the platform, `make test` runs every test.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: up down status test lint bench setup test-tools workbench test-workbench client test-client

# An environment with the locked dependencies (installs uv itself when missing).
setup:
	@if [ ! -x "$(UV)" ]; then \
	  echo "installing uv (Python package manager) …"; \
	  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet --user --break-system-packages uv || python3 -m pip install --quiet uv; \
	fi
	@$(UV) sync --frozen --all-packages --quiet

up: setup workbench
	@$(UV) run --frozen yb-local up

# The staff workbench (workbench/, Vue 3 + Vite): installed when package-lock.json changes, built when a
# source changes; the gateway serves workbench/dist under /workbench.
WORKBENCH_SOURCES := $(shell find workbench/src workbench/index.html workbench/vite.config.ts workbench/tsconfig.json workbench/package.json -type f 2>/dev/null)
WORKBENCH_MODULES := workbench/node_modules/.package-lock.json
$(WORKBENCH_MODULES): workbench/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js 20.19 or later) is needed to build the workbench" >&2; exit 1; }
	@cd workbench && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
workbench/dist/index.html: $(WORKBENCH_MODULES) $(WORKBENCH_SOURCES)
	@cd workbench && npm run --silent build -- --logLevel warn
workbench: workbench/dist/index.html

# Its type check (vue-tsc) and unit tests (vitest); its browser test is tests-e2e/test_workbench.py.
test-workbench: $(WORKBENCH_MODULES)
	@cd workbench && npm run --silent typecheck && npm run --silent test

# The typed TypeScript client for app developers (clients/typescript): generated from the merged
# OpenAPI document the code builds; `make client` regenerates it after an API change, `test-client`
# type-checks it (tsc) with its mini-program example. gateway/tests/test_typescript_client.py fails
# when the committed client no longer matches the API.
CLIENT_MODULES := clients/typescript/node_modules/.package-lock.json
$(CLIENT_MODULES): clients/typescript/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js 20.19 or later) is needed for the TypeScript client" >&2; exit 1; }
	@cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
client: setup $(CLIENT_MODULES)
	@$(UV) run --frozen python clients/typescript/export_openapi.py clients/typescript/openapi.json
	@cd clients/typescript && npm run --silent generate
test-client: $(CLIENT_MODULES)
	@cd clients/typescript && npm run --silent typecheck

down:
	@$(UV) run --frozen yb-local down

status:
	@$(UV) run --frozen yb-local status

# What the tests drive besides Python: Chromium and its WebDriver (the ops dashboard's browser test),
# a CJK font for its screenshots, promtool (checks the alert rules) and PgBouncer (the engine in
# transaction mode, as deploy/k8s runs it). Debian packages, installed when missing and run as root;
# otherwise those tests say what is missing and skip.
TEST_PACKAGES := chromium chromium-driver fonts-wqy-microhei prometheus pgbouncer
test-tools:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v promtool >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && [ -x /usr/sbin/pgbouncer ]; then \
	  exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(TEST_PACKAGES) …"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(TEST_PACKAGES) >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $(TEST_PACKAGES) >/dev/null; } \
	    || { echo "could not install $(TEST_PACKAGES)" >&2; exit 1; }; \
	else \
	  echo "not installed: some of $(TEST_PACKAGES) (sudo apt-get install $(TEST_PACKAGES)); their tests skip"; \
	fi

# The gate: lint, formatting, import boundaries and types; any violation fails the run.
lint: setup
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen lint-imports --no-logo --no-cache
	@$(UV) run --frozen mypy

test: setup test-tools lint workbench test-workbench test-client
	@$(UV) run --frozen pytest

bench: setup
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null 2>&1; } || echo "wrk not installed: using the slower Python load generator"
	@command -v valgrind >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -q valgrind >/dev/null 2>&1; } || echo "valgrind not installed: no instruction count"
	@$(UV) run --frozen python -m bench.compare
