# syntax=docker/dockerfile:1
# firmsync's Dagster code location (`pipelines.definitions`), served over gRPC by default. The same image runs
# dagster-webserver and dagster-daemon (override the command; compose.yaml and the Helm values do). Build from
# the repository root:  docker build -f deploy/docker/dagster.Dockerfile -t firmsync-dagster:$(cat VERSION) .
# Base image pinned to an exact patch tag; pin by digest where the registry is reachable (see api.Dockerfile).

# --- 1. Python dependencies from uv.lock (no dev group), then the project itself, editable in /app -------
FROM python:3.11.13-slim-bookworm AS deps
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md VERSION ./
RUN uv sync --locked --no-dev --no-install-project
COPY core_api/ core_api/
COPY connectors/ connectors/
COPY pipelines/ pipelines/
COPY bench/ bench/
RUN uv sync --locked --no-dev

# --- 2. runtime: slim Python, the venv and sources, non-root ----------------------------------------------
FROM python:3.11.13-slim-bookworm AS runtime
# DAGSTER_HOME holds dagster.yaml and workspace.yaml, mounted by the deployment (compose: deploy/compose/;
# Helm: the chart renders its own). Instance storage is PostgreSQL; /opt/dagster/storage (run artifacts,
# compute logs) is the one writable path, a volume shared by the Dagster services.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home
RUN groupadd --system --gid 10001 firmsync \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin firmsync \
    && mkdir -p /opt/dagster/dagster_home /opt/dagster/storage \
    && chown 10001:10001 /opt/dagster/dagster_home /opt/dagster/storage
WORKDIR /app
COPY --from=deps --chown=10001:10001 /app /app
USER 10001:10001
# 4266: the code location's gRPC port (webserver 3000 when run as dagster-webserver).
EXPOSE 4266 3000
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "--host", "127.0.0.1", "--port", "4266"]
# No secrets here: DAGSTER_PG_URL, DATABASE_URL, FIRMSYNC_* come from the environment.
CMD ["dagster", "api", "grpc", "--module-name", "pipelines.definitions", "--host", "0.0.0.0", "--port", "4266"]
