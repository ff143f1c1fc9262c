# syntax=docker/dockerfile:1
#
# stowage: build with Node 20, run on Debian 12 slim with the same Node binary.
#
#   docker build -t stowage .                          # with Nix: the Nix package-set source
#   docker build -t stowage:no-nix --build-arg WITH_NIX=false .
#                                                      # without Nix: the binary-cache source only
#
# The build stage is the full node image (compilers for the native zstd and xz modules); the
# runtime stage gets only what serving needs. See docs/deployment.md.

ARG NODE_IMAGE=node:20-bookworm

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM debian:12-slim AS runtime
# true: install Debian's nix-bin and a static busybox (the example package set's only input).
ARG WITH_NIX=true
# Always: the Debian source (the routed default) verifies InRelease files with gpgv against
# debian-archive-keyring and downloads over HTTPS (src/sources/debian/archive/runtime-packages.ts);
# the archive is the one this image's own apt sources name.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini gpgv debian-archive-keyring \
 && if [ "$WITH_NIX" = "true" ]; then apt-get install -y --no-install-recommends nix-bin busybox-static git; fi \
 && rm -rf /var/lib/apt/lists/*
# Node from the build stage: one binary, the same version the modules were built against.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/stowage --create-home stowage \
 && mkdir -p /nix /etc/stowage && chown stowage:stowage /nix
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY examples ./examples
COPY public ./public
# Container settings layered over the nix.conf stowage writes (no sandbox without user namespaces).
COPY deploy/docker/nix.conf /etc/stowage/nix.conf

ENV NODE_ENV=production \
    HOME=/var/lib/stowage \
    STOWAGE_DATA_DIR=/var/lib/stowage \
    STOWAGE_PACKAGE_SET=/app/examples/pkgs \
    NIX_USER_CONF_FILES=/etc/stowage/nix.conf
USER stowage
EXPOSE 5000
VOLUME ["/var/lib/stowage", "/nix"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:5000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The stowage CLI: no arguments (or `serve`) serves; `docker run IMAGE gc --dry-run` (or
# `... stowage gc`) runs that subcommand, as a Kubernetes CronJob does (deploy/kubernetes).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli.js"]
CMD ["serve"]
