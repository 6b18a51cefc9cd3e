#!/usr/bin/env bash
# The browser test in one command: installs Chromium (Debian's package, when missing and run as root) and the
# pinned npm packages, builds the debug binary unless TAALBUDGET_BIN names one, and runs run.mjs against the demo.
set -euo pipefail
if [ -n "${TAALBUDGET_BIN:-}" ]; then export TAALBUDGET_BIN="$(realpath "$TAALBUDGET_BIN")"; fi
cd "$(dirname "$0")"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium ontbreekt: installeer het met 'sudo apt-get install chromium' (of zet CHROMIUM=/pad/naar/chromium)." >&2
    exit 2
  fi
fi
timeout 300 npm ci --no-audit --no-fund --loglevel=error
if [ -z "${TAALBUDGET_BIN:-}" ]; then
  (cd ../.. && cargo build --locked --bin taalbudget)
fi
timeout 600 node run.mjs
