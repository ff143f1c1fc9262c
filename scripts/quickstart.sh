#!/usr/bin/env bash
# One command from a fresh clone to a running registry on the embedded default: blobs and
# metadata under ./data, Debian packages plus the example Nix set under nix/, port 5000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "quickstart: starting stowage on ${STOWAGE_HOST:-0.0.0.0}:${STOWAGE_PORT:-5000}"
echo "quickstart: try  podman pull --tls-verify=false 127.0.0.1:${STOWAGE_PORT:-5000}/shell/git/curl   (or nix/shell/hello for the example Nix set)"
exec npm start
