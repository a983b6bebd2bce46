#!/usr/bin/env bash
# Ensure Debian's chromium is at /usr/bin/chromium (used headless by the end-to-end tests
# through playwright-core; playwright never downloads a browser here).
# - present: print its version, exit 0
# - missing, running as root with apt-get: install the Debian package (apt-get update first)
# - missing otherwise: fail loudly (exit 1) saying what to do
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium.sh: $CHROMIUM missing; installing the Debian package 'chromium'" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "chromium.sh: ERROR: $CHROMIUM not found and cannot install it (need root and apt-get)." >&2
    echo "chromium.sh: install it with: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "chromium.sh: ERROR: installing chromium did not produce $CHROMIUM" >&2
  exit 1
fi

"$CHROMIUM" --version 2>/dev/null || {
  echo "chromium.sh: ERROR: $CHROMIUM --version failed" >&2
  exit 1
}
