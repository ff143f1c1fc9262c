#!/usr/bin/env bash
# Every test: typecheck, build, then unit, contract and integration tests (real Nix, real
# clients). Run scripts/setup.sh (or the Quick start) once first.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run typecheck
npm run build
npx vitest run "$@"
