# mpcd: one image for the party daemon (`mpcd`), the coordinator (`mpc-coordinator`) and the CLI
# (`mpc`). docs/operations.md explains how to run it; docker-compose.yml starts a 3-node network.
#
#   docker build --network host -t mpcd:local .
#
# `--network host` because build steps fetch npm packages and, on some hosts, containers have no
# route outside (STACK.md, "Docker on this machine class").

# ---- build: compile the TypeScript, then keep production dependencies only ----------------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so that a source change does not re-run `npm ci`. `level` ships prebuilt
# binaries inside its npm package: no compiler is needed.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY protocol protocol
COPY keystore keystore
COPY daemon daemon
COPY coordinator-lite coordinator-lite
COPY cli cli
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && chmod 0755 dist/cli/mpcd.js dist/cli/mpc.js dist/cli/mpc-coordinator.js dist/cli/healthcheck.js

# ---- runtime ------------------------------------------------------------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    MPCD_DATA_DIR=/data \
    MPC_COORDINATOR_DATA_DIR=/data \
    XDG_CONFIG_HOME=/data/config
# A dedicated unprivileged user; /data is its only writable place and is a volume, so key shares
# live outside the container's layer and survive `docker compose down` (without -v) and upgrades.
RUN groupadd --system --gid 10001 mpcd \
 && useradd --system --uid 10001 --gid mpcd --home-dir /data --no-create-home --shell /usr/sbin/nologin mpcd \
 && mkdir -p /data \
 && chown mpcd:mpcd /data \
 && chmod 0700 /data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
RUN ln -s /app/dist/cli/mpcd.js /usr/local/bin/mpcd \
 && ln -s /app/dist/cli/mpc.js /usr/local/bin/mpc \
 && ln -s /app/dist/cli/mpc-coordinator.js /usr/local/bin/mpc-coordinator \
 && ln -s /app/dist/cli/healthcheck.js /usr/local/bin/mpc-healthcheck
USER mpcd
VOLUME ["/data"]
# 7100: mpcd libp2p (the other parties). 7000: coordinator libp2p. 8080: coordinator HTTP API.
# The daemon's admin HTTP (7180: /healthz, /metrics) listens on 127.0.0.1 unless configured.
EXPOSE 7100 7000 8080
# The daemon's /healthz by default; the coordinator's service sets MPC_HEALTHCHECK_URL.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["mpc-healthcheck"]
# SIGTERM drains running sessions (bounded by timeouts.drainMs); give it time before SIGKILL
# (compose: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["mpcd", "start"]
