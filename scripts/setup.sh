#!/usr/bin/env bash
# Prepares a Debian 12 machine for stowage: the Debian packages it and its tests use, the npm
# dependencies, and a build. Safe to run again; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# nix-bin builds the example package set offline; busybox-static is its only input.
# skopeo, umoci, runc and zstd are the real clients the integration tests drive; redis-server
# backs the Redis metadata and lock tests; podman and containerd are the clients users run;
# chromium drives the web UI tests. git serves package sets from git repositories. gpgv and
# debian-archive-keyring verify the Debian archive's InRelease files; gpg makes throwaway signing
# keys for the archive tests. pigz, docker-registry and hey are the benchmarks' references and
# load generator; openssl, curl and iproute2 (ss) are what the TLS and keep-alive tests call;
# nginx-light is the front proxy that sends blob files (deploy/nginx, its test and bench:serve --front nginx).
packages=(nix-bin busybox-static git skopeo umoci runc zstd ca-certificates redis-server podman containerd chromium gpgv gpg debian-archive-keyring pigz docker-registry hey openssl curl iproute2 nginx-light)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
# The tests run the docker CLI against a dockerd of their own (pulls with default settings, TLS).
if ! command -v dockerd >/dev/null 2>&1; then missing+=(docker.io); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Single-user Nix: the user running stowage must own /nix (root always does).
if [ "$(id -u)" -ne 0 ]; then
  $SUDO mkdir -p /nix
  $SUDO chown -R "$(id -u):$(id -g)" /nix
fi

npm ci --no-audit --no-fund
npm run build
echo "setup: done"
