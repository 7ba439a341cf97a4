# syntax=docker/dockerfile:1
# firmsync core_api: the FastAPI app and the built SPA it serves at /. Build from the repository root:
#   docker build -f deploy/docker/api.Dockerfile -t firmsync-api:$(cat VERSION) .
# Base images are pinned to exact patch tags. Pin them by digest (FROM image:tag@sha256:…) when the build
# host can reach the registry (`docker buildx imagetools inspect <image:tag>`); this repository's machines
# cannot, so the digests are not fabricated here (ADR 0018).

# --- 1. the SPA: npm ci from package-lock.json, then vite build into frontend/dist -------------------------
FROM node:20.19.5-bookworm-slim AS spa
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
# The generated API client is checked against this document by the suite; the build only type-checks it.
COPY core_api/openapi.json /src/core_api/openapi.json
RUN npm run build

# --- 2. Python dependencies from uv.lock (no dev group), then the project itself, editable in /app -------
FROM python:3.11.13-slim-bookworm AS deps
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# uv at the version the Makefile pins (UV_VERSION).
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first: this layer is reused until pyproject.toml or uv.lock changes.
COPY pyproject.toml uv.lock README.md VERSION ./
RUN uv sync --locked --no-dev --no-install-project
COPY core_api/ core_api/
COPY connectors/ connectors/
COPY pipelines/ pipelines/
COPY bench/ bench/
RUN uv sync --locked --no-dev

# --- 3. runtime: slim Python, the venv and sources from stage 2, the SPA from stage 1, non-root ----------
FROM python:3.11.13-slim-bookworm AS runtime
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FIRMSYNC_SPA_DIR=/app/frontend/dist \
    FIRMSYNC_DATA_DIR=/tmp/firmsync
# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 firmsync \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin firmsync
WORKDIR /app
COPY --from=deps --chown=10001:10001 /app /app
COPY --from=spa --chown=10001:10001 /src/frontend/dist /app/frontend/dist
USER 10001:10001
EXPOSE 8000
# /healthz: the process answers (readiness, /readyz, also needs the database at Alembic head).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Only reachable through the proxy (nginx / the ingress), whose X-Forwarded-Proto tells https apart.
# No secrets here: FIRMSYNC_JWT_SECRET, FIRMSYNC_ENCRYPTION_KEYS, DATABASE_URL… come from the environment.
ENTRYPOINT ["uvicorn", "--factory", "core_api.app:create_app"]
CMD ["--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--forwarded-allow-ips", "*", "--no-access-log"]
