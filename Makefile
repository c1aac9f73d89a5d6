# The two commands of the README: `make up` runs the platform, `make test` runs every test.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: up down status test bench setup

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

test: setup
	@$(UV) run --frozen pytest

bench: setup
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null 2>&1; } || echo "wrk not installed: using the slower Python load generator"
	@$(UV) run --frozen python -m bench.backbone
