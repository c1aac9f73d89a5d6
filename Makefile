# The two commands of the README: `make up` runs the platform, `make test` runs every test.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: up down status test lint bench setup test-tools

# An environment with the locked dependencies (installs uv itself when missing).
setup:
	@if [ ! -x "$(UV)" ]; then \
	  echo "installing uv (Python package manager) …"; \
	  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet --user --break-system-packages uv || python3 -m pip install --quiet uv; \
	fi
	@$(UV) sync --frozen --all-packages --quiet

up: setup
	@$(UV) run --frozen yb-local up

down:
	@$(UV) run --frozen yb-local down

status:
	@$(UV) run --frozen yb-local status

# What the tests drive besides Python: Chromium and its WebDriver (the ops dashboard's browser test),
# a CJK font for its screenshots, and promtool (checks the alert rules). Debian packages, installed
# when missing and run as root; otherwise those tests say what is missing and skip.
TEST_PACKAGES := chromium chromium-driver fonts-wqy-microhei prometheus
test-tools:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v promtool >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
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

test: setup test-tools
	@$(UV) run --frozen pytest

bench: setup
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null 2>&1; } || echo "wrk not installed: using the slower Python load generator"
	@$(UV) run --frozen python -m bench.backbone
