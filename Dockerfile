# syntax=docker/dockerfile:1
# The marketplace server: one image for every ROLE (all | api | projector).
#   docker build -t marketplace .
#   docker run -p 8080:8080 -v marketplace-data:/data marketplace

# The base of every stage: Node.js 22, the maintained LTS line (20 reached its end of life
# in April 2026), on Debian bookworm. Pin it by digest so that a build gets exactly the
# image that was reviewed, and renew the digest with each Node.js 22 security release:
#   docker buildx imagetools inspect node:22-bookworm-slim   # "Digest: sha256:…"
#   NODE_IMAGE=node:22-bookworm-slim@sha256:<digest>
# (This file was written where no registry could be reached to look the digest up, so the
# default is the LTS line's tag; pass the pinned name with --build-arg NODE_IMAGE=….)
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript (needs the dev dependencies) ---------------------------
FROM ${NODE_IMAGE} AS build
# No install-time telemetry: package.json turns @scarf/scarf off; this says so to every
# other package's installer too.
ENV SCARF_ANALYTICS=false
# better-sqlite3 is compiled from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY domain ./domain
COPY command-handlers ./command-handlers
COPY projections ./projections
COPY read-api ./read-api
COPY infra ./infra
COPY test ./test
# The tests are compiled with the rest (one tsconfig) but never shipped.
RUN npm run build && rm -rf dist/test

# ---- production dependencies only (native module built here, not in the runtime) -----
FROM build AS production-dependencies
RUN rm -rf node_modules && npm ci --omit=dev && npm cache clean --force

# ---- runtime: no compiler, no dev dependencies, not root ------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=production-dependencies --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/dist ./dist
# The embedded stores and a generated signing key live in DATA_DIR: a volume only the node
# user may open (a named volume starts with this mode; the server makes its files 0600).
RUN mkdir -p -m 0700 /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
# No curl in the slim image: node asks /health (the process answers; stores are /ready's business).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Not `npm start`: its prestart would run tsc, which the image does not have. node is PID 1
# and gets SIGTERM itself, which the server answers with a graceful shutdown.
CMD ["node", "--max-semi-space-size=16", "--max-old-space-size=192", "dist/infra/composition-root/main.js"]
