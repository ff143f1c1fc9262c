#!/usr/bin/env bash
# One command from a fresh clone to a running registry on the embedded default: blobs and
# metadata under ./data, the example package set, port 5000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "quickstart: starting stowage on ${STOWAGE_HOST:-0.0.0.0}:${STOWAGE_PORT:-5000}"
echo "quickstart: try  skopeo copy --src-tls-verify=false docker://127.0.0.1:${STOWAGE_PORT:-5000}/shell/hello:latest oci:hello:latest"
exec npm start
