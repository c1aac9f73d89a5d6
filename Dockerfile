# syntax=docker/dockerfile:1
#
# One image for every process of the platform: the five services, the gateway and the one-shot
# `yb-local bootstrap` / `yb-local migrate <service>` jobs. compose.yaml picks the process with
# `command:`. See docs/adr/0002-containers.md.

# The staff workbench (workbench/, Vue 3 + Vite), built in its own stage: only its dist/ goes into the
# image, which needs neither Node.js nor node_modules. The lock file first, so that a source change
# does not reinstall the packages.
FROM node:20-slim AS workbench
WORKDIR /workbench
COPY workbench/package.json workbench/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY workbench/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    PATH="/app/.venv/bin:${PATH}"

# The user every process runs as. Files under /app stay owned by root (read-only for the
# processes); only /app/.data (development keys, run and log folders) is theirs.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# The CJK TrueType font every PDF embeds (shared/src/shared/pdf.py).
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

# uv from PyPI, pinned to the version that wrote uv.lock.
RUN pip install "uv==0.13.9"

WORKDIR /app

# Layer 1, the third-party dependencies: only uv.lock and the pyproject.toml of the root and of every
# workspace member (uv needs each member's pyproject.toml to find the workspace, but none of their
# sources while --no-install-workspace leaves the members out). This layer is rebuilt only when a
# lock or a pyproject changes, not on every code change. A new workspace member needs its line here
# (deploy/tests/test_compose.py checks that).
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY gateway/pyproject.toml gateway/
COPY deploy/pyproject.toml deploy/
COPY svc-registration/pyproject.toml svc-registration/
COPY svc-claims/pyproject.toml svc-claims/
COPY svc-settlement/pyproject.toml svc-settlement/
COPY svc-transfer/pyproject.toml svc-transfer/
COPY svc-facility/pyproject.toml svc-facility/
RUN uv sync --frozen --all-packages --no-dev --no-install-workspace

# Layer 2, the workspace itself (.dockerignore keeps .venv, .data, .git and tests out). Members are
# installed editable, as uv does by default: `yb-local migrate` finds each service's alembic.ini and
# migrations relative to the repository root, /app, so keep the sources here (no --no-editable).
COPY . .
# The built workbench, served by the gateway under /workbench (gateway/src/gateway/workbench.py).
COPY --from=workbench /workbench/dist /app/workbench/dist
RUN uv sync --frozen --all-packages --no-dev \
 && mkdir -p /app/.data/keys \
 && chown -R app:app /app/.data

# /app/.data/keys is a named volume in compose.yaml; a fresh volume takes this folder's owner.
USER app

EXPOSE 8000

# compose.yaml sets the command of each process; this default runs the gateway.
CMD ["python", "-m", "uvicorn", "--factory", "gateway.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
