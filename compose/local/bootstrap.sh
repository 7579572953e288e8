#!/usr/bin/env bash
# First step of `npm start` and `npm test` on any clone: npm packages, then every part of the
# stack at the versions pinned in versions.yaml (Go builds, npm and Maven packages, a few Debian
# packages), all cached by version and idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1; then
  echo "error: Node.js 20 is required (https://nodejs.org)" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lockfile it was installed from.
stamp=node_modules/.pynomaly-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[bootstrap] npm ci (package-lock.json changed or node_modules missing) …" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

node --import tsx compose/local/cli.ts install

# The offline deployment validators (kustomize, the compose-spec loader, Kubernetes schemas)
# are only needed by the tests.
if [ "${1:-}" = "--tests" ]; then
  node --import tsx scripts/tools/install.ts >/dev/null
fi
