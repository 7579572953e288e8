# One image for the three Pynomaly services (API, training worker, drift worker).
# The service is chosen at run time by PYNOMALY_SERVICE (api | training-worker | drift-worker),
# defaulting to the SERVICE build argument, so compose and Kubernetes build once and run it three ways.
#
# Runtime: the services run their TypeScript sources under tsx, exactly as the local stack and the
# end-to-end suite run them, so the image executes the code path the tests exercise. The build
# stage still type-checks everything with tsc, so a type error fails the image build.
#
#   docker build -t pynomaly:dev .
#   docker run --rm -e PYNOMALY_SERVICE=drift-worker pynomaly:dev

ARG NODE_IMAGE=node:20.19.5-bookworm-slim

# ---- deps: every dependency, for the type check -------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/shared/package.json services/shared/
COPY services/algorithms/package.json services/algorithms/
COPY services/api/package.json services/api/
COPY services/training-worker/package.json services/training-worker/
COPY services/drift-worker/package.json services/drift-worker/
RUN npm ci --no-audit --no-fund --ignore-scripts

# ---- build: type-check the service sources ---------------------------------------------------
FROM deps AS build
COPY tsconfig.json ./
COPY services/ services/
# Only the service sources are in this stage (.dockerignore drops services/*/test), so the root
# tsconfig's include resolves to them.
RUN npx tsc -p tsconfig.json --noEmit

# ---- prod-deps: production dependencies plus the tsx runtime -------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/shared/package.json services/shared/
COPY services/algorithms/package.json services/algorithms/
COPY services/api/package.json services/api/
COPY services/training-worker/package.json services/training-worker/
COPY services/drift-worker/package.json services/drift-worker/
# tsx is a root devDependency, which --omit=dev leaves out: install that same pinned version on its
# own and add it (with its esbuild binary) to the production tree.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && TSX_VERSION="$(node -p "require('./package.json').devDependencies.tsx")" \
 && mkdir /tmp/tsx && echo '{"private":true}' > /tmp/tsx/package.json \
 && npm install --prefix /tmp/tsx --no-audit --no-fund --ignore-scripts --no-package-lock "tsx@${TSX_VERSION}" \
 && cp -Rn /tmp/tsx/node_modules/. /app/node_modules/ \
 && rm -rf /tmp/tsx && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=api
ENV NODE_ENV=production \
    PYNOMALY_SERVICE=${SERVICE} \
    PYNOMALY_ENVIRONMENT=production \
    API_HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0 \
    LOG_DIR=/app/logs \
    TSX_DISABLE_CACHE=1
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=prod-deps --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/tsconfig.json ./tsconfig.json
COPY --from=build --chown=root:root /app/services ./services
# Code stays root-owned and read-only to the service user; only the log directory is writable.
RUN mkdir -p /app/logs && chown node:node /app/logs
# The official image's unprivileged user (uid 1000); Kubernetes sets runAsNonRoot with this uid.
USER 1000:1000
EXPOSE 8000 9102 9103
# Liveness per service: the API's /health/live, a worker's /metrics on its own port (with the
# scrape token when one is configured).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e=process.env,s=e.PYNOMALY_SERVICE,api=s==='api';const port=api?(e.API_PORT||8000):(e.METRICS_PORT||(s==='training-worker'?9102:9103));const t=e.PYNOMALY_SCRAPE_TOKEN;fetch('http://127.0.0.1:'+port+(api?'/health/live':'/metrics'),{headers:t&&!api?{authorization:'Bearer '+t}:{}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec replaces the shell, so node is PID 1 and receives SIGTERM for its graceful shutdown.
ENTRYPOINT ["/bin/sh", "-c", "exec node --import tsx \"services/${PYNOMALY_SERVICE}/src/main.ts\" \"$@\"", "pynomaly"]
