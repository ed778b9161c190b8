# syntax=docker/dockerfile:1
# The platform image: `agyn serve` by default; the same image runs `agyn orchestrator`,
# `agyn runner serve --kind kubernetes` and `agyn db upgrade` (give those as the container's args).
#   docker build -t agyn:0.1.0 .
ARG PYTHON_IMAGE=python:3.12-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# 1. the web chat page's bundle (as `agyn web build` makes it): the locked npm dependencies, then esbuild,
#    which writes it to /src/platform/agyn/web/static
FROM ${NODE_IMAGE} AS page
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/build.mjs web/index.html ./
COPY web/src src
RUN npm run build

# 2. the project's wheel, built from this checkout, with the page's bundle in it
FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform platform
COPY provider-bridge provider-bridge
COPY cdk cdk
COPY --from=page /src/platform/agyn/web/static platform/agyn/web/static
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# 3. the wheel and its dependencies in a virtual environment, without the build's leftovers
FROM ${PYTHON_IMAGE} AS platform
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/agyn/bin:$PATH \
    AGYN_HOST=0.0.0.0 \
    AGYN_PORT=8080 \
    AGYN_DATA_DIR=/var/lib/agyn
RUN groupadd --system --gid 10001 agyn \
 && useradd --system --uid 10001 --gid agyn --home-dir /var/lib/agyn --shell /usr/sbin/nologin agyn \
 && install -d -o agyn -g agyn -m 0700 /var/lib/agyn
COPY --from=wheel /dist/ /tmp/dist/
RUN python -m venv /opt/agyn \
 && /opt/agyn/bin/pip install --no-cache-dir /tmp/dist/agyn-*.whl \
 && rm -rf /tmp/dist
USER 10001:10001
WORKDIR /var/lib/agyn
VOLUME ["/var/lib/agyn"]
EXPOSE 8080
# Kubernetes uses its own probes (/healthz for liveness, /readyz for readiness); this is for Docker alone
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=3)"]
ENTRYPOINT ["agyn"]
CMD ["serve"]
